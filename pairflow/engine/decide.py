"""The run state machine: given a definition and a run's action records, what happens next.

Pure: no I/O, no clock, no asyncio. The runner evaluates expressions and runs executors; this module
only reads statuses and the engine's bookkeeping in records (`ActionRecord.state`) and returns
commands. Logic Apps' rules implemented here:

- An action in a list starts when every predecessor named in its `runAfter` has ended with one of the
  allowed statuses; an action with an empty `runAfter` starts when its list starts. When a predecessor
  ended with a status that is not allowed, the action is Skipped (and so, in turn, are actions that
  run only after it Succeeded).
- A list (the run's top level, a Scope, an If/Switch branch, a loop iteration) is complete when every
  action in it has ended. Its status comes from its *terminal* actions, those no other action in the
  list runs after: Failed when any of them Failed, TimedOut or was Cancelled; a Skipped terminal
  action counts as its predecessors count (Skipped because its predecessor Succeeded is fine,
  Skipped because it Failed is a failure); otherwise Succeeded.
- Foreach: Failed when any iteration's list failed. Until: the status of its last iteration.

Repetition keys name loop iterations: "" at the top level, "Loop=000003" inside a Foreach or Until,
"Outer=000001/Inner=000002" when nested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pairflow.definition.model import ActionDef, Status, WorkflowDefinition
from pairflow.jsontypes import JSONObject
from pairflow.store.records import ActionRecord

SUCCEEDED = Status.SUCCEEDED.value
FAILED = Status.FAILED.value
SKIPPED = Status.SKIPPED.value
RUNNING = Status.RUNNING.value
TIMED_OUT = Status.TIMED_OUT.value
CANCELLED = Status.CANCELLED.value
TERMINAL = frozenset({SUCCEEDED, FAILED, SKIPPED, TIMED_OUT, CANCELLED})
LOOP_TYPES = frozenset({"Foreach", "Until"})
CONTAINER_TYPES = frozenset({"Scope", "If", "Switch", "Foreach", "Until"})

ACTION_FAILED_ERROR: JSONObject = {
    "code": "ActionFailed",
    "message": "An action failed. No dependent actions succeeded.",
}


# -- commands ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartAction:
    """Run the action (an executor) or open it (a container evaluates its expression)."""

    name: str
    repetition: str


@dataclass(frozen=True, slots=True)
class SkipAction:
    """Record the action Skipped: its runAfter can no longer be satisfied."""

    name: str
    repetition: str


@dataclass(frozen=True, slots=True)
class CompleteAction:
    """A container (Scope, If, Switch, Foreach, Until) has ended with this status."""

    name: str
    repetition: str
    status: str
    error: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class CompleteIteration:
    """Iteration `index` of the Foreach `loop` (itself at `repetition`) has ended."""

    loop: str
    repetition: str
    index: int
    status: str


@dataclass(frozen=True, slots=True)
class EvaluateUntil:
    """Iteration `index` of the Until `loop` has ended: evaluate its condition and limits."""

    loop: str
    repetition: str
    index: int
    status: str


@dataclass(frozen=True, slots=True)
class CompleteRun:
    status: str
    error: JSONObject | None = None


Command = StartAction | SkipAction | CompleteAction | CompleteIteration | EvaluateUntil | CompleteRun


# -- repetition keys ---------------------------------------------------------------------------------


def iteration_key(repetition: str, loop: str, index: int) -> str:
    """The repetition key of the actions inside iteration `index` of `loop` (at `repetition`)."""
    own = f"{loop}={index:06d}"
    return f"{repetition}/{own}" if repetition else own


def parent_key(repetition: str) -> str:
    cut = repetition.rfind("/")
    return repetition[:cut] if cut >= 0 else ""


def last_segment(repetition: str) -> tuple[str, int] | None:
    """('Loop', 3) for '.../Loop=000003'."""
    if not repetition:
        return None
    segment = repetition[repetition.rfind("/") + 1 :]
    name, _, index = segment.rpartition("=")
    try:
        return name, int(index)
    except ValueError:
        return None


def parse_repetition(repetition: str) -> list[tuple[str, int]]:
    """[('Outer', 1), ('Inner', 2)] for 'Outer=000001/Inner=000002'."""
    found: list[tuple[str, int]] = []
    for segment in repetition.split("/") if repetition else ():
        name, _, index = segment.rpartition("=")
        try:
            found.append((name, int(index)))
        except ValueError:
            continue
    return found


# -- the plan: per-definition precomputation ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Branch:
    """One list of actions: the top level, a container's `actions`, `else`, `default` or a case."""

    container: str | None
    branch: str
    order: tuple[str, ...]  # topological: every action after the actions it runs after
    run_after: Mapping[str, tuple[tuple[str, frozenset[str]], ...]]
    predecessors: Mapping[str, tuple[str, ...]]
    terminals: tuple[str, ...]
    roots: tuple[str, ...]


