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
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, IdMixin, TimestampMixin
from kernel.errors import ValidationError
from kernel.i18n import _

#: years a branch calendar can show or hold days of (the holidays library's range)
MIN_YEAR, MAX_YEAR = 1950, 2100
#: the longest note of a branch day (the column's length)
MAX_NOTE_LENGTH = 200
#: the most working hours a deadline may be asked for (as ``fixdesk calendar deadline``)
MAX_DEADLINE_HOURS = 10000
#: a start as people type it: date, time (seconds optional), an optional UTC offset
LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?",
                            re.ASCII)
#: the longest text of one weekday's hours (``09:00-12:00,13:00-18:00``)
MAX_HOURS_TEXT = 200

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
    """``09:00-12:00,13:00-18:00`` → sorted, non-overlapping intervals ('' or 'closed', also
    translated, → none)."""
    if text.strip().lower() in ("", "closed", _("rest day").lower()):
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
    _changed(ctx.session)


def check_year(year: int) -> int:
    """``year`` if a branch calendar can show it (:data:`MIN_YEAR`..:data:`MAX_YEAR`)."""
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(_("the year must be between {first} and {last}")
                              .format(first=MIN_YEAR, last=MAX_YEAR), field="year")
    return year


def parse_year(text: str) -> int:
    """``"2027"`` → 2027, or a :class:`ValidationError` naming the allowed years."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d{1,4}", text, re.ASCII):
        raise ValidationError(_("the year must be between {first} and {last}")
                              .format(first=MIN_YEAR, last=MAX_YEAR), field="year")
    return check_year(int(text))


def parse_day(text: str) -> dt.date:
    """``"2027-02-06"`` → the date, or a :class:`ValidationError` (no such date, or a year
    outside :data:`MIN_YEAR`..:data:`MAX_YEAR`)."""
    text = (text or "").strip()
    try:
        iso = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII)
        day = dt.date.fromisoformat(text) if iso else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_("expected a date like 2027-02-06, not {text!r}")
                              .format(text=text[:40]), field="day")
    check_year(day.year)
    return day


def clean_note(note: str | None) -> str | None:
    """A branch day's note as stored: trimmed, None when empty; too long notes and control
    characters are refused."""
    if note is None:
        return None
    note = str(note).strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(_("the note must be at most {n} characters")
                              .format(n=MAX_NOTE_LENGTH), field="note")
    if any(unicodedata.category(ch) == "Cc" for ch in note):
        raise ValidationError(_("must not contain control characters"), field="note")
    return note or None


def set_day(ctx, branch, day: dt.date, working: bool | None, note: str | None = None) -> None:
    """Mark ``day`` closed (False) or working (True) at ``branch``; None removes the entry.

    The note is checked by :func:`clean_note`; days outside :data:`MIN_YEAR`..
    :data:`MAX_YEAR` are refused. The row is an ORM row, so the audit trail records it.
    """
    ctx.require("branch.update", branch)
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError(_("expected a date like 2027-02-06, not {text!r}")
                              .format(text=str(day)[:40]), field="day")
    check_year(day.year)
    if working is not None and not isinstance(working, bool):
        raise ValidationError(_("say closed, working or clear"), field="state")
    note = clean_note(note)
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
    _changed(ctx.session)


def weekly_hours(session, branch_id: int) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """weekday (0 = Monday) → its working intervals at the branch (closed days absent)."""
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in session.scalars(select(BranchHours).where(BranchHours.branch_id == branch_id)
                               .order_by(BranchHours.weekday, BranchHours.start)):
        weekly.setdefault(row.weekday, []).append((row.start, row.end))
    return weekly


def special_days(session, branch_id: int) -> list[BranchDay]:
    """The branch's own closed and extra working days, by date."""
    return list(session.scalars(select(BranchDay).where(BranchDay.branch_id == branch_id)
                                .order_by(BranchDay.day)))


#: the memo of calendars read in a transaction (:mod:`kernel.transaction_memo`)
CALENDAR_MEMO = "branch_calendars"


