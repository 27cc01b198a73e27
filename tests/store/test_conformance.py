"""The conformance suite every store backend passes (see `BACKENDS` in conftest.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pairflow.errors import DuplicateRunError, StoreError
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate

from .conftest import StoreFactory

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_run(run_id: str, workflow: str = "orders", created: float = 0, status: str = "Running") -> RunRecord:
    return RunRecord(
        id=run_id,
        workflow=workflow,
        version=1,
        status=status,
        trigger={"name": "manual", "outputs": {"headers": {}, "body": {"order": 7}}},
        created_at=at(created),
    )


def action(
    run_id: str, name: str, repetition: str = "", status: str = "Succeeded", **fields: object
) -> ActionRecord:
    record = ActionRecord(run_id=run_id, name=name, repetition=repetition, status=status)
    for field_name, value in fields.items():
        setattr(record, field_name, value)
    return record


def keys(store: Store, run_id: str) -> list[tuple[str, str]]:
    return [record.key for record in store.load_actions(run_id)]


# -- workflows -------------------------------------------------------------------------------------------


def test_first_put_of_a_workflow_stores_version_1(store: Store) -> None:
    stored = store.put_workflow("orders", {"actions": {}}, {"region": "west"}, T0)
    assert (stored.name, stored.version, stored.definition, stored.parameters) == (
        "orders",
        1,
        {"actions": {}},
        {"region": "west"},
    )
    assert stored.created_at == T0
    assert stored.enabled is True


def test_the_same_content_put_again_returns_the_latest_version_even_with_keys_reordered(store: Store) -> None:
    first = store.put_workflow("orders", {"a": 1, "b": [1, 2]}, {"p": "x", "q": 2}, T0)
    again = store.put_workflow("orders", {"b": [1, 2], "a": 1}, {"q": 2, "p": "x"}, at(60))
    assert again.version == first.version == 1
    assert again.created_at == T0


def test_a_changed_definition_or_changed_parameters_store_a_new_version(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    assert store.put_workflow("orders", {"a": 2}, {}, at(1)).version == 2
    assert store.put_workflow("orders", {"a": 2}, {"p": 1}, at(2)).version == 3
    assert store.put_workflow("orders", {"a": 1}, {}, at(3)).version == 4  # going back is a change too


def test_a_number_changing_type_is_a_change(store: Store) -> None:
    store.put_workflow("orders", {"n": 1}, {}, T0)
    assert store.put_workflow("orders", {"n": 1.0}, {}, at(1)).version == 2


def test_get_workflow_gives_the_latest_or_the_version_asked_for(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    store.put_workflow("orders", {"a": 2}, {}, at(1))
    latest = store.get_workflow("orders")
    assert latest is not None and (latest.version, latest.definition) == (2, {"a": 2})
    first = store.get_workflow("orders", 1)
    assert first is not None and (first.version, first.definition, first.created_at) == (1, {"a": 1}, T0)
    assert store.get_workflow("orders", 3) is None
    assert store.get_workflow("missing") is None


def test_list_workflows_gives_the_latest_version_of_each_by_name(store: Store) -> None:
    store.put_workflow("zeta", {"z": 1}, {}, T0)
    store.put_workflow("alpha", {"a": 1}, {}, T0)
    store.put_workflow("alpha", {"a": 2}, {}, at(1))
    listed = [(w.name, w.version, w.definition) for w in store.list_workflows()]
    assert listed == [("alpha", 2, {"a": 2}), ("zeta", 1, {"z": 1})]


def test_workflow_json_keeps_key_order_and_non_ascii_text(store: Store) -> None:
    definition = {"z": 1, "a": {"y": "é€😀", "b": None}, "m": [True, 1.5, "x"]}
    store.put_workflow("orders", definition, {}, T0)
    loaded = store.get_workflow("orders")
    assert loaded is not None
    assert loaded.definition == definition
    assert list(loaded.definition) == ["z", "a", "m"]
    assert list(loaded.definition["a"]) == ["y", "b"]


# -- runs ------------------------------------------------------------------------------------------------


def test_a_created_run_reads_back_with_every_field(store: Store) -> None:
    run = RunRecord(
        id="run-1",
        workflow="orders",
        version=3,
        status="Succeeded",
        trigger={"name": "manual", "inputs": {}, "outputs": {"headers": {"a": "b"}, "body": "ü"}},
        created_at=T0,
        variables={"count": {"type": "integer", "value": 3}},
        outputs={"result": {"type": "string", "value": "ok"}},
        error={"code": "X", "message": "m"},
        response={"statusCode": 202, "headers": {}, "body": None},
        ended_at=at(5),
        owner="proc-a",
        lease_until=at(30),
        parent_run="run-0",
        epoch=4,
    )
    store.create_run(run)
    assert store.get_run("run-1") == run


def test_a_run_with_only_required_fields_reads_back_with_defaults(store: Store) -> None:
    run = make_run("run-1")
    store.create_run(run)
    loaded = store.get_run("run-1")
    assert loaded == run
    assert loaded is not None and loaded.variables == {} and loaded.outputs is None and loaded.owner is None


def test_get_run_of_an_unknown_id_is_none(store: Store) -> None:
    assert store.get_run("nope") is None


def test_creating_a_run_with_an_existing_id_raises_and_keeps_the_first(store: Store) -> None:
    store.create_run(make_run("run-1", workflow="first"))
    with pytest.raises(DuplicateRunError, match="run-1"):
        store.create_run(make_run("run-1", workflow="second"))
    loaded = store.get_run("run-1")
    assert loaded is not None and loaded.workflow == "first"


def test_times_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    run = make_run("run-1")
    run.created_at = datetime(2026, 1, 2, 5, 4, 5, 1, tzinfo=plus_two)
    store.create_run(run)
    loaded = store.get_run("run-1")
    assert loaded is not None
    assert loaded.created_at == datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(store: Store) -> None:
    run = make_run("run-1")
    run.created_at = datetime(2026, 1, 2, 3, 4, 5)  # naive: the case under test
    with pytest.raises(StoreError, match="timezone"):
        store.create_run(run)
    assert store.get_run("run-1") is None


def test_list_runs_is_newest_first_with_filters_and_limit(store: Store) -> None:
    store.create_run(make_run("a1", workflow="a", created=1, status="Succeeded"))
    store.create_run(make_run("b1", workflow="b", created=2))
    store.create_run(make_run("a2", workflow="a", created=3))
    store.create_run(make_run("a0", workflow="a", created=0, status="Failed"))

    def ids(**filters: object) -> list[str]:
        return [run.id for run in store.list_runs(**filters)]  # type: ignore[arg-type]

    assert ids() == ["a2", "b1", "a1", "a0"]
    assert ids(workflow="a") == ["a2", "a1", "a0"]
    assert ids(status="Running") == ["a2", "b1"]
    assert ids(workflow="a", status="Running") == ["a2"]
    assert ids(workflow="c") == []
    assert ids(limit=2) == ["a2", "b1"]
    assert ids(workflow="a", limit=1) == ["a2"]
    assert ids(limit=0) == []


def test_runs_created_in_the_same_instant_list_the_later_created_first(store: Store) -> None:
    for run_id in ["x", "y", "z"]:
        store.create_run(make_run(run_id, created=0))
    assert [run.id for run in store.list_runs()] == ["z", "y", "x"]


def test_unfinished_runs_are_the_running_ones_oldest_first(store: Store) -> None:
    store.create_run(make_run("late", created=9))
    store.create_run(make_run("done", created=1, status="Succeeded"))
    store.create_run(make_run("early", created=2))
    store.commit([RunUpdate(run_id="late", status="Cancelled", ended_at=at(10))])
    store.create_run(make_run("middle", created=5))
    assert [run.id for run in store.unfinished_runs()] == ["early", "middle"]


# -- commit ----------------------------------------------------------------------------------------------


def test_action_records_read_back_with_every_field(store: Store) -> None:
    store.create_run(make_run("r"))
    record = ActionRecord(
        run_id="r",
        name="Call_api",
        repetition="For_each=000003",
        status="Failed",
        attempts=2,
        inputs={"method": "GET", "uri": "http://x"},
        outputs={"statusCode": 500, "body": ["é", 1.25, None]},
        error={"code": "ServiceUnavailable", "message": "down"},
        code="ServiceUnavailable",
        start_time=at(1),
        end_time=at(2),
        tracked_properties={"order": 7},
        state={"branch": "else", "next": 4},
    )
    store.commit([RunUpdate(run_id="r", actions=[record])])
    assert store.load_actions("r") == [record]


def test_scalar_inputs_and_outputs_round_trip(store: Store) -> None:
    store.create_run(make_run("r"))
    records = [action("r", "s", inputs="text", outputs=0), action("r", "t", inputs=[1], outputs=False)]
    store.commit([RunUpdate(run_id="r", actions=records)])
    assert store.load_actions("r") == records


def test_upserting_an_action_replaces_it_in_place_keeping_first_written_order(store: Store) -> None:
    store.create_run(make_run("r"))
    store.commit([RunUpdate(run_id="r", actions=[action("r", "B", status="Running"), action("r", "A")])])
    store.commit([RunUpdate(run_id="r", actions=[action("r", "C")])])
    updated = action("r", "B", status="Succeeded", attempts=3, outputs={"v": 1})
    store.commit([RunUpdate(run_id="r", actions=[updated])])
    assert keys(store, "r") == [("B", ""), ("A", ""), ("C", "")]
    assert store.load_actions("r")[0] == updated


def test_one_action_name_in_several_repetitions_keeps_a_record_each(store: Store) -> None:
    store.create_run(make_run("r"))
    repetitions = ["Loop=000002", "Loop=000000", "Loop=000001/Inner=000000"]
    store.commit([RunUpdate(run_id="r", actions=[action("r", "Step", rep) for rep in repetitions])])
    store.commit([RunUpdate(run_id="r", actions=[action("r", "Step", "Loop=000000", status="Failed")])])
    assert keys(store, "r") == [("Step", rep) for rep in repetitions]
    assert [record.status for record in store.load_actions("r")] == ["Succeeded", "Failed", "Succeeded"]


def test_the_same_action_twice_in_one_batch_keeps_the_last_write(store: Store) -> None:
    store.create_run(make_run("r"))
    store.commit(
        [
            RunUpdate(run_id="r", actions=[action("r", "A", status="Running")]),
            RunUpdate(run_id="r", actions=[action("r", "A", status="Succeeded")]),
        ]
    )
    assert [record.status for record in store.load_actions("r")] == ["Succeeded"]


def test_actions_belong_to_their_run(store: Store) -> None:
    store.create_run(make_run("r1"))
    store.create_run(make_run("r2"))
    store.commit([RunUpdate(run_id="r1", actions=[action("r1", "A")]), RunUpdate(run_id="r2", actions=[])])
    assert keys(store, "r1") == [("A", "")]
    assert store.load_actions("r2") == []
    assert store.load_actions("unknown") == []


def test_variables_are_replaced_as_a_whole(store: Store) -> None:
    run = make_run("r")
    run.variables = {"a": {"type": "integer", "value": 1}, "b": {"type": "string", "value": "x"}}
    store.create_run(run)
    store.commit([RunUpdate(run_id="r", variables={"a": {"type": "integer", "value": 2}})])
    loaded = store.get_run("r")
    assert loaded is not None and loaded.variables == {"a": {"type": "integer", "value": 2}}
    store.commit([RunUpdate(run_id="r", actions=[action("r", "A")])])  # no variables: left alone
    loaded = store.get_run("r")
    assert loaded is not None and loaded.variables == {"a": {"type": "integer", "value": 2}}


def test_an_update_with_status_ends_the_run_with_its_completion_fields(store: Store) -> None:
    run = make_run("r")
    run.variables = {"n": {"type": "integer", "value": 1}}
    store.create_run(run)
    store.commit(
        [
            RunUpdate(
                run_id="r",
                actions=[action("r", "Response")],
                status="Failed",
                outputs={"o": {"type": "string", "value": "v"}},
                error={"code": "ActionFailed", "message": "An action failed."},
                response={"statusCode": 500, "headers": {"x": "y"}, "body": {"e": 1}},
                ended_at=at(7),
            )
        ]
    )
    loaded = store.get_run("r")
    assert loaded is not None
    assert loaded.status == "Failed"
    assert loaded.outputs == {"o": {"type": "string", "value": "v"}}
    assert loaded.error == {"code": "ActionFailed", "message": "An action failed."}
    assert loaded.response == {"statusCode": 500, "headers": {"x": "y"}, "body": {"e": 1}}
    assert loaded.ended_at == at(7)
    assert loaded.variables == {"n": {"type": "integer", "value": 1}}
    assert keys(store, "r") == [("Response", "")]
    assert store.unfinished_runs() == []


def test_ending_a_run_can_replace_its_variables_in_the_same_update(store: Store) -> None:
    store.create_run(make_run("r"))
    variables = {"v": {"type": "boolean", "value": True}}
    store.commit([RunUpdate(run_id="r", variables=variables, status="Succeeded")])
    loaded = store.get_run("r")
    assert loaded is not None
    assert (loaded.status, loaded.variables) == ("Succeeded", {"v": {"type": "boolean", "value": True}})
    assert (loaded.outputs, loaded.error, loaded.response, loaded.ended_at) == (None, None, None, None)


def test_an_update_for_a_missing_run_raises_and_commits_nothing_of_the_batch(store: Store) -> None:
    store.create_run(make_run("r"))
    batch = [
        RunUpdate(run_id="r", actions=[action("r", "A")], variables={"x": {"type": "integer", "value": 1}}),
        RunUpdate(run_id="ghost", actions=[action("ghost", "B")]),
    ]
    with pytest.raises(StoreError, match="ghost"):
        store.commit(batch)
    loaded = store.get_run("r")
    assert loaded is not None and loaded.variables == {}
    assert store.load_actions("r") == []
    assert store.load_actions("ghost") == []


@pytest.mark.parametrize(
    "missing",
    [
        RunUpdate(run_id="ghost"),
        RunUpdate(run_id="ghost", variables={}),
        RunUpdate(run_id="ghost", status="Succeeded"),
    ],
    ids=["nothing", "variables", "status"],
)
def test_every_kind_of_update_for_a_missing_run_raises(store: Store, missing: RunUpdate) -> None:
    store.create_run(make_run("r"))
    ending = RunUpdate(
        run_id="r", actions=[action("r", "A")], variables={"x": {"value": 1}}, status="Succeeded"
    )
    with pytest.raises(StoreError, match="ghost"):
        store.commit([ending, missing])
    assert store.get_run("r") == make_run("r")
    assert store.load_actions("r") == []


def test_a_record_the_database_refuses_rolls_back_what_the_batch_wrote_before_it(store: Store) -> None:
    store.create_run(make_run("r"))
    refused = action("r", "B")
    refused.status = None  # type: ignore[assignment]  # every action record has a status
    batch = [
        RunUpdate(run_id="r", actions=[action("r", "A")], variables={"x": {"value": 1}}, status="Succeeded"),
        RunUpdate(run_id="r", actions=[refused]),
    ]
    with pytest.raises(StoreError):
        store.commit(batch)
    assert store.get_run("r") == make_run("r")
    assert store.load_actions("r") == []


def test_a_value_that_is_not_json_fails_the_whole_batch(store: Store) -> None:
    store.create_run(make_run("r1"))
    store.create_run(make_run("r2"))
    batch = [
        RunUpdate(run_id="r1", actions=[action("r1", "A")], status="Succeeded"),
        RunUpdate(run_id="r2", actions=[action("r2", "B", outputs={"bad": {1, 2}})]),
    ]
    with pytest.raises(StoreError, match="r2"):
        store.commit(batch)
    loaded = store.get_run("r1")
    assert loaded is not None and loaded.status == "Running"
    assert store.load_actions("r1") == []


def test_nan_is_refused_rather_than_stored_as_invalid_json(store: Store) -> None:
    store.create_run(make_run("r"))
    with pytest.raises(StoreError, match="not JSON"):
        store.commit([RunUpdate(run_id="r", actions=[action("r", "A", outputs=float("nan"))])])


def test_an_action_record_of_another_run_is_refused(store: Store) -> None:
    store.create_run(make_run("r1"))
    store.create_run(make_run("r2"))
    with pytest.raises(StoreError, match="r2"):
        store.commit([RunUpdate(run_id="r1", actions=[action("r2", "A")])])
    assert store.load_actions("r1") == store.load_actions("r2") == []


def test_an_empty_commit_does_nothing(store: Store) -> None:
    store.commit([])
    assert store.list_runs() == []


def test_secure_values_are_stored_as_given_redaction_is_not_this_layers_job(store: Store) -> None:
    run = make_run("r")
    run.trigger = {"name": "manual", "outputs": {"headers": {"Authorization": "Bearer s3cr3t"}, "body": {}}}
    store.create_run(run)
    store.put_workflow("orders", {"parameters": {"key": {"type": "securestring"}}}, {"key": "p@ss"}, T0)
    store.commit([RunUpdate(run_id="r", actions=[action("r", "Call", inputs={"password": "p@ss"})])])
    loaded = store.get_run("r")
    assert loaded is not None and loaded.trigger["outputs"]["headers"]["Authorization"] == "Bearer s3cr3t"
    assert store.load_actions("r")[0].inputs == {"password": "p@ss"}
    workflow = store.get_workflow("orders")
    assert workflow is not None and workflow.parameters == {"key": "p@ss"}


def test_a_second_client_sees_every_commit(store_factory: StoreFactory) -> None:
    writer, reader = store_factory(), store_factory()
    writer.create_run(make_run("r"))
    writer.commit([RunUpdate(run_id="r", actions=[action("r", "A")], status="Succeeded")])
    loaded = reader.get_run("r")
    assert loaded is not None and loaded.status == "Succeeded"
    assert keys(reader, "r") == [("A", "")]


# -- leases ----------------------------------------------------------------------------------------------


def owner_of(store: Store, run_id: str) -> tuple[str | None, datetime | None]:
    run = store.get_run(run_id)
    assert run is not None
    return run.owner, run.lease_until


def test_a_free_run_is_acquired(store: Store) -> None:
    store.create_run(make_run("r"))
    assert store.acquire_run("r", "me", now=at(0), lease_until=at(30)) is True
    assert owner_of(store, "r") == ("me", at(30))


def test_a_run_held_by_another_with_a_live_lease_is_refused(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "other", now=at(0), lease_until=at(30))
    assert store.acquire_run("r", "me", now=at(29), lease_until=at(60)) is False
    assert store.acquire_run("r", "me", now=at(30), lease_until=at(60)) is False  # expired *before* now only
    assert owner_of(store, "r") == ("other", at(30))


def test_a_run_whose_lease_expired_is_taken(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "other", now=at(0), lease_until=at(30))
    assert store.acquire_run("r", "me", now=at(30.000001), lease_until=at(60)) is True
    assert owner_of(store, "r") == ("me", at(60))


def test_a_run_held_by_a_dead_owner_is_taken_despite_a_live_lease(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "gone", now=at(0), lease_until=at(300))
    dead = ["someone", "gone"]
    assert store.acquire_run("r", "me", now=at(1), lease_until=at(60), dead_owners=dead) is True
    assert owner_of(store, "r") == ("me", at(60))


def test_acquiring_a_run_already_ours_renews_its_lease(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "me", now=at(0), lease_until=at(30))
    assert store.acquire_run("r", "me", now=at(10), lease_until=at(40)) is True
    assert owner_of(store, "r") == ("me", at(40))


def test_acquiring_an_unknown_run_is_refused(store: Store) -> None:
    assert store.acquire_run("ghost", "me", now=at(0), lease_until=at(30)) is False


def test_only_one_of_two_clients_racing_for_a_run_gets_it(store_factory: StoreFactory) -> None:
    first, second = store_factory(), store_factory()
    first.create_run(make_run("r"))
    results = [
        first.acquire_run("r", "a", now=at(0), lease_until=at(30)),
        second.acquire_run("r", "b", now=at(0), lease_until=at(30)),
    ]
    assert results == [True, False]


def test_renew_leases_extends_every_lease_of_the_owner_and_no_other(store: Store) -> None:
    for run_id in ["r1", "r2", "r3"]:
        store.create_run(make_run(run_id))
    store.acquire_run("r1", "me", now=at(0), lease_until=at(30))
    store.acquire_run("r2", "me", now=at(0), lease_until=at(20))
    store.acquire_run("r3", "other", now=at(0), lease_until=at(30))
    assert store.renew_leases("me", at(90)) == 2
    assert [owner_of(store, run_id) for run_id in ["r1", "r2", "r3"]] == [
        ("me", at(90)),
        ("me", at(90)),
        ("other", at(30)),
    ]
    assert store.renew_leases("nobody", at(90)) == 0


def test_release_frees_the_run_for_another_owner(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "me", now=at(0), lease_until=at(30))
    store.release_run("r", "me")
    assert owner_of(store, "r") == (None, None)
    assert store.acquire_run("r", "other", now=at(1), lease_until=at(30)) is True


def test_release_by_someone_else_leaves_the_lease_alone(store: Store) -> None:
    store.create_run(make_run("r"))
    store.acquire_run("r", "me", now=at(0), lease_until=at(30))
    store.release_run("r", "intruder")
    store.release_run("ghost", "me")
    assert owner_of(store, "r") == ("me", at(30))


def test_a_run_record_copy_keeps_every_field() -> None:
    # Every field set to a value unlike its default: a field added to RunRecord but not to copy()
    # would come back with its default.
    values = {
        field.name: (f"value of {field.name}" if field.name not in {"epoch", "version"} else 7)
        for field in dataclasses.fields(RunRecord)
    }
    original = RunRecord(**values)  # type: ignore[arg-type]
    copied = original.copy()
    assert copied == original and copied is not original
