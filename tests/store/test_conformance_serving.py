"""The conformance suite, continued: what serving a location needs from every backend (see `BACKENDS`).

Workflow enable/disable/delete, access keys, trigger state, firing a trigger exactly once per
occurrence, trigger history and filtered run lists.
"""

from __future__ import annotations

import pytest

from pairflow.errors import DuplicateRunError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate, TriggerEvent, TriggerFire

from .conftest import StoreFactory
from .test_conformance import T0, at


def run_of(
    run_id: str,
    workflow: str = "orders",
    trigger: str = "manual",
    created: float = 0,
    status: str = "Running",
) -> RunRecord:
    return RunRecord(
        id=run_id,
        workflow=workflow,
        version=1,
        status=status,
        trigger={"name": trigger, "outputs": {"headers": {}, "body": {"run": run_id}}},
        created_at=at(created),
    )


def fire_of(
    event_id: str,
    *run_ids: str,
    workflow: str = "orders",
    trigger: str = "every_hour",
    key: str | None = None,
    state: JSONObject | None = None,
    fired: float = 0,
    status: str = "Succeeded",
) -> TriggerFire:
    event = TriggerEvent(
        id=event_id,
        workflow=workflow,
        trigger=trigger,
        status=status,
        fired_at=at(fired),
        run_ids=run_ids,
        occurrence=key,
    )
    runs = [run_of(run_id, workflow, trigger, created=fired) for run_id in run_ids]
    return TriggerFire(event=event, runs=runs, occurrence_key=key, state=state)


def history_ids(store: Store, workflow: str = "orders", **options: object) -> list[str]:
    return [event.id for event in store.list_trigger_history(workflow, **options)]  # type: ignore[arg-type]


def run_ids(store: Store) -> list[str]:
    return sorted(run.id for run in store.list_runs())


# -- enable, disable, delete -----------------------------------------------------------------------------


