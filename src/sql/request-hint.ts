import type { TableRef } from './analysis.js';
import { displayName } from './authorize.js';

/**
 * The exact command that requests what a refused statement lacks, for 403 hints and
 * `gatehouse explain`: `gatehouse request hr_prod --tables salary,title --for 1h --reason "…"`.
 * Tables in the default schema are written unqualified, as access requests write them.
 */
export function requestHint(
  database: string,
  missing: readonly TableRef[],
  defaultSchema: string,
): string {
  const tables = [...new Set(missing.map((table) => displayName(table, defaultSchema)))];
  return `gatehouse request ${shellWord(database)} --tables ${shellWord(tables.join(','))} --for 1h --reason "…"`;
}

/** Quotes for POSIX shells only when needed, so ordinary names stay copy-paste friendly. */
function shellWord(word: string): string {
  if (/^[A-Za-z0-9_.,$-]+$/.test(word)) return word.replace(/\$/g, '\\$');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
