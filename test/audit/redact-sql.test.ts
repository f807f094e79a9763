/** SQL literal redaction: a table of statements per engine, including the quoting rules where
 * a naive regex would leak a literal (backslash escapes, doubled quotes, dollar quotes). */
import { describe, expect, it } from 'vitest';
import { redactSqlLiterals } from '../../src/audit/tools/redact-sql.js';

type Row = readonly [name: string, sql: string, redacted: string];

const BOTH: readonly Row[] = [
  [
    'string and integer',
    "SELECT * FROM t WHERE ssn = '078-05-1120' AND id = 42",
    'SELECT * FROM t WHERE ssn = ? AND id = ?',
  ],
  [
    'decimal, exponent, leading dot',
    'SELECT 1.5, 2e10, 3.1E-4, .5 FROM t',
    'SELECT ?, ?, ?, ? FROM t',
  ],
  ['hex number', 'SELECT 0x1F FROM t', 'SELECT ? FROM t'],
  [
    'negative number keeps the sign operator',
    'SELECT * FROM t WHERE a = -5',
    'SELECT * FROM t WHERE a = -?',
  ],
  [
    'digits inside identifiers are not literals',
    'SELECT c1, t2.col_3 FROM t2',
    'SELECT c1, t2.col_3 FROM t2',
  ],
  [
    'doubled quotes stay inside the literal',
    "SELECT * FROM t WHERE n = 'O''Brien' AND x = 1",
    'SELECT * FROM t WHERE n = ? AND x = ?',
  ],
  [
    'IN list',
    "SELECT * FROM t WHERE id IN (1, 2, 3) AND s IN ('a','b')",
    'SELECT * FROM t WHERE id IN (?, ?, ?) AND s IN (?,?)',
  ],
  ['LIMIT', 'SELECT * FROM t LIMIT 10 OFFSET 20', 'SELECT * FROM t LIMIT ? OFFSET ?'],
  [
    'block comment body',
    'SELECT a /* customer alice@example.com */ FROM t',
    'SELECT a /* ? */ FROM t',
  ],
  ['line comment body', 'SELECT a -- INC-42 for bob\nFROM t', 'SELECT a -- ?\nFROM t'],
  [
    'unterminated string redacts the rest',
    "SELECT * FROM t WHERE a = 'secret and more",
    'SELECT * FROM t WHERE a = ?',
  ],
  ['hex and bit strings', "SELECT X'4142', B'101', N'name' FROM t", 'SELECT ?, ?, ? FROM t'],
  [
    'keywords and NULL untouched',
    'SELECT * FROM t WHERE a IS NULL AND b = TRUE',
    'SELECT * FROM t WHERE a IS NULL AND b = TRUE',
  ],
  [
    'non-ASCII text in a literal',
    "SELECT * FROM t WHERE name = 'Zoë ✓'",
    'SELECT * FROM t WHERE name = ?',
  ],
  ['empty text', '', ''],
];

const MYSQL: readonly Row[] = [
  [
    'backslash-escaped quote: the two sql_modes disagree, the rest is redacted',
    "SELECT * FROM t WHERE n = 'O\\'Brien' AND x = 1",
    'SELECT * FROM t WHERE n = ?',
  ],
  [
    'backslash escapes that both modes read the same',
    "SELECT * FROM t WHERE p = 'C:\\\\dir' AND x = 1",
    'SELECT * FROM t WHERE p = ? AND x = ?',
  ],
  [
    'double-quoted text is a string (unless ANSI_QUOTES): redacted',
    'SELECT * FROM t WHERE a = "secret"',
    'SELECT * FROM t WHERE a = ?',
  ],
  [
    'backtick identifiers kept, doubled backtick included',
    'SELECT `a``b`, `c 1` FROM `t`',
    'SELECT `a``b`, `c 1` FROM `t`',
  ],
  ['# comment', 'SELECT a # card 4111 1111\nFROM t', 'SELECT a # ?\nFROM t'],
  ['--x is not a comment in MySQL: minus minus x', 'SELECT a--1 FROM t', 'SELECT a--? FROM t'],
  [
    'executable comment: content redacted as SQL',
    "SELECT /*!50001 'secret', 5 */ a FROM t",
    'SELECT /*!50001 ?, ? */ a FROM t',
  ],
  [
    'optimizer hint: numbers redacted',
    'SELECT /*+ MAX_EXECUTION_TIME(1000) */ a FROM t',
    'SELECT /*+ MAX_EXECUTION_TIME(?) */ a FROM t',
  ],
  [
    'charset introducer kept, string redacted',
    "SELECT _utf8mb4'secret' FROM t",
    'SELECT _utf8mb4? FROM t',
  ],
  [
    'digit-led identifier redacted whole rather than guessed',
    'SELECT 1st FROM t',
    'SELECT ? FROM t',
  ],
  ['$ in identifiers is not a literal', 'SELECT a$1 FROM t', 'SELECT a$1 FROM t'],
];

