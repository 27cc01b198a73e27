"""Human-readable tables of runs and actions, drawn from the stable run view (pairflow.engine.view)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

OUTPUT_PREVIEW = 60  # characters of an action's outputs shown in a table cell


def _duration_ms(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    try:
        delta = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(
            start.replace("Z", "+00:00")
        )
    except ValueError:
        return ""
    ms = delta.total_seconds() * 1000
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def _preview(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= OUTPUT_PREVIEW else text[: OUTPUT_PREVIEW - 1] + "…"


def _action_rows(actions: dict[str, Any], depth: int, rows: list[tuple[str, ...]]) -> None:
    for name, action in actions.items():
        repetitions = action.get("repetitions") or []
        label = "  " * depth + name + (f" ×{len(repetitions)}" if repetitions else "")
        shown = action.get("outputs")
        if action.get("error") and action.get("status") != "Succeeded":
            shown = action["error"].get("message") if isinstance(action["error"], dict) else action["error"]
        rows.append(
            (
                label,
                str(action.get("status", "")),
                _duration_ms(action.get("startTime"), action.get("endTime")),
                str(action.get("attempts", "")),
                _preview(shown),
            )
        )
        nested = action.get("actions")
        if isinstance(nested, dict) and nested:
            _action_rows(nested, depth + 1, rows)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [
        max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
        for i in range(len(header))
    ]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header)).rstrip()]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines)


def render_run(view: dict[str, Any]) -> str:
    took = _duration_ms(view.get("startTime"), view.get("endTime"))
    head = f"run {view['id']} of {view.get('workflow')} (version {view.get('version')}): {view['status']}"
    if took:
        head += f" in {took}"
    rows: list[tuple[str, ...]] = []
    _action_rows(view.get("actions") or {}, 0, rows)
    parts = [head, "", _table(("ACTION", "STATUS", "DURATION", "ATTEMPTS", "OUTPUTS"), rows)]
    error = view.get("error")
    if error:
        parts += [
            "",
            f"error: {error.get('code', '')}: {error.get('message', '')}"
            if isinstance(error, dict)
            else f"error: {error}",
        ]
    response = view.get("response")
    if response:
        parts += ["", f"response: {response.get('statusCode')} {_preview(response.get('body'))}"]
    outputs = view.get("outputs")
    if outputs:
        parts += ["", "outputs:"] + [f"  {name} = {_preview(value)}" for name, value in outputs.items()]
    return "\n".join(parts)


def render_runs(summaries: Sequence[dict[str, Any]]) -> str:
    """A table of run summaries (pairflow.engine.view.run_summary), local or from a location."""
    if not summaries:
        return "no runs"
    rows = [
        (
            str(r["id"]),
            str(r["workflow"]),
            str(r["version"]),
            str(r["status"]),
            str(r.get("startTime") or "")[:19].replace("T", " "),
            _duration_ms(r.get("startTime"), r.get("endTime")),
        )
        for r in summaries
    ]
    return _table(("RUN", "WORKFLOW", "VERSION", "STATUS", "STARTED (UTC)", "DURATION"), rows)
