/**
 * `gatehouse serve --demo` (`npm start`): the service on embedded defaults, so a newcomer can
 * start it on any machine with Node and nothing else: SQLite state under ./data (the normal
 * default), the embedded PostgreSQL holding the employee sample as `hr_demo`, the webhook
 * route ready for a GitHub App. Everything else is the production code path.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loadConfig, type Config, type Env } from '../config/config.js';
import { createLogger, readDatabases, type StartOptions } from '../wiring.js';
import { demoDatabases, demoEntry, DEMO_DATABASE_ID } from './demo-databases.js';
import { startEmbeddedDatabase } from './embedded-database.js';

export interface Quickstart {
  readonly config: Config;
  readonly options: StartOptions;
  /** Stops the embedded database (after the service closed). */
  stop(): Promise<void>;
}

/**
 * Reads the configuration as `serve` does, with two demo defaults that the environment can
 * still override: HOST=127.0.0.1 (the demo is for this machine) and a random password in the
 * variable the `hr_demo` entry names (the embedded server accepts any; the engine requires
 * one to be set, as it would in production).
 */
export async function prepareQuickstart(env: Env, cwd: string): Promise<Quickstart> {
  const first = loadConfig({ HOST: '127.0.0.1', ...env }, cwd);
  const declared = await readDatabases(first);
  const { passwordEnv } = demoEntry(declared).auth;
  const config =
    (env[passwordEnv] ?? '').trim() !== ''
      ? first
      : loadConfig(
          { HOST: '127.0.0.1', ...env, [passwordEnv]: randomBytes(12).toString('hex') },
          cwd,
        );
  const log: Logger = createLogger(config);

  log.info('Demo mode: starting the embedded PostgreSQL with the employee sample (a few seconds)');
  const embedded = await startEmbeddedDatabase({ port: 0 });
  const { databases, skipped } = demoDatabases(declared, embedded);
  log.info(
    {
      database: DEMO_DATABASE_ID,
      address: `${embedded.host}:${embedded.port}`,
      tables: databases.get(DEMO_DATABASE_ID)?.tables ?? [],
      notServed: skipped,
    },
    `Demo mode: serving only ${DEMO_DATABASE_ID}, from the embedded PostgreSQL at ${embedded.host}:${embedded.port}` +
      (skipped.length === 0
        ? ''
        : `; not served: ${skipped.join(', ')} (they need their servers, AWS IAM and CA files; run \`gatehouse serve\` without --demo for them)`),
  );
  return {
    // The embedded server takes one connection at a time (PGlite runs one session).
    config: Object.freeze({ ...config, poolSize: 1 }),
    options: { databases, logger: log },
    stop: () => embedded.stop(),
  };
}
