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
      // Built with plain loops and concatenation: this runs for every audit record on the
      // query path (twice per query), and entries/map/join allocate several arrays per level.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += canonicalJson(value[i]); // a hole is undefined: refused like any undefined
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('canonicalJson: only plain objects, arrays and primitives are allowed');
      }
      const object = value as Record<string, unknown>;
      // The default sort compares strings by UTF-16 code units, as RFC 8785 §3.2.3 requires.
      const keys = Object.keys(object).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        if (i > 0) out += ',';
        out += `${JSON.stringify(key)}:${canonicalJson(object[key])}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not JSON data`);
  }
}
