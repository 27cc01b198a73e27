"""Property tests: any text either evaluates or raises the language's own ExpressionError, never
another exception; evaluation with a context behaves the same."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pairflow.errors import ExpressionError
from pairflow.expressions import check_templates, evaluate_template
from pairflow.expressions.context import MappingContext
from pairflow.expressions.registry import FUNCTIONS

CONTEXT = MappingContext(
    {
        "variables": {"s": "text", "n": 3, "a": [1, "x", None], "o": {"k": [1, 2]}},
        "actions": {"A": {"outputs": {"body": {"k": "v"}, "statusCode": 200}}},
        "trigger": {"outputs": {"body": {"$formdata": [{"key": "k", "value": "v"}]}}},
    }
)
NAMES = sorted(spec.name for spec in FUNCTIONS.values() if spec.name not in ("rand",))

literal = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=12).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["true", "false", "null", "'A'", "'k'", "'s'", "'n'", "'a'", "'o'", "0", "-1", "2"]),
)


def _call(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, args, access: f"{name}({', '.join(args)}){access}",
        st.sampled_from(NAMES),
        st.lists(children, max_size=4),
        st.sampled_from(["", "?['k']", ".k", "[0]", "?[1]", "['statusCode']"]),
    )


expression = st.recursive(literal, _call, max_leaves=8)
template = st.one_of(
    expression.map(lambda e: "@" + e),
    st.tuples(st.text(max_size=5), expression).map(lambda t: f"{t[0]}@{{{t[1]}}}{t[0]}"),
    st.text(max_size=40),
    st.text(alphabet="@{}()[]'.,?abc01 -", max_size=30),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template)
def test_any_template_evaluates_or_raises_expression_error(text: str) -> None:
    for context in (None, CONTEXT):
        with contextlib.suppress(ExpressionError):
            evaluate_template(text, context)


@settings(max_examples=200, deadline=None)
@given(template)
def test_check_templates_never_raises(text: str) -> None:
    issues = check_templates({"x": text}, "")
    assert all(pointer == "/x" for pointer, _ in issues)
