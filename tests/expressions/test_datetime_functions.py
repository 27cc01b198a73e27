"""Date and time functions through the public `evaluate_expression`, driven by cases/datetime.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pairflow.errors import ExpressionError, ExpressionEvaluationError
from pairflow.expressions import MappingContext, evaluate_expression
from pairflow.expressions.functions.windows_zones import WINDOWS_TO_IANA, resolve_zone

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "cases" / "datetime.json").read_text(encoding="utf-8")
)["cases"]


def _context(case: dict[str, Any]) -> MappingContext:
    now = case.get("now")
    clock = datetime.fromisoformat(now) if now else datetime(2020, 1, 1, tzinfo=UTC)
    return MappingContext(clock=clock)


@pytest.mark.parametrize("case", CASES, ids=[case["expression"] for case in CASES])
def test_datetime_case_matches_documented_result(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ExpressionEvaluationError) as caught:
            evaluate_expression(case["expression"], _context(case))
        assert case["error"] in caught.value.message
    else:
        assert evaluate_expression(case["expression"], _context(case)) == case["result"]


def test_every_documented_date_function_has_a_compliance_case() -> None:
    documented = {
        "addDays", "addHours", "addMinutes", "addSeconds", "addToTime", "convertFromUtc",
        "convertTimeZone", "convertToUtc", "dateDifference", "dayOfMonth", "dayOfWeek", "dayOfYear",
        "formatDateTime", "getFutureTime", "getPastTime", "parseDateTime", "startOfDay", "startOfHour",
        "startOfMonth", "subtractFromTime", "ticks", "utcNow",
    }  # fmt: skip
    covered = {case["expression"].split("(", 1)[0] for case in CASES if case.get("doc")}
    assert documented <= covered


def test_utcnow_reads_the_injected_clock_not_the_wall_clock() -> None:
    context = MappingContext(clock=datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=UTC))
    assert evaluate_expression("utcNow()", context) == "1999-12-31T23:59:59.1234560Z"


def test_utcnow_without_a_context_uses_the_real_utc_clock() -> None:
    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    result = evaluate_expression("utcNow('s')", None)
    assert isinstance(result, str)
    assert datetime.fromisoformat(result) >= before


def test_naive_clock_is_taken_as_utc() -> None:
    context = MappingContext(clock=datetime(2018, 3, 1, 6, 0, 0))
    assert evaluate_expression("getFutureTime(1, 'Hour')", context) == "2018-03-01T07:00:00.0000000Z"


def test_date_function_names_match_case_insensitively() -> None:
    assert evaluate_expression("ADDDAYS('2018-03-15T00:00:00Z', 1, 'yyyy-MM-dd')") == "2018-03-16"


def test_wrong_argument_count_names_the_function() -> None:
    with pytest.raises(ExpressionError, match="addDays"):
        evaluate_expression("addDays('2018-03-15T00:00:00Z')")


def test_bad_timestamp_error_names_function_and_value() -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_expression("addHours('yesterday', 1)")
    assert "'addHours'" in caught.value.message
    assert "'yesterday'" in caught.value.message


def test_every_windows_zone_in_the_table_resolves_to_an_installed_zone() -> None:
    assert len(WINDOWS_TO_IANA) >= 135
    for windows_name, iana in WINDOWS_TO_IANA.items():
        assert resolve_zone(windows_name).key == iana


def test_converting_to_a_zone_and_back_returns_the_same_instant_every_hour_of_a_dst_year() -> None:
    for hour in range(0, 365 * 24, 7):
        start = evaluate_expression(f"addHours('2018-01-01T00:00:00Z', {hour})")
        local = evaluate_expression(f"convertFromUtc('{start}', 'Central Standard Time')")
        back = evaluate_expression(f"convertToUtc('{local}', 'Central Standard Time')")
        # The repeated hour in November reads back as standard time, one hour later.
        assert back in (start, evaluate_expression(f"addHours('{start}', 1)"))
