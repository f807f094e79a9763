import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { AppendResult, PendingAppend } from './append-batch.js';
import {
  deserializeError,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from './audit-writer-protocol.js';

interface Waiting {
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/** How long close() waits for the thread to commit and close its connection. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The main thread's side of the audit writer thread (audit-writer-thread.ts). `write` hands
 * a batch of appends to the thread and resolves once its transaction has COMMITTED (fsync
 * included, with synchronous=FULL); the event loop keeps serving requests meanwhile.
 *
 * The thread is started on the first write, so a command that only reads the state never
 * starts one, and it does not keep the process alive while nothing is pending. If it stops
 * (a crash, an exit), every write in flight is rejected (the caller answers
 * AUDIT_UNAVAILABLE: fail closed) and the next write starts a new one.
 */
export class AuditWriter {
  readonly #data: WriterData;
  readonly #waiting = new Map<number, Waiting>();
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #nextId = 1;
  #closed = false;

  readonly #onStart: ((worker: Worker) => void) | undefined;

  /** `onStart` sees each thread started (tests use it to stop one). */
  constructor(data: WriterData, onStart?: (worker: Worker) => void) {
    this.#data = data;
    this.#onStart = onStart;
  }

  async write(batch: readonly PendingAppend[]): Promise<AppendResult[]> {
    const worker = await this.#started();
    try {
      return await this.#send(worker, batch);
    } catch (error) {
      if (!isDataCloneError(error)) throw error;
      // An event that cannot cross to the thread (a function in `details`, say) is refused
      // alone, as the inline transaction refuses a malformed event; the others are written.
      const results: AppendResult[] = new Array<AppendResult>(batch.length);
      const sendable: PendingAppend[] = [];
      const positions: number[] = [];
      batch.forEach((item, i) => {
        try {
          structuredClone(item);
          sendable.push(item);
          positions.push(i);
        } catch (cloneError) {
          results[i] = {
            refused: new TypeError(
              `audit: the event cannot be stored: ${cloneError instanceof Error ? cloneError.message : String(cloneError)}`,
            ),
          };
        }
      });
      const sent = sendable.length === 0 ? [] : await this.#send(worker, sendable);
      sent.forEach((result, k) => {
        results[positions[k] as number] = result;
      });
      return results;
    }
  }

  /** Lets the thread close its connection, then stops it. Writes in flight are waited for by
   * the caller (SqliteAuditLog.close) before this is called. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    if (worker === undefined) return;
    worker.ref();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      worker.on('message', (reply: WriterReply) => {
        if (reply.kind === 'closed') done();
      });
      worker.once('exit', done);
      try {
        worker.postMessage({ kind: 'close' } satisfies WriterRequest);
      } catch {
        done();
      }
    });
    await worker.terminate();
  }

  #started(): Promise<Worker> {
    if (this.#closed) return Promise.reject(new Error('the audit log is closed'));
    this.#ready ??= this.#start();
    return this.#ready;
  }

  #start(): Promise<Worker> {
    const { filename, options } = workerEntry();
    const worker = new Worker(filename, { ...options, workerData: this.#data });
    this.#worker = worker;
    this.#onStart?.(worker);
    worker.unref();
    const ready = new Promise<Worker>((resolve, reject) => {
      worker.on('message', (reply: WriterReply) => {
        switch (reply.kind) {
          case 'ready':
            resolve(worker);
            return;
          case 'unavailable':
            this.#lost(worker, deserializeError(reply.error));
            reject(deserializeError(reply.error));
            return;
          case 'result': {
            const waiting = this.#take(reply.id);
            waiting?.resolve(
              reply.results.map((result) =>
                'record' in result ? result : { refused: deserializeError(result.refused, true) },
              ),
            );
            return;
          }
          case 'failed':
            this.#take(reply.id)?.reject(deserializeError(reply.error));
            return;
          case 'closed':
            return;
        }
      });
      worker.on('error', (error) => {
        this.#lost(worker, error);
        reject(error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`the audit writer thread exited (code ${code})`);
        this.#lost(worker, error);
        reject(error);
      });
    });
    // While starting, a waiting write keeps the process alive.
    worker.ref();
    return ready.finally(() => {
      if (this.#waiting.size === 0) worker.unref();
    });
  }

  #send(worker: Worker, batch: readonly PendingAppend[]): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      const id = this.#nextId++;
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) worker.ref();
      try {
        worker.postMessage({ kind: 'append', id, batch } satisfies WriterRequest);
      } catch (error) {
        this.#take(id);
        reject(error);
      }
    });
  }

  #take(id: number): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker?.unref();
    return waiting;
  }

  /** The thread is gone: fail every write in flight; the next write starts a new thread. */
  #lost(worker: Worker, error: unknown): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) w.reject(error);
    void worker.terminate().catch(() => undefined);
  }
}

function isDataCloneError(error: unknown): boolean {
  return error instanceof Error && error.name === 'DataCloneError';
}

/**
 * The thread's module: the compiled `.js` beside this file, or, when Gatehouse runs from its
 * TypeScript sources (tests, `tsx`), the `.ts` one loaded through tsx (a dev dependency).
 */
function workerEntry(): { filename: string | URL; options: WorkerOptions } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return { filename: new URL('./audit-writer-thread.js', here), options: {} };
  }
  const entry = new URL('./audit-writer-thread.ts', here).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    filename: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    options: { eval: true },
  };
}
