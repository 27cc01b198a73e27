"""The built-in action executors; importing this package fills `pairflow.actions.base.EXECUTORS`."""

from __future__ import annotations

from pairflow.actions import compose, data, http, response, variables, wait, workflow
from pairflow.actions.base import EXECUTORS

__all__ = ["EXECUTORS", "compose", "data", "http", "response", "variables", "wait", "workflow"]
