"""The runAfter graph of one action list: names that exist, statuses that exist, and no cycles.

In Logic Apps an action's runAfter may only name actions of the same list (its siblings); an action
inside a Scope runs after the Scope's other children, never after an action outside it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pairflow.definition.model import RUN_AFTER_STATUSES
from pairflow.jsontypes import JSON

Issues = list[tuple[str, str]]

_STATUS_NAMES = "Succeeded, Failed, Skipped or TimedOut"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def check_run_after(
    siblings: Mapping[str, JSON], list_pointer: str, where_defined: Mapping[str, str]
) -> Issues:
    """Check every runAfter of one action list.

    `where_defined` maps every action name of the workflow to its pointer, so a runAfter that names an
    action of another list can say where that action is.
    """
    issues: Issues = []
    edges: dict[str, list[str]] = {}
    for name, raw in siblings.items():
        if not isinstance(raw, dict):
            continue
        run_after = raw.get("runAfter")
        if not isinstance(run_after, dict):
            continue
        pointer = f"{list_pointer}/{_escape(name)}/runAfter"
        edges[name] = []
        for predecessor, statuses in run_after.items():
            here = f"{pointer}/{_escape(predecessor)}"
            if predecessor in siblings:
                edges[name].append(predecessor)
            elif predecessor in where_defined:
                issues.append(
                    (
                        here,
                        f"runAfter names '{predecessor}', which is defined at {where_defined[predecessor]}, "
                        "not in the same action list; runAfter may only name sibling actions",
                    )
                )
            else:
                issues.append(
                    (here, f"runAfter names '{predecessor}', which is not an action of this workflow")
                )
            if isinstance(statuses, list):
                for index, status in enumerate(statuses):
                    if isinstance(status, str) and status.lower() not in RUN_AFTER_STATUSES:
                        issues.append(
                            (f"{here}/{index}", f"expected a status ({_STATUS_NAMES}), got '{status}'")
                        )
    issues.extend(_cycles(edges, list_pointer))
    return issues


def _cycles(edges: Mapping[str, list[str]], list_pointer: str) -> Issues:
    """One issue per cycle found by a depth-first walk (iterative: a list may hold many actions)."""
    issues: Issues = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in edges:
        if state.get(start):
            continue
        path: list[str] = [start]
        state[start] = 1
        pending: list[list[str]] = [list(edges.get(start, []))]
        while pending:
            successors = pending[-1]
            if not successors:
                state[path.pop()] = 2
                pending.pop()
                continue
            nxt = successors.pop()
            mark = state.get(nxt)
            if mark == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                # Shown in the order actions wait: each runs after the one before it in the list.
                shown = " -> ".join(reversed(cycle))
                pointer = f"{list_pointer}/{_escape(nxt)}/runAfter"
                issues.append((pointer, f"runAfter cycle: {shown}; no action in it can ever start"))
            elif mark is None:
                state[nxt] = 1
                path.append(nxt)
                pending.append(list(edges.get(nxt, [])))
    return issues
