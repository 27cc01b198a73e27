"""If, Switch, Scope, Foreach, Until and Terminate as the engine carries them out."""

from __future__ import annotations

from typing import Any

from pairflow.store.base import Store
from tests.engine.conftest import FAIL, compose, run_workflow, wait


def init(name: str, type_name: str, value: Any) -> dict[str, Any]:
    return {
        "type": "InitializeVariable",
        "inputs": {"variables": [{"name": name, "type": type_name, "value": value}]},
    }


def test_if_runs_else_branch_when_condition_is_false(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Check": {
                "type": "If",
                "expression": {"and": [{"greater": [1, 2]}]},
                "actions": {"Yes": compose("yes")},
                "else": {"actions": {"No": compose("no")}},
            }
        },
    )
    assert done.status("Check") == "Succeeded"
    assert done.status("Yes") == "Skipped"  # Logic Apps shows the branch not taken as Skipped
    assert done.outputs("No") == "no"
    assert done.run.status == "Succeeded"


def test_if_fails_when_its_branch_fails(store: Store) -> None:
    done = run_workflow(store, {"Check": {"type": "If", "expression": "@true", "actions": {"Boom": FAIL}}})
    assert done.status("Check") == "Failed"
    assert done.run.status == "Failed"


def test_switch_picks_matching_case_or_default(store: Store) -> None:
    def switch(value: Any) -> dict[str, Any]:
        return {
            "Route": {
                "type": "Switch",
                "expression": value,
                "cases": {
                    "Case_one": {"case": 1, "actions": {"One": compose("one")}},
                    "Case_b": {"case": "b", "actions": {"Bee": compose("bee")}},
                },
                "default": {"actions": {"Other": compose("other")}},
            }
        }

    def ran(value: Any) -> set[str]:
        done = run_workflow(store, switch(value))
        return {name for (name, _), record in done.actions.items() if record.status == "Succeeded"}

    assert ran("@add(0, 1)") == {"Route", "One"}
    assert ran("b") == {"Route", "Bee"}
    assert ran("zzz") == {"Route", "Other"}


def test_catch_scope_sees_failed_action_through_result(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Try": {
                "type": "Scope",
                "actions": {"Fine": compose(1), "Boom": compose("@div(1, 0)", {"Fine": ["Succeeded"]})},
            },
            "Catch": {
                "type": "Scope",
                "actions": {"Failures": compose("@result('Try')")},
                "runAfter": {"Try": ["Failed", "TimedOut"]},
            },
        },
    )
    assert done.status("Try") == "Failed"
    results = done.outputs("Failures")
    assert [(r["name"], r["status"]) for r in results] == [("Fine", "Succeeded"), ("Boom", "Failed")]
    assert done.run.status == "Succeeded"


def test_foreach_sequential_processes_items_in_order(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Init": init("seen", "array", []),
            "Loop": {
                "type": "Foreach",
                "foreach": "@createArray(3, 1, 2)",
                "operationOptions": "Sequential",
                "actions": {
                    "Add": {"type": "AppendToArrayVariable", "inputs": {"name": "seen", "value": "@item()"}}
                },
                "runAfter": {"Init": ["Succeeded"]},
            },
        },
        outputs={"seen": {"type": "Array", "value": "@variables('seen')"}},
    )
    assert done.run.outputs == {"seen": [3, 1, 2]}
    assert done.status("Add", "Loop=000002") == "Succeeded"


def _loop_of_waits(items: int, concurrency: int | None) -> dict[str, Any]:
    loop: dict[str, Any] = {
        "type": "Foreach",
        "foreach": f"@range(0, {items})",
        "actions": {"Pause": wait(1)},
    }
    if concurrency is not None:
        loop["runtimeConfiguration"] = {"concurrency": {"repetitions": concurrency}}
    return {"Loop": loop}


def test_foreach_runs_items_in_parallel_up_to_concurrency(store: Store) -> None:
    assert run_workflow(store, _loop_of_waits(4, None)).seconds == 1.0
    assert run_workflow(store, _loop_of_waits(4, 2)).seconds == 2.0
    assert run_workflow(store, _loop_of_waits(3, 1)).seconds == 3.0


def test_foreach_fails_when_an_iteration_fails(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Loop": {
                "type": "Foreach",
                "foreach": "@createArray(1, 0, 2)",
                "actions": {"Div": compose("@div(6, item())")},
            }
        },
    )
    assert done.status("Div", "Loop=000001") == "Failed"
    assert done.outputs("Div", "Loop=000002") == 3
    assert done.status("Loop") == "Failed"


def test_foreach_over_a_non_array_fails_clearly(store: Store) -> None:
    done = run_workflow(
        store, {"Loop": {"type": "Foreach", "foreach": "@string('x')", "actions": {"A": compose(1)}}}
    )
    record = done.actions[("Loop", "")]
    assert record.status == "Failed"
    assert record.error is not None and "must be a valid array" in record.error["message"]


