import type { ErrorCode } from '../errors/catalogue.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { checkSchema, type SchemaName } from '../yaml/check-schema.js';
import { formatFieldPath, type FieldPath } from '../yaml/field-path.js';
import { loadYaml, type LoadedYaml } from '../yaml/load-yaml.js';

/** A policy file past YAML and schema checks, with a helper that records a semantic problem
 * at the position of a field. */
export interface PolicyDocument {
  readonly loaded: LoadedYaml;
  readonly diagnostics: Diagnostic[];
  invalid(field: FieldPath, message: string, target?: 'key' | 'value', code?: ErrorCode): void;
}

/** Loads `file` as YAML and checks it against `schema`; only diagnostics when
 * either fails, so semantic checks never run on a half-valid document. */
export function loadPolicyDocument(
  file: string,
  bytes: Uint8Array | string,
  schema: SchemaName,
): { readonly document: PolicyDocument } | { readonly diagnostics: Diagnostic[] } {
  const loaded = loadYaml(file, bytes);
  if (loaded.diagnostics.length > 0) return { diagnostics: loaded.diagnostics };
  const schemaErrors = checkSchema(file, loaded, schema);
  if (schemaErrors.length > 0) return { diagnostics: schemaErrors };
  const diagnostics: Diagnostic[] = [];
  return {
    document: {
      loaded,
      diagnostics,
      invalid(field, message, target = 'value', code = 'POLICY_INVALID') {
        const { line, column } = loaded.positionOf(field, target);
        diagnostics.push({ file, line, column, field: formatFieldPath(field), code, message });
      },
    },
  };
}
