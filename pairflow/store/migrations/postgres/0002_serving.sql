-- Serving a location over HTTP (mirrors migrations/sqlite/0002): deleted workflows, access keys,
-- trigger state, occurrence claims, trigger history, and runs findable by the trigger that started them.

-- A workflow is deleted when its latest version is marked: a later deploy adds a version after it
-- (numbering continues) and so brings the workflow back; older versions stay readable by number.
ALTER TABLE workflows ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- The secret that signs a workflow's callback URLs, one per workflow name.
CREATE TABLE access_keys (
    workflow text NOT NULL PRIMARY KEY,
    key      text NOT NULL
);

-- A trigger's own state (polling cursor, sliding window, last fire) as JSON, replaced as a whole.
CREATE TABLE trigger_state (
    workflow text NOT NULL,
    trigger  text NOT NULL,
    state    json NOT NULL,
    PRIMARY KEY (workflow, trigger)
);

-- Exactly-once firing: one row per occurrence (scheduled instant, window) a trigger fired for.
-- The primary key is the claim; run_ids (a JSON array) are the runs that firing created.
CREATE TABLE trigger_occurrences (
    workflow text NOT NULL,
    trigger  text NOT NULL,
    key      text NOT NULL,
    event_id text NOT NULL,
    run_ids  json NOT NULL,
    PRIMARY KEY (workflow, trigger, key)
);

CREATE TABLE trigger_history (
    -- append order, the tie-break between events of the same instant
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text        NOT NULL CONSTRAINT trigger_history_id_unique UNIQUE,
    workflow   text        NOT NULL,
    trigger    text        NOT NULL,
    status     text        NOT NULL,
    fired_at   timestamptz NOT NULL,
    run_ids    json        NOT NULL,
    occurrence text,
    outputs    json,
    error      json
);

CREATE INDEX trigger_history_by_workflow ON trigger_history (workflow, fired_at, seq);
CREATE INDEX trigger_history_by_trigger ON trigger_history (workflow, trigger, fired_at, seq);

-- The name of the trigger that started the run (its trigger result's "name"), as a column to filter on.
ALTER TABLE runs ADD COLUMN trigger_name text;

UPDATE runs SET trigger_name = trigger ->> 'name' WHERE json_typeof(trigger -> 'name') = 'string';

-- Runs of one trigger of a workflow, newest first, within a creation-time range.
CREATE INDEX runs_by_workflow_trigger ON runs (workflow, trigger_name, created_at, seq);
