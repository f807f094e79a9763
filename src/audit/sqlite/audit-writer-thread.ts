/**
 * The audit writer thread: owns its own connection to the SQLite state file and runs the
 * append transactions there (prepareAppendBatch), so the COMMIT and its fsync never stop the
 * gateway's event loop. Started by AuditWriter (audit-writer.ts); speaks only its messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareAppendBatch } from './append-batch.js';
import {
  serializeError,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from './audit-writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('audit-writer-thread must run as a worker thread');
const data = workerData as WriterData;

let db: Database.Database | undefined;
let append: ReturnType<typeof prepareAppendBatch> | undefined;
try {
  db = new Database(data.path, { fileMustExist: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${data.synchronous}`);
  append = prepareAppendBatch(db);
  port.postMessage({ kind: 'ready' } satisfies WriterReply);
} catch (error) {
  db?.close();
  port.postMessage({ kind: 'unavailable', error: serializeError(error) } satisfies WriterReply);
}

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    db?.close();
    port.postMessage({ kind: 'closed' } satisfies WriterReply);
    port.close();
    return;
  }
  if (append === undefined) {
    port.postMessage({
      kind: 'failed',
      id: request.id,
      error: { name: 'Error', message: 'the audit writer could not open the state file' },
    } satisfies WriterReply);
    return;
  }
  let reply: WriterReply;
  try {
    const results = append(request.batch).map((result) =>
      'record' in result ? result : { refused: serializeError(result.refused) },
    );
    reply = { kind: 'result', id: request.id, results };
  } catch (error) {
    reply = { kind: 'failed', id: request.id, error: serializeError(error) };
  }
  port.postMessage(reply);
});
