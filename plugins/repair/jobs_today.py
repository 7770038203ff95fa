"""An engineer's jobs of a day, for his phone page (``/desk/repair/phone``).

His open jobs — dispatched to him and not repaired yet — with an appointment that day or
earlier (yesterday's come first in the morning) or none, and the jobs he completed that
day (the customer may still sign the voucher), in appointment order: booked times first,
then urgent jobs, the nearest deadline and the oldest report. One query, with the
customer and machine loaded alongside (no query per job).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from .models import WorkOrder
from .rules import Status

#: the statuses of a job still to be worked on in the field
TO_DO = (Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR, Status.WAITING_PARTS,
         Status.HARD_TO_REPAIR)


def day_bounds(ctx, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The start of ``day`` and of the next one in the site's time zone, in UTC."""
    tz = ctx.settings.tz
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def today(ctx) -> dt.date:
    """Today in the site's time zone."""
    return ctx.now().astimezone(ctx.settings.tz).date()


def jobs_of(ctx, employee_id: int, day: dt.date, limit: int = 100) -> list[WorkOrder]:
    """The jobs of engineer ``employee_id`` on ``day`` (see the module's text), among the
    orders the user may see."""
    start, end = day_bounds(ctx, day)
    to_do = and_(WorkOrder.status.in_(TO_DO),
                 or_(WorkOrder.appointment_at.is_(None), WorkOrder.appointment_at < end))
    done = and_(WorkOrder.completed_at >= start, WorkOrder.completed_at < end,
                WorkOrder.status != Status.CANCELLED)
    query = (select(WorkOrder)
             .where(WorkOrder.engineer_id == employee_id, or_(to_do, done))
             .options(selectinload(WorkOrder.customer), selectinload(WorkOrder.equipment))
             .order_by(WorkOrder.appointment_at.is_(None), WorkOrder.appointment_at,
                       WorkOrder.urgent.desc(), WorkOrder.deadline_at.is_(None),
                       WorkOrder.deadline_at, WorkOrder.reported_at, WorkOrder.id)
             .limit(limit))
    return [order for order in ctx.session.scalars(query) if ctx.can_see(order)]


def is_done(order: WorkOrder) -> bool:
    """Whether the field work on ``order`` is over (repaired, or closed)."""
    return Status(order.status) not in TO_DO


def tel_url(phone: str | None) -> str | None:
    """A ``tel:`` link for ``phone`` (digits and a leading +), None without a number."""
    if not phone:
        return None
    digits = re.sub(r"[^\d+]", "", phone)
    digits = digits[:1] + digits[1:].replace("+", "")
    return f"tel:{digits}" if re.search(r"\d", digits) else None


def map_url(ctx, address: str | None) -> str | None:
    """The link that opens ``address`` in the phone's map app: the site's
    ``repair.map_url`` with ``{address}`` filled in (default a ``geo:`` URI)."""
    if not address:
        return None
    return str(ctx.setting("repair.map_url")).replace("{address}", quote(address, safe=""))
