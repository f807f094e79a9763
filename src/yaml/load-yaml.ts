import {
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type ErrorCode as YamlErrorCode,
  type Node,
} from 'yaml';
import type { ErrorCode } from '../errors/catalogue.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { FieldPath } from './field-path.js';

/** Request and policy files are small; anything larger is a mistake or an attack. */
export const MAX_FILE_BYTES = 64 * 1024;

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface LoadedYaml {
  /** The plain JavaScript value; absent when the file was rejected. */
  readonly value?: unknown;
  readonly doc?: Document.Parsed;
  readonly diagnostics: Diagnostic[];
  /** 1-based position of the value at `fieldPath` (or of its key with `target: 'key'`). A
   * path that does not resolve gives the position of its deepest existing ancestor; the
   * whole file is line 1, column 1. */
  positionOf(fieldPath: FieldPath, target?: 'key' | 'value'): SourcePosition;
}

const EMPTY_MESSAGE = 'The file is empty: it holds no YAML content, only comments or blank lines.';

const FILE_START: SourcePosition = { line: 1, column: 1 };
/** "0 means the whole file" (src/util/diagnostic.ts), for failures that have no position. */
const WHOLE_FILE: SourcePosition = { line: 0, column: 0 };

/** Caps the diagnostics of one file so a garbage file cannot flood a check run. */
const MAX_DIAGNOSTICS = 50;

/**
 * Parses one YAML file the way every Gatehouse format expects it: a single document whose top
 * level is a mapping, with no anchors or aliases, no duplicate keys, no tab indentation, at most
 * 64 KiB of UTF-8. Rejections are values (diagnostics), never exceptions.
 */
export function loadYaml(file: string, bytes: Uint8Array | string): LoadedYaml {
  const rejected = (diagnostics: Diagnostic[]): LoadedYaml => ({
    diagnostics,
    positionOf: () => FILE_START,
  });
  const at = (position: SourcePosition, code: ErrorCode, message: string, field = '') => ({
    file,
    line: position.line,
    column: position.column,
    field,
    code,
    message,
  });

  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.byteLength;
  if (size > MAX_FILE_BYTES) {
    return rejected([
      at(
        WHOLE_FILE,
        'FILE_TOO_LARGE',
        `The file is larger than 64 KiB (${MAX_FILE_BYTES} bytes); requests and policies are short, hand-written YAML.`,
      ),
    ]);
  }

  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    const bad = firstInvalidUtf8(bytes);
    if (bad !== -1) {
      const position = positionOfByte(bytes, bad);
      return rejected([
        at(
          position,
          'FILE_NOT_UTF8',
          `The file is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at offset ${bad}); save it as UTF-8.`,
        ),
      ]);
    }
    // A leading BOM is valid UTF-8 and editors on Windows add it; TextDecoder drops it.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  // Scan for tabs before parsing: the parser reports only some of them, and the ones it misses
  // silently change the structure.
  const tabs = tabIndentedLines(text);
  if (tabs.length > 0) {
    return rejected(
      tabs
        .slice(0, MAX_DIAGNOSTICS)
        .map((position) =>
          at(
            position,
            'YAML_TAB_INDENT',
            'This line is indented with a tab; YAML indentation must use spaces.',
          ),
        ),
    );
  }

  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    // Parse dates, durations and `yes` as strings: the YAML 1.2 core schema has no timestamps.
    version: '1.2',
    schema: 'core',
  });
  const positionAt = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const doc = docs[0];
  if (doc === undefined) {
    return rejected([at(WHOLE_FILE, 'FILE_EMPTY', EMPTY_MESSAGE)]);
  }
  if (docs.length > 1) {
    return rejected([
      at(
        positionAt(docs[1]?.range[0] ?? 0),
        'YAML_MULTIPLE_DOCUMENTS',
        'The file holds more than one YAML document (a `---` separator); put one request or policy per file.',
      ),
    ]);
  }

  const diagnostics: Diagnostic[] = [];
  for (const error of doc.errors) {
    diagnostics.push(
      at(
        positionAt(errorOffset(doc, error.code, error.pos[0])),
        yamlCode(error.code),
        yamlMessage(error.code, error.message, text.slice(error.pos[0])),
      ),
    );
  }
  // Refuse anchors and aliases before anything expands them: an alias bomb then costs nothing.
  // One diagnostic for the first anchor and one for the first alias keep a bomb's report short.
  const anchors: Node[] = [];
  const aliases: Node[] = [];
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) aliases.push(node);
      else if (node.anchor !== undefined) anchors.push(node);
    },
  });
  const more = (count: number, noun: string): string =>
    count > 1 ? ` (${count - 1} more ${noun} in this file)` : '';
  const firstAnchor = anchors[0];
  if (firstAnchor !== undefined) {
    diagnostics.push(
      at(
        positionAt(anchorOffset(text, firstAnchor)),
        'YAML_ALIAS',
        `YAML anchors (&${firstAnchor.anchor ?? ''}) are not allowed; write the value out in full${more(anchors.length, 'anchors')}.`,
      ),
    );
  }
  const firstAlias = aliases[0];
  if (firstAlias !== undefined && isAlias(firstAlias)) {
    diagnostics.push(
      at(
        positionAt(firstAlias.range?.[0] ?? 0),
        'YAML_ALIAS',
        `YAML aliases (*${firstAlias.source}) are not allowed; write the value out in full${more(aliases.length, 'aliases')}.`,
      ),
    );
  }
  if (diagnostics.length > 0) {
    return rejected(dedupe(diagnostics).slice(0, MAX_DIAGNOSTICS));
  }

  const contents = doc.contents;
  if (
    contents === null ||
    (isScalar(contents) && contents.value === null && contents.source === '')
  ) {
    return rejected([at(WHOLE_FILE, 'FILE_EMPTY', EMPTY_MESSAGE)]);
  }
  if (!isMap(doc.contents)) {
    const what = isSeq(doc.contents) ? 'a list' : 'a single value';
    return rejected([
      at(
        positionAt(doc.contents?.range?.[0] ?? 0),
        'YAML_NOT_MAPPING',
        `The top level of the file is ${what}; it must be a mapping of keys to values (key: value).`,
      ),
    ]);
  }

  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  return {
    value,
    doc,
    diagnostics: [],
    positionOf(fieldPath, target = 'value') {
      const found = resolve(doc.contents, fieldPath);
      const node = target === 'key' ? (found.key ?? found.node) : found.node;
      const offset = node?.range?.[0];
      return offset === undefined ? FILE_START : positionAt(offset);
    },
  };
}

