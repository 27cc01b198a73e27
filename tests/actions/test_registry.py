from __future__ import annotations

import pairflow.actions
from pairflow.definition.model import CONTROL_TYPES, EXECUTOR_TYPES


def test_importing_the_package_registers_an_executor_for_every_executor_type() -> None:
    assert set(pairflow.actions.EXECUTORS) >= set(EXECUTOR_TYPES)


def test_no_executor_is_registered_for_control_flow() -> None:
    assert not set(pairflow.actions.EXECUTORS) & set(CONTROL_TYPES)
