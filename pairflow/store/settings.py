"""Store settings a user chooses: how durable a commit is, and how long to wait for a busy database."""

from __future__ import annotations

from enum import StrEnum


class Durability(StrEnum):
    """How far a reported commit survives.

    NORMAL: survives the crash of the process (the default). With SQLite in WAL mode the log is not
    synced on every commit, so an operating-system crash or a power cut may lose the last commits.
    FULL: survives an operating-system crash or power cut too; every commit waits for the disk.
    """

    NORMAL = "normal"
    FULL = "full"


# How long a writer waits for another process holding the write lock (a CLI run and a
# `pairflow resume` may share one file) before the store reports itself busy.
BUSY_TIMEOUT_SECONDS = 30.0