def test_nested_loops_use_nested_repetition_keys_and_items(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Outer": {
                "type": "Foreach",
                "foreach": "@createArray('a', 'b')",
                "actions": {
                    "Inner": {
                        "type": "Foreach",
                        "foreach": "@createArray(1, 2)",
                        "actions": {"Pair": compose("@concat(items('Outer'), item())")},
                    }
                },
            }
        },
    )
    assert done.outputs("Pair", "Outer=000001/Inner=000000") == "b1"
    assert done.outputs("Pair", "Outer=000000/Inner=000001") == "a2"


def test_sibling_reference_inside_iteration_reads_same_iteration(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Loop": {
                "type": "Foreach",
                "foreach": "@createArray(10, 20)",
                "actions": {
                    "Double": compose("@mul(item(), 2)"),
                    "Again": compose("@outputs('Double')", {"Double": ["Succeeded"]}),
                },
            }
        },
    )
    assert done.outputs("Again", "Loop=000001") == 40


def test_until_stops_when_condition_holds(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Init": init("n", "integer", 0),
            "Count": {
                "type": "Until",
                "expression": "@equals(variables('n'), 3)",
                "limit": {"count": 10, "timeout": "PT1H"},
                "actions": {
                    "Bump": {"type": "IncrementVariable", "inputs": {"name": "n", "value": 1}},
                    "Index": compose("@iterationIndexes('Count')", {"Bump": ["Succeeded"]}),
                },
                "runAfter": {"Init": ["Succeeded"]},
            },
        },
        outputs={"n": {"type": "Int", "value": "@variables('n')"}},
    )
    assert done.run.outputs == {"n": 3}
    assert done.outputs("Index", "Count=000002") == 2
    assert done.status("Count") == "Succeeded"


def test_until_stops_at_count_limit(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Forever": {
                "type": "Until",
                "expression": "@false",
                "limit": {"count": 4},
                "actions": {"A": compose(1)},
            }
        },
    )
    assert ("A", "Forever=000003") in done.actions
    assert ("A", "Forever=000004") not in done.actions
    assert done.status("Forever") == "Succeeded"


def test_until_stops_at_timeout(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Poll": {
                "type": "Until",
                "expression": "@false",
                "limit": {"count": 100, "timeout": "PT5S"},
                "actions": {"Pause": wait(2)},
            }
        },
    )
    assert done.seconds == 6.0
    assert done.status("Poll") == "Succeeded"


def test_terminate_ends_run_and_cancels_running_actions(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Long": wait(60),
            "Stop": {
                "type": "Terminate",
                "inputs": {"runStatus": "Failed", "runError": {"code": "Stopped", "message": "enough"}},
                "runAfter": {"Quick": ["Succeeded"]},
            },
            "Quick": wait(1),
            "Never": compose(1, {"Long": ["Succeeded"]}),
        },
    )
    assert done.run.status == "Failed"
    assert done.run.error == {"code": "Stopped", "message": "enough"}
    assert done.status("Long") == "Cancelled"
    assert ("Never", "") not in done.actions
    assert done.seconds == 1.0


def test_workflow_outputs_and_parameters(store: Store) -> None:
    done = run_workflow(
        store,
        {"Greet": compose("@concat('hi ', parameters('who'), ' ', triggerBody()?['n'])")},
        parameters={"who": {"type": "String", "defaultValue": "nobody"}},
        values={"who": "ann"},
        outputs={"greeting": {"type": "String", "value": "@outputs('Greet')"}},
        trigger_outputs={"body": {"n": "7"}},
    )
    assert done.run.outputs == {"greeting": "hi ann 7"}


def test_response_is_recorded_on_the_run(store: Store) -> None:
    done = run_workflow(
        store,
        {"Reply": {"type": "Response", "kind": "Http", "inputs": {"statusCode": 201, "body": {"ok": True}}}},
    )
    assert done.run.response is not None and done.run.response["statusCode"] == 201


def test_skipped_scope_skips_the_actions_it_holds(store: Store) -> None:
    done = run_workflow(
        store,
        {
            "Fine": compose(1),
            "Catch": {"type": "Scope", "actions": {"Report": compose("x")}, "runAfter": {"Fine": ["Failed"]}},
        },
    )
    assert done.status("Catch") == "Skipped"
    assert done.status("Report") == "Skipped"
    assert done.run.status == "Succeeded"


def test_an_action_over_its_limit_timeout_ends_timed_out_and_a_handler_runs(store: Store) -> None:
    slow = {**wait(10), "limit": {"timeout": "PT2S"}}
    done = run_workflow(
        store,
        {
            "Slow": slow,
            "On_timeout": compose("handled", {"Slow": ["TimedOut"]}),
            "After": compose("next", {"Slow": ["Succeeded"]}),
        },
    )
    assert done.status("Slow") == "TimedOut"
    assert done.actions[("Slow", "")].code == "ActionTimedOut"
    assert done.seconds == 2.0, "the wait was cut off at the limit, on the run's clock"
    assert done.status("On_timeout") == "Succeeded"
    assert done.status("After") == "Skipped"


def test_an_action_within_its_limit_timeout_is_unaffected(store: Store) -> None:
    done = run_workflow(store, {"Quick": {**wait(1), "limit": {"timeout": "PT5S"}}})
    assert done.status("Quick") == "Succeeded"
    assert done.seconds == 1.0
