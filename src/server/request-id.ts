import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A caller-supplied `x-request-id` is honoured (so a client or proxy can correlate its logs
 * with ours and with audit records) only when it is short and plain: it ends up in logs and
 * audit records, where control characters or megabytes have no business. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && ACCEPTABLE.test(value) ? value : randomUUID();
}
