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

-- Append-only at the database level. Records leave the log only through the retention
-- function of migration 2 (gatehouse_audit_prune_before), never by dropping these triggers.
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
  {
    version: 2,
    name: 'audit anchor and controlled retention prune',
    sql: `
-- Where the retained log starts: (0, zeros) until a prune removes records before a retained
-- checkpoint; then that checkpoint's predecessor. Only moves forward.
CREATE TABLE audit_anchor (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE FUNCTION gatehouse_audit_anchor_forward_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
    RAISE EXCEPTION 'audit_anchor only moves forward: % refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER audit_anchor_forward_only BEFORE UPDATE OR DELETE ON audit_anchor
  FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_anchor_forward_only();
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_refuse_audit_change();

-- The ONE way records leave the log (issue 6, retention): deletes every record before a
-- retained audit.checkpoint and moves the anchor to it, in one transaction that holds the
-- chain head (appends wait) and turns the append-only triggers off only inside itself.
-- SECURITY DEFINER: an application role may be granted EXECUTE on this function without
-- ever holding DELETE on the audit tables. Refusals use SQLSTATE 22023.
CREATE FUNCTION gatehouse_audit_prune_before(checkpoint_seq bigint)
  RETURNS TABLE (deleted bigint, anchor_seq bigint, anchor_hash text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
  cp_type text;
  cp_prev text;
  current_anchor bigint;
  n bigint;
BEGIN
  PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE;
  SELECT seq INTO current_anchor FROM audit_anchor WHERE id = 1 FOR UPDATE;
  SELECT type, prev_hash INTO cp_type, cp_prev FROM audit_log WHERE seq = checkpoint_seq;
  IF cp_type IS DISTINCT FROM 'audit.checkpoint' THEN
    RAISE EXCEPTION 'record % is not an audit.checkpoint', checkpoint_seq
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF checkpoint_seq <= current_anchor + 1 THEN
    RAISE EXCEPTION 'checkpoint % is already the first retained record', checkpoint_seq
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
  ALTER TABLE audit_grant_ref DISABLE TRIGGER audit_grant_ref_append_only;
  ALTER TABLE audit_pr_ref DISABLE TRIGGER audit_pr_ref_append_only;
  DELETE FROM audit_grant_ref WHERE seq < checkpoint_seq;
  DELETE FROM audit_pr_ref WHERE seq < checkpoint_seq;
  DELETE FROM audit_log WHERE seq < checkpoint_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
  ALTER TABLE audit_grant_ref ENABLE TRIGGER audit_grant_ref_append_only;
  ALTER TABLE audit_pr_ref ENABLE TRIGGER audit_pr_ref_append_only;
  UPDATE audit_anchor SET seq = checkpoint_seq - 1, hash = cp_prev WHERE id = 1;
  RETURN QUERY SELECT n, checkpoint_seq - 1, cp_prev;
END
$fn$;
REVOKE ALL ON FUNCTION gatehouse_audit_prune_before(bigint) FROM PUBLIC;
`,
  },
  {
    version: 3,
    name: 'case-insensitive requester lookups',
    // GitHub logins are case-insensitive (Alice and alice are one account), and the login a
    // token resolves to may differ in case from the one written in a request file.
    sql: `
CREATE INDEX grants_requester_ci_database_expires ON grants (lower(requester), database, expires_at);
`,
  },
  {
    version: 4,
    name: 'audit append of a whole batch in one call',
    // Group commit wrote one statement per record (one round trip each) inside the batch's
    // transaction; this writes the records of a batch, chained and hashed by the caller as
    // before, in one call. Per record, in order: the record, its lookup rows, and the head
    // advanced by exactly one (the head's trigger still checks every step). SECURITY INVOKER:
    // it can do nothing its caller cannot do with the same statements.
    sql: `
CREATE FUNCTION gatehouse_audit_append_batch(
  p_seq bigint[], p_at timestamptz[], p_type text[], p_actor text[], p_database text[],
  p_grant_ids text[], p_pr_numbers text[], p_pr_url text[], p_merge_sha text[],
  p_approvers text[], p_request_id text[], p_client_address text[], p_sql text[],
  p_sql_sha256 text[], p_tables text[], p_decision text[], p_code text[],
  p_parent_seq bigint[], p_details text[], p_prev_hash text[], p_hash text[]
) RETURNS void LANGUAGE plpgsql SECURITY INVOKER AS $fn$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_seq, 1), 0) LOOP
    INSERT INTO audit_log (seq, at, type, actor, database, grant_ids, pr_numbers, pr_url,
      merge_sha, approvers, request_id, client_address, sql, sql_sha256, tables, decision,
      code, parent_seq, details, prev_hash, hash)
    VALUES (p_seq[i], p_at[i], p_type[i], p_actor[i], p_database[i], p_grant_ids[i],
      p_pr_numbers[i], p_pr_url[i], p_merge_sha[i], p_approvers[i], p_request_id[i],
      p_client_address[i], p_sql[i], p_sql_sha256[i], p_tables[i], p_decision[i], p_code[i],
      p_parent_seq[i], p_details[i], p_prev_hash[i], p_hash[i]);
    INSERT INTO audit_grant_ref (grant_id, seq)
      SELECT DISTINCT g, p_seq[i] FROM jsonb_array_elements_text(p_grant_ids[i]::jsonb) AS g;
    INSERT INTO audit_pr_ref (pr_number, seq)
      SELECT DISTINCT n::integer, p_seq[i] FROM jsonb_array_elements_text(p_pr_numbers[i]::jsonb) AS n;
    UPDATE audit_head SET seq = p_seq[i], hash = p_hash[i] WHERE id = 1;
  END LOOP;
END
$fn$;
`,
  },
];
