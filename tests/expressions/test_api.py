"""The public API of pairflow.expressions: names others depend on, walking JSON values, parse-only
checks for validation, referenced actions, and where errors point."""

from __future__ import annotations

import copy

import pytest

from pairflow import expressions
from pairflow.errors import ExpressionEvaluationError, ExpressionLimitError, ExpressionSyntaxError
from pairflow.expressions import (
    check_templates,
    evaluate,
    evaluate_expression,
    evaluate_template,
    is_template,
    limits,
    referenced_actions,
)
from pairflow.expressions.context import MappingContext
from pairflow.expressions.registry import FUNCTIONS

CONTEXT = MappingContext({"variables": {"n": 2, "name": "Ada"}})


def test_public_names_are_exported() -> None:
    for name in (
        "evaluate",
        "evaluate_template",
        "evaluate_expression",
        "is_template",
        "check_templates",
        "referenced_actions",
    ):
        assert name in expressions.__all__
        assert callable(getattr(expressions, name))


def test_evaluate_walks_values_without_touching_keys_or_input() -> None:
    value = {"@add(1,2)": ["@variables('n')", {"greeting": "Hi @{variables('name')}"}], "n": 5, "t": True}
    original = copy.deepcopy(value)
    result = evaluate(value, CONTEXT)
    assert result == {"@add(1,2)": [2, {"greeting": "Hi Ada"}], "n": 5, "t": True}
    assert value == original


def test_whole_expression_keeps_json_type_and_interpolation_yields_string() -> None:
    assert evaluate_template("@variables('n')", CONTEXT) == 2
    assert evaluate_template("@{variables('n')}", CONTEXT) == "2"


def test_evaluate_expression_takes_a_bare_expression() -> None:
    assert evaluate_expression("add(1, 2)") == 3
    assert evaluate_expression("'@x'") == "@x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@add(1,2)", True),
        ("a @{x()} b", True),
        ("@@escaped", False),
        ("plain", False),
        ("mail@example.com", False),
        ("a @@{x} b", False),
    ],
)
def test_is_template_tells_expressions_from_text(text: str, expected: bool) -> None:
    assert is_template(text) is expected


def test_check_templates_reports_pointer_and_column_without_evaluating() -> None:
    definition = {
        "actions": {
            "ok": {"inputs": "@variables('not-evaluated')"},
            "bad/name": {"inputs": ["x", "@concat('a', nope(1))"]},
            "unterminated": "Hi @{add(1, 2)",
        }
    }
    issues = check_templates(definition, "/definition")
    assert issues == [
        (
            "/definition/actions/bad~1name/inputs/1",
            "The template function 'nope' is not defined or not valid at column 14 "
            "in '@concat('a', nope(1))'",
        ),
        (
            "/definition/actions/unterminated",
            "Unterminated '@{': expected '}' at column 4 in 'Hi @{add(1, 2)'",
        ),
    ]


def test_referenced_actions_finds_literal_names_only() -> None:
    value = {
        "a": "@body('Get')?['x']",
        "b": "x @{outputs('Post')} @{actions(variables('dynamic'))}",
        "c": ["@result('Scope')", "@actionBody('Other')", "@variables('Get2')"],
        "d": "@broken(",
    }
    assert referenced_actions(value) == {"Get", "Post", "Scope", "Other"}


def test_syntax_error_carries_expression_and_one_based_column() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        evaluate_template("@add(1, 2]")
    assert caught.value.column == 10
    assert caught.value.expression == "@add(1, 2]"
    assert caught.value.caret().endswith("\n" + " " * 9 + "^")


def test_evaluation_error_points_at_the_failing_function_inside_interpolation() -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_template("Result: @{add(1, div(4, 0))}")
    assert caught.value.column == 18
    assert "divide by zero" in caught.value.message


def test_missing_property_names_the_property() -> None:
    with pytest.raises(ExpressionEvaluationError, match="property 'missing' doesn't exist"):
        evaluate_template("@json('{\"a\": 1}').missing")


def test_functions_match_names_case_insensitively() -> None:
    assert evaluate_template("@CoNcAt('a', 'b')") == "ab"


def test_library_covers_the_reference_guide() -> None:
    documented = """
        action actionBody actionOutputs actions add addProperty and array base64 base64ToBinary
        base64ToString binary body bool chunk coalesce concat contains createArray dataUri
        dataUriToBinary dataUriToString decimal decodeBase64 decodeDataUri decodeUriComponent div
        empty encodeUriComponent endsWith equals first float formatNumber formDataMultiValues
        formDataValue greater greaterOrEquals guid if indexOf int intersection isFloat isInt item
        items iterationIndexes join json last lastIndexOf length less lessOrEquals listCallbackUrl
        max min mod mul multipartBody not nthIndexOf or outputs parameters rand range removeProperty
        replace result reverse setProperty skip slice sort split startsWith string sub substring
        take toLower toUpper trigger triggerBody triggerFormDataMultiValues triggerFormDataValue
        triggerMultipartBody triggerOutputs trim union uriComponent uriComponentToBinary
        uriComponentToString uriHost uriPath uriPathAndQuery uriPort uriQuery uriScheme variables
        workflow xml xpath
    """.split()  # noqa: SIM905
    missing = [name for name in documented if name.lower() not in FUNCTIONS]
    assert missing == []


def test_guid_formats() -> None:
    assert len(evaluate_template("@guid()")) == 36
    assert len(evaluate_template("@guid('N')")) == 32
    assert evaluate_template("@guid('P')").startswith("(")
    assert evaluate_template("@guid('B')").startswith("{")


def test_rand_stays_in_half_open_range() -> None:
    assert {evaluate_template("@rand(1, 3)") for _ in range(50)} <= {1, 2}


def test_nesting_deeper_than_the_bound_is_a_syntax_error() -> None:
    deep = "@" + "string(" * 150 + "1" + ")" * 150
    with pytest.raises(ExpressionSyntaxError, match="nested more than"):
        evaluate_template(deep)


def test_huge_results_are_refused_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_STRING_LENGTH", 10)
    monkeypatch.setattr(limits, "MAX_ARRAY_LENGTH", 3)
    with pytest.raises(ExpressionLimitError, match="'concat' would have 12 characters"):
        evaluate_template("@concat('abcdef', 'ghijkl')")
    with pytest.raises(ExpressionLimitError, match="'chunk' would have 4 items"):
        evaluate_template("@chunk('abcd', 1)")
    with pytest.raises(ExpressionLimitError, match="'join'"):
        evaluate_template("@join(createArray('abcdef', 'ghijkl'), ',')")


def test_evaluation_over_its_time_budget_stops_with_a_limit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pairflow.errors import ExpressionLimitError
    from pairflow.expressions import limits

    monkeypatch.setattr(limits, "MAX_EVALUATION_SECONDS", 0.0)
    heavy = "@length(replace(replace(string(range(0, 20000)), ',', ',,'), ',', ',,'))"
    with pytest.raises(ExpressionLimitError, match="took longer than 0 seconds"):
        evaluate_template(heavy)
    monkeypatch.setattr(limits, "MAX_EVALUATION_SECONDS", 5.0)
    assert isinstance(evaluate_template(heavy), int)
