"""The pure .NET date text module: round trips, format compilation, and its error contract."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.functions.dotnet_format import (
    DE_DE,
    EN_GB,
    EN_US,
    ES_ES,
    FR_FR,
    INVARIANT,
    MAX_TICKS,
    DotNetDateTime,
    compile_format,
    format_datetime,
    parse_datetime,
    parse_exact,
)

CULTURES = (INVARIANT, EN_US, EN_GB, DE_DE, FR_FR, ES_ES)
values = st.builds(DotNetDateTime, st.integers(0, MAX_TICKS), st.booleans())


@given(values)
def test_round_trip_format_reads_back_to_the_same_ticks_and_kind(value: DotNetDateTime) -> None:
    assert parse_datetime(format_datetime(value, "o")) == value


@given(values, st.sampled_from(CULTURES), st.sampled_from("dDfFgGMstTuUY"))
def test_standard_formats_read_back_exactly_with_the_same_culture(
    value: DotNetDateTime, culture: object, specifier: str
) -> None:
    assert isinstance(culture, type(EN_US))
    text = format_datetime(value, specifier, culture)
    parsed = parse_exact(text, specifier, culture)
    again = format_datetime(parsed, specifier, culture)
    assert again == text


@given(values, st.text(max_size=12))
def test_any_format_string_formats_or_raises_the_language_error(value: DotNetDateTime, fmt: str) -> None:
    try:
        result = format_datetime(value, fmt)
    except ExpressionEvaluationError as error:
        assert "format" in error.message
    else:
        assert isinstance(result, str)


@given(st.text(max_size=30), st.sampled_from(CULTURES))
def test_any_text_parses_or_raises_the_language_error(text: str, culture: object) -> None:
    assert isinstance(culture, type(EN_US))
    try:
        result = parse_datetime(text, culture)
    except ExpressionEvaluationError as error:
        assert "date and time" in error.message
    else:
        assert 0 <= result.ticks <= MAX_TICKS


def test_compiled_format_strings_are_cached() -> None:
    compile_format.cache_clear()
    format_datetime(DotNetDateTime(0, True), "'cache' yyyy-MM-dd HH:mm")
    format_datetime(DotNetDateTime(1, True), "'cache' yyyy-MM-dd HH:mm")
    info = compile_format.cache_info()
    assert info.misses == 1
    assert info.hits == 1


def test_seventh_fraction_digit_survives_arithmetic() -> None:
    value = parse_datetime("2018-03-15T00:00:00.1234567Z").add_ticks(10_000_000)
    assert format_datetime(value, "o") == "2018-03-15T00:00:01.1234567Z"
    assert format_datetime(value, "FFFFFFF") == "1234567"


def test_value_outside_dotnet_range_is_rejected() -> None:
    try:
        DotNetDateTime(MAX_TICKS + 1, True)
    except ExpressionEvaluationError as error:
        assert "outside the supported range" in error.message
    else:
        raise AssertionError("a tick count past 9999-12-31 was accepted")


@given(
    st.text(alphabet="0123456789+-:/ .APMZzT", max_size=25),
    st.sampled_from(["zz", "yyyy-MM-dd HH:mm zzz", "h tt", "K", "dd/MM/yy"]),
)
def test_exact_parse_of_any_text_returns_a_value_or_raises_the_language_error(text: str, fmt: str) -> None:
    try:
        result = parse_exact(text, fmt, EN_US)
    except ExpressionEvaluationError as error:
        assert "date and time" in error.message
    else:
        assert 0 <= result.ticks <= MAX_TICKS
