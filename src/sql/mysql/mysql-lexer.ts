import type { Reason } from '../analysis.js';

/**
 * A lexer that reads SQL text the way the MySQL / MariaDB server does (sql/sql_lex.cc), so the
 * analyser never trusts node-sql-parser with what it mis-reads (anchors.md §6):
 *
 * - `/*! … *\/` and `/*M! … *\/` are executed by the server, `/*+ … *\/` are optimizer hints
 *   that can lift `max_execution_time`: refused (SQL_EXECUTABLE_COMMENT).
 * - `--` starts a comment only when followed by whitespace or a control character
 *   (https://dev.mysql.com/doc/refman/8.0/en/ansi-diff-comments.html); node-sql-parser treats
 *   `--x` as a comment while the server reads `- -x`: refused (SQL_LEXICAL).
 * - String boundaries depend on the server's sql_mode: with NO_BACKSLASH_ESCAPES `'a\'` is a
 *   complete string. A literal whose end differs between the two modes is refused, so the
 *   analysis holds whatever the session's sql_mode is. Same for `"…"` (a string, or an
 *   identifier under ANSI_QUOTES).
 * - Non-ASCII characters and control characters outside quotes, charset introducers
 *   (`_utf8mb4'x'`, which node-sql-parser reads as a column and an alias), identifiers that
 *   start with digits, `\`, `{`, `?`, `@` and `:=` are refused: each is a place where the
 *   parser and the server could disagree on token boundaries.
 *
 * The lexer also produces `parserText`: the same text, same length, with comments blanked and
 * the content of plain string literals replaced by `x`, which is what node-sql-parser gets.
 * Escapes inside strings can then never shift the parser's view of the statement.
 */

export type MysqlTokenKind = 'word' | 'quoted' | 'dquoted' | 'string' | 'number' | 'punct';

export interface MysqlToken {
  readonly kind: MysqlTokenKind;
  /** 0-based offset of the first character. */
  readonly start: number;
  /** 0-based offset after the last character. */
  readonly end: number;
  /** word: as written; quoted / dquoted: the identifier, unescaped; punct: the symbol. */
  readonly value: string;
}

export type MysqlLexResult =
  | {
      readonly ok: true;
      readonly tokens: readonly MysqlToken[];
      readonly parserText: string;
    }
  | { readonly ok: false; readonly statementType: string; readonly reason: Reason };

const IDENT_CHAR = /[A-Za-z0-9_$]/;
const DIGIT = /[0-9]/;
/** Operators and punctuation MySQL SELECTs use; anything else outside quotes is refused. */
const PUNCT = ['<=>', '->>', '<<', '>>', '<=', '>=', '<>', '!=', '->', '&&', '||'];
const SINGLE_PUNCT = new Set([...'(),.+-*/%=<>!~^&|']);

class LexRefusal {
  constructor(readonly reason: Reason) {}
}

function refuse(code: Reason['code'], message: string, offset: number): never {
  throw new LexRefusal({ code, message, position: offset + 1 });
}

export function lexMysql(sql: string): MysqlLexResult {
  try {
    return lex(sql);
  } catch (error) {
    if (error instanceof LexRefusal) {
      return { ok: false, statementType: firstWord(sql), reason: error.reason };
    }
    throw error;
  }
}

