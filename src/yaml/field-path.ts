/** A path into a YAML document: mapping keys and sequence indexes, e.g. `['tables', 2]`. */
export type FieldPath = readonly (string | number)[];

/** `['auth', 'iam', 'region']` → `auth.iam.region`; `['tables', 2]` → `tables[2]`. This is the
 * `field` of a Diagnostic. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
