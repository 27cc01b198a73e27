"""The drill's report computed from synthetic observations: detection, RTO, RPO, recurrence gaps and
doubles, abandoned runs, and the targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pairflow.continuity.drill_report import Event, Fire, Observed, Sample, compute, render

T0 = 1_700_000_000.0  # traffic starts (a whole second)
FAULT = T0 + 4.0


def ok(sent: float, run: str, where: str, status: int = 202) -> Sample:
    return Sample(sent, sent + 0.01, status, run, where)


def failed(sent: float, error: str, status: int | None = 503) -> Sample:
    return Sample(sent, sent + 0.01, status, None, None, error)


def observed(
    samples: Sequence[Sample] = (),
    events: Sequence[Event] = (),
    fires: Sequence[Fire] = (),
    **changes: object,
) -> Observed:
    found = {s.run_id: frozenset({s.location}) for s in samples if s.ok and s.run_id and s.location}
    base = Observed(
        fault="kill",
        primary="west",
        secondary="east",
        started=T0,
        fault_at=FAULT,
        ended=T0 + 12.0,
        samples=list(samples),
        events=list(events),
        found=found,
        unreadable=frozenset(),
        running_on_primary=[],
        finished_elsewhere=frozenset(),
        fires=list(fires),
        interval=1.0,
        anchor=T0 - 3600.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def every_second(location: str, start: float, stop: float) -> list[Fire]:
    return [Fire(location, t, t + 0.005) for t in range(int(start), int(stop))]


def test_rto_is_the_first_success_answered_by_the_secondary_after_the_fault() -> None:
    samples = [
        ok(T0 + 1, "r1", "west"),
        failed(FAULT + 0.5, "503 LocationPassive"),
        failed(FAULT + 1.0, "503 NoLocationReachable"),
        ok(FAULT + 3.2, "r2", "east"),
        ok(FAULT + 4.0, "r3", "east"),
    ]
    report = compute(observed(samples))
    assert report["rtoSeconds"] == 3.21  # answered 10 ms after it was sent
    requests = report["requests"]
    assert isinstance(requests, dict)
    assert requests["failedDuringWindow"] == 2
    assert requests["failedDuringWindowBy"] == {"503 LocationPassive": 1, "503 NoLocationReachable": 1}
    assert requests["failedAfterRecovery"] == 0
    assert requests["answeredBy"] == {"west": 1, "east": 2}


def test_without_a_success_from_the_secondary_the_rto_is_not_measured_and_the_target_not_met() -> None:
    report = compute(observed([ok(T0 + 1, "r1", "west"), failed(FAULT + 1, "503 LocationPassive")]))
    assert report["rtoSeconds"] is None
    targets = report["targets"]
    assert isinstance(targets, dict) and targets["rto"]["met"] is False
    assert report["targetsMet"] is False


def test_detect_time_is_the_fault_to_the_secondarys_activated_event() -> None:
    events = [
        Event("east", "activated", 1, T0 - 30, {"reason": "initial role primary"}),  # before: ignored
        Event("east", "lease-granted", 1, FAULT - 1, {}),
        Event("east", "activated", 2, FAULT + 3.25, {"reason": "watchdog"}),
        Event("west", "stepped-down", 2, FAULT + 6.0, {"reason": "east answered epoch 2"}),
    ]
    report = compute(observed(events=events, alert_at=FAULT + 2.2))
    detection = report["detection"]
    assert isinstance(detection, dict)
    assert detection["detectSeconds"] == 3.25
    assert detection["epoch"] == 2 and detection["reason"] == "watchdog"
    assert detection["alertSeconds"] == 2.2
    assert detection["primaryStoodDown"] == {"kind": "stepped-down", "seconds": 6.0}


def test_an_acknowledged_run_in_no_store_is_lost_and_one_in_an_unreadable_store_is_unverified() -> None:
    samples = [ok(T0 + 1, "kept", "west"), ok(T0 + 2, "gone", "west"), ok(FAULT + 4, "east-1", "east")]
    found = {"kept": frozenset({"west"}), "east-1": frozenset({"east"})}
    runs = compute(observed(samples, found=found))["runs"]
    assert isinstance(runs, dict)
    assert (runs["acknowledged"], runs["lost"], runs["lostRunIds"]) == (3, 1, ["gone"])

    runs = compute(observed(samples, found=found, unreadable=frozenset({"west"})))["runs"]
    assert isinstance(runs, dict)
    assert (runs["lost"], runs["unverified"], runs["unverifiedRunIds"]) == (0, 1, ["gone"])


def test_a_success_without_a_run_id_is_counted_apart_and_never_lost() -> None:
    runs = compute(observed([Sample(T0 + 1, T0 + 1.1, 200, None, "west")]))["runs"]
    assert isinstance(runs, dict)
    assert (runs["acknowledged"], runs["acknowledgedWithoutRunId"], runs["lost"]) == (0, 1, 0)


def test_runs_left_running_on_the_primary_are_abandoned_unless_another_location_finished_them() -> None:
    report = compute(observed(running_on_primary=["a", "b", "c"], finished_elsewhere=frozenset({"b"})))
    runs = report["runs"]
    assert isinstance(runs, dict)
    assert runs["abandoned"] == 2 and runs["abandonedRunIds"] == ["a", "c"]


def test_a_split_schedule_with_one_occurrence_lost_in_the_failover_misses_one_and_doubles_none() -> None:
    end = T0 + 12.0 - 2.0  # the window ends one interval and a second before traffic stops
    west = [f for f in every_second("west", T0, FAULT + 1) if int(f.occurrence) % 2 == 0]
    east = [f for f in every_second("east", T0, FAULT + 2) if int(f.occurrence) % 2 == 1]
    east += every_second("east", FAULT + 3, end + 1)  # active: the whole schedule, one even missed
    recurrence = compute(observed(fires=[*west, *east]))["recurrence"]
    assert isinstance(recurrence, dict)
    assert recurrence["expected"] == 11  # T0 … T0+10 inclusive
    assert recurrence["missed"] == 1
    assert recurrence["missedOccurrences"] == ["2023-11-14T22:13:26.000Z"]  # FAULT + 2
    assert recurrence["doubled"] == 0 and recurrence["late"] == 0
    assert recurrence["firedBy"] == {"west": 3, "east": 7}


def test_an_occurrence_fired_in_both_locations_is_doubled_and_one_fired_late_is_late() -> None:
    fires = [
        *every_second("west", T0, T0 + 11),
        Fire("east", T0 + 6, T0 + 6.01),
        Fire("east", T0 + 7, T0 + 9.5),
    ]
    recurrence = compute(observed(fires=fires))["recurrence"]
    assert isinstance(recurrence, dict)
    assert (recurrence["doubled"], recurrence["missed"], recurrence["late"]) == (2, 0, 1)
    report = compute(observed(fires=fires))
    targets = report["targets"]
    assert isinstance(targets, dict) and targets["doubled"]["met"] is False


def test_fires_outside_the_window_are_not_counted() -> None:
    fires = [
        Fire("west", T0 - 5, T0 - 5),
        Fire("east", T0 + 11.5, T0 + 11.5),
        *every_second("west", T0, T0 + 11),
    ]
    recurrence = compute(observed(fires=fires))["recurrence"]
    assert isinstance(recurrence, dict)
    assert (recurrence["expected"], recurrence["fired"], recurrence["doubled"]) == (11, 11, 0)


def test_the_rendered_report_names_every_measure_and_whether_the_targets_were_met() -> None:
    samples = [ok(T0 + 1, "r1", "west"), ok(FAULT + 2, "r2", "east")]
    fires = every_second("west", T0, T0 + 11)
    text = "\n".join(render(compute(observed(samples, fires=fires))))
    for part in (
        "time to detect",
        "RTO",
        "2.01 s",
        "RPO",
        "0 of 2 acknowledged runs lost",
        "missed",
        "doubled",
        "abandoned",
        "Temporal Cloud",
        "all targets met",
    ):
        assert part in text, part


def test_the_timeline_is_sorted_and_relative_to_the_traffic_start() -> None:
    report = compute(observed(timeline=[(FAULT, "west killed"), (T0, "traffic")]))
    assert report["timeline"] == [{"t": 0.0, "text": "traffic"}, {"t": 4.0, "text": "west killed"}]