def test_a_disabled_workflow_reads_back_disabled_and_its_next_version_stays_disabled(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    assert store.set_workflow_enabled("orders", False) is True
    latest = store.get_workflow("orders")
    assert latest is not None and latest.enabled is False
    assert [w.enabled for w in store.list_workflows()] == [False]
    assert store.put_workflow("orders", {"a": 2}, {}, at(1)).enabled is False
    assert store.set_workflow_enabled("orders", True) is True
    latest = store.get_workflow("orders")
    assert latest is not None and (latest.version, latest.enabled) == (2, True)


def test_enabling_an_unknown_workflow_reports_false(store: Store) -> None:
    assert store.set_workflow_enabled("missing", True) is False
    assert store.get_workflow("missing") is None


def test_a_deleted_workflow_leaves_the_list_and_the_latest_but_keeps_its_versions(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    store.put_workflow("orders", {"a": 2}, {}, at(1))
    store.put_workflow("other", {"o": 1}, {}, T0)
    assert store.delete_workflow("orders") is True
    assert store.get_workflow("orders") is None
    assert [w.name for w in store.list_workflows()] == ["other"]
    old = store.get_workflow("orders", 2)
    assert old is not None and old.definition == {"a": 2}
    first = store.get_workflow("orders", 1)
    assert first is not None and first.definition == {"a": 1}


def test_deleting_an_unknown_or_deleted_workflow_reports_false(store: Store) -> None:
    assert store.delete_workflow("missing") is False
    store.put_workflow("orders", {"a": 1}, {}, T0)
    assert store.delete_workflow("orders") is True
    assert store.delete_workflow("orders") is False
    assert store.set_workflow_enabled("orders", True) is False


def test_a_redeploy_after_delete_continues_the_numbering_even_with_the_same_content(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    store.put_workflow("orders", {"a": 2}, {}, at(1))
    store.set_workflow_enabled("orders", False)
    store.delete_workflow("orders")
    again = store.put_workflow("orders", {"a": 2}, {}, at(2))
    assert (again.version, again.created_at, again.enabled) == (3, at(2), True)
    latest = store.get_workflow("orders")
    assert latest is not None and latest.version == 3
    assert [(w.name, w.version) for w in store.list_workflows()] == [("orders", 3)]
    assert store.put_workflow("orders", {"a": 2}, {}, at(3)).version == 3  # unchanged: no new version


def test_deleting_a_workflow_forgets_its_access_key_so_old_callback_urls_stay_dead(store: Store) -> None:
    store.put_workflow("orders", {"a": 1}, {}, T0)
    store.set_access_key("orders", "k1")
    store.set_access_key("other", "k2")
    store.delete_workflow("orders")
    assert store.get_access_key("orders") is None
    assert store.get_access_key("other") == "k2"


# -- access keys -----------------------------------------------------------------------------------------


def test_an_access_key_is_none_until_set_and_a_new_one_replaces_it(store: Store) -> None:
    assert store.get_access_key("orders") is None
    store.set_access_key("orders", "first-secret")
    store.set_access_key("billing", "other-secret")
    assert store.get_access_key("orders") == "first-secret"
    store.set_access_key("orders", "rotated")
    assert (store.get_access_key("orders"), store.get_access_key("billing")) == ("rotated", "other-secret")


# -- trigger state ---------------------------------------------------------------------------------------


def test_trigger_state_round_trips_per_workflow_and_trigger_and_is_replaced_whole(store: Store) -> None:
    assert store.get_trigger_state("orders", "poll") is None
    state: JSONObject = {"cursor": "é-42", "window": {"start": "2026-01-01T00:00:00Z"}, "n": [1, 2.5]}
    store.put_trigger_state("orders", "poll", state)
    store.put_trigger_state("orders", "other", {"x": 1})
    store.put_trigger_state("billing", "poll", {"y": 2})
    assert store.get_trigger_state("orders", "poll") == state
    store.put_trigger_state("orders", "poll", {"cursor": "43"})
    assert store.get_trigger_state("orders", "poll") == {"cursor": "43"}
    assert store.get_trigger_state("orders", "other") == {"x": 1}
    assert store.get_trigger_state("billing", "poll") == {"y": 2}


def test_a_trigger_state_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="state"):
        store.put_trigger_state("orders", "poll", {"bad": float("inf")})
    assert store.get_trigger_state("orders", "poll") is None


# -- firing ----------------------------------------------------------------------------------------------


def test_firing_creates_the_runs_replaces_the_state_and_appends_the_event(store: Store) -> None:
    store.put_trigger_state("orders", "every_hour", {"last": "before"})
    fire = fire_of("e1", "r1", "r2", key="2026-01-02T03:00:00Z", state={"last": "2026-01-02T03:00:00Z"})
    assert store.fire_trigger(fire) is True
    assert store.get_run("r1") == fire.runs[0]
    assert store.get_run("r2") == fire.runs[1]
    assert store.get_trigger_state("orders", "every_hour") == {"last": "2026-01-02T03:00:00Z"}
    assert store.list_trigger_history("orders") == [fire.event]


def test_the_same_occurrence_fired_twice_writes_nothing_the_second_time(store: Store) -> None:
    first = fire_of("e1", "r1", key="occ", state={"n": 1})
    assert store.fire_trigger(first) is True
    second = fire_of("e2", "r2", key="occ", state={"n": 2}, fired=5)
    assert store.fire_trigger(second) is False
    assert run_ids(store) == ["r1"]
    assert store.get_trigger_state("orders", "every_hour") == {"n": 1}
    assert history_ids(store) == ["e1"]


def test_an_occurrence_key_is_claimed_per_workflow_and_trigger(store: Store) -> None:
    assert store.fire_trigger(fire_of("e1", "r1", key="occ")) is True
    assert store.fire_trigger(fire_of("e2", "r2", key="occ", trigger="other")) is True
    assert store.fire_trigger(fire_of("e3", "r3", key="occ", workflow="billing")) is True
    assert store.fire_trigger(fire_of("e4", "r4", key="occ", workflow="billing")) is False
    assert run_ids(store) == ["r1", "r2", "r3"]


def test_a_duplicate_run_id_rolls_back_the_occurrence_claim_state_and_event(store: Store) -> None:
    store.create_run(run_of("taken", workflow="orders", created=-1))
    store.put_trigger_state("orders", "every_hour", {"n": 0})
    clash = fire_of("e1", "fresh", "taken", key="occ", state={"n": 1})
    with pytest.raises(DuplicateRunError, match="taken"):
        store.fire_trigger(clash)
    assert run_ids(store) == ["taken"]
    assert store.get_trigger_state("orders", "every_hour") == {"n": 0}
    assert history_ids(store) == []
    # the claim was rolled back too: the occurrence fires once a retry has fresh run ids
    assert store.fire_trigger(fire_of("e1", "fresh", "fresh2", key="occ", state={"n": 1})) is True
    assert run_ids(store) == ["fresh", "fresh2", "taken"]


def test_firing_without_an_occurrence_key_fires_every_time(store: Store) -> None:
    for n in range(3):
        assert store.fire_trigger(fire_of(f"e{n}", f"r{n}", trigger="manual", fired=n)) is True
    assert run_ids(store) == ["r0", "r1", "r2"]
    assert history_ids(store) == ["e2", "e1", "e0"]
    assert store.get_trigger_state("orders", "manual") is None  # no state given: none written


def test_a_skipped_firing_claims_its_occurrence_without_runs(store: Store) -> None:
    skipped = fire_of("e1", key="occ", status="Skipped", state={"seen": True})
    assert store.fire_trigger(skipped) is True
    assert store.fire_trigger(fire_of("e2", "r1", key="occ")) is False
    assert store.list_runs() == []
    assert store.list_trigger_history("orders") == [skipped.event]


def test_a_firing_with_a_value_that_is_not_json_writes_nothing(store: Store) -> None:
    bad = fire_of("e1", "r1", key="occ", state={"bad": {1, 2}})
    with pytest.raises(StoreError, match="state"):
        store.fire_trigger(bad)
    assert store.list_runs() == [] and history_ids(store) == []
    assert store.fire_trigger(fire_of("e1", "r1", key="occ")) is True  # the key was never claimed


def test_a_firing_whose_run_belongs_to_another_workflow_is_refused(store: Store) -> None:
    fire = fire_of("e1", "r1", key="occ")
    fire.runs[0].workflow = "billing"
    with pytest.raises(StoreError, match="r1"):
        store.fire_trigger(fire)
    assert store.list_runs() == [] and history_ids(store) == []


def test_a_duplicate_event_id_rolls_back_the_whole_firing(store: Store) -> None:
    store.fire_trigger(fire_of("e1", "r1"))
    with pytest.raises(StoreError, match="e1"):
        store.fire_trigger(fire_of("e1", "r2", key="occ", state={"n": 1}))
    assert run_ids(store) == ["r1"]
    assert store.get_trigger_state("orders", "every_hour") is None
    assert store.fire_trigger(fire_of("e2", "r2", key="occ")) is True


def test_a_second_client_sees_the_claim_of_the_first(store_factory: StoreFactory) -> None:
    first, second = store_factory(), store_factory()
    assert first.fire_trigger(fire_of("e1", "r1", key="occ")) is True
    assert second.fire_trigger(fire_of("e2", "r2", key="occ")) is False
    assert [run.id for run in second.list_runs()] == ["r1"]


# -- history ---------------------------------------------------------------------------------------------


def test_an_event_reads_back_with_every_field(store: Store) -> None:
    event = TriggerEvent(
        id="e1",
        workflow="orders",
        trigger="poll",
        status="Failed",
        fired_at=at(3),
        run_ids=(),
        occurrence="2026-01-02T03:00:00Z/2026-01-02T04:00:00Z",
        outputs={"headers": {"x": "é"}, "body": [1, None]},
        error={"code": "BadRequest", "message": "the endpoint answered 400"},
    )
    store.fire_trigger(TriggerFire(event=event))
    assert store.list_trigger_history("orders") == [event]


def test_history_is_newest_first_with_limit_and_trigger_filter(store: Store) -> None:
    store.fire_trigger(fire_of("a-late", trigger="a", fired=9))
    store.fire_trigger(fire_of("b-mid", trigger="b", fired=5))
    store.fire_trigger(fire_of("a-early", trigger="a", fired=1))
    store.fire_trigger(fire_of("a-mid-later-written", trigger="a", fired=5))
    store.fire_trigger(fire_of("other", workflow="billing", trigger="a", fired=7))
    assert history_ids(store) == ["a-late", "a-mid-later-written", "b-mid", "a-early"]
    assert history_ids(store, trigger="a") == ["a-late", "a-mid-later-written", "a-early"]
    assert history_ids(store, trigger="b") == ["b-mid"]
    assert history_ids(store, limit=2) == ["a-late", "a-mid-later-written"]
    assert history_ids(store, trigger="a", limit=1) == ["a-late"]
    assert history_ids(store, limit=0) == []
    assert history_ids(store, "billing") == ["other"]
    assert history_ids(store, "missing") == []


# -- filtered run lists ----------------------------------------------------------------------------------


@pytest.fixture
def many_runs(store: Store) -> Store:
    store.create_run(run_of("o-hook-0", trigger="hook", created=0, status="Succeeded"))
    store.create_run(run_of("o-timer-1", trigger="timer", created=1))
    store.create_run(run_of("o-hook-2", trigger="hook", created=2, status="Failed"))
    store.fire_trigger(fire_of("e", "o-hook-3", trigger="hook", fired=3))
    store.create_run(run_of("b-hook-4", workflow="billing", trigger="hook", created=4))
    nameless = run_of("o-none-5", created=5)
    nameless.trigger = {"outputs": {}}
    store.create_run(nameless)
    return store


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["o-none-5", "b-hook-4", "o-hook-3", "o-hook-2", "o-timer-1", "o-hook-0"]),
        ({"workflow": "orders"}, ["o-none-5", "o-hook-3", "o-hook-2", "o-timer-1", "o-hook-0"]),
        ({"status": "Running"}, ["o-none-5", "b-hook-4", "o-hook-3", "o-timer-1"]),
        ({"trigger": "hook"}, ["b-hook-4", "o-hook-3", "o-hook-2", "o-hook-0"]),
        ({"since": at(2)}, ["o-none-5", "b-hook-4", "o-hook-3", "o-hook-2"]),
        ({"until": at(2)}, ["o-timer-1", "o-hook-0"]),
        ({"since": at(1), "until": at(3)}, ["o-hook-2", "o-timer-1"]),
        ({"workflow": "orders", "trigger": "hook"}, ["o-hook-3", "o-hook-2", "o-hook-0"]),
        ({"workflow": "orders", "trigger": "hook", "status": "Running"}, ["o-hook-3"]),
        ({"workflow": "orders", "trigger": "hook", "since": at(0.5), "until": at(3)}, ["o-hook-2"]),
        ({"trigger": "hook", "limit": 2}, ["b-hook-4", "o-hook-3"]),
        ({"limit": 0}, []),
        ({"trigger": "missing"}, []),
    ],
    ids=lambda value: str(value) if not isinstance(value, list) else "",
)
def test_list_runs_filtered_is_newest_first_by_every_filter(
    many_runs: Store, filters: dict[str, object], expected: list[str]
) -> None:
    assert [run.id for run in many_runs.list_runs_filtered(**filters)] == expected  # type: ignore[arg-type]


