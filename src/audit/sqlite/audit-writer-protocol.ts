import type { AuditRecord } from '../audit-record.js';
import type { PendingAppend } from './append-batch.js';

/** What the audit writer thread is started with. */
export interface WriterData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** PRAGMA synchronous of the state connection (2 = FULL, as shipped). */
  readonly synchronous: number;
}

/** An error as it crosses the thread boundary (structured clone drops `code`). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export type WriterRequest =
  | { readonly kind: 'append'; readonly id: number; readonly batch: readonly PendingAppend[] }
  | { readonly kind: 'close' };

export type WriterReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'unavailable'; readonly error: SerializedError }
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly results: readonly (
        { readonly record: AuditRecord } | { readonly refused: SerializedError }
      )[];
    }
  | { readonly kind: 'failed'; readonly id: number; readonly error: SerializedError }
  | { readonly kind: 'closed' };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** Back to an Error on the main thread. For a refused event a TypeError stays one (a malformed
 * event: storeFailure passes it through as the caller's bug); anything else, including a
 * TypeError better-sqlite3 raises for a file it cannot open, is a plain Error keeping `code`,
 * so that it surfaces as AUDIT_UNAVAILABLE. */
export function deserializeError(error: SerializedError, refusedEvent = false): Error {
  if (refusedEvent && error.name === 'TypeError' && error.code === undefined) {
    return new TypeError(error.message);
  }
  const revived = new Error(error.message);
  if (error.name !== 'Error') revived.name = error.name;
  if (error.code !== undefined) Object.assign(revived, { code: error.code });
  return revived;
}
