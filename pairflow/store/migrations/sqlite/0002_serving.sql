-- Serving a location over HTTP: deleted workflows, access keys, trigger state, occurrence claims,
-- trigger history, and runs findable by the trigger that started them.

-- A workflow is deleted when its latest version is marked: a later deploy adds a version after it
-- (numbering continues) and so brings the workflow back; older versions stay readable by number.
ALTER TABLE workflows ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- The secret that signs a workflow's callback URLs, one per workflow name.
CREATE TABLE access_keys (
    workflow TEXT NOT NULL PRIMARY KEY,
    key      TEXT NOT NULL
) WITHOUT ROWID;

-- A trigger's own state (polling cursor, sliding window, last fire) as JSON, replaced as a whole.
CREATE TABLE trigger_state (
    workflow TEXT NOT NULL,
    trigger  TEXT NOT NULL,
    state    TEXT NOT NULL,
    PRIMARY KEY (workflow, trigger)
) WITHOUT ROWID;

-- Exactly-once firing: one row per occurrence (scheduled instant, window) a trigger fired for.
-- The primary key is the claim; run_ids (a JSON array) are the runs that firing created.
CREATE TABLE trigger_occurrences (
    workflow TEXT NOT NULL,
    trigger  TEXT NOT NULL,
    key      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    run_ids  TEXT NOT NULL,
    PRIMARY KEY (workflow, trigger, key)
) WITHOUT ROWID;

CREATE TABLE trigger_history (
    -- append order, the tie-break between events of the same instant
    seq      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    workflow TEXT    NOT NULL,
    trigger  TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    fired_at TEXT    NOT NULL,
    run_ids  TEXT    NOT NULL,
    occurrence TEXT,
    outputs  TEXT,
    error    TEXT
);

CREATE INDEX trigger_history_by_workflow ON trigger_history (workflow, fired_at, seq);
CREATE INDEX trigger_history_by_trigger ON trigger_history (workflow, trigger, fired_at, seq);

-- The name of the trigger that started the run (its trigger result's "name"), as a column to filter on.
ALTER TABLE runs ADD COLUMN trigger_name TEXT;

UPDATE runs
SET trigger_name = json_extract(trigger, '$.name')
-- CASE, not AND: SQLite does not promise to test json_valid first, and json_type fails on bad JSON
WHERE CASE WHEN json_valid(trigger) THEN json_type(trigger, '$.name') = 'text' ELSE 0 END;

-- Runs of one trigger of a workflow, newest first, within a creation-time range. Workflow with status is
-- served by runs_by_workflow and runs_by_status (0001): every index more is one page more to write
-- on each trigger firing, the hot path of an HTTP endpoint.
CREATE INDEX runs_by_workflow_trigger ON runs (workflow, trigger_name, created_at, seq);
