"""A work order's history and state moves: loading an order to change it, checking a move
against the state machine (:func:`plugins.repair.rules.next_status`), writing the history
entry and telling the other plugins (``repair_order_status_changed``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from . import rules
from .inputs import lookup, now_utc
from .models import StatusChange, WorkOrder
from .own_jobs import check_own_job
from .rules import OrderState, Status


def load_order(ctx, order, permission: str) -> WorkOrder:
    """The order, checked for ``permission`` (and, for field work, that it is the user's
    own job: :mod:`plugins.repair.own_jobs`); for a change, re-read and locked
    (``SELECT ... FOR UPDATE`` on PostgreSQL) so that concurrent changes of one order queue
    and each sees the status the other left."""
    order = lookup(ctx, WorkOrder, order, "order", "number")
    ctx.require(f"repair_work_order.{permission}", order)
    check_own_job(ctx, order, permission)  # field work: the order's engineer, or a supervisor
    if permission != "read":
        ctx.session.refresh(order, with_for_update=True)
    return order



def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "value"):
        return value.value
    return value


def record_event(ctx, order: WorkOrder, event: str, from_status, reason: str | None = None,
                 detail: dict | None = None) -> StatusChange:
    """Write one history entry and tell the other plugins."""
    entry = StatusChange(
        order_id=order.id, at=now_utc(ctx), event=event,
        from_status=from_status, to_status=order.status,
        user_id=ctx.user.id if ctx.user else None,
        actor=ctx.user.username if ctx.user else "system", reason=reason,
        detail={k: ([_jsonable(x) for x in v] if isinstance(v, list | tuple) else _jsonable(v))
                for k, v in (detail or {}).items()})
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.hook.repair_order_status_changed(ctx=ctx, order=order, from_status=from_status and
                                         Status(from_status).value,
                                         to_status=Status(order.status).value, event=event,
                                         reason=reason)
    return entry


def check_move(order: WorkOrder, action: str) -> Status:
    """The status ``action`` leads to; raises (changing nothing) when the rules refuse it."""
    return rules.next_status(action, OrderState.of(order))


def move(ctx, order: WorkOrder, event: str, target: Status, reason: str | None = None,
         detail: dict | None = None) -> WorkOrder:
    """Move the order to ``target`` and write the history entry (fields are set already)."""
    before = Status(order.status)
    order.status = target
    ctx.session.flush()
    record_event(ctx, order, event, before, reason, detail)
    return order
