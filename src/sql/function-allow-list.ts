import type { EngineKind } from '../policy/databases.js';

/**
 * Functions a statement may call, per engine: built-in, side-effect free, and unable to read
 * anything but their arguments. Everything else is refused (SQL_FUNCTION_NOT_ALLOWED):
 * user-defined functions can read any table as their owner, and several built-ins read
 * tables, files or other sessions, or change the pooled session (anchors.md §6:
 * `query_to_xml`, `dblink`, `pg_read_file`, `lo_import`, `set_config`, `LOAD_FILE`,
 * `SLEEP`, `BENCHMARK`, `GET_LOCK`, ...). Widening this list is a security review.
 */

// prettier-ignore
const COMMON = [
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'bit_and', 'bit_or', 'stddev', 'stddev_pop',
  'stddev_samp', 'variance', 'var_pop', 'var_samp',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead',
  'first_value', 'last_value', 'nth_value',
  // conditionals
  'coalesce', 'nullif', 'greatest', 'least',
  // strings
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length',
  'substring', 'substr', 'left', 'right', 'concat', 'concat_ws', 'trim', 'ltrim', 'rtrim',
  'lpad', 'rpad', 'replace', 'reverse', 'repeat', 'position', 'ascii', 'md5', 'regexp_replace',
  'regexp_like', 'regexp_substr', 'regexp_instr', 'format',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'mod', 'power', 'pow', 'sqrt', 'exp', 'ln', 'log',
  'log10', 'sign', 'pi', 'degrees', 'radians', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan',
  'atan2', 'cot', 'div',
  // dates and times
  'now', 'current_timestamp', 'current_date', 'current_time', 'localtime', 'localtimestamp',
  'extract',
] as const;

// prettier-ignore
const MYSQL_ONLY = [
  'group_concat', 'bit_xor', 'std', 'json_arrayagg', 'json_objectagg',
  'ifnull', 'if', 'isnull',
  'lcase', 'ucase', 'mid', 'substring_index', 'instr', 'locate', 'strcmp', 'field',
  'find_in_set', 'elt', 'ord', 'hex', 'unhex', 'sha1', 'sha', 'sha2', 'crc32', 'to_base64',
  'from_base64', 'quote', 'soundex', 'space', 'convert', 'char',
  'truncate', 'log2', 'rand', 'conv', 'bin', 'oct',
  'curdate', 'curtime', 'sysdate', 'utc_date', 'utc_time', 'utc_timestamp', 'date', 'time',
  'timestamp', 'year', 'month', 'day', 'dayofmonth', 'dayofweek', 'dayofyear', 'dayname',
  'monthname', 'hour', 'minute', 'second', 'microsecond', 'week', 'weekday', 'weekofyear',
  'yearweek', 'quarter', 'date_add', 'date_sub', 'adddate', 'subdate', 'addtime', 'subtime',
  'datediff', 'timediff', 'timestampdiff', 'timestampadd', 'date_format', 'time_format',
  'str_to_date', 'from_unixtime', 'unix_timestamp', 'to_days', 'from_days', 'to_seconds',
  'last_day', 'makedate', 'maketime', 'period_add', 'period_diff', 'sec_to_time', 'time_to_sec',
  'get_format',
  'json_extract', 'json_unquote', 'json_object', 'json_array', 'json_contains',
  'json_contains_path', 'json_keys', 'json_length', 'json_type', 'json_valid', 'json_quote',
  'json_search', 'json_depth', 'json_value', 'json_overlaps',
] as const;

// prettier-ignore
const POSTGRES_ONLY = [
  'bool_and', 'bool_or', 'every', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'percentile_cont', 'percentile_disc', 'mode', 'corr',
  'covar_pop', 'covar_samp',
  'initcap', 'btrim', 'strpos', 'split_part', 'starts_with', 'translate', 'sha224', 'sha256',
  'sha384', 'sha512', 'encode', 'decode', 'chr', 'regexp_match', 'regexp_matches',
  'regexp_split_to_array', 'regexp_split_to_table', 'regexp_count', 'to_char', 'to_date',
  'to_timestamp', 'to_number', 'to_hex', 'quote_literal', 'quote_ident', 'quote_nullable',
  'overlay', 'similar_to_escape', 'like_escape', 'string_to_array', 'array_to_string',
  'trunc', 'cbrt', 'random', 'width_bucket', 'gcd', 'lcm', 'scale', 'num_nulls', 'num_nonnulls',
  'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'date_trunc', 'date_part',
  'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval',
  'justify_days', 'justify_hours', 'justify_interval', 'isfinite', 'date_bin', 'timezone',
  'generate_series', 'generate_subscripts', 'unnest',
  'array_length', 'array_position', 'array_positions', 'array_append', 'array_prepend',
  'array_cat', 'array_remove', 'array_replace', 'cardinality', 'array_lower', 'array_upper',
  'array_dims',
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'to_json',
  'to_jsonb', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text',
  'jsonb_array_elements_text', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text',
  'json_object_keys', 'jsonb_object_keys', 'json_extract_path', 'jsonb_extract_path',
  'json_extract_path_text', 'jsonb_extract_path_text', 'json_typeof', 'jsonb_typeof',
  'json_array_length', 'jsonb_array_length', 'jsonb_pretty', 'json_strip_nulls',
  'jsonb_strip_nulls', 'jsonb_set', 'jsonb_insert', 'jsonb_path_query', 'jsonb_path_exists',
  'jsonb_path_match', 'jsonb_path_query_array', 'jsonb_path_query_first', 'row_to_json',
  'array_to_json',
] as const;

const ALLOWED: Readonly<Record<EngineKind, ReadonlySet<string>>> = {
  mysql: new Set<string>([...COMMON, ...MYSQL_ONLY]),
  postgres: new Set<string>([...COMMON, ...POSTGRES_ONLY]),
};

/** `name` is the unqualified function name; both engines compare function names
 * case-insensitively (PostgreSQL after folding: a quoted `"Lower"` is another function and
 * is refused because the list holds lower case only). */
export function isFunctionAllowed(engine: EngineKind, name: string): boolean {
  return ALLOWED[engine].has(engine === 'mysql' ? name.toLowerCase() : name);
}

/** The allow-list itself, for documentation and `gatehouse explain`. */
export function allowedFunctions(engine: EngineKind): readonly string[] {
  return [...ALLOWED[engine]].sort();
}
