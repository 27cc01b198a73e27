-- Business continuity: small versioned documents (the location's epoch and role, workflow deployment
-- modes) and the location's continuity history.

-- One JSON document per key, with a version for compare-and-set: a writer that read version N can
-- only replace it while it is still N, so two processes of one location cannot both raise the epoch.
CREATE TABLE meta (
    key     TEXT NOT NULL PRIMARY KEY,
    value   TEXT NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE location_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    epoch    INTEGER NOT NULL,
    at       TEXT NOT NULL,
    location TEXT NOT NULL,
    detail   TEXT NOT NULL
);
