"""The pure state machine: decisions from records alone."""

from __future__ import annotations

from pairflow.definition.model import build_definition
from pairflow.engine.decide import (
    CompleteRun,
    Plan,
    RunState,
    SkipAction,
    StartAction,
    decide_all,
    iteration_key,
    parse_repetition,
)
from pairflow.store.records import ActionRecord

DEFINITION = {
    "actions": {
        "A": {"type": "Compose", "inputs": 1},
        "B": {"type": "Compose", "inputs": 2, "runAfter": {"A": ["Succeeded"]}},
        "C": {"type": "Compose", "inputs": 3, "runAfter": {"B": ["Succeeded"]}},
        "Handler": {"type": "Compose", "inputs": 4, "runAfter": {"A": ["Failed"]}},
    }
}


def _state(plan: Plan, **statuses: str) -> RunState:
    return RunState.load(plan, [ActionRecord("r", name, "", status) for name, status in statuses.items()])


def test_new_run_starts_only_actions_without_run_after() -> None:
    plan = Plan.build(build_definition(DEFINITION))
    assert decide_all(plan, RunState()) == [StartAction("A", "")]


def test_failure_skips_the_success_chain_in_one_decision_and_starts_the_handler() -> None:
    plan = Plan.build(build_definition(DEFINITION))
    commands = decide_all(plan, _state(plan, A="Failed"))
    assert set(commands) == {SkipAction("B", ""), SkipAction("C", ""), StartAction("Handler", "")}


def test_terminal_action_skipped_after_a_failure_fails_the_run() -> None:
    plan = Plan.build(build_definition(DEFINITION))
    commands = decide_all(plan, _state(plan, A="Failed", B="Skipped", C="Skipped", Handler="Succeeded"))
    assert len(commands) == 1 and isinstance(commands[0], CompleteRun)
    assert commands[0].status == "Failed"


def test_run_succeeds_when_only_the_failure_handler_was_skipped() -> None:
    plan = Plan.build(build_definition(DEFINITION))
    commands = decide_all(plan, _state(plan, A="Succeeded", B="Succeeded", C="Succeeded", Handler="Skipped"))
    assert commands == [CompleteRun("Succeeded", None)]


def test_repetition_keys_nest() -> None:
    key = iteration_key(iteration_key("", "Outer", 1), "Inner", 2)
    assert key == "Outer=000001/Inner=000002"
    assert parse_repetition(key) == [("Outer", 1), ("Inner", 2)]