function lex(sql: string): MysqlLexResult {
  const tokens: MysqlToken[] = [];
  const parser = sql.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (parser[k] !== '\n') parser[k] = ' ';
  };
  let semicolon = -1;
  let variable: number | undefined;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (semicolon >= 0 && c !== '#' && c !== '-' && c !== '/') {
      refuse('SQL_MULTIPLE_STATEMENTS', 'Only one statement per query is allowed.', i);
    }
    // Comments.
    if (c === '#') {
      const end = lineEnd(sql, i);
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '-' && next === '-') {
      const after = sql[i + 2];
      if (after === undefined || isSpaceOrControl(after)) {
        const end = lineEnd(sql, i);
        blank(i, end);
        i = end;
        continue;
      }
      refuse(
        'SQL_LEXICAL',
        "'--' not followed by a space is read by MySQL as two minus signs, not a comment; write '-- ' or '- -'.",
        i,
      );
    }
    if (c === '/' && next === '*') {
      const third = sql[i + 2];
      if (third === '!' || third === '+' || (third === 'M' && sql[i + 3] === '!')) {
        refuse(
          'SQL_EXECUTABLE_COMMENT',
          third === '+'
            ? 'Optimizer-hint comments (/*+ … */) are not allowed.'
            : 'Executable comments (/*! … */, /*M! … */) are run by the server and are not allowed.',
          i,
        );
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) refuse('SQL_LEXICAL', 'A /* comment is not closed.', i);
      if (sql.slice(i + 2, close).includes('/*')) {
        refuse('SQL_LEXICAL', 'Nested /* comments are not allowed.', i);
      }
      blank(i, close + 2);
      i = close + 2;
      continue;
    }
    if (semicolon >= 0) {
      refuse('SQL_MULTIPLE_STATEMENTS', 'Only one statement per query is allowed.', i);
    }
    if (c === ';') {
      semicolon = i;
      parser[i] = ' ';
      i++;
      continue;
    }
    // Quoted tokens.
    if (c === "'") {
      const end = stringEnd(sql, i, "'");
      tokens.push({ kind: 'string', start: i, end, value: '' });
      for (let k = i + 1; k < end - 1; k++) parser[k] = 'x';
      i = end;
      continue;
    }
    if (c === '"') {
      const end = stringEnd(sql, i, '"');
      const body = sql.slice(i + 1, end - 1);
      if (body.includes('\\') || body.includes('"')) {
        refuse(
          'SQL_LEXICAL',
          'A double-quoted token holds a backslash or a doubled quote, which MySQL reads differently depending on sql_mode.',
          i,
        );
      }
      tokens.push({ kind: 'dquoted', start: i, end, value: body });
      i = end;
      continue;
    }
    if (c === '`') {
      const close = sql.indexOf('`', i + 1);
      if (close < 0) refuse('SQL_PARSE_ERROR', 'A `quoted identifier` is not closed.', i);
      if (sql[close + 1] === '`') {
        refuse('SQL_LEXICAL', 'Quoted identifiers containing a backtick are not supported.', i);
      }
      const body = sql.slice(i + 1, close);
      if (body.length === 0) refuse('SQL_PARSE_ERROR', 'An empty `` identifier.', i);
      if (body.includes('\\')) {
        // MySQL has no escapes in `identifiers`; a parser that had would end this one later.
        refuse('SQL_LEXICAL', 'Quoted identifiers containing a backslash are not supported.', i);
      }
      tokens.push({ kind: 'quoted', start: i, end: close + 1, value: body });
      i = close + 1;
      continue;
    }
    // Numbers (also `.5`); an identifier character right after one is refused, since MySQL
    // then reads an identifier that starts with digits (`1e1salary`, `0x1g`).
    if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      const end = numberEnd(sql, i);
      const after = sql[end];
      if (after !== undefined && (IDENT_CHAR.test(after) || after.charCodeAt(0) >= 0x80)) {
        refuse('SQL_LEXICAL', 'Identifiers that start with a digit are not supported.', i);
      }
      tokens.push({ kind: 'number', start: i, end, value: sql.slice(i, end) });
      i = end;
      continue;
    }
    if (IDENT_CHAR.test(c)) {
      let end = i + 1;
      while (end < n && IDENT_CHAR.test(sql[end]!)) end++;
      const word = sql.slice(i, end);
      const after = sql[end];
      if (after !== undefined && after.charCodeAt(0) >= 0x80) {
        refuse('SQL_LEXICAL', 'Non-ASCII characters are only allowed inside quotes.', end);
      }
      if (after === "'" || after === '"') {
        const lower = word.toLowerCase();
        if ((lower === 'x' || lower === 'b') && after === "'") {
          // Hexadecimal and bit literals: no escapes, only digits.
          const close = sql.indexOf("'", end + 1);
          if (close < 0) refuse('SQL_PARSE_ERROR', 'A string literal is not closed.', i);
          const digits = sql.slice(end + 1, close);
          if (!(lower === 'x' ? /^[0-9A-Fa-f]*$/ : /^[01]*$/).test(digits)) {
            refuse('SQL_LEXICAL', 'A malformed hexadecimal or bit literal.', i);
          }
          tokens.push({ kind: 'string', start: i, end: close + 1, value: '' });
          i = close + 1;
          continue;
        }
        if (lower === 'n' && after === "'") {
          const close = stringEnd(sql, end, "'");
          tokens.push({ kind: 'string', start: i, end: close, value: '' });
          for (let k = end + 1; k < close - 1; k++) parser[k] = 'x';
          i = close;
          continue;
        }
        refuse(
          'SQL_LEXICAL',
          `'${word}' directly followed by a quote (a charset introducer or a literal without a space) is not supported.`,
          i,
        );
      }
      tokens.push({ kind: 'word', start: i, end, value: word });
      i = end;
      continue;
    }
    if (c === '@' || (c === ':' && next === '=')) {
      // Reported after the statement-shape checks, which name the bigger problem
      // (`SET @a = 1` is a SET statement, `SELECT … INTO @a` is SELECT … INTO).
      variable ??= i;
      if (c === ':') {
        i += 2;
        continue;
      }
      i += next === '@' ? 2 : 1;
      while (i < n && (IDENT_CHAR.test(sql[i]!) || sql[i] === '.')) i++;
      if (sql[i] === '`' || sql[i] === "'" || sql[i] === '"') {
        const close = sql.indexOf(sql[i]!, i + 1);
        i = close < 0 ? n : close + 1;
      }
      continue;
    }
    const three = sql.slice(i, i + 3);
    const two = sql.slice(i, i + 2);
    const symbol = PUNCT.includes(three) ? three : PUNCT.includes(two) ? two : c;
    if (symbol === '*' && next === '/') {
      refuse('SQL_LEXICAL', "A '*/' outside a comment is not allowed.", i);
    }
    if (symbol.length === 1 && !SINGLE_PUNCT.has(symbol)) {
      const code = c.charCodeAt(0);
      refuse(
        'SQL_LEXICAL',
        code >= 0x80
          ? 'Non-ASCII characters are only allowed inside quotes.'
          : code < 0x20 || code === 0x7f
            ? 'Control characters are only allowed inside quotes.'
            : `The character '${c}' is not supported outside quotes.`,
        i,
      );
    }
    tokens.push({ kind: 'punct', start: i, end: i + symbol.length, value: symbol });
    i += symbol.length;
  }
  if (tokens.length === 0) {
    return {
      ok: false,
      statementType: 'empty',
      reason: { code: 'SQL_EMPTY', message: 'No statement was given.' },
    };
  }
  checkShape(tokens);
  if (variable !== undefined) {
    refuse('SQL_VARIABLE', 'User and system variables cannot be read or assigned.', variable);
  }
  return { ok: true, tokens, parserText: parser.join('') };
}

function isSpaceOrControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return c === ' ' || code < 0x20 || code === 0x7f;
}

function lineEnd(sql: string, from: number): number {
  const newline = sql.indexOf('\n', from);
  return newline < 0 ? sql.length : newline;
}

/** End (exclusive) of a quoted literal starting at `start`, refusing literals whose end
 * depends on whether backslash escapes are on (sql_mode NO_BACKSLASH_ESCAPES, ANSI_QUOTES). */
function stringEnd(sql: string, start: number, quote: string): number {
  const withEscapes = scanQuoted(sql, start, quote, true);
  const withoutEscapes = scanQuoted(sql, start, quote, false);
  if (withEscapes < 0 || withoutEscapes < 0) {
    if (withEscapes !== withoutEscapes) refuseEscape(start);
    refuse('SQL_PARSE_ERROR', 'A string literal is not closed.', start);
  }
  if (withEscapes !== withoutEscapes) refuseEscape(start);
  return withEscapes;
}

function refuseEscape(start: number): never {
  refuse(
    'SQL_LEXICAL',
    "A backslash before a quote ends the string differently depending on sql_mode (NO_BACKSLASH_ESCAPES); double the quote instead ('it''s').",
    start,
  );
}

function scanQuoted(sql: string, start: number, quote: string, escapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (escapes && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

function numberEnd(sql: string, start: number): number {
  const rest = sql.slice(start);
  const match =
    /^0x[0-9A-Fa-f]+/.exec(rest) ??
    /^0b[01]+/.exec(rest) ??
    /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(rest);
  return start + (match?.[0].length ?? 1);
}

function firstWord(sql: string): string {
  const match = /^[\s(]*([A-Za-z_]+)/.exec(sql.replace(/\/\*[\s\S]*?\*\/|#[^\n]*|-- [^\n]*/g, ' '));
  return match?.[1]?.toLowerCase() ?? 'unknown';
}

/**
 * Statement shapes node-sql-parser cannot be trusted with, refused by keyword before it runs.
 * These words are reserved in MySQL, so unquoted they can only be the keyword.
 */
function checkShape(tokens: readonly MysqlToken[]): void {
  checkIntroducers(tokens);
  const first = tokens[0]!;
  const firstUpper = first.kind === 'word' ? first.value.toUpperCase() : '';
  if (!(firstUpper === 'SELECT' || firstUpper === 'WITH' || first.value === '(')) {
    const what = first.kind === 'word' ? first.value.toUpperCase() : 'This';
    refuse(
      'SQL_STATEMENT_NOT_ALLOWED',
      `${what} statements are not allowed; only a plain SELECT (or WITH … SELECT) is.`,
      first.start,
    );
  }
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if (token.kind !== 'word') continue;
    const upper = token.value.toUpperCase();
    switch (upper) {
      case 'INTO':
      case 'OUTFILE':
      case 'DUMPFILE':
        refuse('SQL_SELECT_INTO', 'SELECT … INTO is not allowed.', token.start);
        break;
      case 'LOCK':
        refuse('SQL_LOCKING_CLAUSE', 'LOCK IN SHARE MODE is not allowed.', token.start);
        break;
      case 'FOR': {
        const following = tokens[k + 1];
        const word = following?.kind === 'word' ? following.value.toUpperCase() : '';
        if (word === 'UPDATE' || word === 'SHARE') {
          refuse('SQL_LOCKING_CLAUSE', `FOR ${word} is not allowed.`, token.start);
        }
        break;
      }
      case 'HANDLER':
      case 'TABLE':
      case 'VALUES':
      case 'PROCEDURE':
        refuse(
          'SQL_STATEMENT_NOT_ALLOWED',
          `${upper} is not allowed; only a plain SELECT (or WITH … SELECT) is.`,
          token.start,
        );
        break;
      default:
        break;
    }
  }
}

/**
 * A charset introducer may be separated from its literal by whitespace or a comment
 * (`_binary 'x'`, `_utf8mb4 /* c *\/ 0x41`: https://dev.mysql.com/doc/refman/8.0/en/charset-introducer.html).
 * node-sql-parser reads `_binary` as a column and the literal as its alias, the server reads
 * one literal: a differential in the shape of the statement, refused like the glued form.
 */
function checkIntroducers(tokens: readonly MysqlToken[]): void {
  for (let k = 0; k + 1 < tokens.length; k++) {
    const token = tokens[k]!;
    const next = tokens[k + 1]!;
    if (token.kind !== 'word' || !token.value.startsWith('_')) continue;
    if (next.kind === 'string' || (next.kind === 'number' && /^0[xXbB]/.test(next.value))) {
      refuse(
        'SQL_LEXICAL',
        `'${token.value}' before a literal is a charset introducer, which the analyser does not support.`,
        token.start,
      );
    }
  }
}
