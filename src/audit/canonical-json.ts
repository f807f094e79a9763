/**
 * Canonical JSON for the audit hash chain: the JSON Canonicalization Scheme (RFC 8785) for the
 * values an audit record holds. Object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers serialised exactly as ECMAScript's JSON.stringify does (RFC 8785 §3.2.2).
 * Auditors can reproduce it in any language; docs/audit.md shows how.
 *
 * Anything that is not plain JSON data (undefined, functions, symbols, bigint, NaN, Infinity,
 * class instances such as Date) is a programming error and throws, so two writers can never
 * hash the same record differently.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonicalJson: ${String(value)} is not a JSON number`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        return `[${value.map((item: unknown) => canonicalJson(item)).join(',')}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('canonicalJson: only plain objects, arrays and primitives are allowed');
      }
      const entries = Object.entries(value as Record<string, unknown>);
      // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not JSON data`);
  }
}
