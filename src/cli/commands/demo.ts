import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse demo

Runs the whole lifecycle in under a minute, narrated, with no GitHub, AWS or database server:
a developer requests access by pull request, the check names the DBA team, approvals, merge,
queries through Gatehouse, expiry, the revocation pull request, and the audit story.
Uses the simulated GitHub of the tests and the embedded PostgreSQL, so it runs from a clone
of the repository after \`npm ci\` (it needs the dev dependency tsx): \`npm run demo\`.
Exit codes: 0 the story ran to its end, 1 a step failed, 2 usage.
`;

/** demo/run.ts at the root of the repository (this file is dist/cli/commands/demo.js, or
 * src/cli/commands/demo.ts under tsx). */
const SCRIPT = fileURLToPath(new URL('../../../demo/run.ts', import.meta.url));

/** tsx, resolved from this package (not from the caller's directory); null when it is not
 * installed (a production install without dev dependencies). */
function tsxLoader(): string | null {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return null;
  }
}

/**
 * The demo is a TypeScript script next to the simulated GitHub it drives (under test/, which
 * the build does not compile), so it runs in a child Node with tsx's loader. Its output goes
 * straight to this terminal.
 */
export async function demo(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  if (args.length > 0) {
    io.stderr(`gatehouse demo: unexpected argument '${args[0] ?? ''}'\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const loader = tsxLoader();
  if (!existsSync(SCRIPT) || loader === null) {
    io.stderr(
      'gatehouse demo: the demo runs from a clone of the Gatehouse repository after `npm ci` ' +
        `(it needs ${existsSync(SCRIPT) ? 'the dev dependency tsx' : SCRIPT}).\n`,
    );
    return EXIT.FAILED;
  }
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', loader, SCRIPT], {
      stdio: 'inherit',
      env: { ...process.env, ...io.env },
    });
    child.on('error', (error) => {
      io.stderr(`gatehouse demo: cannot start the demo (${error.message})\n`);
      resolve(EXIT.FAILED);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? EXIT.FAILED : 128)));
  });
}
