"""The Wait (Delay / Delay until) action: waits on the engine's injected clock, never on the wall clock."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import evaluate, guarded, json_type, require_object, succeeded, template_failure
from pairflow.jsontypes import JSON

UNIT_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0, "week": 604800.0}


@executor("Wait")
@guarded
async def wait(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    now = ctx.now()
    if "interval" in inputs:
        interval = require_object(inputs["interval"], "'interval' value", action)
        seconds = _interval_seconds(action, interval.get("count"), interval.get("unit"), now)
    elif "until" in inputs:
        until = require_object(inputs["until"], "'until' value", action)
        seconds = (_timestamp(action, until.get("timestamp")) - now).total_seconds()
    else:
        raise template_failure(
            action, "The Wait action inputs must have an 'interval' or an 'until' property."
        )
    if seconds > 0:
        await ctx.sleep(seconds)
    return succeeded(inputs=inputs)


def _interval_seconds(action: str, count: JSON, unit: JSON, now: datetime) -> float:
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise template_failure(
            action,
            f"The interval 'count' must be a non-negative integer, not a value of type '{json_type(count)}'.",
        )
    name = unit.lower() if isinstance(unit, str) else ""
    if name == "month":
        return (_add_months(now, count) - now).total_seconds()
    if name not in UNIT_SECONDS:
        raise template_failure(
            action, f"The interval unit '{unit}' is not one of 'Second, Minute, Hour, Day, Week, Month'."
        )
    return count * UNIT_SECONDS[name]


def _add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamping the day (31 January + 1 month is the last day of February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _timestamp(action: str, value: JSON) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise template_failure(action, f"The 'until' timestamp '{value}' is not an ISO 8601 date and time.")
