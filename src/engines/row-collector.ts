import { GatehouseError } from '../errors/catalogue.js';
import type { ExecuteOptions } from './engine.js';

/**
 * Collects streamed rows up to the row cap and the byte cap. The row cap truncates (the
 * caller sees `truncated: true`; one extra row is read to know there was more). The byte cap
 * is an error, QUERY_RESULT_TOO_LARGE, as in Bytebase: a result cut at an arbitrary byte
 * count is easy to misread as complete, and the user can lower maxRows or select fewer
 * columns. Bytes are counted as the JSON the HTTP API will send for `rows`.
 */
export class RowCollector {
  readonly rows: unknown[][] = [];
  truncated = false;
  /** Set when the byte cap was exceeded; the engine throws it once the query is stopped. */
  overflow: GatehouseError | undefined;
  #bytes = 2;
  readonly #limits: Pick<ExecuteOptions, 'maxRows' | 'maxBytes'>;

  constructor(limits: Pick<ExecuteOptions, 'maxRows' | 'maxBytes'>) {
    this.#limits = limits;
  }

  /** Adds one row of JSON-safe values; false once no more rows are wanted. */
  push(row: unknown[]): boolean {
    if (this.overflow !== undefined || this.truncated) return false;
    if (this.rows.length >= this.#limits.maxRows) {
      this.truncated = true;
      return false;
    }
    this.#bytes += Buffer.byteLength(JSON.stringify(row)) + (this.rows.length > 0 ? 1 : 0);
    if (this.#bytes > this.#limits.maxBytes) {
      this.overflow = new GatehouseError(
        'QUERY_RESULT_TOO_LARGE',
        `The result is larger than ${this.#limits.maxBytes} bytes after ${this.rows.length} rows; select fewer columns or lower maxRows.`,
      );
      this.rows.length = 0;
      return false;
    }
    this.rows.push(row);
    return true;
  }

  /** Whether the query can stop early: nothing more will be kept. */
  get done(): boolean {
    return this.truncated || this.overflow !== undefined;
  }
}

export function validateExecuteOptions(options: ExecuteOptions): void {
  for (const key of ['maxRows', 'maxBytes', 'timeoutMs'] as const) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < (key === 'maxRows' ? 0 : 1)) {
      throw new GatehouseError(
        'INTERNAL',
        `ExecuteOptions.${key} must be a positive integer; got ${value}.`,
      );
    }
  }
}
