-- The queries of the SQLite store, by name. Parameters are named (:name).

-- name: latest_workflow
-- The highest version, deleted or not: a deleted workflow's next deploy continues its numbering.
SELECT name, version, definition, parameters, fingerprint, created_at, enabled, deleted
FROM workflows WHERE name = :name ORDER BY version DESC LIMIT 1;

-- name: workflow_version
SELECT name, version, definition, parameters, fingerprint, created_at, enabled, deleted
FROM workflows WHERE name = :name AND version = :version;

-- name: insert_workflow
INSERT INTO workflows (name, version, definition, parameters, fingerprint, created_at, enabled)
VALUES (:name, :version, :definition, :parameters, :fingerprint, :created_at, :enabled);

-- name: latest_workflows
SELECT w.name, w.version, w.definition, w.parameters, w.fingerprint, w.created_at, w.enabled, w.deleted
FROM workflows AS w
WHERE w.version = (SELECT max(version) FROM workflows WHERE name = w.name) AND w.deleted = 0
ORDER BY w.name;

-- name: set_workflow_enabled
UPDATE workflows SET enabled = :enabled
WHERE name = :name AND deleted = 0
  AND version = (SELECT max(version) FROM workflows WHERE name = :name);

-- name: delete_workflow
UPDATE workflows SET deleted = 1
WHERE name = :name AND deleted = 0
  AND version = (SELECT max(version) FROM workflows WHERE name = :name);

-- name: get_access_key
SELECT key FROM access_keys WHERE workflow = :workflow;

-- name: set_access_key
INSERT INTO access_keys (workflow, key) VALUES (:workflow, :key)
ON CONFLICT (workflow) DO UPDATE SET key = excluded.key;

-- name: delete_access_key
DELETE FROM access_keys WHERE workflow = :workflow;

-- name: insert_run
INSERT INTO runs (id, workflow, version, status, trigger, trigger_name, created_at, variables, outputs,
                  error, response, ended_at, owner, lease_until, parent_run, epoch)
VALUES (:id, :workflow, :version, :status, :trigger, :trigger_name, :created_at, :variables, :outputs,
        :error, :response, :ended_at, :owner, :lease_until, :parent_run, :epoch);

-- name: get_run
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE id = :id;

-- name: list_runs
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs ORDER BY created_at DESC, seq DESC LIMIT :limit;

-- name: list_runs_of_workflow
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE workflow = :workflow ORDER BY created_at DESC, seq DESC LIMIT :limit;

-- name: list_runs_with_status
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE status = :status ORDER BY created_at DESC, seq DESC LIMIT :limit;

-- name: list_runs_of_workflow_with_status
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE workflow = :workflow AND status = :status
ORDER BY created_at DESC, seq DESC LIMIT :limit;

-- name: runs_filtered
-- {where} is replaced by the conditions of the filters given (see `_RUN_FILTERS` in sqlite.py);
-- every value is a bound parameter. `since` is inclusive, `until` exclusive.
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs {where} ORDER BY created_at DESC, seq DESC LIMIT :limit;

-- name: unfinished_runs
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE status = 'Running' ORDER BY created_at, seq;

-- name: first_missing_run
-- :ids is a JSON array of run ids; the first that has no run, if any.
SELECT ids.value FROM json_each(:ids) AS ids
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = ids.value)
LIMIT 1;

-- name: update_run
-- Variables replaced when given; the lease cleared when :release_owner holds it (the right-hand
-- sides all read the row as it was, so both CASEs test the old owner).
UPDATE runs
SET variables = coalesce(:variables, variables),
    owner = CASE WHEN owner = :release_owner THEN NULL ELSE owner END,
    lease_until = CASE WHEN owner = :release_owner THEN NULL ELSE lease_until END
WHERE id = :id;

-- name: end_run
UPDATE runs
SET variables = coalesce(:variables, variables),
    status = :status, outputs = :outputs, error = :error, response = :response, ended_at = :ended_at,
    owner = CASE WHEN owner = :release_owner THEN NULL ELSE owner END,
    lease_until = CASE WHEN owner = :release_owner THEN NULL ELSE lease_until END
