import { execFile } from 'node:child_process';
import { GatehouseError } from '../errors/catalogue.js';

/**
 * The token `gatehouse request --open-pr` uses, in this order: GATEHOUSE_TOKEN (a token meant
 * for Gatehouse only), GITHUB_TOKEN (what CI and many shells already export), then the GitHub
 * CLI's stored login (`gh auth token`, https://cli.github.com/manual/gh_auth_token).
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** Runs a command and resolves with its standard output; rejects when it fails. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

export type TokenSource = 'GATEHOUSE_TOKEN' | 'GITHUB_TOKEN' | 'gh auth token';

const runCommand: CommandRunner = (command, args) =>
  new Promise((resolve, reject) => {
    // A short timeout: gh may prompt or hang without a TTY; we must not wait forever.
    execFile(command, [...args], { timeout: 10_000, windowsHide: true }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });

export async function resolveGithubToken(
  env: Env,
  run: CommandRunner = runCommand,
  options: { readonly hostname?: string } = {},
): Promise<{ readonly token: string; readonly source: TokenSource }> {
  for (const key of ['GATEHOUSE_TOKEN', 'GITHUB_TOKEN'] as const) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') return { token: value, source: key };
  }
  try {
    const args = [
      'auth',
      'token',
      ...(options.hostname === undefined ? [] : ['--hostname', options.hostname]),
    ];
    const token = (await run('gh', args)).trim();
    if (token !== '') return { token, source: 'gh auth token' };
  } catch {
    // gh missing or not logged in: fall through to the one clear error below.
  }
  throw new GatehouseError(
    'PR_TOKEN_MISSING',
    'No GitHub token found: set GATEHOUSE_TOKEN or GITHUB_TOKEN, or log in with `gh auth login`.',
  );
}
