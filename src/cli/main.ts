import { EXIT, processIo, type CliIo, type Command } from './cli-io.js';

/** Each command lives in its own module under commands/, loaded only when used so that
 * `gatehouse validate` does not pay for database drivers. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'check access requests against policies/ and CODEOWNERS',
    load: async () => (await import('./commands/validate.js')).validate,
  },
  request: {
    summary: 'write a new access request file (and optionally open the PR)',
    load: async () => (await import('./commands/request.js')).request,
  },
  explain: {
    summary: 'show what a SQL statement reads and whether a grant covers it',
    load: async () => (await import('./commands/explain.js')).explain,
  },
  serve: {
    summary: 'run the service: webhooks, query API, reconcile and expiry sweeps',
    load: async () => (await import('./commands/serve.js')).serve,
  },
  query: {
    summary: 'run a read-only query through the Gatehouse server',
    load: async () => (await import('./commands/query.js')).query,
  },
  grants: {
    summary: 'list your active grants',
    load: async () => (await import('./commands/grants.js')).grants,
  },
  reconcile: {
    summary: 'rebuild grants from the access repository (heals lost webhooks)',
    load: async () => (await import('./commands/reconcile.js')).reconcile,
  },
  expire: {
    summary: 'open revocation PRs for expired grants and send reminders',
    load: async () => (await import('./commands/expire.js')).expire,
  },
  audit: {
    summary: 'read, verify, export and prune the audit log',
    load: async () => (await import('./commands/audit.js')).audit,
  },
  demo: {
    summary: 'run the whole lifecycle against a simulated GitHub and an embedded database',
    load: async () => (await import('./commands/demo.js')).demo,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`,
  );
  return `Usage: gatehouse <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun gatehouse <command> --help for a command's options.\n`;
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr(`gatehouse: unknown command '${name}'\n\n${usage()}`);
    return EXIT.USAGE;
  }
  const command = await entry.load();
  return command(rest, io);
}
