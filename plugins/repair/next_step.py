"""The usual next step of a work order: the button the desk's status bar shows first.

:func:`usual_next` names the action a clerk, supervisor or engineer normally takes next
in the order's state (dispatch a new job, record the arrival of a dispatched one, ...);
:data:`ORDER` puts the rarely used buttons (change details, cancel) after the others.
The actions (:mod:`plugins.repair.actions`) carry both as ``next_for`` and ``order``.
"""

from __future__ import annotations

from .rules import Category, QuoteStatus, ServiceMode, Status

#: where a button goes among the others that are not the next step (default 100)
ORDER = {"edit": 800, "recategorize": 800, "pause": 700, "resume": 150,
         "cancel": 900, "reopen": 900}


def _in_workshop(order) -> bool:
    log = order.unit_log
    return bool(log) and str(getattr(log[-1].direction, "value", log[-1].direction)) \
        == "received"


def _dispatched(order) -> str:
    """The next step of a dispatched order: arrive, diagnose, quote, start (or close
    after a rejected quote)."""
    if ServiceMode(order.service_mode) == ServiceMode.ON_SITE and order.arrived_at is None:
        return "arrive"
    if order.diagnosed_at is None:
        return "diagnose"
    quote = QuoteStatus(order.quote_status or QuoteStatus.NONE)
    if quote == QuoteStatus.REJECTED:
        return "close"
    if Category(order.category) == Category.PAID and quote == QuoteStatus.NONE:
        return "quote"
    return "start"


def usual_next(order) -> str | None:
    """The name of the action usually taken next on ``order`` (None: nothing is due)."""
    status = Status(order.status)
    if status == Status.PENDING:
        return "dispatch"
    if status == Status.DISPATCHED:
        return _dispatched(order)
    if status == Status.READY_FOR_PICKUP:
        return "return_unit" if _in_workshop(order) else "close"
    if status == Status.CLOSED:
        return "audit" if order.audit_result is None else None
    return {Status.QUOTED: "accept_quote", Status.IN_REPAIR: "complete",
            Status.WAITING_PARTS: "start", Status.HARD_TO_REPAIR: "start",
            Status.COMPLETED: "close"}.get(status)


def next_for(name: str):
    """``Action.next_for`` of the action ``name``: true when it is the usual next step."""

    def is_next(order) -> bool:
        return usual_next(order) == name

    return is_next
