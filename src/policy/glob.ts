/**
 * Table-name globs of risk rules (`policies/risk.yaml`, `match.tables`): `*` matches any run of
 * characters (including none, and including the `.` of `schema.table`), `?` exactly one
 * character; every other character is literal. There are no character classes and no escapes:
 * table names that need them are not worth the ambiguity.
 *
 * Matching is case-INSENSITIVE on purpose. MySQL on Linux compares table names case-sensitively
 * but on macOS/Windows (lower_case_table_names=1/2) it does not, and PostgreSQL folds unquoted
 * identifiers to lower case, so `Salary`, `SALARY` and `salary` can all name the one sensitive
 * table. A risk rule exists to make access harder; when in doubt it must apply (fail towards
 * the stricter rule).
 */
export type TableGlob = (table: string) => boolean;

/** Compiles a glob once; the returned predicate can be applied to many table names. */
export function compileTableGlob(glob: string): TableGlob {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += escapeRegExp(ch);
  }
  // `s`: `.` must also match a newline, or a crafted name could slip past `*`.
  // `u`: `?` is one code point, not one UTF-16 unit.
  const regex = new RegExp(`^${source}$`, 'isu');
  return (table) => regex.test(table);
}

export function matchesTableGlob(glob: string, table: string): boolean {
  return compileTableGlob(glob)(table);
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/u.test(ch) ? `\\${ch}` : ch;
}
