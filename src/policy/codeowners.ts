import type { Diagnostic } from '../util/diagnostic.js';

/**
 * A CODEOWNERS file, parsed. Semantics follow GitHub exactly, see
 * https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
 * and anchors.md §3:
 * - the LAST matching line wins; a line with a pattern and no owners clears ownership;
 * - paths are matched case-sensitively;
 * - gitignore-style patterns, minus `!` negation and `[ ]` ranges, which GitHub does not support.
 *
 * Lines GitHub would reject are left out of `rules` and reported as CODEOWNERS_INVALID
 * diagnostics naming the line. GitHub's docs: "If any line in your CODEOWNERS file contains
 * invalid syntax, that line will be skipped." Skipping (rather than letting the line clear
 * ownership) keeps our owners identical to the ones GitHub shows and requests. Skipping alone is
 * not fail-closed, though: with `* @acme/all` above an invalid `/policies/ @acme/security @x!`,
 * `policies/` would fall back to `@acme/all`. So every caller that gates on owners (the review
 * gate, `gatehouse validate`) MUST refuse to proceed while `diagnostics` is non-empty.
 */
export interface Codeowners {
  /** Repository-relative path of the file, e.g. `.github/CODEOWNERS`. */
  readonly file: string;
  readonly rules: readonly CodeownersRule[];
}

export interface CodeownersRule {
  /** The pattern as written, escapes included. */
  readonly pattern: string;
  /** `@user`, `@org/team` or an email address, as written; empty = the line clears ownership. */
  readonly owners: readonly string[];
  /** 1-based line number in the file. */
  readonly line: number;
}

/** GitHub does not load a CODEOWNERS file of 3 MB or more (docs: "CODEOWNERS file size"). */
const MAX_BYTES = 3 * 1024 * 1024;

// Owner syntaxes GitHub accepts. Logins are alphanumeric with hyphens (some old ones end in a
// hyphen); `_` appears in Enterprise Managed User logins (`alice_acme`). Teams: `@org/slug`.
// Rejecting an owner only costs a diagnostic, so these stay permissive about what GitHub allows.
const USER_OWNER = /^@[A-Za-z0-9][A-Za-z0-9_-]*$/u;
const TEAM_OWNER = /^@[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9_.-]+$/u;
const EMAIL_OWNER = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

export function parseCodeowners(
  text: string,
  file: string,
): { codeowners: Codeowners; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const rules: CodeownersRule[] = [];
  const diagnose = (line: number, column: number, message: string): void => {
    diagnostics.push({ file, line, column, field: '', code: 'CODEOWNERS_INVALID', message });
  };

  if (Buffer.byteLength(text, 'utf8') >= MAX_BYTES) {
    diagnose(0, 0, 'The CODEOWNERS file is 3 MB or larger; GitHub ignores such a file entirely.');
    return { codeowners: freeze(file, rules), diagnostics };
  }

  const lines = text.replace(/^\uFEFF/u, '').split(/\r?\n/u);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const tokens = tokenize(raw);
    const first = tokens[0];
    if (first === undefined) return; // blank or comment-only line
    if (first.text.startsWith('\\#')) {
      // GitHub docs: "Using a backslash to escape a pattern starting with # so it is treated
      // as a pattern and not a comment doesn't work."
      diagnose(
        lineNo,
        first.column,
        'A pattern cannot start with \\# (GitHub does not support escaping #); the line is ignored.',
      );
      return;
    }
    const problem = patternProblem(first.text);
    if (problem !== undefined) {
      diagnose(
        lineNo,
        first.column,
        `Invalid pattern ${first.text}: ${problem}; the line is ignored.`,
      );
      return;
    }
    const owners: string[] = [];
    for (const token of tokens.slice(1)) {
      if (!isOwner(token.text)) {
        diagnose(
          lineNo,
          token.column,
          `Invalid owner ${token.text}: expected @user, @org/team or an email address; the line is ignored.`,
        );
        return;
      }
      if (!owners.includes(token.text)) owners.push(token.text);
    }
    rules.push(Object.freeze({ pattern: first.text, owners: Object.freeze(owners), line: lineNo }));
  });

  return { codeowners: freeze(file, rules), diagnostics };
}

/** The owners of `path` (repository-relative, forward slashes, no leading slash): those of the
 * last matching rule; empty when no rule matches or the last match has no owners. */
export function ownersOf(codeowners: Codeowners, path: string): readonly string[] {
  for (let i = codeowners.rules.length - 1; i >= 0; i--) {
    const rule = codeowners.rules[i];
    if (rule !== undefined && compiledRegex(rule).test(path)) return rule.owners;
  }
  return [];
}

/** Whether one CODEOWNERS pattern matches `path`. Does not validate the pattern (that is
 * `parseCodeowners`' job): unescaped `[` and `]` are matched literally here, as GitHub's
 * matcher does. */
export function matchesCodeownersPattern(pattern: string, path: string): boolean {
  return compilePattern(pattern).test(path);
}

