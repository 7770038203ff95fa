"""A work order's steps on its timeline: registration, each status change, dispatch,
pauses, arrival, reviews, reopening (``repair_status_change``), with who, why and the
status before and after."""

from __future__ import annotations

from sqlalchemy import select

from kernel import TimelineEvent
from kernel.i18n import N_, _

from .documents import EVENT_NAMES
from .models import StatusChange

STATUS = N_("Status")


def status_events(ctx, order, before, limit: int) -> list[TimelineEvent]:
    """The history entries of ``order`` older than ``before``, newest first, at most
    ``limit`` (one query)."""
    query = select(StatusChange).where(StatusChange.order_id == order.id)
    if before is not None:
        query = query.where(StatusChange.at < before)
    rows = ctx.session.scalars(query.order_by(StatusChange.at.desc(), StatusChange.id.desc())
                               .limit(limit))
    events = []
    for row in rows:
        before_status = str(row.from_status) if row.from_status else None
        after_status = str(row.to_status)
        changes = ((_(STATUS), _(before_status) if before_status else "", _(after_status)),) \
            if before_status != after_status else ()
        events.append(TimelineEvent(
            at=row.at, kind="status", title=_(EVENT_NAMES.get(row.event, row.event)),
            actor=row.actor, user_id=row.user_id, text=row.reason, changes=changes,
            data={"event": row.event}))
    return events
