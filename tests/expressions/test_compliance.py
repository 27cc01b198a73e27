"""Runs the JSON compliance cases in tests/expressions/cases/{functions,language}.json: documented
examples of the Logic Apps functions and of the template syntax. A case has "expression" (as written in a
definition),
an optional "context" (a MappingContext document) and either "result" or "error" (a substring of
the expected message)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pairflow.errors import ExpressionError
from pairflow.expressions import evaluate_template
from pairflow.expressions.context import MappingContext

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = ("functions.json", "language.json")  # datetime.json has its own runner


def _cases() -> list[Any]:
    params = []
    for path in (CASES_DIR / name for name in CASE_FILES):
        for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            params.append(pytest.param(case, id=f"{path.stem}-{index}-{case['expression'][:40]}"))
    return params


def _same(actual: Any, expected: Any) -> bool:
    """Equal, with the same JSON types (an integer result is not a float), floats to 1e-12."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int):
        return type(actual) is int and actual == expected
    if isinstance(expected, float):
        return type(actual) is float and math.isclose(actual, expected, rel_tol=1e-12)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return (
        isinstance(actual, dict)
        and actual.keys() == expected.keys()
        and all(_same(actual[k], expected[k]) for k in expected)
    )


@pytest.mark.parametrize("case", _cases())
def test_compliance_case(case: dict[str, Any]) -> None:
    context = MappingContext(case["context"]) if "context" in case else None
    if "error" in case:
        with pytest.raises(ExpressionError) as caught:
            evaluate_template(case["expression"], context)
        assert case["error"] in caught.value.message
    else:
        assert _same(evaluate_template(case["expression"], context), case["result"])


def test_every_case_file_is_loaded() -> None:
    assert len(_cases()) > 200
