/** The pure parts: grant ids, canonical JSON, the chain hash, page sizes, group commit. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { EMPTY_HEAD, GENESIS_HASH, buildRecord, chainHash } from '../../src/audit/hash-chain.js';
import { grantId } from '../../src/grants/grant-id.js';
import { GroupCommit } from '../../src/state/group-commit.js';
import { pageSize } from '../../src/state/page-size.js';
import { T0 } from './support/samples.js';

describe('grantId', () => {
  it('is g_ + the first 20 hex of sha256(repo\\nfile\\nmergeSha)', () => {
    // printf 'acme/access\naccess/hr_prod/alice.yaml\n0123…4567' | sha256sum → c922d05a266526aea4bc…
    expect(
      grantId(
        'acme/access',
        'access/hr_prod/alice.yaml',
        '0123456789abcdef0123456789abcdef01234567',
      ),
    ).toBe('g_c922d05a266526aea4bc');
  });
});

describe('canonicalJson (RFC 8785 for audit data)', () => {
  it('sorts keys by UTF-16 code units, at every depth, without whitespace', () => {
    expect(
      canonicalJson({ b: 1, a: [{ z: null, y: true }], A: 'x', é: 2, '\u{1F600}': 3, '\uFFFF': 4 }),
    ).toBe('{"A":"x","a":[{"y":true,"z":null}],"b":1,"é":2,"\u{1F600}":3,"\uFFFF":4}');
  });
  it('serialises strings and numbers as JSON.stringify does', () => {
    expect(canonicalJson(['line\nbreak', '"q"', '\u0001', 'ü', 1e21, 0.1, -0, 12.5])).toBe(
      '["line\\nbreak","\\"q\\"","\\u0001","ü",1e+21,0.1,0,12.5]',
    );
  });
  it('refuses what is not JSON data', () => {
    for (const bad of [undefined, NaN, Infinity, 1n, () => 1, new Date(0), { a: undefined }]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
    }
    // A sparse array's hole is undefined too (it must never hash as "[1,,2]").
    expect(() => canonicalJson([1, , 2])).toThrow(TypeError);
  });

  /** The first implementation, kept as the reference: the hash of every stored record
   * depends on this exact output, so a faster version must produce it byte for byte. */
  function referenceCanonicalJson(value: unknown): string {
    if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (value === null) return 'null';
    if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
    const entries = Object.entries(value as Record<string, unknown>);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
  }

  it('produces exactly the reference output on 2,000 generated values', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = [
      'a',
      'B',
      'z',
      'é',
      '\u{1F600}',
      '"',
      '\\',
      '\n',
      '\u0000',
      '\uFFFF',
      ' ',
      '0',
    ];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 6) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    const generate = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
      if (kind === 0) return text();
      if (kind === 1) return [0, -0, 1e21, 0.1, -12.5, 2 ** 53, 5e-324][Math.floor(random() * 7)];
      if (kind === 2) return random() < 0.5;
      if (kind === 3) return null;
      if (kind === 4)
        return Array.from({ length: Math.floor(random() * 4) }, () => generate(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) object[text()] = generate(depth + 1);
      return object;
    };
    for (let i = 0; i < 2000; i++) {
      const value = generate(0);
      expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
    }
  });
});

describe('chain hash', () => {
  it('is sha256(prevHash + "\\n" + canonical content), content with seq and ISO at', () => {
    const record = buildRecord(EMPTY_HEAD, { type: 'config.reloaded', actor: 'gatehouse' }, T0);
    const content =
      '{"actor":"gatehouse","approvers":[],"at":"2024-06-01T10:00:00.123Z","clientAddress":null,' +
      '"code":null,"database":null,"decision":null,"details":{},"grantIds":[],"mergeSha":null,' +
      '"parentSeq":null,"prNumbers":[],"prUrl":null,"requestId":null,"seq":1,"sql":null,' +
      '"sqlSha256":null,"tables":[],"type":"config.reloaded"}';
    const expected = createHash('sha256').update(`${GENESIS_HASH}\n${content}`).digest('hex');
    expect(record.hash).toBe(expected);
    expect(chainHash(GENESIS_HASH, record)).toBe(expected);
    expect(record.prevHash).toBe(GENESIS_HASH);
  });
  it('normalises details through JSON so a re-read record hashes the same', () => {
    const record = buildRecord(
      EMPTY_HEAD,
      { type: 'query.outcome', actor: 'a', details: { when: T0, skip: undefined, n: 1 } },
      T0,
    );
    expect(record.details).toEqual({ when: T0.toISOString(), n: 1 });
  });
  it('refuses malformed events as bugs (TypeError), not as an unavailable store', () => {
    expect(() =>
      buildRecord(EMPTY_HEAD, { type: 'query.attempt', actor: 'a', prNumbers: [1.5] }, T0),
    ).toThrow(TypeError);
    expect(() =>
      buildRecord(EMPTY_HEAD, { type: 'query.attempt', actor: 'a' }, new Date(NaN)),
    ).toThrow(TypeError);
  });
});

describe('pageSize', () => {
  it('defaults, clamps to the maximum, and refuses non-positive limits', () => {
    expect(pageSize(undefined, 100, 1000)).toBe(100);
    expect(pageSize(5000, 100, 1000)).toBe(1000);
    expect(pageSize(7, 100, 1000)).toBe(7);
    expect(() => pageSize(0, 100, 1000)).toThrow(TypeError);
    expect(() => pageSize(1.5, 100, 1000)).toThrow(TypeError);
  });
});

describe('GroupCommit', () => {
  it('flushes a lone item at once and batches what arrives meanwhile, in order', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, string>(async (items) => {
      batches.push([...items]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return items.map((i) => `r${i}`);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => group.submit(i)));
    expect(results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });
  it('rejects every item of a failed batch and keeps serving later ones', async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(async (items) => {
      if (fail) {
        fail = false;
        throw new Error('down');
      }
      return items;
    }, 10);
    await expect(group.submit(1)).rejects.toThrow('down');
    expect(await group.submit(2)).toBe(2);
  });
});
