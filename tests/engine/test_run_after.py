"""runAfter, skipping and the run status rules (terminal actions decide)."""

from __future__ import annotations

from pairflow.store.base import Store
from tests.engine.conftest import FAIL, compose, run_workflow, wait


def test_handler_runs_only_on_failure_and_sibling_is_skipped(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Risky": FAIL,
            "On_success": compose("ok", {"Risky": ["Succeeded"]}),
            "On_failure": compose("handled", {"Risky": ["Failed"]}),
        },
    )
    assert done.status("Risky") == "Failed"
    assert done.status("On_success") == "Skipped"
    assert done.outputs("On_failure") == "handled"
    # A terminal action skipped because its predecessor failed makes the run fail (Logic Apps).
    assert done.run.status == "Failed"
    assert done.run.error is not None and done.run.error["code"] == "ActionFailed"


def test_handled_failure_with_no_skipped_branch_succeeds(store: Store) -> None:
    done = run_workflow(
        store,
        {"Risky": FAIL, "On_failure": compose("handled", {"Risky": ["Failed", "TimedOut"]})},
    )
    assert done.run.status == "Succeeded"


def test_handler_skipped_after_success_does_not_fail_the_run(store: Store) -> None:
    done = run_workflow(store, {"Fine": compose(1), "On_failure": compose("x", {"Fine": ["Failed"]})})
    assert done.status("On_failure") == "Skipped"
    assert done.run.status == "Succeeded"


def test_skipping_propagates_and_a_skipped_handler_runs(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "A": FAIL,
            "B": compose("b", {"A": ["Succeeded"]}),
            "C": compose("c", {"B": ["Succeeded"]}),
            "D": compose("d", {"C": ["Skipped"]}),
        },
    )
    assert [done.status(n) for n in "ABCD"] == ["Failed", "Skipped", "Skipped", "Succeeded"]
    assert done.run.status == "Succeeded"


def test_action_waits_for_all_predecessors(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Slow": wait(3),
            "Fast": wait(1),
            "Join": compose("@utcNow()", {"Slow": ["Succeeded"], "Fast": ["Succeeded"]}),
        },
    )
    assert done.outputs("Join").startswith("2024-01-01T00:00:03")


def test_parallel_branches_run_concurrently(store: Store) -> None:
    done = run_workflow(store, {"Left": wait(1), "Right": wait(1)})
    assert done.run.status == "Succeeded"
    assert done.seconds == 1.0


def test_failed_predecessor_among_several_skips_and_fails_run(store: Store) -> None:
    done = run_workflow(
        store,
        {"A": FAIL, "B": compose(1), "C": compose(2, {"A": ["Succeeded"], "B": ["Succeeded"]})},
    )
    assert done.status("C") == "Skipped"
    assert done.run.status == "Failed"
    assert done.run.error is not None and done.run.error.get("action") == "A"