def test_a_filtered_run_list_gives_whole_records(many_runs: Store) -> None:
    listed = many_runs.list_runs_filtered(workflow="orders", trigger="timer")
    assert listed == [many_runs.get_run("o-timer-1")]


# -- firing several triggers in one call -----------------------------------------------------------------


def test_fire_triggers_gives_each_fire_the_result_fire_trigger_would(store: Store) -> None:
    assert store.fire_trigger(fire_of("e0", "r0", key="old")) is True
    batch = [
        fire_of("e1", "r1", trigger="manual"),
        fire_of("e2", "r2", key="old"),  # claimed before the batch
        fire_of("e3", "r3", key="new", state={"n": 3}),
        fire_of("e4", "r4", key="new", state={"n": 4}),  # claimed by the fire before it in the batch
        fire_of("e5", "r5", workflow="billing", key="old"),  # another workflow: its own key
    ]
    assert store.fire_triggers(batch) == [True, False, True, False, True]
    assert run_ids(store) == ["r0", "r1", "r3", "r5"]
    assert sorted(history_ids(store)) == ["e0", "e1", "e3"]
    assert history_ids(store, "billing") == ["e5"]
    assert store.get_trigger_state("orders", "every_hour") == {"n": 3}  # the duplicate wrote no state
    assert store.get_run("r3") == batch[2].runs[0]


