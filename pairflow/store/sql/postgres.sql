-- The queries of the PostgreSQL store, by name. Parameters are named (%(name)s, psycopg's style).
-- Mirrors sql/sqlite.sql; JSON values are passed as text (typed by the column), times as timestamptz.

-- name: lock_workflow
-- Serialises the writers of one workflow name until the transaction ends: deriving the next version
-- number from the latest one is safe only if no one else derives it at the same time.
SELECT pg_advisory_xact_lock(hashtextextended('pairflow.workflow:' || %(name)s, 0));

-- name: latest_workflow
-- The highest version, deleted or not: a deleted workflow's next deploy continues its numbering.
SELECT name, version, definition, parameters, fingerprint, created_at, enabled, deleted
FROM workflows WHERE name = %(name)s ORDER BY version DESC LIMIT 1;

-- name: workflow_version
SELECT name, version, definition, parameters, fingerprint, created_at, enabled, deleted
FROM workflows WHERE name = %(name)s AND version = %(version)s;

-- name: insert_workflow
INSERT INTO workflows (name, version, definition, parameters, fingerprint, created_at, enabled)
VALUES (%(name)s, %(version)s, %(definition)s, %(parameters)s, %(fingerprint)s, %(created_at)s, %(enabled)s);

-- name: latest_workflows
SELECT * FROM (
    SELECT DISTINCT ON (name) name, version, definition, parameters, fingerprint, created_at, enabled, deleted
    FROM workflows ORDER BY name, version DESC
) AS latest
WHERE NOT deleted ORDER BY name;

-- name: set_workflow_enabled
UPDATE workflows SET enabled = %(enabled)s
WHERE name = %(name)s AND NOT deleted
  AND version = (SELECT max(version) FROM workflows WHERE name = %(name)s);

-- name: delete_workflow
UPDATE workflows SET deleted = true
WHERE name = %(name)s AND NOT deleted
  AND version = (SELECT max(version) FROM workflows WHERE name = %(name)s);

-- name: get_access_key
SELECT key FROM access_keys WHERE workflow = %(workflow)s;

-- name: set_access_key
INSERT INTO access_keys (workflow, key) VALUES (%(workflow)s, %(key)s)
ON CONFLICT (workflow) DO UPDATE SET key = excluded.key;

-- name: delete_access_key
DELETE FROM access_keys WHERE workflow = %(workflow)s;

-- name: insert_run
INSERT INTO runs (id, workflow, version, status, trigger, trigger_name, created_at, variables, outputs,
                  error, response, ended_at, owner, lease_until, parent_run, epoch)
VALUES (%(id)s, %(workflow)s, %(version)s, %(status)s, %(trigger)s, %(trigger_name)s, %(created_at)s,
        %(variables)s, %(outputs)s, %(error)s, %(response)s, %(ended_at)s, %(owner)s, %(lease_until)s,
        %(parent_run)s, %(epoch)s);

-- name: get_run
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE id = %(id)s;

-- name: list_runs
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs ORDER BY created_at DESC, seq DESC LIMIT %(limit)s;

-- name: list_runs_of_workflow
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE workflow = %(workflow)s ORDER BY created_at DESC, seq DESC LIMIT %(limit)s;

-- name: list_runs_with_status
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE status = %(status)s ORDER BY created_at DESC, seq DESC LIMIT %(limit)s;

-- name: list_runs_of_workflow_with_status
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE workflow = %(workflow)s AND status = %(status)s
ORDER BY created_at DESC, seq DESC LIMIT %(limit)s;

-- name: runs_filtered
-- {where} is replaced by the conditions of the filters given (see `_RUN_FILTERS` in postgres.py);
-- every value is a bound parameter. `since` is inclusive, `until` exclusive.
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs {where} ORDER BY created_at DESC, seq DESC LIMIT %(limit)s;

-- name: unfinished_runs
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE status = 'Running' ORDER BY created_at, seq;

-- name: claim_unowned_runs
-- Work sharing between processes on one database: take up to `limit` unfinished runs whose lease
-- is free, expired before `now` or held by a dead owner, oldest first. SKIP LOCKED lets competing
-- takers pass over the rows another is taking instead of waiting for it, so each run goes to one.
-- The choice is a MATERIALIZED CTE, run once: as an `IN (subquery)` the planner may scan it again,
-- and with SKIP LOCKED a second scan picks other rows (more than `limit`, not the oldest).
WITH picked AS MATERIALIZED (
    SELECT seq FROM runs
    WHERE status = 'Running'
      AND (owner IS NULL OR lease_until IS NULL OR lease_until < %(now)s
           OR owner = ANY(%(dead_owners)s::text[]))
    ORDER BY created_at, seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), taken AS (
    UPDATE runs SET owner = %(owner)s, lease_until = %(lease_until)s
    FROM picked WHERE runs.seq = picked.seq
    RETURNING runs.*
)
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM taken ORDER BY created_at, seq;

-- name: announce_runs
-- Tells every process listening on the database (`listen_runs`) that these runs committed a reply;
-- delivered when the transaction commits. `ids` is an array of run ids.
SELECT pg_notify('pairflow_runs', ids.id) FROM unnest(%(ids)s::text[]) AS ids (id);

-- name: listen_runs
LISTEN pairflow_runs;

-- name: first_missing_run
-- `ids` is an array of run ids; the first that has no run, if any.
SELECT ids.id FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS ids (id, n)
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = ids.id)
ORDER BY ids.n LIMIT 1;

