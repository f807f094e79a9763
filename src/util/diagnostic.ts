import type { ErrorCode } from '../errors/catalogue.js';

/** A problem found in a file a user wrote: where it is and what to do about it. Lines and
 * columns are 1-based; 0 means "the whole file". */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the field, e.g. `tables[2]`; empty for the whole file. */
  readonly field: string;
  readonly code: ErrorCode;
  readonly message: string;
}