/** Walks `path` from `root` as far as it resolves; returns the last node reached and, when the
 * last step was a mapping key, that key's node. */
function resolve(root: unknown, path: FieldPath): { node: Node | undefined; key?: Node } {
  let node: Node | undefined = isNode(root) ? root : undefined;
  let key: Node | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) return { node };
      key = isNode(pair.key) ? pair.key : undefined;
      // `key:` with nothing after it has a null scalar of zero width: point at the key instead.
      const value = isNode(pair.value) ? pair.value : undefined;
      const empty = isScalar(value) && value.value === null && value.source === '';
      node = value === undefined || empty ? key : value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!isNode(item)) return { node };
      node = item;
      key = undefined;
    } else {
      return { node };
    }
  }
  return key === undefined ? { node } : { node, key };
}

/** An unclosed quote is detected at the end of the file; the opening quote is where the
 * mistake is. */
function errorOffset(doc: Document.Parsed, code: YamlErrorCode, offset: number): number {
  if (code !== 'MISSING_CHAR') return offset;
  let opening = offset;
  visit(doc, {
    Scalar(_key, node) {
      const [start, end] = node.range ?? [0, 0];
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && start < offset && end >= offset) opening = start;
    },
  });
  return opening;
}

/** The yaml library reports a node's range from its value; the anchor precedes it. */
function anchorOffset(text: string, node: Node): number {
  const start = node.range?.[0] ?? 0;
  const found = text.lastIndexOf(`&${node.anchor ?? ''}`, start);
  return found === -1 ? start : found;
}

function yamlCode(code: YamlErrorCode): ErrorCode {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'YAML_DUPLICATE_KEY';
    case 'TAB_AS_INDENT':
      return 'YAML_TAB_INDENT';
    case 'MULTIPLE_DOCS':
      return 'YAML_MULTIPLE_DOCUMENTS';
    case 'ALIAS_PROPS':
    case 'BAD_ALIAS':
    case 'MULTIPLE_ANCHORS':
    case 'RESOURCE_EXHAUSTION':
      return 'YAML_ALIAS';
    default:
      return 'YAML_SYNTAX';
  }
}

function yamlMessage(code: YamlErrorCode, raw: string, rest: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const key = /^[^:\n]{1,80}/.exec(rest)?.[0].trim();
      const named = key === undefined || key === '' ? 'This key' : `The key ${key}`;
      return `${named} appears twice in the same mapping; keep only one.`;
    }
    case 'TAB_AS_INDENT':
      return 'This line is indented with a tab; YAML indentation must use spaces.';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return `YAML syntax error: ${raw.replace(/\.?$/, '')}. Check the indentation and the brackets and quotes on this line and the one before.`;
    default:
      return `YAML syntax error: ${raw.replace(/\.?$/, '.')}`;
  }
}

/** Positions of lines whose leading whitespace holds a tab before some content. */
function tabIndentedLines(text: string): SourcePosition[] {
  const found: SourcePosition[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  lines.forEach((line, index) => {
    const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
    const tab = indent.indexOf('\t');
    if (tab !== -1 && indent.length < line.length && !line.slice(indent.length).startsWith('#')) {
      found.push({ line: index + 1, column: tab + 1 });
    }
  });
  return found;
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics
    .filter((d) => {
      const key = `${d.line}:${d.column}:${d.code}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Index of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629 §4:
 * no overlongs, no surrogates, nothing above U+10FFFF), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = b === 0xe0 ? 0xa0 : 0x80;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = b === 0xf0 ? 0x90 : 0x80;
      if (b === 0xf4) max = 0x8f;
    } else {
      return i;
    }
    for (let k = 1; k < length; k += 1) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  return -1;
}

function positionOfByte(bytes: Uint8Array, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i += 1) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  // The bytes before `offset` are valid UTF-8, so they decode; count characters, not bytes.
  const column = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
  return { line, column };
}