const POSTGRES: readonly Row[] = [
  [
    'standard string: backslash is a plain character (but off-mode disagrees: rest redacted)',
    "SELECT * FROM t WHERE p = 'C:\\' AND x = 1",
    'SELECT * FROM t WHERE p = ?',
  ],
  [
    'E string with backslash-escaped quote',
    "SELECT * FROM t WHERE n = E'O\\'Brien' AND x = 1",
    'SELECT * FROM t WHERE n = ? AND x = ?',
  ],
  ['U& string', "SELECT U&'d\\0061t' FROM t", 'SELECT ? FROM t'],
  [
    'dollar quotes, empty and tagged, with a $$ inside the tagged one',
    "SELECT $$it's$$, $x$ a $$ b $x$ FROM t",
    'SELECT ?, ? FROM t',
  ],
  ['unterminated dollar quote redacts the rest', 'SELECT $q$ secret FROM t', 'SELECT ?'],
  [
    'positional parameters kept',
    'SELECT * FROM t WHERE a = $1 AND b = $2',
    'SELECT * FROM t WHERE a = $1 AND b = $2',
  ],
  [
    'double quotes are identifiers: kept',
    'SELECT "Name", "a""b" FROM "T"',
    'SELECT "Name", "a""b" FROM "T"',
  ],
  [
    'nested block comments',
    "SELECT a /* x /* 'y' */ z */ FROM t WHERE b = 1",
    'SELECT a /* ? */ FROM t WHERE b = ?',
  ],
  ['-- always starts a comment', 'SELECT a--secret\nFROM t', 'SELECT a-- ?\nFROM t'],
  ['# is an operator, not a comment', 'SELECT 5 # 3 FROM t', 'SELECT ? # ? FROM t'],
  ['PostgreSQL 16 underscores', 'SELECT 1_000_000 FROM t', 'SELECT ? FROM t'],
  [
    'casts keep the type name',
    "SELECT '2024-01-01'::date, 3::int FROM t",
    'SELECT ?::date, ?::int FROM t',
  ],
  ['jsonb ? operator untouched', "SELECT * FROM t WHERE j ? 'key'", 'SELECT * FROM t WHERE j ? ?'],
];

describe('redactSqlLiterals', () => {
  for (const engine of ['mysql', 'postgres'] as const) {
    describe(engine, () => {
      const rows = [...BOTH, ...(engine === 'mysql' ? MYSQL : POSTGRES)];
      it.each(rows)('%s', (_name, sql, redacted) => {
        expect(redactSqlLiterals(sql, engine)).toBe(redacted);
      });
    });
  }

  it('never leaves a literal of the input in the output (fuzzed quoting)', () => {
    const secret = 'S3CR3T';
    const pieces = ["'", '"', '\\', '$$', '$a$', '/*', '*/', '--', '#', '\n', ' ', 'x', "''"];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 2000; n++) {
      let noise = '';
      for (let k = 0; k < 6; k++) noise += pieces[Math.floor(random() * pieces.length)];
      for (const engine of ['mysql', 'postgres'] as const) {
        const sql =
          engine === 'mysql'
            ? `SELECT a FROM t WHERE b = '${noise.replace(/'/g, "''").replace(/\\/g, '\\\\')}${secret}'`
            : `SELECT a FROM t WHERE b = '${noise.replace(/'/g, "''")}${secret}'`;
        expect(redactSqlLiterals(sql, engine), sql).not.toContain(secret);
      }
    }
  });
});
