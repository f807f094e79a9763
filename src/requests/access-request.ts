/** An access request as written under access/<database>/<file>.yaml, after validation. */
export type AccessKind = 'read';

export type Lifetime =
  | { readonly kind: 'duration'; readonly text: string; readonly ms: number }
  | { readonly kind: 'expires'; readonly text: string; readonly at: Date };

export interface AccessRequest {
  /** Repository-relative path with forward slashes, e.g. `access/hr_prod/alice-incident-42.yaml`. */
  readonly path: string;
  readonly requester: string;
  readonly database: string;
  /** `table` or `schema.table`, exactly as written; `['*']` means the whole database. */
  readonly tables: readonly string[];
  readonly access: AccessKind;
  readonly lifetime: Lifetime;
  readonly reason: string;
  readonly ticket?: string;
}