def test_the_inherited_fire_triggers_fires_one_by_one_with_the_same_results(store: Store) -> None:
    batch = [fire_of("e1", "r1", key="k"), fire_of("e2", "r2", key="k"), fire_of("e3", "r3")]
    assert Store.fire_triggers(store, batch) == [True, False, True]
    assert run_ids(store) == ["r1", "r3"]


def test_fire_triggers_of_nothing_writes_nothing(store: Store) -> None:
    assert store.fire_triggers([]) == []
    assert store.list_runs() == []


def test_a_refused_fire_in_a_batch_writes_nothing_of_its_own(store: Store) -> None:
    store.create_run(run_of("taken", created=-1))
    clash = fire_of("e2", "fresh", "taken", key="occ", state={"n": 2})
    with pytest.raises(DuplicateRunError, match="taken"):
        store.fire_triggers([fire_of("e1", "r1", trigger="manual"), clash])
    assert "fresh" not in run_ids(store)
    assert "e2" not in history_ids(store)
    assert store.get_trigger_state("orders", "every_hour") is None
    # its claim was rolled back: the occurrence still fires
    assert store.fire_triggers([fire_of("e3", "r3", key="occ")]) == [True]


def test_a_batch_firing_one_run_id_twice_is_refused_naming_it(store: Store) -> None:
    with pytest.raises(DuplicateRunError, match="twice"):
        store.fire_triggers([fire_of("e1", "r1", trigger="manual"), fire_of("e2", "twice", "twice")])
    assert store.list_runs() == [] and history_ids(store) == []


