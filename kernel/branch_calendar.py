"""Each branch's working hours and its own closed or extra working days, in the database.

The arithmetic lives in :mod:`kernel.calendar`; this module stores what an admin
configures and builds a branch's :class:`~kernel.calendar.WorkingCalendar`.
A new branch starts with Mon–Fri 09:00–12:00 and 13:00–18:00. Days an admin
enters (when the State Council announces a new year's holidays and make-up
workdays) win over the ``holidays`` library.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, IdMixin, TimestampMixin
from kernel.errors import ValidationError
from kernel.i18n import _

DEFAULT_HOURS = [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))]
DEFAULT_WEEKDAYS = range(5)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BranchHours(IdMixin, TimestampMixin, Base):
    """One working interval of one weekday at one branch."""

    __tablename__ = "branch_hours"
    __expose__ = False  # managed by its own commands, not the generic API

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[dt.time] = mapped_column(Time)
    end: Mapped[dt.time] = mapped_column(Time)


class BranchDay(IdMixin, TimestampMixin, Base):
    """A date on which a branch is closed, or works although it normally would not."""

    __tablename__ = "branch_day"
    __expose__ = False  # managed by its own commands, not the generic API
    __table_args__ = (UniqueConstraint("branch_id", "day"),)

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))


CALENDAR_ENTITIES = [BranchHours, BranchDay]


def default_hours(branch_id: int) -> list[BranchHours]:
    """The hours a new branch starts with."""
    return [BranchHours(branch_id=branch_id, weekday=day, start=start, end=end)
            for day in DEFAULT_WEEKDAYS for start, end in DEFAULT_HOURS]


def parse_days(text: str) -> list[int]:
    """``mon-fri``, ``sat``, ``mon,wed,fri`` → weekday numbers."""
    days: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if not all(e in DAY_NAMES for e in ends) or len(ends) > 2:
            raise ValidationError(_("days must be like mon-fri or sat,sun, not {text!r}")
                                  .format(text=text), field="days")
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.extend(range(first, last + 1))
    return sorted(set(days))


def parse_intervals(text: str) -> list[tuple[dt.time, dt.time]]:
    """``09:00-12:00,13:00-18:00`` → sorted, non-overlapping intervals ('' or 'closed' → none)."""
    if text.strip().lower() in ("", "closed"):
        return []
    intervals = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{1,2}:\d{2})-(\d{1,2}:\d{2})", part)
        try:
            start, end = (dt.time.fromisoformat(t.zfill(5)) for t in match.groups())
        except (AttributeError, ValueError):
            start = end = None
        if start is None or start >= end:
            raise ValidationError(_("hours must be like 09:00-12:00,13:00-18:00, not {text!r}")
                                  .format(text=text), field="hours")
        intervals.append((start, end))
    intervals.sort()
    for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
        if s2 < e1:
            raise ValidationError(_("working intervals overlap: {text!r}").format(text=text),
                                  field="hours")
    return intervals


def set_hours(ctx, branch, days: list[int], intervals: list[tuple[dt.time, dt.time]]) -> None:
    """Replace the working intervals of ``days`` at ``branch``."""
    ctx.require("branch.update", branch)
    for row in ctx.session.scalars(select(BranchHours).where(
            BranchHours.branch_id == branch.id, BranchHours.weekday.in_(days))):
        ctx.session.delete(row)
    for day in days:
        for start, end in intervals:
            ctx.session.add(BranchHours(branch_id=branch.id, weekday=day, start=start, end=end))
    ctx.session.flush()


def set_day(ctx, branch, day: dt.date, working: bool | None, note: str | None = None) -> None:
    """Mark ``day`` closed (False) or working (True) at ``branch``; None removes the entry."""
    ctx.require("branch.update", branch)
    row = ctx.session.scalar(select(BranchDay).where(BranchDay.branch_id == branch.id,
                                                     BranchDay.day == day))
    if working is None:
        if row is not None:
            ctx.session.delete(row)
    else:
        row = row or BranchDay(branch_id=branch.id, day=day)
        row.working, row.note = working, note
        ctx.session.add(row)
    ctx.session.flush()


def weekly_hours(session, branch_id: int) -> dict[int, list[tuple[dt.time, dt.time]]]:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in session.scalars(select(BranchHours).where(BranchHours.branch_id == branch_id)
                               .order_by(BranchHours.weekday, BranchHours.start)):
        weekly.setdefault(row.weekday, []).append((row.start, row.end))
    return weekly


def special_days(session, branch_id: int) -> list[BranchDay]:
    return list(session.scalars(select(BranchDay).where(BranchDay.branch_id == branch_id)
                                .order_by(BranchDay.day)))


def calendar_for(ctx, branch):
    """The :class:`~kernel.calendar.WorkingCalendar` of ``branch``."""
    from kernel.calendar import WorkingCalendar

    return WorkingCalendar(
        tz=ctx.settings.tz,
        weekly=weekly_hours(ctx.session, branch.id),
        overrides={d.day: d.working for d in special_days(ctx.session, branch.id)},
    )


def add_working_hours(ctx, start: dt.datetime, hours, branch) -> dt.datetime:
    """The instant ``hours`` working hours after ``start`` at ``branch``."""
    return calendar_for(ctx, branch).add_working_hours(start, hours)


def working_hours_between(ctx, a: dt.datetime, b: dt.datetime, branch) -> dt.timedelta:
    """Working time at ``branch`` between two instants."""
    return calendar_for(ctx, branch).working_hours_between(a, b)
