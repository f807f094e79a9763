import type { AuditLog } from '../audit/audit-log.js';
import type { Engine } from '../engines/engine.js';
import type { GrantStore } from '../grants/grant-store.js';

/** What GET /readyz reports. Ready means this replica can take traffic: the state store
 * answers and the policies loaded (the service does not start without them). Databases are
 * reported beside it when asked (`?databases=1`) but do not make the replica unready: one
 * database down must not take webhooks and the other databases with it. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, 'ok' | 'failed' | 'off'>>;
  readonly databases?: Readonly<Record<string, 'ok' | 'unavailable'>>;
}

export type ReadinessCheck = (options: { readonly databases: boolean }) => Promise<ReadinessReport>;

/** How long a probe waits for one component before calling it down. */
const CHECK_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createReadinessCheck(deps: {
  readonly grants: GrantStore;
  readonly audit: AuditLog;
  readonly databaseIds: readonly string[];
  readonly engineFor: (id: string) => Engine;
  readonly githubApp: boolean;
  readonly log?: { warn(details: object, message: string): void };
}): ReadinessCheck {
  return async ({ databases }) => {
    let state: 'ok' | 'failed' = 'ok';
    try {
      // Reads from both halves of the state store. Writability is not probed: a probe that
      // appended to the audit chain every few seconds would drown the records that matter.
      await withTimeout(
        Promise.all([deps.grants.list({ limit: 1 }), deps.audit.query({ limit: 1 })]),
        CHECK_TIMEOUT_MS,
      );
    } catch (error) {
      deps.log?.warn({ err: error }, 'readiness: state store check failed');
      state = 'failed';
    }
    const report: ReadinessReport = {
      ready: state === 'ok',
      checks: { state, policies: 'ok', github: deps.githubApp ? 'ok' : 'off' },
    };
    if (!databases) return report;
    const results = await Promise.all(
      deps.databaseIds.map(async (id) => {
        try {
          await withTimeout(deps.engineFor(id).ping(), CHECK_TIMEOUT_MS);
          return [id, 'ok'] as const;
        } catch (error) {
          deps.log?.warn({ err: error, database: id }, 'readiness: database ping failed');
          return [id, 'unavailable'] as const;
        }
      }),
    );
    return { ...report, databases: Object.fromEntries(results) };
  };
}
