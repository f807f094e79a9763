/**
 * The one error catalogue (Fastify's lib/errors.js pattern). Every code a user can meet,
 * over HTTP, in the CLI, in a check run or in an audit record, is declared here once, with
 * its HTTP status. Codes are stable API: tests assert codes, never messages. Each code is
 * documented in docs/errors.md (a test keeps the two in sync).
 *
 * Add new codes to the section of your area; never reuse a code for two different failures.
 */
export interface ErrorSpec {
  /** HTTP status when the error reaches an HTTP client. */
  readonly status: number;
  /** One sentence, for docs and for messages that have nothing more specific to say. */
  readonly summary: string;
}

export const ERRORS = {
  // --- Access-request and policy files (diagnostics: file, line, column, field) ---
  FILE_TOO_LARGE: { status: 400, summary: 'The file is larger than 64 KiB.' },
  FILE_NOT_UTF8: { status: 400, summary: 'The file is not valid UTF-8.' },
  FILE_EMPTY: { status: 400, summary: 'The file is empty.' },
  FILE_UNREADABLE: { status: 400, summary: 'The file could not be read.' },
  YAML_SYNTAX: { status: 400, summary: 'The file is not valid YAML.' },
  YAML_MULTIPLE_DOCUMENTS: { status: 400, summary: 'The file holds more than one YAML document.' },
  YAML_DUPLICATE_KEY: { status: 400, summary: 'A key appears twice in the same mapping.' },
  YAML_ALIAS: { status: 400, summary: 'YAML anchors and aliases are not allowed.' },
  YAML_TAB_INDENT: { status: 400, summary: 'Indentation uses a tab character.' },
  YAML_NOT_MAPPING: { status: 400, summary: 'The top level of the file is not a mapping.' },
  SCHEMA_UNKNOWN_KEY: { status: 400, summary: 'A key is not part of the format.' },
  SCHEMA_MISSING_KEY: { status: 400, summary: 'A required key is missing.' },
  SCHEMA_WRONG_TYPE: { status: 400, summary: 'A value has the wrong type.' },
  SCHEMA_INVALID_VALUE: { status: 400, summary: 'A value is not allowed.' },
  REQ_PATH: { status: 400, summary: 'The request file is not at access/<database>/<name>.yaml.' },
  REQ_DATABASE_MISMATCH: {
    status: 400,
    summary: 'The database field differs from the directory name.',
  },
  REQ_UNKNOWN_DATABASE: {
    status: 400,
    summary: 'The database is not declared in policies/databases.yaml.',
  },
  REQ_UNKNOWN_TABLE: { status: 400, summary: 'A table is not declared for the database.' },
  REQ_TABLES_EMPTY: { status: 400, summary: 'The tables list is empty.' },
  REQ_TABLE_NAME: { status: 400, summary: 'A table name is malformed.' },
  REQ_ACCESS_KIND: { status: 400, summary: 'Only read access can be requested.' },
  REQ_LIFETIME: { status: 400, summary: 'Exactly one of duration and expires must be given.' },
  REQ_DURATION_FORMAT: { status: 400, summary: 'The duration is not like 30m, 4h or 2d.' },
  REQ_DURATION_ZERO: { status: 400, summary: 'The duration is zero.' },
  REQ_DURATION_TOO_LONG: { status: 400, summary: "The duration exceeds the risk level's maximum." },
  REQ_EXPIRES_FORMAT: {
    status: 400,
    summary: 'expires is not an ISO 8601 date-time with an offset.',
  },
  REQ_EXPIRES_PAST: { status: 400, summary: 'expires is in the past.' },
  REQ_REASON_BLANK: { status: 400, summary: 'The reason is blank.' },
  REQ_REASON_TOO_LONG: { status: 400, summary: 'The reason is longer than 500 characters.' },
  REQ_REQUESTER: { status: 400, summary: 'The requester is not a valid GitHub login.' },
  REQ_REQUESTER_NOT_AUTHOR: {
    status: 400,
    summary: 'The requester is not the pull request author.',
  },
  REQ_FILE_EXISTS: {
    status: 400,
    summary: 'The request file already exists; it is never overwritten.',
  },
  POLICY_INVALID: { status: 500, summary: 'A policy file is invalid.' },
  POLICY_DENIED: { status: 403, summary: 'The risk policy denies this request.' },
  POLICY_NO_RULE: {
    status: 500,
    summary: 'No rule of the risk policy applies; this is an error, never a success.',
  },
  CODEOWNERS_INVALID: { status: 500, summary: 'A CODEOWNERS line is invalid.' },
  POLICY_TEAMS_UNKNOWN: {
    status: 500,
    summary: "The risk level depends on the requester's teams, which were not looked up.",
  },

  // --- Review gate (pull requests) ---
  PR_MIXED: {
    status: 400,
    summary: 'Policy or CODEOWNERS changes are mixed with access requests.',
  },
  PR_FOREIGN_PATH: {
    status: 400,
    summary: 'The pull request changes a path that is not an access request.',
  },
  PR_EVALUATION_FAILED: {
    status: 502,
    summary: 'The pull request could not be evaluated (GitHub API failure).',
  },
  PR_NOT_APPROVED: {
    status: 403,
    summary: 'The pull request lacks the approvals its risk level requires.',
  },
  PR_EMPTY: { status: 400, summary: 'The pull request changes no files.' },
  PR_TOO_LARGE: {
    status: 400,
    summary: 'The pull request has more files (3000) or commits (250) than GitHub lists.',
  },
  PR_OTHERS_REQUEST: {
    status: 400,
    summary: "The pull request modifies another requester's request file.",
  },
  PR_NO_APPROVERS: {
    status: 400,
    summary: 'Nobody can approve: no user, no team and no CODEOWNER qualifies.',
  },
  PR_OPEN_FAILED: {
    status: 502,
    summary: 'The pull request could not be opened through the GitHub API.',
  },
  PR_TOKEN_MISSING: {
    status: 401,
    summary: 'No GitHub token: set GATEHOUSE_TOKEN or GITHUB_TOKEN, or run gh auth login.',
  },
  PR_CHANGES_REQUESTED: {
    status: 403,
    summary: 'A qualifying reviewer requested changes; their latest review blocks the request.',
  },

  // --- Grants ---
  GRANT_NOT_FOUND: { status: 404, summary: 'No such grant.' },
  GRANT_ACTIVATION_REFUSED: {
    status: 403,
    summary: 'A merged request was not activated because its approvals did not suffice.',
  },
  GRANT_DURATION_CLAMPED: {
    status: 200,
    summary: "A grant was cut to its risk level's maximum duration (a notice, not a failure).",
  },
  LIFECYCLE_NO_MERGED_PR: {
    status: 409,
    summary:
      'A request file on the default branch came from no merged pull request; it grants nothing.',
  },
  LIFECYCLE_GITHUB_RATE_LIMITED: {
    status: 503,
    summary: 'GitHub rate-limited the lifecycle job; it stopped early and resumes on its next run.',
  },
  LIFECYCLE_GITHUB_UNAVAILABLE: {
    status: 503,
    summary: 'GitHub failed (5xx or unreachable) during a lifecycle job; the next run resumes.',
  },
  LIFECYCLE_GITHUB_REFUSED: {
    status: 502,
    summary: 'GitHub refused a lifecycle call (a 4xx other than a rate limit).',
  },
  LIFECYCLE_TREE_TRUNCATED: {
    status: 500,
    summary: 'GitHub truncated the repository tree, so reconcile cannot see every request file.',
  },
  LIFECYCLE_REVOCATION_NOT_MERGED: {
    status: 409,
    summary:
      'Auto-merge of a revocation pull request was refused by GitHub (e.g. branch protection).',
  },

  // --- Identity ---
  AUTH_MISSING: { status: 401, summary: 'No Authorization: Bearer token was sent.' },
  AUTH_INVALID: { status: 401, summary: 'The token was not accepted by the identity provider.' },
  AUTH_FORBIDDEN: { status: 403, summary: 'The caller is not allowed to use this route.' },
  AUTH_PROVIDER_UNAVAILABLE: {
    status: 503,
    summary: 'The identity provider could not be reached.',
  },

  // --- HTTP API ---
  BAD_REQUEST: { status: 400, summary: 'The request body is malformed.' },
  NOT_FOUND: { status: 404, summary: 'No such route.' },
  UNKNOWN_DATABASE: {
    status: 404,
    summary: 'The database is not declared in policies/databases.yaml.',
  },
  INTERNAL: { status: 500, summary: 'An internal error; the request id in the logs tells more.' },

  // --- SQL analysis (every refusal names a position when there is one) ---
  SQL_PARSE_ERROR: { status: 400, summary: 'The statement could not be parsed.' },
  SQL_EMPTY: { status: 400, summary: 'No statement was given.' },
  SQL_MULTIPLE_STATEMENTS: { status: 403, summary: 'Only one statement per query is allowed.' },
  SQL_STATEMENT_NOT_ALLOWED: {
    status: 403,
    summary: 'Only a plain SELECT (or WITH … SELECT) is allowed.',
  },
  SQL_SELECT_INTO: { status: 403, summary: 'SELECT … INTO is not allowed.' },
  SQL_LOCKING_CLAUSE: {
    status: 403,
    summary: 'Locking clauses (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE) are not allowed.',
  },
  SQL_DATA_MODIFYING_CTE: { status: 403, summary: 'A WITH clause modifies data.' },
  SQL_EXECUTABLE_COMMENT: {
    status: 403,
    summary: 'Executable or optimizer-hint comments are not allowed.',
  },
  SQL_LEXICAL: {
    status: 403,
    summary: 'The text holds a construct the analyser cannot be trusted with.',
  },
  SQL_FUNCTION_NOT_ALLOWED: {
    status: 403,
    summary: 'A function outside the allow-list is called.',
  },
  SQL_SYSTEM_CATALOG: { status: 403, summary: 'System catalogs and schemas cannot be queried.' },
  SQL_UNRESOLVED: {
    status: 403,
    summary: 'The analyser cannot prove which tables the statement reads.',
  },
  SQL_TABLE_NOT_GRANTED: {
    status: 403,
    summary: 'The statement reads a table that no active grant of yours covers.',
  },
  SQL_NO_GRANT: { status: 403, summary: 'You hold no active grant for this database.' },
  SQL_VARIABLE: {
    status: 403,
    summary: 'User or system variables (@x, @@x, :=) cannot be read or assigned.',
  },
  SQL_TYPE_NOT_ALLOWED: { status: 403, summary: 'A cast to a type outside the allow-list.' },
  SQL_OPERATOR_NOT_ALLOWED: { status: 403, summary: 'An operator outside the allow-list.' },
  SQL_TOO_LONG: { status: 413, summary: 'The statement is longer than the analyser accepts.' },
  SQL_ANALYSER_UNAVAILABLE: {
    status: 503,
    summary: 'The SQL analyser is not initialised yet; nothing runs unanalysed.',
  },

  // --- Execution ---
  QUERY_TIMEOUT: {
    status: 504,
    summary: 'The statement ran past the statement timeout and was stopped.',
  },
  QUERY_FAILED: { status: 422, summary: 'The database rejected the statement.' },
  QUERY_RESULT_TOO_LARGE: { status: 413, summary: 'The result exceeded the result size cap.' },
  DATABASE_UNAVAILABLE: { status: 503, summary: 'The database could not be reached.' },
  IAM_TOKEN_FAILED: { status: 503, summary: 'An AWS RDS IAM token could not be minted.' },

  // --- Audit ---
  AUDIT_UNAVAILABLE: {
    status: 503,
    summary: 'The audit store cannot write; nothing runs without an audit record.',
  },
  AUDIT_CHAIN_BROKEN: { status: 500, summary: 'The audit hash chain does not verify.' },
  AUDIT_FILTER_INVALID: {
    status: 400,
    summary: 'An audit filter (user, since, until, grant, type, afterSeq, limit) is not valid.',
  },
  AUDIT_EXPORT_MALFORMED: {
    status: 400,
    summary: 'The file is not a Gatehouse audit export (header, records, final checkpoint).',
  },
  AUDIT_EXPORT_DISCONTINUOUS: {
    status: 409,
    summary:
      'The export does not continue the previous export: records between them are missing or differ.',
  },
  AUDIT_PRUNE_NO_CHECKPOINT: {
    status: 409,
    summary: 'No audit checkpoint at or before the prune time; nothing can be pruned verifiably.',
  },
  AUDIT_PRUNE_UNSUPPORTED: {
    status: 501,
    summary: 'This state store cannot prune the audit log (no controlled retention delete).',
  },

  // --- State store (grants and audit tables, SQLite or PostgreSQL) ---
  STATE_UNAVAILABLE: {
    status: 503,
    summary: 'The state store (grants and audit log) cannot be opened, reached or read.',
  },
  STATE_SCHEMA_MISMATCH: {
    status: 500,
    summary:
      'The state database holds migrations this build does not know (newer or edited); run the matching Gatehouse version.',
  },

  // --- Webhooks ---
  WEBHOOK_SIGNATURE: { status: 401, summary: 'The webhook signature is missing or wrong.' },

  // --- Configuration and usage ---
  CONFIG_INVALID: { status: 500, summary: 'A configuration key is missing or invalid.' },
  CONFIG_GITHUB_APP_MISSING: {
    status: 503,
    summary: 'No GitHub App is configured (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET); webhooks are off.',
  },
  USAGE: { status: 400, summary: 'The command line is not valid.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An exception that carries a catalogue code. Expected outcomes are values, not exceptions;
 * this is for broken infrastructure and for translating failures at the edges. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; hint?: string }) {
    super(
      message ?? ERRORS[code].summary,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'GatehouseError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.hint = options?.hint;
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}