-- name: update_run
-- Variables replaced when given; the lease cleared when `release_owner` holds it (the right-hand
-- sides all read the row as it was, so both CASEs test the old owner).
UPDATE runs
SET variables = coalesce(%(variables)s::json, variables),
    owner = CASE WHEN owner = %(release_owner)s THEN NULL ELSE owner END,
    lease_until = CASE WHEN owner = %(release_owner)s THEN NULL ELSE lease_until END
WHERE id = %(id)s;

-- name: end_run
UPDATE runs
SET variables = coalesce(%(variables)s::json, variables),
    status = %(status)s, outputs = %(outputs)s, error = %(error)s, response = %(response)s,
    ended_at = %(ended_at)s,
    owner = CASE WHEN owner = %(release_owner)s THEN NULL ELSE owner END,
    lease_until = CASE WHEN owner = %(release_owner)s THEN NULL ELSE lease_until END
WHERE id = %(id)s;

-- name: upsert_action
INSERT INTO actions (run_id, name, repetition, status, attempts, inputs, outputs, error, code,
                     start_time, end_time, tracked_properties, state)
VALUES (%(run_id)s, %(name)s, %(repetition)s, %(status)s, %(attempts)s, %(inputs)s, %(outputs)s,
        %(error)s, %(code)s, %(start_time)s, %(end_time)s, %(tracked_properties)s, %(state)s)
ON CONFLICT (run_id, name, repetition) DO UPDATE SET
    status = excluded.status, attempts = excluded.attempts, inputs = excluded.inputs,
    outputs = excluded.outputs, error = excluded.error, code = excluded.code,
    start_time = excluded.start_time, end_time = excluded.end_time,
    tracked_properties = excluded.tracked_properties, state = excluded.state;

-- name: load_actions
SELECT run_id, name, repetition, status, attempts, inputs, outputs, error, code, start_time,
       end_time, tracked_properties, state
FROM actions WHERE run_id = %(run_id)s ORDER BY seq;

-- name: acquire_run
UPDATE runs SET owner = %(owner)s, lease_until = %(lease_until)s
WHERE id = %(id)s
  AND (owner IS NULL
       OR lease_until IS NULL
       OR lease_until < %(now)s
       OR owner = %(owner)s
       OR owner = ANY(%(dead_owners)s::text[]));

-- name: renew_leases
UPDATE runs SET lease_until = %(lease_until)s WHERE owner = %(owner)s;

-- name: renew_leases_returning
-- renew_run_leases: every lease of the owner, answering which runs it still holds
UPDATE runs SET lease_until = %(lease_until)s WHERE owner = %(owner)s RETURNING id;

-- name: release_run
UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = %(id)s AND owner = %(owner)s;

-- name: get_trigger_state
SELECT state FROM trigger_state WHERE workflow = %(workflow)s AND trigger = %(trigger)s;

-- name: put_trigger_state
INSERT INTO trigger_state (workflow, trigger, state) VALUES (%(workflow)s, %(trigger)s, %(state)s)
ON CONFLICT (workflow, trigger) DO UPDATE SET state = excluded.state;

-- name: claim_occurrence
-- Inserts nothing (rowcount 0) when the occurrence was claimed before: the firing is a repeat. A
-- concurrent claim of the same key waits for the first transaction, then inserts nothing.
INSERT INTO trigger_occurrences (workflow, trigger, key, event_id, run_ids)
VALUES (%(workflow)s, %(trigger)s, %(key)s, %(event_id)s, %(run_ids)s)
ON CONFLICT (workflow, trigger, key) DO NOTHING;

-- name: insert_trigger_event
INSERT INTO trigger_history (id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error)
VALUES (%(id)s, %(workflow)s, %(trigger)s, %(status)s, %(fired_at)s, %(run_ids)s, %(occurrence)s,
        %(outputs)s, %(error)s);

-- name: trigger_event_exists
SELECT 1 FROM trigger_history WHERE id = %(id)s;

-- name: trigger_history_of_workflow
SELECT id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error
FROM trigger_history WHERE workflow = %(workflow)s
ORDER BY fired_at DESC, seq DESC LIMIT %(limit)s;

-- name: trigger_history_of_trigger
SELECT id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error
FROM trigger_history WHERE workflow = %(workflow)s AND trigger = %(trigger)s
ORDER BY fired_at DESC, seq DESC LIMIT %(limit)s;

-- name: get_meta
SELECT value, version FROM meta WHERE key = %(key)s;

-- name: insert_meta
-- Returns no row when the key exists: the caller expected it absent.
INSERT INTO meta (key, value, version) VALUES (%(key)s, %(value)s, 1)
ON CONFLICT (key) DO NOTHING RETURNING version;

-- name: update_meta
UPDATE meta SET value = %(value)s, version = version + 1
WHERE key = %(key)s AND version = %(expected)s RETURNING version;

-- name: upsert_meta
INSERT INTO meta (key, value, version) VALUES (%(key)s, %(value)s, 1)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = meta.version + 1 RETURNING version;

-- name: insert_location_event
INSERT INTO location_events (id, kind, epoch, at, location, detail)
VALUES (%(id)s, %(kind)s, %(epoch)s, %(at)s, %(location)s, %(detail)s);

-- name: location_events
SELECT id, kind, epoch, at, location, detail FROM location_events ORDER BY seq DESC LIMIT %(limit)s;
