import { GatehouseError } from '../../errors/catalogue.js';
import type { ColumnInfo } from '../engine.js';
import type { RowCollector } from '../row-collector.js';
import { postgresTypeName, postgresTypeParsers } from './postgres-types.js';

/** The slice of pg's Connection this query drives (pg-protocol frontend messages). We do not
 * use pg's types here, as Kysely does, to keep the dependency on pg's internals visible. */
export interface ProtocolConnection {
  parse(message: { text: string }): void;
  bind(message: { values: never[] }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(message: { portal: string; rows: number }): void;
  flush(): void;
  sync(): void;
  sendCopyFail(message: string): void;
  readonly stream: { cork?: () => void; uncork?: () => void };
}

interface FieldDescription {
  readonly name: string;
  readonly dataTypeID: number;
}

export interface CappedQueryResult {
  readonly columns: readonly ColumnInfo[];
}

/** Rows per Execute: small enough to stop early, large enough to keep round trips few. */
const BATCH_ROWS = 500;

/**
 * A pg Submittable that runs ONE statement with the extended query protocol (Parse, Bind,
 * Describe, Execute, Sync) and stops fetching as soon as the row collector is full.
 *
 * - The extended protocol makes the server refuse several statements in one string
 *   ("cannot insert multiple commands into a prepared statement"), so a stacked `; DROP …`
 *   never runs even if the analyser were fooled.
 * - Rows are fetched from the unnamed portal in batches with Execute's row limit, so the cap
 *   never depends on rewriting the SQL with LIMIT (anchors §6). When the collector is full
 *   the portal is left suspended; the ROLLBACK that follows closes it.
 *
 * Same contract with pg's Client as pg-cursor: the client calls the handle* methods below.
 */
export class CappedQuery {
  readonly result: Promise<CappedQueryResult>;
  #resolve!: (result: CappedQueryResult) => void;
  #reject!: (error: unknown) => void;
  #columns: ColumnInfo[] = [];
  #parsers: ((text: string) => unknown)[] = [];
  #error: unknown;
  #synced = false;
  #connection: ProtocolConnection | undefined;
  readonly #text: string;
  readonly #collector: RowCollector;
  readonly #batch: number;

  constructor(text: string, collector: RowCollector, maxRows: number) {
    this.#text = text;
    this.#collector = collector;
    this.#batch = Math.min(BATCH_ROWS, maxRows + 1);
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The engine always awaits `result`; this only prevents an unhandled rejection when the
    // watchdog has already given up on the query.
    this.result.catch(() => undefined);
  }

  submit(connection: ProtocolConnection): void {
    this.#connection = connection;
    connection.stream.cork?.();
    try {
      connection.parse({ text: this.#text });
      connection.bind({ values: [] });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: this.#batch });
      connection.flush();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(message: { fields: readonly FieldDescription[] }): void {
    this.#columns = message.fields.map((field) => ({
      name: field.name,
      type: postgresTypeName(field.dataTypeID),
    }));
    this.#parsers = message.fields.map((field) =>
      postgresTypeParsers.getTypeParser(field.dataTypeID),
    );
  }

  handleDataRow(message: { fields: readonly (string | null)[] }): void {
    if (this.#collector.done || this.#error !== undefined) return;
    try {
      const row = message.fields.map((text, i) =>
        text === null ? null : (this.#parsers[i] ?? String)(text),
      );
      this.#collector.push(row);
    } catch (error) {
      this.#error = error;
    }
  }

  handlePortalSuspended(connection: ProtocolConnection): void {
    if (this.#collector.done || this.#error !== undefined) {
      this.#sync(connection);
      return;
    }
    connection.execute({ portal: '', rows: this.#batch });
    connection.flush();
  }

  handleCommandComplete(_message: unknown, connection: ProtocolConnection): void {
    this.#sync(connection);
  }

  handleEmptyQuery(connection: ProtocolConnection): void {
    this.#sync(connection);
  }

  handleCopyInResponse(connection: ProtocolConnection): void {
    connection.sendCopyFail('Gatehouse does not send data to the server.');
  }

  handleCopyData(): void {
    // COPY … TO STDOUT output is never collected.
  }

  handleError(error: unknown, connection?: ProtocolConnection): void {
    // After an error the server skips messages until Sync; send it once so the connection
    // becomes ready again (pg-cursor does the same).
    try {
      this.#sync(connection ?? this.#connection);
    } catch {
      // The connection is already gone; the engine destroys the client.
    }
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    if (this.#error !== undefined) {
      this.#reject(
        new GatehouseError('INTERNAL', 'A result value could not be converted.', {
          cause: this.#error,
        }),
      );
      return;
    }
    this.#resolve({ columns: this.#columns });
  }

  #sync(connection: ProtocolConnection | undefined): void {
    if (this.#synced || connection === undefined) return;
    this.#synced = true;
    connection.sync();
  }
}
