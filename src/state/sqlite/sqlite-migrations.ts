import type { Migration } from '../migration.js';

/**
 * SQLite schema, in order. Never edit a shipped migration (its checksum is recorded); add one.
 * Times are INTEGER milliseconds since the epoch (UTC); lists and objects are JSON text.
 * "database" is quoted because DATABASE is an SQLite keyword.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'grants and audit log',
    sql: `
CREATE TABLE grants (
  id                   TEXT PRIMARY KEY,
  repo                 TEXT NOT NULL,
  requester            TEXT NOT NULL,
  "database"           TEXT NOT NULL,
  tables               TEXT NOT NULL,
  access               TEXT NOT NULL,
  level                TEXT NOT NULL,
  reason               TEXT NOT NULL,
  ticket               TEXT,
  file_path            TEXT NOT NULL,
  pr_number            INTEGER NOT NULL,
  pr_url               TEXT NOT NULL,
  head_sha             TEXT NOT NULL,
  merge_sha            TEXT NOT NULL,
  approvers            TEXT NOT NULL,
  activated_at         INTEGER NOT NULL,
  expires_at           INTEGER NOT NULL,
  revoked_at           INTEGER,
  revoked_by           TEXT,
  revoke_reason        TEXT,
  reminder_sent_at     INTEGER,
  revocation_pr_number INTEGER
);
CREATE INDEX grants_requester_database_expires ON grants (requester, "database", expires_at);
CREATE INDEX grants_unrevoked_expires ON grants (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX grants_pr_number ON grants (pr_number);
CREATE INDEX grants_file_path ON grants (file_path);

CREATE TABLE audit_log (
  seq            INTEGER PRIMARY KEY,
  at             INTEGER NOT NULL,
  type           TEXT NOT NULL,
  actor          TEXT,
  "database"     TEXT,
  grant_ids      TEXT NOT NULL,
  pr_numbers     TEXT NOT NULL,
  pr_url         TEXT,
  merge_sha      TEXT,
  approvers      TEXT NOT NULL,
  request_id     TEXT,
  client_address TEXT,
  sql            TEXT,
  sql_sha256     TEXT,
  tables         TEXT NOT NULL,
  decision       TEXT,
  code           TEXT,
  parent_seq     INTEGER,
  details        TEXT NOT NULL,
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_database ON audit_log ("database", seq);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_grant_ref (
  grant_id TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  PRIMARY KEY (grant_id, seq)
) WITHOUT ROWID;
CREATE TABLE audit_pr_ref (
  pr_number INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (pr_number, seq)
) WITHOUT ROWID;

CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
CREATE TRIGGER audit_grant_ref_no_update BEFORE UPDATE ON audit_grant_ref
  BEGIN SELECT RAISE(ABORT, 'audit_grant_ref is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_grant_ref_no_delete BEFORE DELETE ON audit_grant_ref
  BEGIN SELECT RAISE(ABORT, 'audit_grant_ref is append-only: DELETE refused'); END;
CREATE TRIGGER audit_pr_ref_no_update BEFORE UPDATE ON audit_pr_ref
  BEGIN SELECT RAISE(ABORT, 'audit_pr_ref is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_pr_ref_no_delete BEFORE DELETE ON audit_pr_ref
  BEGIN SELECT RAISE(ABORT, 'audit_pr_ref is append-only: DELETE refused'); END;
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE ON audit_head
  WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1
  BEGIN SELECT RAISE(ABORT, 'audit_head only advances by one record'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END;
`,
  },
  {
    version: 2,
    name: 'audit anchor for retention',
    sql: `
-- Where the retained log starts: (0, zeros) until a prune removes records before a retained
-- checkpoint; then that checkpoint's predecessor. Only moves forward.
CREATE TABLE audit_anchor (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_anchor_forward_only BEFORE UPDATE ON audit_anchor
  WHEN NEW.id <> OLD.id OR NEW.seq <= OLD.seq
  BEGIN SELECT RAISE(ABORT, 'audit_anchor only moves forward'); END;
CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
  BEGIN SELECT RAISE(ABORT, 'audit_anchor cannot be deleted'); END;
`,
  },
  {
    version: 3,
    name: 'case-insensitive requester lookups',
    // GitHub logins are case-insensitive (Alice and alice are one account), and the login a
    // token resolves to may differ in case from the one written in a request file.
    sql: `
CREATE INDEX grants_requester_ci_database_expires ON grants (lower(requester), "database", expires_at);
`,
  },
];

/**
 * The DELETE guards of migration 1, which the retention prune drops and recreates inside its
 * own write transaction (SQLite DDL is transactional; no other connection ever sees them gone).
 * Must stay identical to migration 1.
 */
export const SQLITE_AUDIT_DELETE_GUARDS: readonly {
  readonly name: string;
  readonly sql: string;
}[] = ['audit_log', 'audit_grant_ref', 'audit_pr_ref'].map((table) => ({
  name: `${table}_no_delete`,
  sql: `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END;`,
}));
