"""Store settings a user chooses: how durable a commit is, and how long to wait for a busy database."""

from __future__ import annotations

from enum import StrEnum


class Durability(StrEnum):
    """How far a reported commit survives. Chosen per store URL (`?durability=normal|full`);
    `DEFAULT_DURABILITY` when the URL says nothing.

    pairflow answers a caller, and starts what depends on an action, only once the record is
    committed; the durability level says which failures such a commit survives.

    FULL (the default): survives the crash of the process, of the operating system and a power cut.
    SQLite runs with `synchronous=FULL` (every commit syncs the write-ahead log before it returns);
    PostgreSQL with `synchronous_commit=on` (the commit's WAL is flushed on the server and, when the
    server names synchronous standbys, on them too, so a failover to a standby loses nothing).
    Concurrent runs share commits (group commit), so this costs one disk flush per event-loop turn,
    not one per action: bench/bench_scaling.py and docs/scaling.md give the figures.

    NORMAL: survives the crash of the process only. SQLite runs with `synchronous=NORMAL`: in WAL mode
    the log is synced at checkpoints, not on commit, so an operating-system crash or a power cut may
    lose the last commits, runs already answered included. PostgreSQL runs with
    `synchronous_commit=local`: flushed on the server's own disk, but not waited for on synchronous
    standbys, so a failover to a standby may lose the last commits. Faster on SQLite on a slow disk.

    Neither level ever acknowledges a commit that a crash of the pairflow process loses.
    """

    NORMAL = "normal"
    FULL = "full"


# The safe level: a run pairflow acknowledged survives a power cut of the machine that holds it.
DEFAULT_DURABILITY = Durability.FULL

# How long a writer waits for another process holding the write lock (a CLI run and a
# `pairflow resume` may share one file) before the store reports itself busy.
BUSY_TIMEOUT_SECONDS = 30.0
