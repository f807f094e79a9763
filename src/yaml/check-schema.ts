import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { isErrorCode } from '../errors/catalogue.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { formatFieldPath, type FieldPath } from './field-path.js';
import type { LoadedYaml } from './load-yaml.js';

/** The JSON Schemas in schemas/, one per format. Editors read the same files through the
 * `# yaml-language-server: $schema=…` line at the top of every file. */
export type SchemaName = 'access-request' | 'databases' | 'risk-policy';

/** Annotation keywords that the schemas carry for humans: `errorMessage` is the sentence
 * shown for a failing value (VS Code's JSON service shows the same one), and
 * `x-gatehouse-code` the catalogue code when the format has a more specific one than
 * SCHEMA_INVALID_VALUE. */
const MESSAGE = 'errorMessage';
const CODE = 'x-gatehouse-code';

type SchemaNode = Record<string, unknown>;

let ajv: Ajv2020 | undefined;
const validators = new Map<SchemaName, ValidateFunction>();

/** Loads a schema from the package's schemas/ folder (two levels up from both src/yaml and
 * dist/yaml). */
export function schemaDocument(name: SchemaName): SchemaNode {
  const url = new URL(`../../schemas/${name}.schema.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as SchemaNode;
}

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (validate === undefined) {
    ajv ??= new Ajv2020({
      allErrors: true,
      verbose: true,
      // Strict catches typos in the schemas themselves; `required` inside oneOf branches names
      // properties declared one level up, which strictRequired cannot see.
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    for (const keyword of [MESSAGE, CODE]) {
      if (ajv.getKeyword(keyword) === false) ajv.addKeyword({ keyword, schemaType: 'string' });
    }
    validate = ajv.compile(schemaDocument(name));
    validators.set(name, validate);
  }
  return validate;
}

/**
 * Checks a parsed file against its schema and translates every ajv error into a diagnostic
 * with a catalogue code, the position of the offending key or value, and a sentence written for
 * the person who edits the file. ajv's own text never reaches users.
 */
export function checkSchema(file: string, loaded: LoadedYaml, name: SchemaName): Diagnostic[] {
  const validate = validatorFor(name);
  if (validate(loaded.value)) return [];
  const errors = validate.errors ?? [];

  // A failing oneOf/propertyNames reports its own sentence; drop the branch errors under it.
  const umbrellas = errors.filter(
    (e) => e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'propertyNames',
  );
  const nested = (e: ErrorObject): boolean =>
    e.propertyName !== undefined ||
    umbrellas.some(
      (u) =>
        u !== e &&
        e.schemaPath.startsWith(`${u.schemaPath}/`) &&
        e.instancePath.startsWith(u.instancePath),
    );

  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (nested(error)) continue;
    const diagnostic = translate(file, loaded, error);
    const key = `${diagnostic.field}|${diagnostic.code}|${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
}

function translate(file: string, loaded: LoadedYaml, error: ErrorObject): Diagnostic {
  const path = instancePath(loaded.value, error.instancePath);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const data: unknown = error.data;
  const where = path.length === 0 ? '' : ` in ${formatFieldPath(path)}`;
  const make = (
    field: FieldPath,
    code: ErrorCode,
    message: string,
    target: 'key' | 'value' = 'value',
  ): Diagnostic => {
    const { line, column } = loaded.positionOf(field, target);
    return { file, line, column, field: formatFieldPath(field), code, message };
  };

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as SchemaNode);
      const suggestion = closest(key, allowed);
      const hint = suggestion === undefined ? '' : ` Did you mean '${suggestion}'?`;
      const list = allowed.length === 0 ? '' : ` Allowed keys: ${allowed.join(', ')}.`;
      return make(
        [...path, key],
        'SCHEMA_UNKNOWN_KEY',
        `Unknown key '${key}'${where}.${hint}${list}`,
        'key',
      );
    }
    case 'required': {
      const key = String((error.params as { missingProperty: string }).missingProperty);
      const property = ((parent.properties ?? {}) as Record<string, SchemaNode>)[key];
      const about = typeof property?.description === 'string' ? ` ${property.description}` : '';
      const field = formatFieldPath([...path, key]);
      const { line, column } = loaded.positionOf(path, 'key');
      return {
        file,
        line,
        column,
        field,
        code: 'SCHEMA_MISSING_KEY',
        message: `Missing required key '${key}'${where}.${about}`,
      };
    }
    case 'type': {
      const expected = String((error.params as { type: string | string[] }).type)
        .split(',')
        .map(describeType)
        .join(' or ');
      const quote =
        /text/.test(expected) && (typeof data === 'number' || typeof data === 'boolean')
          ? ` Put the value in quotes to make it text.`
          : '';
      return make(
        path,
        'SCHEMA_WRONG_TYPE',
        `${label(path)} must be ${expected}, but it is ${describeValue(data)}.${quote}`,
      );
    }
    case 'propertyNames': {
      const key = String((error.params as { propertyName: string }).propertyName);
      const schema = (error.schema ?? {}) as SchemaNode;
      const sentence = typeof schema[MESSAGE] === 'string' ? ` ${String(schema[MESSAGE])}` : '';
      return make(
        [...path, key],
        codeOf(schema),
        `'${key}' is not a valid name${where}.${sentence}`,
        'key',
      );
    }
    case 'oneOf':
    case 'anyOf': {
      // Point at the alternative written last (the one to remove), else at the mapping itself.
      const alternatives = ((parent.oneOf ?? parent.anyOf ?? []) as SchemaNode[]).flatMap(
        (branch) => (Array.isArray(branch.required) ? (branch.required as string[]) : []),
      );
      const present =
        data !== null && typeof data === 'object'
          ? alternatives.filter((key) => Object.hasOwn(data, key))
          : [];
      const later = (a: string, b: string): string => {
        const pa = loaded.positionOf([...path, a], 'key');
        const pb = loaded.positionOf([...path, b], 'key');
        return pb.line > pa.line || (pb.line === pa.line && pb.column > pa.column) ? b : a;
      };
      const target = present.length > 1 ? present.reduce(later) : undefined;
      const field = target === undefined ? path : [...path, target];
      return make(
        field,
        codeOf(parent),
        messageOf(parent) ?? `${label(path)} does not match any allowed form.`,
        'key',
      );
    }
    case 'uniqueItems': {
      const { i, j } = error.params as { i: number; j: number };
      const index = Math.max(i, j);
      const item = Array.isArray(data) ? (data[index] as unknown) : undefined;
      return make(
        [...path, index],
        'SCHEMA_INVALID_VALUE',
        `${JSON.stringify(item)} is listed twice in ${formatFieldPath(path)}; list each value once.`,
      );
    }
    default: {
      const fallback = `${label(path)} ${genericMessage(error)}.`;
      return make(path, codeOf(parent), messageOf(parent) ?? fallback);
    }
  }
}