@dataclass(slots=True)
class Plan:
    """What the state machine needs to know about a definition, computed once per version."""

    definition: WorkflowDefinition
    branches: dict[tuple[str | None, str], Branch] = field(default_factory=dict)

    @staticmethod
    def build(definition: WorkflowDefinition) -> Plan:
        plan = Plan(definition)
        plan._add(None, "actions", definition.actions)
        for action in definition.all_actions.values():
            for branch, children in action.child_lists():
                plan._add(action.name, branch, children)
        return plan

    def _add(self, container: str | None, branch: str, actions: Mapping[str, ActionDef]) -> None:
        names = list(actions)
        run_after = {
            name: tuple(
                (pred, frozenset(s.value for s in statuses))
                for pred, statuses in actions[name].run_after.items()
                if pred in actions
            )
            for name in names
        }
        order: list[str] = []
        placed: set[str] = set()
        remaining = list(names)
        while remaining:
            progress = [n for n in remaining if all(p in placed for p, _ in run_after[n])]
            if not progress:  # a cycle (validation rejects these); keep definition order
                progress = remaining[:1]
            for name in progress:
                order.append(name)
                placed.add(name)
            remaining = [n for n in remaining if n not in placed]
        followed = {p for name in names for p, _ in run_after[name]}
        self.branches[(container, branch)] = Branch(
            container=container,
            branch=branch,
            order=tuple(order),
            run_after=run_after,
            predecessors={name: tuple(p for p, _ in run_after[name]) for name in names},
            terminals=tuple(n for n in names if n not in followed),
            roots=tuple(n for n in names if not run_after[n]),
        )

    def action(self, name: str) -> ActionDef:
        return self.definition.all_actions[name]

    def branch_of(self, container: str | None, branch: str) -> Branch | None:
        return self.branches.get((container, branch))

    def scope_of(self, name: str, repetition: str) -> tuple[str | None, str, str]:
        """(container, branch, repetition of the list's records) for the list holding the action."""
        action = self.definition.all_actions[name]
        return action.parent, action.branch, repetition


# -- the run's state ---------------------------------------------------------------------------------


@dataclass(slots=True)
class RunState:
    """The run's action records plus loop progress derived from them (rebuilt on load)."""

    records: dict[tuple[str, str], ActionRecord] = field(default_factory=dict)
    admitted: dict[tuple[str, str], int] = field(default_factory=dict)  # Foreach -> iterations begun
    done: dict[tuple[str, str], dict[int, str]] = field(default_factory=dict)  # Foreach -> ended ones
    latest: dict[str, ActionRecord] = field(default_factory=dict)  # by name, the last one written

    def status(self, name: str, repetition: str) -> str | None:
        record = self.records.get((name, repetition))
        return record.status if record is not None else None

    def put(self, record: ActionRecord) -> None:
        key = (record.name, record.repetition)
        if key not in self.records:
            found = last_segment(record.repetition)
            if found is not None:
                loop_key = (found[0], parent_key(record.repetition))
                if self.admitted.get(loop_key, 0) <= found[1]:
                    self.admitted[loop_key] = found[1] + 1
        self.records[key] = record
        self.latest[record.name] = record

    @staticmethod
    def load(plan: Plan, records: Iterable[ActionRecord]) -> RunState:
        state = RunState()
        for record in records:
            state.put(record)
        for (name, repetition), record in list(state.records.items()):
            action = plan.definition.all_actions.get(name)
            if action is None or action.type != "Foreach":
                continue
            branch = plan.branch_of(name, "actions")
            finished: dict[int, str] = {}
            for index in range(state.admitted.get((name, repetition), 0)):
                if branch is not None:
                    outcome = list_outcome(branch, state, iteration_key(repetition, name, index))
                    if outcome is not None:
                        finished[index] = outcome[0]
            if finished or record.status == RUNNING:
                state.done[(name, repetition)] = finished
        return state


