import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../config/config.js';
import { configuredClock } from '../../config/configured-clock.js';
import { GatehouseError } from '../../errors/catalogue.js';
import { startGatehouse, type Gatehouse, type StartOptions } from '../../wiring.js';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse serve [--demo]

Runs the service: the GitHub App webhook route, the query API, /healthz and /readyz.
Configured by environment variables (docs/configuration.md), validated at start.
Stops cleanly on SIGINT or SIGTERM. Reloads policies/databases.yaml and policies/risk.yaml on
SIGHUP (and every GATEHOUSE_POLICY_RELOAD_INTERVAL); an invalid policy is refused and the one
in force kept. Every reload is in the audit log as config.reloaded.
  --demo   the quickstart (npm start): serve only hr_demo, from an embedded PostgreSQL with
           the employee sample; HOST defaults to 127.0.0.1. State as usual (./data).
Exit codes: 0 stopped by a signal, 1 could not start, 2 usage or configuration error.
`;

/** Flags of `serve`. Parsed strictly: an unknown flag is a usage error. The embedded
 * quickstart adds its flag here and turns it into StartOptions in `startOptionsFor`. */
const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  demo: { type: 'boolean' },
} as const;

type ServeFlags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

interface Prepared {
  readonly config: Config;
  readonly options: StartOptions;
  /** Stops what was started for this run besides the service (the embedded database). */
  readonly stop: () => Promise<void>;
}

async function prepare(flags: ServeFlags, io: CliIo): Promise<Prepared> {
  if (flags.demo === true) {
    // Loaded only here: PGlite is a large WASM module that production never needs.
    const { prepareQuickstart } = await import('../../demo/quickstart.js');
    return prepareQuickstart(io.env, io.cwd);
  }
  return { config: loadConfig(io.env, io.cwd), options: {}, stop: async () => undefined };
}

export interface ServeDeps {
  /** Resolves when the process should stop; default: the first SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<string>;
  /** Called once the server listens (tests learn the URL from it). */
  readonly onListening?: (gatehouse: Gatehouse) => void;
  /** Subscribes to "reload the policies" and returns the unsubscribe; default: SIGHUP. */
  readonly onReloadSignal?: (reload: () => void) => () => void;
}

/** SIGHUP is the conventional "re-read your configuration" signal (nginx, sshd, PostgreSQL's
 * pg_ctl reload); `kill -HUP <pid>`. */
function processReloadSignal(reload: () => void): () => void {
  process.on('SIGHUP', reload);
  return () => process.off('SIGHUP', reload);
}

function processStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runServe(
  args: readonly string[],
  io: CliIo,
  deps: ServeDeps = {},
): Promise<number> {
  let flags: ServeFlags;
  try {
    ({ values: flags } = parseArgs({
      args: [...args],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`gatehouse serve: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (flags.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }

  let gatehouse: Gatehouse;
  let prepared: Prepared | null = null;
  try {
    prepared = await prepare(flags, io);
    const { config, options } = prepared;
    gatehouse = await startGatehouse(config, configuredClock(config.clock), options);
  } catch (error) {
    await prepared?.stop().catch(() => undefined);
    if (error instanceof GatehouseError) {
      io.stderr(`gatehouse serve: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' || error.code === 'POLICY_INVALID'
        ? EXIT.USAGE
        : EXIT.FAILED;
    }
    throw error;
  }
  const running = gatehouse;
  // reloadPolicy never rejects, logs and audits its outcome, and runs one reload at a time.
  const unsubscribe = (deps.onReloadSignal ?? processReloadSignal)(
    () => void running.reloadPolicy('signal'),
  );
  deps.onListening?.(gatehouse);
  const signal = await (deps.stopSignal ?? processStopSignal());
  unsubscribe();
  gatehouse.server.log.info({ signal }, 'stopping');
  await gatehouse.close();
  await prepared.stop();
  return EXIT.OK;
}

export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  return runServe(args, io);
}
