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

/** Statements run in the same pipeline as the query: before it (in order, each must
 * complete or the query is never executed) and after it (once its rows are in). */
export interface Pipeline {
  readonly prelude: readonly string[];
  readonly epilogue: readonly string[];
}

/** Rows per Execute: small enough to stop early, large enough to keep round trips few. */
const BATCH_ROWS = 500;

/**
 * A row cap up to this many rows (maxRows + 1; the shipped default GATEHOUSE_MAX_ROWS is
 * 1000) is fetched with ONE Execute, and the epilogue and Sync go in the same write: one
 * round trip per query instead of two. At most this many rows then cross the wire after the
 * byte cap is reached (against BATCH_ROWS otherwise); the row cap is the same.
 */
export const ONE_WRITE_MAX_ROWS = 1001;

/**
 * A pg Submittable that runs ONE statement with the extended query protocol and stops
 * fetching as soon as the row collector is full, pipelined with our own statements:
 *
 *   Parse/Bind/Execute of each prelude statement, Parse/Bind/Describe/Execute of the query,
 *   Flush (one write; the server answers in order) … once the query's rows are in:
 *   Parse/Bind/Execute of each epilogue statement, Sync.
 *
 *   When the whole row cap fits one Execute (maxRows + 1 <= ONE_WRITE_MAX_ROWS), the epilogue
 *   and Sync follow the Flush in that same first write: the server sends the query's rows at
 *   the Flush, then runs the epilogue. The server sees the same messages in the same order
 *   either way; only the second write (and the round trip it costs) is gone.
 *
 * - The extended protocol makes the server refuse several statements in one string
 *   ("cannot insert multiple commands into a prepared statement"), so a stacked `; DROP …`
 *   never runs even if the analyser were fooled.
 * - After an error the server skips every message up to the Sync
 *   (https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY): if a
 *   prelude statement (BEGIN READ ONLY, the SET LOCALs) fails, the query is never executed,
 *   outside the read-only transaction or otherwise. This is why the prelude is not a simple
 *   Query message sent ahead: its failure would end with ReadyForQuery and the query that
 *   follows would run.
 * - Rows are fetched from the unnamed portal in batches with Execute's row limit, so the cap
 *   never depends on rewriting the SQL with LIMIT (anchors §6). When the collector is full
 *   the portal is left suspended; the epilogue's ROLLBACK closes it.
 * - `result` settles as soon as the query's rows are in (the caller need not wait for the
 *   epilogue). `settled` resolves at ReadyForQuery with `clean` true only when every
 *   statement, the epilogue included, completed; on an error it resolves at once with
 *   `clean` false (pg detaches the query on ErrorResponse and passes the ReadyForQuery that
 *   follows to no one; commands the engine sends next wait for it).
 *
 * Same contract with pg's Client as pg-cursor: the client calls the handle* methods below,
 * and expects exactly one ReadyForQuery, hence exactly one Sync.
 */
export class CappedQuery {
  readonly result: Promise<CappedQueryResult>;
  readonly settled: Promise<{ readonly clean: boolean }>;
  #resolve!: (result: CappedQueryResult) => void;
  #reject!: (error: unknown) => void;
  #settle!: (outcome: { readonly clean: boolean }) => void;
  #columns: ColumnInfo[] = [];
  #parsers: ((text: string) => unknown)[] = [];
  #error: unknown;
  #synced = false;
  /** `result` was resolved or rejected (later calls are no-ops). */
  #resultSettled = false;
  #failed = false;
  /** Statements of the pipeline that have completed: prelude, then the query, then epilogue. */
  #completed = 0;
  #connection: ProtocolConnection | undefined;
  readonly #text: string;
  readonly #collector: RowCollector;
  readonly #batch: number;
  /** The epilogue and Sync go in the first write (the whole cap fits one Execute). */
  readonly #oneWrite: boolean;
  #epilogueSent = false;
  readonly #pipeline: Pipeline;

