"""Every workflow of the compatibility corpus (real public Logic Apps definitions) loads as expected.

A file either validates, or is refused only because it uses types pairflow does not support yet; four
files are refused for defects in the files themselves (an unfilled template, designer fixtures with
actions that have no inputs, an undefined action referenced, concat() without arguments), and the
table says so explicitly, with the pointers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pairflow.definition.validate import load_and_validate
from pairflow.errors import DefinitionError

# tests/compat/this_file -> repository root -> its parent, where `shared/` sits beside the checkout.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "compat" / "workflows"
SKIP_REASON = (
    "../shared/compat not found: the compatibility corpus is only present beside the project's checkout"
)

VALID = "valid"
_UNSUPPORTED = re.compile(r"^(?:action|trigger) type '([^']+)' \(.+\) is not supported by pairflow yet$")

# (file, workflow name within an ARM template or None) -> expected outcome:
#   VALID, or the set of unsupported types that are the only reasons for refusal,
#   or ("defect", pointer prefix, message) when the file itself is incomplete.
EXPECTED: dict[tuple[str, str | None], object] = {
    ("la-blob-auto-expiration-foreach-if.json", None): {"ApiConnection"},
    ("la-blob-to-dynamics-switch-until.json", None): {"ApiConnection"},
    ("la-burst-dispatcher-child-workflow.json", None): VALID,
    ("la-burst-enricher-switch-select-terminate.json", None): {"JavaScriptCode"},
    ("la-cancel-runs-query-select-foreach.json", None): {"ApiConnection"},
    ("la-recurrence-jobs-until-increment-workflow-arm.json", "CreateRecurrenceJobLogicAppName"): VALID,
    ("la-recurrence-jobs-until-increment-workflow-arm.json", "ExecuteRecurrenceJobLogicAppName"): {
        "ApiConnection"
    },
    ("la-recurrence-jobs-until-increment-workflow-arm.json", "RescheduleRecurrenceJobLogicAppName"): VALID,
    ("la-request-response.json", None): VALID,
    ("la-scheduler-recurrence-storage-queue.json", None): {"ApiConnection"},
    # A "fill in the blanks" template: both Http actions ship with method "" and uri "".
    ("la-scheduler-run-once-http-wait-scope.json", None): (
        "defect",
        {
            "/properties/definition/actions/Error_actions/actions/Call_HTTP_on_Error/inputs/method",
            "/properties/definition/actions/Error_actions/actions/Call_HTTP_on_Error/inputs/uri",
            "/properties/definition/actions/Primary_actions/actions/Call_HTTP/inputs/method",
            "/properties/definition/actions/Primary_actions/actions/Call_HTTP/inputs/uri",
        },
        r"^expected (an HTTP method \(.*\)|a URI string), got \"\"$",
    ),
    ("la-servicebus-sessions-until-variables.json", None): {"ApiConnection"},
    ("la-std-apiconnection-action.json", None): {"ApiConnection"},
    ("la-std-http-action.json", None): VALID,
    ("la-std-ingest-parsejson-select-http.json", None): {"ServiceProvider"},
    ("la-std-ratings-foreach-variables.json", None): {"ApiConnection", "ServiceProvider"},
    ("la-std-recurrence-call-workflow.json", None): VALID,
    ("la-std-request-apiconnection-response.json", None): {"ApiConnection"},
    ("la-std-request-compose-response.json", None): VALID,
    ("ux-all-scope-nodes.json", None): VALID,
    ("ux-complex-conditionals.json", None): {"ApiConnection"},
    # A designer fixture: `@concat(concat(concat(concat())))` calls concat with no argument.
    ("ux-conditionals.json", None): (
        "defect",
        {"/definition/actions/Condition/expression/or/3/and/0/not/endsWith/0"},
        r"^The function 'concat' expects at least 1 arguments? but got 0",
    ),
    ("ux-consumption-workflow-parameters.json", None): VALID,
    ("ux-monitoring-view-conditional.json", None): VALID,
    ("ux-more-complex-wait-setvariable.json", None): {"ApiConnection"},
    ("ux-multi-variable-query.json", None): VALID,
    # A designer layout fixture: action_2 … action_99 are IncrementVariable with no inputs at all.
    ("ux-multiple-runafters-100.json", None): (
        "defect",
        {f"/definition/actions/action_{i}" for i in range(2, 100)},
        r"^an IncrementVariable action needs an 'inputs' object$",
    ),
    ("ux-nested-foreach.json", None): VALID,
    ("ux-nested-scopes.json", None): VALID,
    ("ux-panel-parsejson-query-http.json", None): VALID,
    # A designer fixture whose variables read body('Create_a_goal'), an action it does not define;
    # Logic Apps refuses such a definition when it is saved.
    ("ux-run-after-statuses.json", None): (
        "defect",
        {"/definition/actions/Init_all/inputs", "/definition/actions/Initialize_test_var/inputs"},
        r"^the actions 'Create_a_goal', 'Create_a_goal_2' referenced by 'inputs' in action '\w+' "
        r"are not defined in the workflow$",
    ),
    ("ux-standard-workflow-parameters.json", None): VALID,
    ("ux-switch.json", None): VALID,
    ("ux-template-scope-query-select-terminate.json", None): VALID,
    ("ux-unicode-keys-switch.json", None): VALID,
    ("ux-until-loop-pager.json", None): VALID,
}


def _cases() -> list[object]:
    if not CORPUS.is_dir():
        return []
    listed = {file for file, _ in EXPECTED}
    keys = [key for key in EXPECTED if (CORPUS / key[0]).exists()]
    keys += [(path.name, None) for path in sorted(CORPUS.glob("*.json")) if path.name not in listed]
    return [
        pytest.param(
            *key,
            id=f"{key[0]}[{key[1]}]" if key[1] else key[0],
        )
        for key in keys
    ]


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=SKIP_REASON)


@needs_corpus
def test_every_listed_file_is_in_the_corpus() -> None:
    missing = sorted({file for file, _ in EXPECTED if not (CORPUS / file).exists()})
    assert missing == []


@needs_corpus
@pytest.mark.parametrize(("file", "name"), _cases())
def test_corpus_file_loads_as_expected(file: str, name: str | None) -> None:
    key = (file, name)
    assert key in EXPECTED, f"{file} is new in the corpus: add its expected outcome to EXPECTED"
    expected = EXPECTED[key]
    if expected == VALID:
        loaded, model = load_and_validate(CORPUS / file, name)
        assert model.all_actions, "a valid corpus workflow has actions"
        assert loaded.definition is model.raw
        return
    with pytest.raises(DefinitionError) as caught:
        load_and_validate(CORPUS / file, name)
    issues = caught.value.issues
    if isinstance(expected, set):
        reasons = [_UNSUPPORTED.match(message) for _, message in issues]
        unexpected = [issue for issue, reason in zip(issues, reasons, strict=True) if reason is None]
        assert unexpected == [], "refused for something other than an unsupported type"
        assert {reason.group(1) for reason in reasons if reason is not None} == expected
        return
    assert isinstance(expected, tuple)
    _, pointers, pattern = expected
    assert {pointer for pointer, _ in issues} == pointers
    assert all(re.match(pattern, message) for _, message in issues), issues
