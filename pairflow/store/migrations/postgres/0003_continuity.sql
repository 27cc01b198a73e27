-- Business continuity (mirrors migrations/sqlite/0003): small versioned documents (the location's
-- epoch and role, workflow deployment modes) and the location's continuity history.

-- One JSON document per key, with a version for compare-and-set: a writer that read version N can
-- only replace it while it is still N, so two processes of one location cannot both raise the epoch.
CREATE TABLE meta (
    key     text    NOT NULL PRIMARY KEY,
    value   json    NOT NULL,
    version integer NOT NULL
);

CREATE TABLE location_events (
    seq      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       text        NOT NULL CONSTRAINT location_events_id_unique UNIQUE,
    kind     text        NOT NULL,
    epoch    bigint      NOT NULL,
    at       timestamptz NOT NULL,
    location text        NOT NULL,
    detail   json        NOT NULL
);