WHERE id = :id;

-- name: upsert_action
INSERT INTO actions (run_id, name, repetition, status, attempts, inputs, outputs, error, code,
                     start_time, end_time, tracked_properties, state)
VALUES (:run_id, :name, :repetition, :status, :attempts, :inputs, :outputs, :error, :code,
        :start_time, :end_time, :tracked_properties, :state)
ON CONFLICT (run_id, name, repetition) DO UPDATE SET
    status = excluded.status, attempts = excluded.attempts, inputs = excluded.inputs,
    outputs = excluded.outputs, error = excluded.error, code = excluded.code,
    start_time = excluded.start_time, end_time = excluded.end_time,
    tracked_properties = excluded.tracked_properties, state = excluded.state;

-- name: load_actions
SELECT run_id, name, repetition, status, attempts, inputs, outputs, error, code, start_time,
       end_time, tracked_properties, state
FROM actions WHERE run_id = :run_id ORDER BY seq;

-- name: acquire_run
UPDATE runs SET owner = :owner, lease_until = :lease_until
WHERE id = :id
  AND (owner IS NULL
       OR lease_until IS NULL
       OR lease_until < :now
       OR owner = :owner
       OR owner IN (SELECT value FROM json_each(:dead_owners)));

-- name: renew_leases
UPDATE runs SET lease_until = :lease_until WHERE owner = :owner;

-- name: renew_leases_returning
-- renew_run_leases: every lease of the owner, answering which runs it still holds
UPDATE runs SET lease_until = :lease_until WHERE owner = :owner RETURNING id;

-- name: release_run
UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = :id AND owner = :owner;

-- name: get_trigger_state
SELECT state FROM trigger_state WHERE workflow = :workflow AND trigger = :trigger;

-- name: put_trigger_state
INSERT INTO trigger_state (workflow, trigger, state) VALUES (:workflow, :trigger, :state)
ON CONFLICT (workflow, trigger) DO UPDATE SET state = excluded.state;

-- name: claim_occurrence
-- Inserts nothing (rowcount 0) when the occurrence was claimed before: the firing is a repeat.
INSERT INTO trigger_occurrences (workflow, trigger, key, event_id, run_ids)
VALUES (:workflow, :trigger, :key, :event_id, :run_ids)
ON CONFLICT (workflow, trigger, key) DO NOTHING;

-- name: insert_trigger_event
INSERT INTO trigger_history (id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error)
VALUES (:id, :workflow, :trigger, :status, :fired_at, :run_ids, :occurrence, :outputs, :error);

-- name: trigger_event_exists
SELECT 1 FROM trigger_history WHERE id = :id;

-- name: trigger_history_of_workflow
SELECT id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error
FROM trigger_history WHERE workflow = :workflow
ORDER BY fired_at DESC, seq DESC LIMIT :limit;

-- name: trigger_history_of_trigger
SELECT id, workflow, trigger, status, fired_at, run_ids, occurrence, outputs, error
FROM trigger_history WHERE workflow = :workflow AND trigger = :trigger
ORDER BY fired_at DESC, seq DESC LIMIT :limit;

-- name: get_meta
SELECT value, version FROM meta WHERE key = :key;

-- name: insert_meta
-- Inserts nothing (rowcount 0) when the key exists: the caller expected it absent.
INSERT INTO meta (key, value, version) VALUES (:key, :value, 1) ON CONFLICT (key) DO NOTHING;

-- name: update_meta
UPDATE meta SET value = :value, version = version + 1 WHERE key = :key AND version = :expected;

-- name: upsert_meta
INSERT INTO meta (key, value, version) VALUES (:key, :value, 1)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = meta.version + 1;

-- name: insert_location_event
INSERT INTO location_events (id, kind, epoch, at, location, detail)
VALUES (:id, :kind, :epoch, :at, :location, :detail);

-- name: location_events
SELECT id, kind, epoch, at, location, detail FROM location_events ORDER BY seq DESC LIMIT :limit;