# -- list status -------------------------------------------------------------------------------------


def list_outcome(
    branch: Branch, state: RunState, repetition: str, overlay: Mapping[str, str] | None = None
) -> tuple[str, str | None] | None:
    """(status, failing action) when every action in the list has ended, else None."""
    statuses: dict[str, str] = {}
    for name in branch.order:
        status = (overlay.get(name) if overlay else None) or state.status(name, repetition)
        if status is None or status not in TERMINAL:
            return None
        statuses[name] = status
    memo: dict[str, str | None] = {}

    def culprit(name: str) -> str | None:
        """The failed action this one's outcome traces back to, None when it is fine."""
        if name in memo:
            return memo[name]
        memo[name] = None
        status = statuses[name]
        found: str | None = None
        if status == SKIPPED:
            for pred in branch.predecessors[name]:
                found = culprit(pred)
                if found is not None:
                    break
        elif status != SUCCEEDED:
            found = name
        memo[name] = found
        return found

    for terminal in branch.terminals:
        failing = culprit(terminal)
        if failing is not None:
            return FAILED, failing
    return SUCCEEDED, None


# -- deciding ----------------------------------------------------------------------------------------


def _decide_list(
    plan: Plan, state: RunState, container: str | None, branch_name: str, repetition: str, out: list[Command]
) -> None:
    branch = plan.branch_of(container, branch_name)
    if branch is None:
        _list_complete(plan, state, container, repetition, SUCCEEDED, None, out)
        return
    overlay: dict[str, str] = {}
    complete = True
    for name in branch.order:
        status = overlay.get(name) or state.status(name, repetition)
        if status is not None:
            if status not in TERMINAL:
                complete = False
            continue
        ready = True
        allowed_all = True
        for pred, allowed in branch.run_after[name]:
            pred_status = overlay.get(pred) or state.status(pred, repetition)
            if pred_status is None or pred_status not in TERMINAL:
                ready = False
                break
            if pred_status not in allowed:
                allowed_all = False
        if not ready:
            complete = False
        elif allowed_all:
            out.append(StartAction(name, repetition))
            complete = False
        else:
            overlay[name] = SKIPPED
            out.append(SkipAction(name, repetition))
    if complete:
        outcome = list_outcome(branch, state, repetition, overlay)
        if outcome is not None:
            status, failing = outcome
            error = dict(ACTION_FAILED_ERROR, action=failing) if failing is not None else None
            _list_complete(plan, state, container, repetition, status, error, out)


def _list_complete(
    plan: Plan,
    state: RunState,
    container: str | None,
    repetition: str,
    status: str,
    error: JSONObject | None,
    out: list[Command],
) -> None:
    if container is None:
        out.append(CompleteRun(status, error))
        return
    action = plan.action(container)
    if action.type == "Foreach":
        found = last_segment(repetition)
        if found is not None:
            out.append(CompleteIteration(container, parent_key(repetition), found[1], status))
        return
    if action.type == "Until":
        found = last_segment(repetition)
        if found is not None:
            out.append(EvaluateUntil(container, parent_key(repetition), found[1], status))
        return
    if state.status(container, repetition) == RUNNING:
        public_error = {k: v for k, v in (error or {}).items() if k != "action"} or None
        out.append(CompleteAction(container, repetition, status, public_error))


