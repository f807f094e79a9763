import type { FastifyReply } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors/catalogue.js';

/** The one error shape of the HTTP API (docs/http-api.md). `hint` is the exact command that
 * would fix a refusal; `auditId` the audit record that holds the refused attempt. */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly hint?: string;
    readonly auditId?: string;
  };
}

export function errorBody(
  code: ErrorCode,
  message: string = ERRORS[code].summary,
  extra: { readonly hint?: string | undefined; readonly auditId?: string | undefined } = {},
): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(extra.hint === undefined ? {} : { hint: extra.hint }),
      ...(extra.auditId === undefined ? {} : { auditId: extra.auditId }),
    },
  };
}

/** Sends an error with the status the catalogue gives its code. */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  extra?: { readonly hint?: string | undefined; readonly auditId?: string | undefined },
): FastifyReply {
  return reply.code(ERRORS[code].status).send(errorBody(code, message, extra));
}
