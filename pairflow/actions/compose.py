"""The Compose action: its outputs are its evaluated inputs, whatever their shape."""

from __future__ import annotations

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import evaluate, guarded, succeeded


@executor("Compose")
@guarded
async def compose(ctx: ActionContext) -> ActionResult:
    """`outputs('Compose')` is the composed value itself (no body wrapper), as in Logic Apps."""
    value = evaluate(ctx, ctx.action.inputs)
    return succeeded(inputs=value, outputs=value)
