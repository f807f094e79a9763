/**
 * PostgreSQL type OIDs (src/include/catalog/pg_type.dat) to their `typname`, and the text
 * parsers that make values JSON-safe. Results use the text format; anything not listed here
 * is returned as the server's text, which is exact.
 */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'bool'],
  [17, 'bytea'],
  [18, 'char'],
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [24, 'regproc'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [142, 'xml'],
  [600, 'point'],
  [650, 'cidr'],
  [700, 'float4'],
  [701, 'float8'],
  [705, 'unknown'],
  [774, 'macaddr8'],
  [790, 'money'],
  [829, 'macaddr'],
  [869, 'inet'],
  [1000, '_bool'],
  [1001, '_bytea'],
  [1005, '_int2'],
  [1007, '_int4'],
  [1009, '_text'],
  [1014, '_bpchar'],
  [1015, '_varchar'],
  [1016, '_int8'],
  [1021, '_float4'],
  [1022, '_float8'],
  [1028, '_oid'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1115, '_timestamp'],
  [1182, '_date'],
  [1184, 'timestamptz'],
  [1185, '_timestamptz'],
  [1186, 'interval'],
  [1231, '_numeric'],
  [1266, 'timetz'],
  [1560, 'bit'],
  [1562, 'varbit'],
  [1700, 'numeric'],
  [2205, 'regclass'],
  [2206, 'regtype'],
  [2249, 'record'],
  [2278, 'void'],
  [2950, 'uuid'],
  [2951, '_uuid'],
  [3614, 'tsvector'],
  [3802, 'jsonb'],
  [3807, '_jsonb'],
  [3904, 'int4range'],
  [3906, 'numrange'],
  [3908, 'tsrange'],
  [3910, 'tstzrange'],
  [3912, 'daterange'],
  [3926, 'int8range'],
  [4072, 'jsonpath'],
  [199, '_json'],
]);

/** The type name of a column, `oid:<n>` for types not in the table (enums, domains, …). */
export function postgresTypeName(oid: number): string {
  return TYPE_NAMES.get(oid) ?? `oid:${oid}`;
}

type Parser = (text: string) => unknown;

const identity: Parser = (text) => text;

// Timestamps: the session runs with DateStyle ISO and TimeZone UTC, so the server prints
// `2024-01-02 03:04:05.123456+00`; turn it into ISO 8601 without losing microseconds.
// `infinity` and BC dates stay as the server wrote them.
const TIMESTAMP = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/;
const TIMESTAMPTZ = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)\+00$/;

const PARSERS: ReadonlyMap<number, Parser> = new Map<number, Parser>([
  [16, (text) => text === 't'],
  [21, Number],
  [23, Number],
  [26, Number],
  [700, finiteOrText],
  [701, finiteOrText],
  [1114, (text) => text.replace(TIMESTAMP, '$1T$2')],
  [1184, (text) => text.replace(TIMESTAMPTZ, '$1T$2Z')],
  // int8, numeric, json, jsonb, bytea (`\x…` hex, bytea_output=hex) and all others: text.
]);

function finiteOrText(text: string): unknown {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

/** For pg's `types` query option (the text-format parser of each OID). */
export const postgresTypeParsers = {
  getTypeParser(oid: number): Parser {
    return PARSERS.get(oid) ?? identity;
  },
};
