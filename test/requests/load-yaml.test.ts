import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, loadYaml, MAX_FILE_BYTES } from '../../src/yaml/load-yaml.js';

const FILE = 'access/hr_prod/x.yaml';

function codes(text: string | Uint8Array) {
  return loadYaml(FILE, text).diagnostics.map((d) => [d.code, d.line, d.column]);
}

describe('loadYaml', () => {
  it('parses a mapping and keeps positions of keys and values', () => {
    const loaded = loadYaml(FILE, '# header\nrequester: alice\ntables:\n  - employee\n  - title\n');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.value).toEqual({ requester: 'alice', tables: ['employee', 'title'] });
    expect(loaded.positionOf(['requester'])).toEqual({ line: 2, column: 12 });
    expect(loaded.positionOf(['requester'], 'key')).toEqual({ line: 2, column: 1 });
    expect(loaded.positionOf(['tables', 1])).toEqual({ line: 5, column: 5 });
    // A path that does not resolve stops at its deepest existing ancestor.
    expect(loaded.positionOf(['tables', 7])).toEqual({ line: 4, column: 3 });
    expect(loaded.positionOf(['nope'])).toEqual({ line: 2, column: 1 });
    expect(loaded.positionOf([])).toEqual({ line: 2, column: 1 });
  });

  it('points at the key when the value is empty', () => {
    const loaded = loadYaml(FILE, 'a: 1\nreason:\n');
    expect(loaded.positionOf(['reason'])).toEqual({ line: 2, column: 1 });
  });

  it('keeps dates, durations and yes/no as strings (YAML 1.2 core schema)', () => {
    const loaded = loadYaml(FILE, 'e: 2030-01-01T00:00:00Z\nd: 2030-01-01\nx: 4h\ny: yes\n');
    expect(loaded.value).toEqual({ e: '2030-01-01T00:00:00Z', d: '2030-01-01', x: '4h', y: 'yes' });
  });

  it('accepts a UTF-8 byte order mark and CRLF line ends', () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode('a: 1\r\nb: é\r\n'),
    ]);
    const loaded = loadYaml(FILE, bytes);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.value).toEqual({ a: 1, b: 'é' });
    expect(loaded.positionOf(['b'])).toEqual({ line: 2, column: 4 });
  });

  it('FILE_TOO_LARGE over 64 KiB, before parsing', () => {
    expect(codes(`a: "${'x'.repeat(MAX_FILE_BYTES)}"\n`)).toEqual([['FILE_TOO_LARGE', 0, 0]]);
    expect(codes(new Uint8Array(MAX_FILE_BYTES + 1).fill(0x20))).toEqual([
      ['FILE_TOO_LARGE', 0, 0],
    ]);
    // Exactly 64 KiB is allowed.
    const exact = `a: ${'x'.repeat(MAX_FILE_BYTES - 4)}\n`;
    expect(codes(exact)).toEqual([]);
  });

  it('FILE_NOT_UTF8 with the line and column of the first bad byte', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('a: 1\nb: é'), 0xff, 0x0a]);
    const [d] = loadYaml(FILE, bytes).diagnostics;
    expect(d).toMatchObject({ code: 'FILE_NOT_UTF8', line: 2, column: 5 });
    expect(d?.message).toContain('0xff');
    // Latin-1 text, the usual culprit.
    expect(codes(new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a]))).toEqual([
      ['FILE_NOT_UTF8', 1, 4],
    ]);
  });

  it('firstInvalidUtf8 follows RFC 3629 (no overlongs, surrogates or code points past U+10FFFF)', () => {
    expect(firstInvalidUtf8(new TextEncoder().encode('héllo €𝄞'))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0xaf]))).toBe(0); // overlong '/'
    expect(firstInvalidUtf8(new Uint8Array([0x41, 0xed, 0xa0, 0x80]))).toBe(1); // surrogate
    expect(firstInvalidUtf8(new Uint8Array([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // > U+10FFFF
    expect(firstInvalidUtf8(new Uint8Array([0x41, 0xe2, 0x82]))).toBe(1); // truncated
  });

  it('FILE_EMPTY for nothing, blank lines, comments only or a bare ---', () => {
    for (const text of ['', '\n\n', '# just a comment\n', '---\n']) {
      expect(codes(text)).toEqual([['FILE_EMPTY', 0, 0]]);
    }
  });

  it('YAML_SYNTAX with a position', () => {
    expect(codes('a: [1, 2\nb: 3\n')[0]?.[0]).toBe('YAML_SYNTAX');
    expect(codes('a: 1\n  b: 2\n')).toEqual([['YAML_SYNTAX', 1, 4]]);
  });

  it('YAML_MULTIPLE_DOCUMENTS at the second document', () => {
    expect(codes('a: 1\n---\nb: 2\n')).toEqual([['YAML_MULTIPLE_DOCUMENTS', 2, 1]]);
    expect(codes('a: 1\n---\n')).toEqual([['YAML_MULTIPLE_DOCUMENTS', 2, 1]]);
  });

  it('YAML_DUPLICATE_KEY names the key, also in nested mappings', () => {
    const [d] = loadYaml(FILE, 'a: 1\nb:\n  c: 1\n  c: 2\n').diagnostics;
    expect(d).toMatchObject({ code: 'YAML_DUPLICATE_KEY', line: 4, column: 3 });
    expect(d?.message).toContain('c appears twice');
  });

  it('YAML_ALIAS for anchors and aliases, without expanding them', () => {
    expect(codes('a: &x 1\nb: *x\n')).toEqual([
      ['YAML_ALIAS', 1, 4],
      ['YAML_ALIAS', 2, 4],
    ]);
    expect(codes('a: &x 1\n')).toEqual([['YAML_ALIAS', 1, 4]]);
    // A billion laughs: 9^20 strings if expanded; refused from the parse tree.
    let bomb = 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i <= 20; i++)
      bomb += `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}]\n`;
    const loaded = loadYaml(FILE, bomb);
    expect(loaded.value).toBeUndefined();
    expect(loaded.diagnostics.map((d) => d.code)).toEqual(['YAML_ALIAS', 'YAML_ALIAS']);
    expect(loaded.diagnostics[1]?.message).toContain('179 more aliases');
  });

  it('YAML_TAB_INDENT for every tab-indented line, even where the parser would accept it', () => {
    expect(codes('a:\n\tb: 1\n')).toEqual([['YAML_TAB_INDENT', 2, 1]]);
    expect(codes('a:\n  \tb: 1\nc:\n\t- x\n')).toEqual([
      ['YAML_TAB_INDENT', 2, 3],
      ['YAML_TAB_INDENT', 4, 1],
    ]);
    // A flow collection continued on a tab-indented line parses, but is refused all the same.
    expect(codes('a: [1,\n\t2]\n')).toEqual([['YAML_TAB_INDENT', 2, 1]]);
    // Tabs inside values and before comments are not indentation.
    expect(codes('a: "x\ty"\n\t# comment\n')).toEqual([]);
  });

  it('YAML_NOT_MAPPING for a list, a scalar or null at the top', () => {
    expect(codes('- a\n- b\n')).toEqual([['YAML_NOT_MAPPING', 1, 1]]);
    expect(codes('hello\n')).toEqual([['YAML_NOT_MAPPING', 1, 1]]);
    expect(codes('~\n')).toEqual([['YAML_NOT_MAPPING', 1, 1]]);
  });

  it('names the file in every diagnostic', () => {
    for (const text of ['', 'a: &x 1\n', '- a\n', 'a: 1\na: 2\n']) {
      for (const d of loadYaml('policies/risk.yaml', text).diagnostics) {
        expect(d.file).toBe('policies/risk.yaml');
      }
    }
  });
});
