import type { Migration } from '../migration.js';

/**
 * PostgreSQL schema, in order. Never edit a shipped migration (its checksum is recorded); add
 * one. Times are timestamptz; lists and objects are JSON text (cast to jsonb to query them),
 * stored exactly as hashed so an auditor re-hashes what is on disk.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'grants and audit log',
    sql: `
CREATE TABLE grants (
  id                   text PRIMARY KEY,
  repo                 text NOT NULL,
  requester            text NOT NULL,
  database             text NOT NULL,
  tables               text NOT NULL,
  access               text NOT NULL,
  level                text NOT NULL,
  reason               text NOT NULL,
  ticket               text,
  file_path            text NOT NULL,
  pr_number            integer NOT NULL,
  pr_url               text NOT NULL,
  head_sha             text NOT NULL,
  merge_sha            text NOT NULL,
  approvers            text NOT NULL,
  activated_at         timestamptz NOT NULL,
  expires_at           timestamptz NOT NULL,
  revoked_at           timestamptz,
  revoked_by           text,
  revoke_reason        text,
  reminder_sent_at     timestamptz,
  revocation_pr_number integer
);
CREATE INDEX grants_requester_database_expires ON grants (requester, database, expires_at);
CREATE INDEX grants_unrevoked_expires ON grants (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX grants_pr_number ON grants (pr_number);
CREATE INDEX grants_file_path ON grants (file_path);

CREATE TABLE audit_log (
  seq            bigint PRIMARY KEY,
  at             timestamptz NOT NULL,
  type           text NOT NULL,
  actor          text,
  database       text,
  grant_ids      text NOT NULL,
  pr_numbers     text NOT NULL,
  pr_url         text,
  merge_sha      text,
  approvers      text NOT NULL,
  request_id     text,
  client_address text,
  sql            text,
  sql_sha256     text,
  tables         text NOT NULL,
  decision       text,
  code           text,
  parent_seq     bigint,
  details        text NOT NULL,
  prev_hash      text NOT NULL,
  hash           text NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_database ON audit_log (database, seq);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_grant_ref (
  grant_id text NOT NULL,
  seq      bigint NOT NULL,
  PRIMARY KEY (grant_id, seq)
);
CREATE TABLE audit_pr_ref (
  pr_number integer NOT NULL,
  seq       bigint NOT NULL,
  PRIMARY KEY (pr_number, seq)
);

-- The chain head: one row, locked FOR UPDATE by every append, so writers on every replica
-- take turns and each record links to the one committed before it.
CREATE TABLE audit_head (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only at the database level. The retention prune of issue 6 must go through one
-- controlled, audited SECURITY DEFINER function, never by disabling these triggers.
CREATE FUNCTION gatehouse_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_audit_change();
CREATE TRIGGER audit_grant_ref_append_only BEFORE UPDATE OR DELETE ON audit_grant_ref
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_audit_change();
CREATE TRIGGER audit_grant_ref_no_truncate BEFORE TRUNCATE ON audit_grant_ref
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_audit_change();
CREATE TRIGGER audit_pr_ref_append_only BEFORE UPDATE OR DELETE ON audit_pr_ref
  FOR EACH ROW EXECUTE FUNCTION gatehouse_refuse_audit_change();
CREATE TRIGGER audit_pr_ref_no_truncate BEFORE TRUNCATE ON audit_pr_ref
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_audit_change();

CREATE FUNCTION gatehouse_audit_head_advance_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
    RAISE EXCEPTION 'audit_head only advances by one record: % refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE OR DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_head_advance_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_audit_change();
`,
  },
];