def _advance_foreach(plan: Plan, state: RunState, name: str, repetition: str, out: list[Command]) -> None:
    record = state.records.get((name, repetition))
    if record is None or record.status != RUNNING:
        return
    count = int(record.state.get("count", 0))
    concurrency = max(1, int(record.state.get("concurrency", 1)))
    branch = plan.branch_of(name, "actions")
    done = state.done.get((name, repetition), {})
    admitted = state.admitted.get((name, repetition), 0)
    if branch is None or not branch.order:
        admitted = count
        done = {i: SUCCEEDED for i in range(count)}
    if len(done) >= count and admitted >= count:
        failed = any(s != SUCCEEDED for s in done.values())
        error = dict(ACTION_FAILED_ERROR) if failed else None
        out.append(CompleteAction(name, repetition, FAILED if failed else SUCCEEDED, error))
        return
    active = admitted - len(done)
    while active < concurrency and admitted < count and branch is not None:
        inner = iteration_key(repetition, name, admitted)
        for root in branch.roots:
            out.append(StartAction(root, inner))
        admitted += 1
        active += 1


def open_container(plan: Plan, state: RunState, name: str, repetition: str) -> list[Command]:
    """The container's record is Running with its bookkeeping: start what it holds."""
    out: list[Command] = []
    _open(plan, state, name, repetition, out)
    return out


def _open(plan: Plan, state: RunState, name: str, repetition: str, out: list[Command]) -> None:
    action = plan.action(name)
    record = state.records[(name, repetition)]
    if action.type == "Foreach":
        _advance_foreach(plan, state, name, repetition, out)
    elif action.type == "Until":
        index = int(record.state.get("iteration", 0))
        _decide_list(plan, state, name, "actions", iteration_key(repetition, name, index), out)
    elif action.type == "Scope":
        _decide_list(plan, state, name, "actions", repetition, out)
    else:  # If, Switch
        branch = record.state.get("branch")
        if not isinstance(branch, str) or plan.branch_of(name, branch) is None:
            out.append(CompleteAction(name, repetition, SUCCEEDED))
        else:
            _decide_list(plan, state, name, branch, repetition, out)


def decide_after(plan: Plan, state: RunState, name: str, repetition: str) -> list[Command]:
    """What follows from the record (name, repetition) having changed."""
    out: list[Command] = []
    record = state.records.get((name, repetition))
    if record is None:
        return out
    action = plan.definition.all_actions.get(name)
    if action is None:
        return out
    if record.status == RUNNING:
        if action.type in CONTAINER_TYPES and record.state.get("opened"):
            _open(plan, state, name, repetition, out)
        return out
    container, branch, list_repetition = plan.scope_of(name, repetition)
    _decide_list(plan, state, container, branch, list_repetition, out)
    return out


def decide_after_iteration(plan: Plan, state: RunState, loop: str, repetition: str) -> list[Command]:
    """A Foreach iteration ended (and was noted in `state.done`): admit more, or complete the loop."""
    out: list[Command] = []
    _advance_foreach(plan, state, loop, repetition, out)
    return out


def decide_all(plan: Plan, state: RunState) -> list[Command]:
    """Everything that should happen now, derived from scratch (a new or resumed run)."""
    out: list[Command] = []
    _decide_list(plan, state, None, "actions", "", out)
    for (name, repetition), record in list(state.records.items()):
        action = plan.definition.all_actions.get(name)
        if action is None or record.status != RUNNING or action.type not in CONTAINER_TYPES:
            continue
        if not record.state.get("opened"):
            continue
        if action.type == "Foreach":
            branch = plan.branch_of(name, "actions")
            done = state.done.get((name, repetition), {})
            if branch is not None:
                for index in range(state.admitted.get((name, repetition), 0)):
                    if index not in done:
                        inner = iteration_key(repetition, name, index)
                        _decide_list(plan, state, name, "actions", inner, out)
        _open(plan, state, name, repetition, out)
    return out


def apply_iteration(state: RunState, command: CompleteIteration) -> None:
    """Note an ended Foreach iteration in the derived loop progress."""
    state.done.setdefault((command.loop, command.repetition), {})[command.index] = command.status
