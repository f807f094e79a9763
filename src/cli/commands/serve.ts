import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { configuredClock } from '../../config/configured-clock.js';
import { GatehouseError } from '../../errors/catalogue.js';
import { startGatehouse, type Gatehouse, type StartOptions } from '../../wiring.js';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse serve

Runs the service: the GitHub App webhook route, the query API, /healthz and /readyz.
Configured by environment variables (docs/configuration.md), validated at start.
Stops cleanly on SIGINT or SIGTERM.
Exit codes: 0 stopped by a signal, 1 could not start, 2 usage or configuration error.
`;

/** Flags of `serve`. Parsed strictly: an unknown flag is a usage error. The embedded
 * quickstart adds its flag here and turns it into StartOptions in `startOptionsFor`. */
const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
} as const;

type ServeFlags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

async function startOptionsFor(_flags: ServeFlags): Promise<StartOptions> {
  return {};
}

export interface ServeDeps {
  /** Resolves when the process should stop; default: the first SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<string>;
  /** Called once the server listens (tests learn the URL from it). */
  readonly onListening?: (gatehouse: Gatehouse) => void;
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
  try {
    const config = loadConfig(io.env, io.cwd);
    gatehouse = await startGatehouse(
      config,
      configuredClock(config.clock),
      await startOptionsFor(flags),
    );
  } catch (error) {
    if (error instanceof GatehouseError) {
      io.stderr(`gatehouse serve: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' || error.code === 'POLICY_INVALID'
        ? EXIT.USAGE
        : EXIT.FAILED;
    }
    throw error;
  }
  deps.onListening?.(gatehouse);
  const signal = await (deps.stopSignal ?? processStopSignal());
  gatehouse.server.log.info({ signal }, 'stopping');
  await gatehouse.close();
  return EXIT.OK;
}

export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  return runServe(args, io);
}
