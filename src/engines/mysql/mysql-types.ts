/** The parts of a mysql2 column definition we read (protocol ColumnDefinition41). */
export interface MysqlField {
  readonly name: string;
  readonly columnType: number;
  readonly characterSet: number;
  readonly flags: number;
}

// Protocol type codes (include/field_types.h in the MySQL source; MariaDB uses the same).
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'decimal'],
  [1, 'tinyint'],
  [2, 'smallint'],
  [3, 'int'],
  [4, 'float'],
  [5, 'double'],
  [6, 'null'],
  [7, 'timestamp'],
  [8, 'bigint'],
  [9, 'mediumint'],
  [10, 'date'],
  [11, 'time'],
  [12, 'datetime'],
  [13, 'year'],
  [14, 'date'],
  [15, 'varchar'],
  [16, 'bit'],
  [17, 'timestamp'],
  [18, 'datetime'],
  [19, 'time'],
  [245, 'json'],
  [246, 'decimal'],
  [247, 'enum'],
  [248, 'set'],
  [255, 'geometry'],
]);

const BINARY_CHARSET = 63;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const MYSQL_TYPE_TIMESTAMP = 7;
const MYSQL_TYPE_DATETIME = 12;
const MYSQL_TYPE_TIMESTAMP2 = 17;
const MYSQL_TYPE_DATETIME2 = 18;

/** Lower-case SQL type name of a result column, `type:<n>` for codes not listed. */
export function mysqlTypeName(field: MysqlField): string {
  const binary = field.characterSet === BINARY_CHARSET;
  switch (field.columnType) {
    case 249:
    case 250:
    case 251:
    case 252:
      return binary ? 'blob' : 'text';
    case 253:
      return binary ? 'varbinary' : 'varchar';
    case 254:
      if (field.flags & ENUM_FLAG) return 'enum';
      if (field.flags & SET_FLAG) return 'set';
      return binary ? 'binary' : 'char';
    default:
      return TYPE_NAMES.get(field.columnType) ?? `type:${field.columnType}`;
  }
}

const DATETIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/;

/**
 * A converter per column from mysql2's value (connection options: bigNumberStrings,
 * dateStrings, jsonStrings) to a JSON-safe value: BIGINT and DECIMAL stay strings, binary
 * data becomes `\x`-prefixed hex (PostgreSQL's bytea format, so both engines agree), DATETIME
 * becomes ISO 8601 local time, TIMESTAMP ISO 8601 UTC (the session runs with time_zone
 * '+00:00'). Zero dates (`0000-00-00`) are left as the server wrote them.
 */
export function mysqlValueConverter(field: MysqlField): (value: unknown) => unknown {
  const zone =
    field.columnType === MYSQL_TYPE_TIMESTAMP || field.columnType === MYSQL_TYPE_TIMESTAMP2
      ? 'Z'
      : field.columnType === MYSQL_TYPE_DATETIME || field.columnType === MYSQL_TYPE_DATETIME2
        ? ''
        : undefined;
  return (value) => {
    if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
    if (zone !== undefined && typeof value === 'string' && !value.startsWith('0000')) {
      return value.replace(DATETIME, `$1T$2${zone}`);
    }
    if (typeof value === 'bigint') return value.toString();
    return value;
  };
}