function codeOf(schema: SchemaNode): ErrorCode {
  const code = schema[CODE];
  return typeof code === 'string' && isErrorCode(code) ? code : 'SCHEMA_INVALID_VALUE';
}

function messageOf(schema: SchemaNode): string | undefined {
  const message = schema[MESSAGE];
  return typeof message === 'string' ? message : undefined;
}

/** JSON Pointer (RFC 6901) of ajv → field path, with numbers for sequence indexes. */
function instancePath(root: unknown, pointer: string): FieldPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node =
        node !== null && typeof node === 'object'
          ? (node as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return path;
}

function label(path: FieldPath): string {
  return path.length === 0 ? 'The file' : formatFieldPath(path);
}

function describeType(type: string): string {
  switch (type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping (key: value lines)';
    case 'array':
      return 'a list';
    default:
      return type;
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function genericMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${((params.allowedValues as unknown[]) ?? []).map((v) => String(v)).join(', ')}`;
    case 'const':
      return `must be ${String(params.allowedValue)}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be at most ${String(params.limit)}`;
    case 'minLength':
      return `must be at least ${String(params.limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters long`;
    case 'minItems':
      return `must hold at least ${String(params.limit)} entries`;
    case 'maxItems':
      return `must hold at most ${String(params.limit)} entries`;
    case 'minProperties':
      return `must hold at least ${String(params.limit)} keys`;
    case 'maxProperties':
      return `must hold at most ${String(params.limit)} keys`;
    case 'pattern':
      return 'is not in the expected format';
    default:
      return 'is not allowed here';
  }
}

/** The allowed key nearest to a misspelt one (Levenshtein distance at most 2). */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}
