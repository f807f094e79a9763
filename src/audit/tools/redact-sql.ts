import type { EngineKind } from '../../policy/databases.js';

/**
 * SQL literal redaction for audit records (GATEHOUSE_AUDIT_REDACT_LITERALS=true, issue 6:
 * "SQL literals optionally redacted"). String and numeric literals become `?`, so a record
 * says which tables and columns were read and how, without the values someone looked for
 * (`WHERE ssn = '078-05-1120'` → `WHERE ssn = ?`). The record's `sqlSha256` stays the hash of
 * the ORIGINAL text: an auditor holding a suspected statement can still prove it was the one
 * run, while the log itself never holds the literal (docs/audit.md, "Literal redaction").
 *
 * The lexer follows each engine's quoting rules, and fails closed: when it cannot tell where
 * a literal ends, everything from that literal on becomes one `?`. Leaking a literal into the
 * log is the failure this exists to prevent; losing the tail of a malformed statement is not.
 *
 * - Comments are free text (people paste ticket notes and customer names into them): their
 *   bodies are redacted too. MySQL executable comments and optimizer hints (`/*! … *\/`,
 *   `/*M! … *\/`, `/*+ … *\/`) hold SQL the server runs, so their content is redacted as SQL.
 * - MySQL: backslash escapes in strings unless the session has NO_BACKSLASH_ESCAPES, and `"…"`
 *   is a string unless ANSI_QUOTES (https://dev.mysql.com/doc/refman/8.0/en/string-literals.html).
 *   The session's sql_mode is not known here, so a `'…'` or `"…"` literal whose end differs
 *   between the two readings redacts the rest of the text, and `"…"` is always treated as a
 *   string (at worst an identifier is hidden). `#` and `-- ` start comments; `--x` does not
 *   (https://dev.mysql.com/doc/refman/8.0/en/comments.html).
 * - PostgreSQL: standard strings double their quotes; `E'…'` strings take backslash escapes;
 *   `$tag$ … $tag$` dollar quotes; `"…"` is an identifier; `$1` a parameter; block comments
 *   nest (https://www.postgresql.org/docs/current/sql-syntax-lexical.html). A standard string
 *   whose end would differ with standard_conforming_strings=off redacts the rest, like MySQL.
 * - Numbers: integers, decimals, exponents, `0x…`/`0b…`/`0o…`, PostgreSQL 16 underscores; a
 *   digit-led token that runs into letters (a MySQL identifier like `1st`, or `0xFF`) is
 *   redacted whole rather than guessed at.
 */
export function redactSqlLiterals(sql: string, engine: EngineKind): string {
  return new Redactor(sql, engine).run(0, sql.length);
}

const REDACTED = '?';
const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const WORD_CHAR = /[A-Za-z0-9_]/;

class Redactor {
  readonly #sql: string;
  readonly #engine: EngineKind;

  constructor(sql: string, engine: EngineKind) {
    this.#sql = sql;
    this.#engine = engine;
  }