  constructor(
    text: string,
    collector: RowCollector,
    maxRows: number,
    pipeline: Pipeline = { prelude: [], epilogue: [] },
  ) {
    this.#text = text;
    this.#collector = collector;
    this.#oneWrite = maxRows + 1 <= ONE_WRITE_MAX_ROWS;
    this.#batch = this.#oneWrite ? maxRows + 1 : Math.min(BATCH_ROWS, maxRows + 1);
    this.#pipeline = pipeline;
    this.result = new Promise((resolve, reject) => {
      this.#resolve = (result) => {
        this.#resultSettled = true;
        resolve(result);
      };
      this.#reject = (error) => {
        this.#resultSettled = true;
        reject(error);
      };
    });
    this.settled = new Promise((resolve) => (this.#settle = resolve));
    // The engine always awaits `result`; this only prevents an unhandled rejection when the
    // watchdog has already given up on the query.
    this.result.catch(() => undefined);
  }

  /** The query's own messages are answered while the prelude is done and it is not. */
  get #inQuery(): boolean {
    return this.#completed === this.#pipeline.prelude.length;
  }

  submit(connection: ProtocolConnection): void {
    this.#connection = connection;
    connection.stream.cork?.();
    try {
      for (const text of this.#pipeline.prelude) run(connection, text);
      connection.parse({ text: this.#text });
      connection.bind({ values: [] });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: this.#batch });
      connection.flush();
      if (this.#oneWrite) this.#sendEpilogue(connection);
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(message: { fields: readonly FieldDescription[] }): void {
    // Only the query is described.
    this.#columns = message.fields.map((field) => ({
      name: field.name,
      type: postgresTypeName(field.dataTypeID),
    }));
    this.#parsers = message.fields.map((field) =>
      postgresTypeParsers.getTypeParser(field.dataTypeID),
    );
  }

  handleDataRow(message: { fields: readonly (string | null)[] }): void {
    // Rows of our own statements (e.g. pg_advisory_unlock_all()) are not the caller's.
    if (!this.#inQuery) return;
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
    // With the epilogue already sent, the one Execute held the whole cap (maxRows + 1 rows):
    // the collector has seen the extra row, and the epilogue's ROLLBACK closes the portal.
    if (this.#epilogueSent || this.#collector.done || this.#error !== undefined) {
      this.#queryDone(connection);
      return;
    }
    connection.execute({ portal: '', rows: this.#batch });
    connection.flush();
  }

  handleCommandComplete(_message: unknown, connection: ProtocolConnection): void {
    this.#statementDone(connection);
  }

  handleEmptyQuery(connection: ProtocolConnection): void {
    this.#statementDone(connection);
  }

  handleCopyInResponse(connection: ProtocolConnection): void {
    connection.sendCopyFail('Gatehouse does not send data to the server.');
  }

  handleCopyData(): void {
    // COPY … TO STDOUT output is never collected.
  }

  handleError(error: unknown, connection?: ProtocolConnection): void {
    this.#failed = true;
    // After an error the server skips messages until Sync; send it once so the connection
    // becomes ready again (pg-cursor does the same). The epilogue is then not run: the
    // engine cleans the session up itself.
    try {
      this.#sync(connection ?? this.#connection);
    } catch {
      // The connection is already gone; the engine destroys the client.
    }
    // After the query's result, an error (of the epilogue) is not the caller's.
    this.#reject(error);
    this.#settle({ clean: false });
  }

  handleReadyForQuery(): void {
    // Without an error the result settled when the query completed; this covers a
    // ReadyForQuery that arrives without one (the result cannot stay pending). The error is
    // built only then: an Error's stack trace costs on every query otherwise.
    if (!this.#resultSettled) {
      this.#reject(new GatehouseError('INTERNAL', 'The server ended the query without a result.'));
    }
    this.#settle({
      clean:
        !this.#failed &&
        this.#completed === this.#pipeline.prelude.length + 1 + this.#pipeline.epilogue.length,
    });
  }

  #statementDone(connection: ProtocolConnection): void {
    if (this.#inQuery) {
      this.#queryDone(connection);
      return;
    }
    this.#completed += 1;
  }

  /** The query's rows are in: hand them over, then run the epilogue and Sync. */
  #queryDone(connection: ProtocolConnection): void {
    if (!this.#inQuery) return;
    this.#completed += 1;
    if (this.#error !== undefined) {
      this.#reject(
        new GatehouseError('INTERNAL', 'A result value could not be converted.', {
          cause: this.#error,
        }),
      );
    } else {
      this.#resolve({ columns: this.#columns });
    }
    if (this.#epilogueSent) return;
    connection.stream.cork?.();
    try {
      this.#sendEpilogue(connection);
    } finally {
      connection.stream.uncork?.();
    }
  }

  #sendEpilogue(connection: ProtocolConnection): void {
    this.#epilogueSent = true;
    for (const text of this.#pipeline.epilogue) run(connection, text);
    this.#sync(connection);
  }

  #sync(connection: ProtocolConnection | undefined): void {
    if (this.#synced || connection === undefined) return;
    this.#synced = true;
    connection.sync();
  }
}

/** Parse, Bind and Execute of one of our own statements (no parameters, every row). */
function run(connection: ProtocolConnection, text: string): void {
  connection.parse({ text });
  connection.bind({ values: [] });
  connection.execute({ portal: '', rows: 0 });
}
