import { Document } from 'yaml';

export interface RequestFields {
  readonly requester: string;
  readonly database: string;
  readonly tables: readonly string[];
  /** Exactly one of `duration` and `expires`. */
  readonly duration?: string;
  readonly expires?: string;
  readonly reason: string;
  readonly ticket?: string;
}

/** The header that lets editors complete and check the file (yaml-language-server); the path
 * is relative to access/<database>/. */
export const REQUEST_SCHEMA_HEADER =
  '# yaml-language-server: $schema=../../schemas/access-request.schema.json';

/** The text of a request file, keys in the documented order, values quoted by the YAML
 * library wherever they need it (a reason may hold `:` or `#`). */
export function renderRequest(fields: RequestFields): string {
  const value: Record<string, unknown> = {
    requester: fields.requester,
    database: fields.database,
    tables: [...fields.tables],
    access: 'read',
  };
  if (fields.duration !== undefined) value.duration = fields.duration;
  if (fields.expires !== undefined) value.expires = fields.expires;
  value.reason = fields.reason;
  if (fields.ticket !== undefined) value.ticket = fields.ticket;
  const doc = new Document(value, { version: '1.2' });
  return `${REQUEST_SCHEMA_HEADER}\n${doc.toString({ lineWidth: 0 })}`;
}
