import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RepoFileReader } from '../policy/repo-context.js';
import { DATABASES_PATH } from '../policy/repo-context.js';
import { MAX_FILE_BYTES } from '../yaml/load-yaml.js';

/** The CLI's view of an access repository on disk (the GitHub App reads the same paths
 * through the contents API). */

/** The nearest directory at or above `cwd` that holds policies/databases.yaml. */
export async function findRepositoryRoot(cwd: string): Promise<string | null> {
  let dir = path.resolve(cwd);
  for (;;) {
    if (await isFile(path.join(dir, DATABASES_PATH))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Reads repository-relative paths under `root`; a missing file (or a directory) is null. */
export function directoryReader(root: string): RepoFileReader {
  return async (relative) => {
    const file = path.join(root, ...relative.split('/'));
    return (await isFile(file)) ? readCapped(file) : null;
  };
}

/** Reads at most one byte more than the YAML loader accepts: enough for it to say "too
 * large" without reading a huge file into memory. */
export async function readCapped(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  } finally {
    await handle.close();
  }
}

/** Every `.yaml`/`.yml` file under `dir`, recursively, sorted; `.yml` and nested files are
 * included so that a misplaced request is reported rather than silently skipped. */
export async function listYamlFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** `root`-relative path with forward slashes, as used in diagnostics and by GitHub. */
export function repoPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}
