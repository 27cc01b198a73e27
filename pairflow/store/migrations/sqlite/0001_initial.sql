-- The first schema: workflow versions, runs and action records.
-- JSON is stored as compact text; times as fixed-width UTC ISO text (YYYY-MM-DDTHH:MM:SS.ffffffZ),
-- so that comparing the text compares the times.

CREATE TABLE workflows (
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    definition  TEXT    NOT NULL,
    parameters  TEXT    NOT NULL,
    -- sha256 of the key-sorted JSON of definition and parameters: equal content, equal text
    fingerprint TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (name, version)
);

CREATE TABLE runs (
    -- creation order, the tie-break between runs created in the same microsecond
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    workflow    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    trigger     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    variables   TEXT    NOT NULL,
    outputs     TEXT,
    error       TEXT,
    response    TEXT,
    ended_at    TEXT,
    owner       TEXT,
    lease_until TEXT,
    parent_run  TEXT,
    epoch       INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX runs_by_created ON runs (created_at, seq);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at, seq);
CREATE INDEX runs_by_status ON runs (status, created_at, seq);
CREATE INDEX runs_by_owner ON runs (owner) WHERE owner IS NOT NULL;

CREATE TABLE actions (
    -- first-written order: an upsert keeps the row, and so its place
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    repetition         TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    inputs             TEXT,
    outputs            TEXT,
    error              TEXT,
    code               TEXT,
    start_time         TEXT,
    end_time           TEXT,
    tracked_properties TEXT,
    state              TEXT    NOT NULL,
    UNIQUE (run_id, name, repetition)
);
