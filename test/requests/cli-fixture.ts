import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIo } from '../../src/cli/cli-io.js';
import { FIXTURE_FILES } from './fixture-context.js';

export interface CapturedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIo(cwd: string, env: Record<string, string | undefined> = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    // No HOME and no system config: `git config github.user` finds nothing unless a test says so.
    env: {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      ...env,
    },
    cwd,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

export const VALID_REQUEST = `# yaml-language-server: $schema=../../schemas/access-request.schema.json
requester: alice
database: hr_prod
tables: [employee]
access: read
duration: 4h
reason: Investigating INC-42.
`;

/** A throwaway access repository with the fixture policies and the given files. */
export async function tempRepository(
  files: Readonly<Record<string, string>> = {},
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'gatehouse-cli-'));
  for (const [relative, text] of Object.entries({ ...FIXTURE_FILES, ...files })) {
    const file = path.join(root, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