def calendar_for(ctx, branch):
    """The :class:`~kernel.calendar.WorkingCalendar` of ``branch`` (read once per
    transaction: a calendar is immutable)."""
    from kernel.calendar import WorkingCalendar
    from kernel.transaction_memo import memo

    calendars = memo(ctx.session, CALENDAR_MEMO)
    found = calendars.get(branch.id)
    if found is None or found.tz != ctx.settings.tz:
        found = calendars[branch.id] = WorkingCalendar(
            tz=ctx.settings.tz,
            weekly=weekly_hours(ctx.session, branch.id),
            overrides={d.day: d.working for d in special_days(ctx.session, branch.id)},
        )
    return found


def _changed(session) -> None:
    from kernel.transaction_memo import forget

    forget(session, CALENDAR_MEMO)


def add_working_hours(ctx, start: dt.datetime, hours, branch) -> dt.datetime:
    """The instant ``hours`` working hours after ``start`` at ``branch``."""
    return calendar_for(ctx, branch).add_working_hours(start, hours)


def working_hours_between(ctx, a: dt.datetime, b: dt.datetime, branch) -> dt.timedelta:
    """Working time at ``branch`` between two instants."""
    return calendar_for(ctx, branch).working_hours_between(a, b)


def format_intervals(intervals) -> str:
    """Intervals as people type them: ``09:00-12:00,13:00-18:00`` (empty when closed)."""
    return ",".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in intervals)


class HoursError(ValidationError):
    """Some weekdays' hours are malformed: ``errors`` maps each (0 = Monday) to its message."""

    def __init__(self, errors: dict[int, str]):
        first = min(errors)
        super().__init__(errors[first], field=DAY_NAMES[first])
        self.errors = errors


def set_week(ctx, branch, texts: Mapping[int, str]) -> list[int]:
    """Set the hours of several weekdays at once from text (weekday → ``09:00-12:00,...``,
    empty or ``closed`` for a closed day), as ``fixdesk calendar hours --set`` does one by one.

    Every text is checked first: if any is malformed, :class:`HoursError` names each bad
    weekday and nothing changes. Returns the weekdays whose hours changed (the others are
    left untouched, so the audit trail records real changes only).
    """
    ctx.require("branch.update", branch)
    parsed: dict[int, list[tuple[dt.time, dt.time]]] = {}
    errors: dict[int, str] = {}
    for weekday, text in texts.items():
        if isinstance(weekday, bool) or weekday not in range(7):
            raise ValidationError(_("no such weekday: {day!r}").format(day=weekday), field="days")
        text = text if isinstance(text, str) else ""
        try:
            if len(text) > MAX_HOURS_TEXT:
                raise ValidationError(_("at most {n} characters").format(n=MAX_HOURS_TEXT),
                                      field="hours")
            parsed[weekday] = parse_intervals(text)
        except ValidationError as exc:
            errors[weekday] = exc.message
    if errors:
        raise HoursError(errors)
    current = weekly_hours(ctx.session, branch.id)
    changed = [day for day, intervals in sorted(parsed.items())
               if intervals != current.get(day, [])]
    for day in changed:
        set_hours(ctx, branch, [day], parsed[day])
    return changed


def parse_amount(text) -> Decimal:
    """A number of working hours for a deadline (``6``, ``7.5``): not negative, at most
    :data:`MAX_DEADLINE_HOURS`; anything else is a :class:`ValidationError`."""
    problem = ValidationError(_("working hours must be a number from 0 to {most}")
                              .format(most=MAX_DEADLINE_HOURS), field="hours")
    if isinstance(text, bool):
        raise problem
    try:
        amount = Decimal(str(text).strip()[:40])
    except InvalidOperation:
        raise problem from None
    if not amount.is_finite() or not 0 <= amount <= MAX_DEADLINE_HOURS:
        raise problem
    return amount