def test_a_batch_reusing_a_stored_event_id_is_refused_naming_it(store: Store) -> None:
    assert store.fire_trigger(fire_of("used", "r0", trigger="manual")) is True
    with pytest.raises(StoreError, match="used"):
        store.fire_triggers([fire_of("e1", "r1", trigger="manual"), fire_of("used", "r2", trigger="manual")])
    assert run_ids(store) == ["r0"]


def test_a_batching_store_writes_none_of_a_batch_with_a_refused_fire(store: Store) -> None:
    assert store.batches_fires  # both backends write a batch of fires in one transaction
    bad = fire_of("e2", "r2", state={"bad": float("nan")})
    with pytest.raises(StoreError, match="state"):
        store.fire_triggers([fire_of("e1", "r1", key="occ"), bad])
    assert store.list_runs() == [] and history_ids(store) == []
    assert store.fire_triggers([fire_of("e1", "r1", key="occ")]) == [True]


def test_a_second_client_sees_every_fire_of_a_batch(store_factory: StoreFactory) -> None:
    first, second = store_factory(), store_factory()
    assert first.fire_triggers([fire_of("e1", "r1", key="a"), fire_of("e2", "r2", key="b")]) == [True, True]
    assert second.fire_triggers([fire_of("e3", "r3", key="b"), fire_of("e4", "r4", key="c")]) == [False, True]
    assert run_ids(second) == ["r1", "r2", "r4"]


def step_of(run_id: str, name: str, status: str = "Succeeded", outputs: object = None) -> ActionRecord:
    return ActionRecord(
        run_id, name, "", status, attempts=1, start_time=at(0), end_time=at(0), outputs=outputs
    )


def test_a_fire_writes_the_action_records_of_its_runs_with_them(store: Store) -> None:
    fire = fire_of("e1", "r1", trigger="manual")
    steps = [
        step_of("r1", "Compose", outputs={"echo": 1}),
        step_of("r1", "Response", outputs={"statusCode": 200}),
    ]
    done = TriggerFire(event=fire.event, runs=fire.runs, actions=steps)
    assert store.fire_triggers([done]) == [True]
    assert store.load_actions("r1") == steps


@pytest.mark.parametrize(
    "update",
    [
        RunUpdate("r1", variables={"n": {"type": "Integer", "value": 2}}),
        RunUpdate("r1", release_owner="me"),
        RunUpdate("r1", release_owner="someone else"),
        RunUpdate(
            "r1",
            status="Failed",
            outputs={"o": 1},
            error={"code": "X", "message": "m"},
            response={"statusCode": 500},
            ended_at=at(3),
            release_owner="me",
        ),
    ],
    ids=["variables", "release", "release-not-mine", "end"],
)
def test_an_update_applied_to_a_run_gives_the_row_the_store_commit_writes(
    store: Store, update: RunUpdate
) -> None:
    run = run_of("r1")
    run.owner, run.lease_until = "me", at(15)
    store.create_run(run)
    store.commit([update])
    assert store.get_run("r1") == update.applied_to(run)


