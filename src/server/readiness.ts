/** What GET /readyz reports. Ready means this replica can take traffic: the state store
 * answers and the policies loaded. Databases are reported beside it (when asked) but do not
 * make the replica unready: one database down must not take webhooks and the other
 * databases with it. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, 'ok' | 'failed' | 'off'>>;
  readonly databases?: Readonly<Record<string, 'ok' | 'unavailable'>>;
}

export type ReadinessCheck = (options: { readonly databases: boolean }) => Promise<ReadinessReport>;