  /** Redacts sql[from, to); `to` bounds recursion into executable comments. */
  run(from: number, to: number): string {
    const sql = this.#sql;
    const mysql = this.#engine === 'mysql';
    let out = '';
    let i = from;
    while (i < to) {
      const c = sql[i]!;
      const next = sql[i + 1];

      // Line comments: MySQL `#` and `-- ` (dash dash + whitespace/control or end of text);
      // PostgreSQL `--` always.
      if (
        (mysql && c === '#') ||
        (c === '-' && next === '-' && (!mysql || i + 2 >= to || /[\s\x00-\x1f]/.test(sql[i + 2]!)))
      ) {
        const marker = c === '#' ? '#' : '--';
        let end = sql.indexOf('\n', i);
        if (end === -1 || end > to) end = to;
        out += `${marker} ${REDACTED}`;
        i = end;
        continue;
      }

      if (c === '/' && next === '*') {
        const comment = this.#blockComment(i, to);
        out += comment.text;
        i = comment.end;
        continue;
      }

      // Prefixed strings: E'…' (PostgreSQL, backslash escapes), U&'…', N'…', X'…', B'…'.
      if (/[A-Za-z]/.test(c) && (i === from || !IDENT_CHAR.test(sql[i - 1]!))) {
        const prefixed = this.#prefixedString(i, to);
        if (prefixed !== null) {
          out += prefixed.text;
          i = prefixed.end;
          continue;
        }
      }

      if (c === "'" || (mysql && c === '"')) {
        const literal = this.#quoted(i, to, c, !mysql ? 'standard' : 'mysql');
        out += REDACTED;
        i = literal;
        continue;
      }

      if (!mysql && c === '$') {
        const dollar = this.#dollar(i, to);
        if (dollar !== null) {
          out += dollar.text;
          i = dollar.end;
          continue;
        }
      }

      // Quoted identifiers: kept (they name things, not values).
      if ((mysql && c === '`') || (!mysql && c === '"')) {
        const end = this.#identifier(i, to, c);
        out += sql.slice(i, end);
        i = end;
        continue;
      }

      if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
        const previous = i > from ? sql[i - 1]! : '';
        // `t1`, `col_2`, `$1`: digits inside a word or a parameter are not literals.
        if (
          previous !== '' &&
          (IDENT_CHAR.test(previous) || previous === '`' || previous === '"')
        ) {
          out += c;
          i++;
          continue;
        }
        out += REDACTED;
        i = this.#number(i, to);
        continue;
      }

      if (IDENT_START.test(c) || (c === '$' && !mysql)) {
        let end = i + 1;
        while (end < to && IDENT_CHAR.test(sql[end]!)) end++;
        out += sql.slice(i, end);
        i = end;
        continue;
      }

      out += c;
      i++;
    }
    return out;
  }

  /** `/* … *\/`: plain comments lose their body; MySQL executable comments and hints keep
   * their markers and have their SQL redacted. PostgreSQL block comments nest. */
  #blockComment(start: number, to: number): { text: string; end: number } {
    const sql = this.#sql;
    if (this.#engine === 'mysql') {
      const close = sql.indexOf('*/', start + 2);
      const end = close === -1 || close + 2 > to ? to : close + 2;
      const bodyEnd = close === -1 || close + 2 > to ? to : close;
      const executable = /^\/\*(M?!|\+)([0-9]{5,6})?/.exec(sql.slice(start, bodyEnd));
      if (executable !== null) {
        const head = executable[0];
        const inner = this.run(start + head.length, bodyEnd);
        return { text: `${head}${inner}${close === -1 ? '' : '*/'}`, end };
      }
      return { text: `/* ${REDACTED} */`, end };
    }
    let depth = 0;
    let i = start;
    while (i < to) {
      if (sql[i] === '/' && sql[i + 1] === '*') {
        depth++;
        i += 2;
      } else if (sql[i] === '*' && sql[i + 1] === '/') {
        depth--;
        i += 2;
        if (depth === 0) break;
      } else {
        i++;
      }
    }
    return { text: `/* ${REDACTED} */`, end: Math.min(i, to) };
  }

  #prefixedString(start: number, to: number): { text: string; end: number } | null {
    const sql = this.#sql;
    const c = sql[start]!;
    const mysql = this.#engine === 'mysql';
    if (!mysql && (c === 'U' || c === 'u') && sql[start + 1] === '&' && sql[start + 2] === "'") {
      return { text: REDACTED, end: this.#quoted(start + 2, to, "'", 'standard') };
    }
    if (sql[start + 1] !== "'") return null;
    if (!mysql && (c === 'E' || c === 'e')) {
      return { text: REDACTED, end: this.#quoted(start + 1, to, "'", 'backslash') };
    }
    if (/[NnXxBb]/.test(c)) {
      return {
        text: REDACTED,
        end: this.#quoted(start + 1, to, "'", mysql ? 'mysql' : 'standard'),
      };
    }
    return null;
  }

  /**
   * The end (exclusive) of the literal opened by the quote at `start`. 'standard' doubles
   * quotes; 'backslash' also takes backslash escapes; 'mysql' and 'standard' are read both
   * ways (sql_mode NO_BACKSLASH_ESCAPES, standard_conforming_strings) and, when the two
   * readings end in different places, the literal runs to the end: fail closed.
   */
  #quoted(
    start: number,
    to: number,
    quote: string,
    mode: 'standard' | 'backslash' | 'mysql',
  ): number {
    if (mode === 'backslash') return this.#scan(start, to, quote, true) ?? to;
    const plain = this.#scan(start, to, quote, false);
    const escaped = this.#scan(start, to, quote, true);
    if (plain === null || escaped === null || plain !== escaped) return to;
    return plain;
  }

  #scan(start: number, to: number, quote: string, backslash: boolean): number | null {
    const sql = this.#sql;
    let i = start + 1;
    while (i < to) {
      const c = sql[i]!;
      if (backslash && c === '\\') {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (sql[i + 1] === quote && i + 1 < to) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return null;
  }

  /** PostgreSQL `$tag$ … $tag$`; null when the `$` is a parameter (`$1`) or an operator. */
  #dollar(start: number, to: number): { text: string; end: number } | null {
    const sql = this.#sql;
    if (start > 0 && IDENT_CHAR.test(sql[start - 1]!)) return null;
    const open = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(
      sql.slice(start, Math.min(to, start + 130)),
    );
    if (open === null) return null;
    const tag = open[0];
    const close = sql.indexOf(tag, start + tag.length);
    if (close === -1 || close + tag.length > to) return { text: REDACTED, end: to };
    return { text: REDACTED, end: close + tag.length };
  }

  #identifier(start: number, to: number, quote: string): number {
    return this.#scan(start, to, quote, false) ?? to;
  }

  #number(start: number, to: number): number {
    const sql = this.#sql;
    let i = start;
    while (i < to && (DIGIT.test(sql[i]!) || sql[i] === '_')) i++;
    if (sql[i] === '.' && i < to) {
      i++;
      while (i < to && (DIGIT.test(sql[i]!) || sql[i] === '_')) i++;
    }
    if ((sql[i] === 'e' || sql[i] === 'E') && i < to) {
      const sign = sql[i + 1] === '+' || sql[i + 1] === '-' ? 1 : 0;
      if (i + 1 + sign < to && DIGIT.test(sql[i + 1 + sign] ?? '')) {
        i += 1 + sign;
        while (i < to && DIGIT.test(sql[i]!)) i++;
      }
    }
    // 0x1F, 0b101, 0o17, or a MySQL identifier that starts with digits: one token, redacted.
    while (i < to && (WORD_CHAR.test(sql[i]!) || sql[i] === '$')) i++;
    return i;
  }
}
