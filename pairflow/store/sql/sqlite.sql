-- The queries of the SQLite store, by name. Parameters are named (:name).

-- name: latest_workflow
SELECT name, version, definition, parameters, fingerprint, created_at, enabled
FROM workflows WHERE name = :name ORDER BY version DESC LIMIT 1;

-- name: workflow_version
SELECT name, version, definition, parameters, fingerprint, created_at, enabled
FROM workflows WHERE name = :name AND version = :version;

-- name: insert_workflow
INSERT INTO workflows (name, version, definition, parameters, fingerprint, created_at, enabled)
VALUES (:name, :version, :definition, :parameters, :fingerprint, :created_at, :enabled);

-- name: latest_workflows
SELECT w.name, w.version, w.definition, w.parameters, w.fingerprint, w.created_at, w.enabled
FROM workflows AS w
WHERE w.version = (SELECT max(version) FROM workflows WHERE name = w.name)
ORDER BY w.name;

-- name: insert_run
INSERT INTO runs (id, workflow, version, status, trigger, created_at, variables, outputs, error,
                  response, ended_at, owner, lease_until, parent_run, epoch)
VALUES (:id, :workflow, :version, :status, :trigger, :created_at, :variables, :outputs, :error,
        :response, :ended_at, :owner, :lease_until, :parent_run, :epoch);

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

-- name: unfinished_runs
SELECT id, workflow, version, status, trigger, created_at, variables, outputs, error, response,
       ended_at, owner, lease_until, parent_run, epoch
FROM runs WHERE status = 'Running' ORDER BY created_at, seq;

-- name: first_missing_run
-- :ids is a JSON array of run ids; the first that has no run, if any.
SELECT ids.value FROM json_each(:ids) AS ids
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = ids.value)
LIMIT 1;

-- name: set_variables
UPDATE runs SET variables = :variables WHERE id = :id;

-- name: end_run
UPDATE runs
SET variables = coalesce(:variables, variables),
    status = :status, outputs = :outputs, error = :error, response = :response, ended_at = :ended_at
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

-- name: release_run
UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = :id AND owner = :owner;