def test_a_fire_may_create_a_run_already_ended(store: Store) -> None:
    fire = fire_of("e1", "r1", trigger="manual")
    run = fire.runs[0]
    run.status, run.ended_at, run.response = "Succeeded", at(1), {"statusCode": 200, "body": {"ok": True}}
    run.outputs = {}
    assert store.fire_triggers(
        [TriggerFire(event=fire.event, runs=[run], actions=[step_of("r1", "Response")])]
    ) == [True]
    assert store.get_run("r1") == run
    assert store.unfinished_runs() == []


def test_a_fire_with_an_action_of_a_run_it_does_not_create_writes_nothing(store: Store) -> None:
    fire = fire_of("e1", "r1", trigger="manual")
    stray = TriggerFire(event=fire.event, runs=fire.runs, actions=[step_of("elsewhere", "Compose")])
    with pytest.raises(StoreError, match="elsewhere"):
        store.fire_triggers([stray])
    assert store.list_runs() == [] and history_ids(store) == []


def test_a_fire_whose_occurrence_was_claimed_writes_none_of_its_action_records(store: Store) -> None:
    assert store.fire_trigger(fire_of("e1", "r1", key="occ")) is True
    second = fire_of("e2", "r2", key="occ")
    again = TriggerFire(
        event=second.event, runs=second.runs, occurrence_key="occ", actions=[step_of("r2", "Compose")]
    )
    assert store.fire_triggers([again]) == [False]
    assert store.load_actions("r2") == []


# -- runs created leased, and released by their last commit ----------------------------------------------


def lease_of(store: Store, run_id: str) -> tuple[str | None, object]:
    run = store.get_run(run_id)
    assert run is not None
    return run.owner, run.lease_until


def test_a_run_fired_with_an_owner_is_stored_leased_to_it(store: Store) -> None:
    fire = fire_of("e1", "r1", trigger="manual")
    fire.runs[0].owner, fire.runs[0].lease_until = "me", at(15)
    assert store.fire_triggers([fire]) == [True]
    assert lease_of(store, "r1") == ("me", at(15))
    assert store.acquire_run("r1", "other", now=at(1), lease_until=at(30)) is False
    assert store.acquire_run("r1", "other", now=at(16), lease_until=at(30)) is True


def test_the_last_commit_of_a_run_can_release_its_lease(store: Store) -> None:
    store.create_run(run_of("r"))
    store.acquire_run("r", "me", now=at(0), lease_until=at(30))
    store.commit([RunUpdate("r", status="Succeeded", ended_at=at(1), release_owner="me")])
    run = store.get_run("r")
    assert run is not None and (run.status, run.owner, run.lease_until) == ("Succeeded", None, None)
    assert store.renew_leases("me", at(90)) == 0  # nothing left to renew


def test_an_update_that_does_not_end_the_run_can_release_its_lease(store: Store) -> None:
    store.create_run(run_of("r"))
    store.acquire_run("r", "me", now=at(0), lease_until=at(30))
    store.commit([RunUpdate("r", release_owner="me")])
    assert lease_of(store, "r") == (None, None)
    assert store.acquire_run("r", "other", now=at(1), lease_until=at(30)) is True  # unfinished: takeable
    store.commit([RunUpdate("r", variables={"v": {"type": "integer", "value": 1}}, release_owner="other")])
    run = store.get_run("r")
    assert run is not None and (run.owner, run.variables) == (None, {"v": {"type": "integer", "value": 1}})


def test_releasing_in_a_commit_leaves_a_lease_held_by_another_owner_alone(store: Store) -> None:
    store.create_run(run_of("r"))
    store.acquire_run("r", "other", now=at(0), lease_until=at(30))
    store.commit([RunUpdate("r", status="Failed", ended_at=at(1), release_owner="me")])
    run = store.get_run("r")
    assert run is not None and (run.status, run.owner, run.lease_until) == ("Failed", "other", at(30))


def test_a_release_for_a_missing_run_fails_the_batch(store: Store) -> None:
    store.create_run(run_of("r"))
    changed = {"v": {"type": "integer", "value": 1}}
    with pytest.raises(StoreError, match="ghost"):
        store.commit([RunUpdate("r", variables=changed), RunUpdate("ghost", release_owner="me")])
    run = store.get_run("r")
    assert run is not None and run.variables == {}