// Each rule's regex is compiled once, on first use. A WeakMap keeps `CodeownersRule` plain data
// (tests and other modules may build rules by hand) while still not recompiling per lookup.
const compiled = new WeakMap<CodeownersRule, RegExp>();

function compiledRegex(rule: CodeownersRule): RegExp {
  let regex = compiled.get(rule);
  if (regex === undefined) {
    regex = compilePattern(rule.pattern);
    compiled.set(rule, regex);
  }
  return regex;
}

function freeze(file: string, rules: CodeownersRule[]): Codeowners {
  return Object.freeze({ file, rules: Object.freeze(rules) });
}

interface Token {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly column: number;
}

/** Splits a line into whitespace-separated tokens, up to a `#` that starts a token (a comment,
 * whole-line or inline). In the pattern, `\` escapes the next character, so `\ ` keeps a space
 * in the pattern. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < line.length) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (pos >= line.length || line[pos] === '#') break;
    const start = pos;
    const isPattern = tokens.length === 0;
    while (pos < line.length && !isSpace(line[pos])) {
      pos += isPattern && line[pos] === '\\' && pos + 1 < line.length ? 2 : 1;
    }
    tokens.push({ text: line.slice(start, pos), column: start + 1 });
  }
  return tokens;
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

function isOwner(token: string): boolean {
  return USER_OWNER.test(token) || TEAM_OWNER.test(token) || EMAIL_OWNER.test(token);
}

/** Why GitHub would not accept the pattern, or undefined when it is fine. */
function patternProblem(pattern: string): string | undefined {
  if (pattern.startsWith('!')) return 'negation (!) is not supported in CODEOWNERS';
  if (pattern.includes('***')) return 'three consecutive asterisks are not a valid wildcard';
  if (pattern === '/') return 'a lone / matches no file';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      if (i + 1 >= pattern.length) return 'it ends with a lone backslash';
      i++; // an escaped character is literal
    } else if (ch === '[' || ch === ']') {
      // GitHub's own message: "both `[` and `]` must be escaped with a `\`".
      return '[ and ] must be escaped with a backslash (character ranges are not supported)';
    } else if (ch === '#') {
      return 'an unescaped # inside a pattern is ambiguous (write \\# for a literal #)';
    }
  }
  return undefined;
}

/**
 * Compiles a gitignore-style CODEOWNERS pattern to an anchored regex over a repository-relative
 * path:
 * - a leading `/` anchors at the root; a pattern with no other `/` than a trailing one floats
 *   (matches at any depth: `apps/`), any other `/` anchors it (`docs/*` is `/docs/*`);
 * - a trailing `/` matches only the contents of a directory;
 * - `**` alone in a segment: any number of directories (leading, middle) or everything below
 *   (trailing); `*` any run within a segment; `?` one character within a segment; `\x` a
 *   literal x;
 * - a pattern also matches everything below what it names, except when its last segment is a
 *   lone `*` (`docs/*` does not match `docs/a/b`).
 */
function compilePattern(pattern: string): RegExp {
  let segments = splitSegments(pattern);
  if (segments[0] === '') {
    segments = segments.slice(1);
  } else if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) {
    if (segments[0] !== '**') segments = ['**', ...segments];
  }
  if (segments.length > 1 && segments[segments.length - 1] === '') {
    segments[segments.length - 1] = '**';
  }
  // `a/**/**` is `a/**`; collapsing keeps the three `**` cases below exhaustive.
  segments = segments.filter((seg, i) => !(seg === '**' && segments[i - 1] === '**'));
  if (segments.length === 0 || (segments.length === 1 && segments[0] === '')) return /(?!)/u;

  const last = segments.length - 1;
  let source = '';
  let needSlash = false;
  segments.forEach((seg, i) => {
    if (seg === '**') {
      if (i === 0 && i === last) source += '.+';
      else if (i === 0) source += '(?:.+/)?';
      else if (i === last) source += '/.*';
      else source += '/(?:.+/)?';
      needSlash = false;
      return;
    }
    if (needSlash) source += '/';
    needSlash = true;
    if (seg === '*') {
      source += '[^/]+';
      return;
    }
    source += segmentSource(seg);
    if (i === last) source += '(?:/.*)?';
  });
  // `s`: file names may contain newlines; `.` must still match them.
  return new RegExp(`^${source}$`, 'su');
}

/** Splits on unescaped `/`, keeping escapes in the segments. */
function splitSegments(pattern: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '\\' && i + 1 < pattern.length) {
      current += ch + (pattern[i + 1] ?? '');
      i++;
    } else if (ch === '/') {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

function segmentSource(segment: string): string {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] ?? '';
    if (ch === '\\' && i + 1 < segment.length) {
      source += escapeRegExp(segment[i + 1] ?? '');
      i++;
    } else if (ch === '*') {
      source += '[^/]*';
    } else if (ch === '?') {
      source += '[^/]';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return source;
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/u.test(ch) ? `\\${ch}` : ch;
}