def local_datetime(text: str, tz) -> dt.datetime:
    """``2027-02-05 16:00`` (or ``2027-02-05T16:00``), local time in ``tz`` unless it says
    its offset; a :class:`ValidationError` for anything else or a year out of range."""
    text = (text or "").strip()
    try:
        value = dt.datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None or not LOCAL_DATETIME.fullmatch(text):
        raise ValidationError(_("expected a date and time like 2026-05-29 16:00, not {text!r}")
                              .format(text=text[:40]), field="start")
    check_year(value.year)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def deadline(ctx, branch, start: dt.datetime, hours) -> dt.datetime:
    """When ``hours`` working hours after ``start`` are up at ``branch``, in the site's
    time zone (``fixdesk calendar deadline`` and the admin console's calculator).

    ``start`` may be naive (read as local time); ``hours`` is checked by
    :func:`parse_amount`. A calendar without working time for a year is a
    :class:`ValidationError`.
    """
    ctx.require("branch.read", branch)
    amount = parse_amount(hours)
    tz = ctx.settings.tz
    if start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    try:
        local = start.astimezone(tz)
    except OverflowError:  # 9999-12-31 23:00-14:00 is in year 10000 anywhere east
        local = None
    check_year(local.year if local is not None else 0)
    try:
        return add_working_hours(ctx, start, amount, branch).astimezone(tz)
    except (ValueError, OverflowError) as exc:
        raise ValidationError(_("no working time found: check the branch's working hours "
                                "and closed days"), field="hours") from exc


#: what a day is at a branch, in the order a legend lists them
DAY_KINDS = ("working", "weekend", "holiday", "makeup", "closed", "extra")


@dataclass(frozen=True)
class DayView:
    """One date of a branch's calendar as the year view shows it.

    ``kind``: ``working`` (its weekday has hours), ``weekend`` (it has none), ``holiday``
    (a public holiday), ``makeup`` (an official make-up working day, 调休), ``closed`` /
    ``extra`` (the branch's own closed or extra working day, which wins). ``official``:
    the public calendar's verdict (:func:`kernel.calendar.china_day_status`), ``holiday``
    the holiday's name, ``note`` the branch's note, ``hours`` the working intervals.
    """

    day: dt.date
    kind: str
    official: bool | None
    holiday: str | None
    own: bool | None
    note: str | None
    hours: str


@dataclass(frozen=True)
class MonthView:
    """A month of the year view: weeks of seven cells, Monday first (None: another month)."""

    year: int
    month: int
    weeks: list[list[DayView | None]]


def _day_view(cal, own: BranchDay | None, day: dt.date, names) -> DayView:
    from kernel.calendar import china_day_status

    official = china_day_status(day)
    if own is not None:
        kind = "extra" if own.working else "closed"
    elif official is not None:
        kind = "makeup" if official else "holiday"
    else:
        kind = "working" if day.weekday() in cal.weekly else "weekend"
    hours = format_intervals((a.time(), b.time()) for a, b in cal.intervals(day))
    return DayView(day=day, kind=kind, official=official, holiday=names.get(day),
                   own=None if own is None else own.working,
                   note=None if own is None else own.note, hours=hours)


def day_view(ctx, branch, day: dt.date, language: str = "en") -> DayView:
    """What ``day`` is at ``branch`` (see :class:`DayView`); holiday names in ``language``."""
    from kernel.calendar import china_holiday_names

    ctx.require("branch.read", branch)
    check_year(day.year)
    own = ctx.session.scalar(select(BranchDay).where(BranchDay.branch_id == branch.id,
                                                     BranchDay.day == day))
    return _day_view(calendar_for(ctx, branch), own, day,
                     china_holiday_names(day.year, language))


def year_view(ctx, branch, year: int, language: str = "en") -> list[MonthView]:
    """The twelve months of ``year`` at ``branch``, each day a :class:`DayView`: what the
    admin console's year calendar draws. Holiday names in ``language``."""
    from kernel.calendar import china_holiday_names

    ctx.require("branch.read", branch)
    check_year(year)
    cal = calendar_for(ctx, branch)
    own = {row.day: row for row in special_days(ctx.session, branch.id) if row.day.year == year}
    names = china_holiday_names(year, language)
    months = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        cells: list[DayView | None] = [None] * first.weekday()
        day = first
        while day.month == month:
            cells.append(_day_view(cal, own.get(day), day, names))
            day += dt.timedelta(days=1)
        cells += [None] * (-len(cells) % 7)
        months.append(MonthView(year=year, month=month,
                                weeks=[cells[i:i + 7] for i in range(0, len(cells), 7)]))
    return months
