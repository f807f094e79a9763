/**
 * Gatehouse the way users run it: `node bin/gatehouse.js <command>` as a child process, with
 * nothing but its environment. The server's URL comes from its own log line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './access-repo.js';

export const BIN = join(REPO_ROOT, 'bin', 'gatehouse.js');

/** Keys of the developer's own environment that must not leak into the scenario. */
const LEAKY =
  /^(GATEHOUSE_|GHE_|GITHUB_TOKEN$|GH_TOKEN$|APP_ID$|PRIVATE_KEY|WEBHOOK_SECRET$|PORT$|HOST$|NODE_OPTIONS$)/;

function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !LEAKY.test(key)) base[key] = value;
  }
  return { ...base, ...env };
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** `npm ci` builds dist/ (prepare); a working tree may have edited src/ since: build again
 * when any source file is newer than the CLI entry point. */
export function ensureBuilt(): void {
  const entry = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const builtAt = (): number => {
    try {
      return statSync(entry).mtimeMs;
    } catch {
      return 0;
    }
  };
  const sources = newest(join(REPO_ROOT, 'src'));
  if (builtAt() > sources) return;
  const result = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  // tsc emits even with type errors (which `npm run lint` reports): only a build that wrote
  // nothing stops the suite.
  if (builtAt() <= sources) {
    throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one CLI command to its end. */
export function gatehouse(
  args: readonly string[],
  options: { readonly env: Record<string, string>; readonly cwd?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  readonly url: string;
  /** Every log line so far (pino JSON), for assertions and for failure messages. */
  readonly logs: string[];
  /** SIGTERM, then the exit code (0 for a clean stop). */
  stop(): Promise<number | null>;
}

/** Starts `gatehouse serve [args]` and resolves once it logs that it listens. */
export function startServer(
  env: Record<string, string>,
  options: {
    readonly args?: readonly string[];
    readonly cwd?: string;
    readonly timeoutMs?: number;
  } = {},
): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...(options.args ?? [])], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    let pending = '';
    let listening = false;
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`gatehouse serve did not listen within ${timeoutMs} ms:\n${logs.join('\n')}`),
      );
    }, timeoutMs);
    const onLine = (line: string) => {
      logs.push(line);
      if (listening) return;
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as { msg?: string; url?: string };
      } catch {
        return;
      }
      if (entry.msg === 'Gatehouse is listening' && typeof entry.url === 'string') {
        listening = true;
        clearTimeout(timer);
        const url = entry.url;
        resolve({
          url,
          logs,
          async stop() {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      if (!listening) {
        clearTimeout(timer);
        reject(new Error(`gatehouse serve exited ${code} before listening:\n${logs.join('\n')}`));
      }
    });
  });
}

/** Polls `probe` until it returns a value (not undefined), or fails naming `what`. Webhook
 * effects are asynchronous: this is how a test waits for them, never with a fixed sleep. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
