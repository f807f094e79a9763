import type { CliIo } from '../../../src/cli/cli-io.js';

/** A CliIo that keeps what a command prints, for in-process CLI tests. */
export function captureIo(
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
): CliIo & { readonly out: () => string; readonly err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env,
    cwd,
    out: () => out,
    err: () => err,
  };
}
