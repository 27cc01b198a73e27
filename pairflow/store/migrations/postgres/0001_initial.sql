-- The first schema: workflow versions, runs and action records (mirrors migrations/sqlite/0001).
-- JSON is stored as `json`, not `jsonb`: `json` keeps the text as written, so key order survives a
-- round trip. Times are timestamptz (microseconds, compared as instants).

CREATE TABLE workflows (
    name        text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    definition  json        NOT NULL,
    parameters  json        NOT NULL,
    -- sha256 of the key-sorted JSON of definition and parameters: equal content, equal text
    fingerprint text        NOT NULL,
    created_at  timestamptz NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    PRIMARY KEY (name, version)
);

CREATE TABLE runs (
    -- creation order, the tie-break between runs created in the same microsecond
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text        NOT NULL CONSTRAINT runs_id_unique UNIQUE,
    workflow    text        NOT NULL,
    version     integer     NOT NULL,
    status      text        NOT NULL,
    trigger     json        NOT NULL,
    created_at  timestamptz NOT NULL,
    variables   json        NOT NULL,
    outputs     json,
    error       json,
    response    json,
    ended_at    timestamptz,
    owner       text,
    lease_until timestamptz,
    parent_run  text,
    epoch       bigint      NOT NULL DEFAULT 0
);

CREATE INDEX runs_by_created ON runs (created_at, seq);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at, seq);
CREATE INDEX runs_by_status ON runs (status, created_at, seq);
CREATE INDEX runs_by_owner ON runs (owner) WHERE owner IS NOT NULL;

CREATE TABLE actions (
    -- first-written order: an upsert keeps the row, and so its place
    seq                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id             text        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name               text        NOT NULL,
    repetition         text        NOT NULL,
    status             text        NOT NULL,
    attempts           integer     NOT NULL DEFAULT 0,
    inputs             json,
    outputs            json,
    error              json,
    code               text,
    start_time         timestamptz,
    end_time           timestamptz,
    tracked_properties json,
    state              json        NOT NULL,
    CONSTRAINT actions_key UNIQUE (run_id, name, repetition)
);
