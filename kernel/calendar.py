"""Business-hour arithmetic: working days, working intervals, deadlines (rule R6).

A :class:`WorkingCalendar` is a pure value: the branch's time zone, its weekly
working hours, its own override days and whether mainland China's public holidays
and official make-up workdays (调休) apply. It knows nothing about the database;
whoever loads a branch's schedule builds one and calls it::

    cal = WorkingCalendar.default(ZoneInfo("Asia/Shanghai"))
    deadline = cal.add_working_hours(reported_at, 7)      # R6, suburban

Which days are working days, first rule that applies wins:

1. ``overrides[day]`` (the branch's own calendar): ``True`` working, ``False`` closed;
2. the ``holidays`` package (when ``country_holidays``) lists the day as a public
   holiday (including its substituted days off) → closed;
3. the day is an official make-up workday (``weekend_workdays``) → working;
4. otherwise the day works when ``weekly`` has intervals for its weekday.

Working hours of a working day: ``weekly[weekday]`` when it has intervals; otherwise
(a make-up workday or an override working day that falls on a day the branch does not
normally work, typically Saturday or Sunday) the hours of a *regular workday*: the
intervals of the first weekday Monday..Friday (0..4) that has any. A branch that works
no weekday at all falls back to Saturday's, then Sunday's hours; with no hours in
``weekly`` at all, the day has no working time (``intervals()`` returns ``[]`` although
``is_working_day()`` is true).

Conventions:

* Interval times are local wall-clock times in ``tz``. ``time(0, 0)`` as the *end* of
  an interval means midnight at the end of the day (24:00), so ``(time(0), time(0))``
  is a whole day. Arithmetic is done on real instants (UTC), so a day on which
  daylight-saving time starts or ends has one hour less or more of working time if
  its intervals span the change. A wall time that does not exist (in a DST gap) is
  read as PEP 495 ``fold=0`` does: shifted forward by the length of the gap.
* Intervals are half-open ``[start, end)``: a moment exactly at an interval's end is
  outside it, so counting from 12:00 or 18:00 starts at the next interval.
* ``add_working_hours(start, 0)`` returns ``start`` itself (converted to ``tz``),
  even when ``start`` is outside working time: nothing is to be worked, so the
  deadline is the start. Call :meth:`WorkingCalendar.next_working_moment` first if
  you want the beginning of the next working time instead.
* A deadline that uses up an interval exactly ends at that interval's end (Friday
  18:00), not at the start of the next one.
* Closed days are skipped a whole day at a time. A search that finds no working time
  for more than :data:`MAX_IDLE_DAYS` consecutive days raises :class:`ValueError`.
* Half-day holidays (Women's Day, Youth Day, ...) are not used: only the library's
  ``PUBLIC`` category. For years the State Council has not announced yet the library
  estimates the holidays (fixed dates plus "observed" days, no make-up workdays);
  branch admins correct those with ``overrides``.
* A regular weekend day inside a holiday block (e.g. Sunday 2026-10-04) is not a
  holiday in the library, only a weekend: a branch that works Sundays must close it
  with an override.

Invalid input (naive datetimes, negative hours, malformed schedules) raises
:class:`ValueError`; these are programming errors, not user messages. So does a
computation that would leave the range of :class:`datetime.datetime` (years 1 to 9999),
e.g. a huge number of hours or a start on 9999-12-31: never :class:`OverflowError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["MAX_IDLE_DAYS", "WorkingCalendar", "china_day_status", "china_holiday_names"]

#: consecutive days without any working time after which a search gives up
MAX_IDLE_DAYS = 366

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MIDNIGHT = time(0, 0)

Interval = tuple[time, time]


class _FrozenMap(Mapping):
    """A read-only, hashable copy of a mapping (so a calendar can be a cache key)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping) -> None:
        self._data = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return repr(self._data)


@lru_cache(maxsize=64)
def _china_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up workdays) the ``holidays`` package knows for ``year``.

    The make-up set may contain dates of other years (a make-up day in late December
    that belongs to the next year's New Year holiday); that is harmless, lookups are
    by date.
    """
    import holidays  # imported lazily: the CLI's start-up stays light

    cn = holidays.China(years=year)
    return frozenset(cn.keys()), frozenset(cn.weekend_workdays)


def china_day_status(day: date) -> bool | None:
    """Mainland China's verdict on ``day``: ``False`` public holiday (or substituted day
    off), ``True`` official make-up workday (调休), ``None`` an ordinary day."""
    if day in _china_year(day.year)[0]:
        return False
    # a make-up workday is listed with the year whose holiday it pays for
    if day in _china_year(day.year)[1] or day in _china_year(day.year + 1)[1]:
        return True
    return None


@lru_cache(maxsize=32)
def china_holiday_names(year: int, language: str = "en") -> Mapping[date, str]:
    """Mainland China's public holidays of ``year`` (the days :func:`china_day_status`
    calls ``False``) with their names, in Chinese when ``language`` is ``zh...``, else in
    English (春节 / Chinese New Year (Spring Festival))."""
    import holidays

    code = "zh_CN" if language.lower().startswith("zh") else "en_US"
    return _FrozenMap(holidays.China(years=year, language=code))


def _check_intervals(weekday: int, intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    result: list[Interval] = []
    previous_end: time | None = None
    for item in intervals:
        try:
            start, end = item
        except (TypeError, ValueError):
            raise ValueError(f"weekly[{weekday}]: {item!r} is not a (start, end) pair") from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"weekly[{weekday}]: {item!r} must hold two datetime.time values")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"weekly[{weekday}]: times must be naive wall times in tz")
        if previous_end == _MIDNIGHT:
            raise ValueError(f"weekly[{weekday}]: nothing may follow an interval ending at 24:00")
        if end != _MIDNIGHT and not start < end:
            raise ValueError(f"weekly[{weekday}]: interval {start}-{end} is empty or reversed")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"weekly[{weekday}]: intervals must be sorted and not overlap")
        result.append((start, end))
        previous_end = end
    return tuple(result)


def _to_timedelta(hours: float | int | Decimal | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        amount = hours
    elif isinstance(hours, bool) or not isinstance(hours, int | float | Decimal):
        raise ValueError(f"hours must be a number or a timedelta, not {hours!r}")
    elif isinstance(hours, Decimal):
        if not hours.is_finite():
            raise ValueError(f"hours must be finite, not {hours!r}")
        try:
            micros = (hours * 3_600_000_000).to_integral_value()
            amount = timedelta(microseconds=int(micros))
        except (InvalidOperation, OverflowError):
            raise ValueError(f"hours out of range: {hours!r}") from None
    else:
        if not math.isfinite(hours):
            raise ValueError(f"hours must be finite, not {hours!r}")
        try:
            amount = timedelta(hours=hours)
        except OverflowError:
            raise ValueError(f"hours out of range: {hours!r}") from None
    if amount < _ZERO:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return amount


@contextmanager
def _in_range():
    """Turn an :class:`OverflowError` (a date beyond year 9999 or before year 1) into the
    :class:`ValueError` every bad input raises here."""
    try:
        yield
    except OverflowError as exc:
        raise ValueError(f"outside the dates a calendar can reach (years 1 to 9999): {exc}") \
            from exc


def _require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


@dataclass(frozen=True)
class WorkingCalendar:
    """A branch's working time. See the module docstring for the rules.

    ``tz``: the site's time zone (a ``ZoneInfo``; a zone name is accepted too).
    ``weekly``: weekday (0 = Monday .. 6 = Sunday) → sorted, non-overlapping
    ``(start, end)`` wall times; a missing or empty weekday is closed.
    ``overrides``: the branch's own days, ``True`` working / ``False`` closed; they win
    over the public-holiday library. ``country_holidays``: apply mainland China's public
    holidays and make-up workdays.

    The mappings are copied on construction (later changes to the caller's dicts do not
    leak in; empty weekdays are dropped); the calendar is immutable, hashable and safe
    to share between threads.
    """

    tz: ZoneInfo
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    overrides: Mapping[date, bool] = field(default_factory=dict)
    country_holidays: bool = True

    def __post_init__(self) -> None:
        tz = self.tz
        if isinstance(tz, str):
            tz = ZoneInfo(tz)
        if not isinstance(tz, tzinfo):
            raise ValueError(f"tz must be a ZoneInfo, not {self.tz!r}")
        weekly: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in dict(self.weekly).items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekly: weekday must be 0 (Monday) .. 6 (Sunday), not "
                                 f"{weekday!r}")
            checked = _check_intervals(weekday, intervals or ())
            if checked:
                weekly[weekday] = checked
        overrides: dict[date, bool] = {}
        for day, working in dict(self.overrides).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"overrides: keys must be dates, not {day!r}")
            if not isinstance(working, bool):
                raise ValueError(f"overrides[{day}]: must be True or False, not {working!r}")
            overrides[day] = working
        object.__setattr__(self, "tz", tz)
        object.__setattr__(self, "weekly", _FrozenMap(weekly))
        object.__setattr__(self, "overrides", _FrozenMap(overrides))

    @classmethod
    def default(cls, tz: ZoneInfo | str) -> WorkingCalendar:
        """Monday–Friday 09:00–12:00 and 13:00–18:00, China's holidays, no overrides."""
        day = ((time(9), time(12)), (time(13), time(18)))
        return cls(tz=tz, weekly={weekday: day for weekday in range(5)})

    # -- days -----------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (override, then holidays library, then weekly)."""
        if isinstance(day, datetime):
            raise ValueError(f"is_working_day takes a date, not a datetime: {day!r}")
        override = self.overrides.get(day)
        if override is not None:
            return override
        if self.country_holidays:
            status = china_day_status(day)
            if status is not None:
                return status
        return day.weekday() in self.weekly

    def _regular_hours(self) -> tuple[Interval, ...]:
        """The hours of a regular workday: the first of Monday..Friday that has any
        (then Saturday, Sunday)."""
        for weekday in range(7):
            if weekday in self.weekly:
                return tuple(self.weekly[weekday])
        return ()

    def _hours(self, day: date) -> tuple[Interval, ...]:
        if not self.is_working_day(day):
            return ()
        own = self.weekly.get(day.weekday())
        return tuple(own) if own else self._regular_hours()

    def _wall(self, day: date, at: time) -> datetime:
        """The instant (UTC) of wall time ``at`` on ``day`` in ``tz``."""
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def _utc_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        result = []
        for start, end in self._hours(day):
            end_day = day + _ONE_DAY if end == _MIDNIGHT else day
            utc_start, utc_end = self._wall(day, start), self._wall(end_day, end)
            if utc_start < utc_end:  # a DST gap may swallow a tiny interval
                result.append((utc_start, utc_end))
        return result

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of ``day`` as aware datetimes in ``tz``; ``[]`` if closed."""
        with _in_range():
            return [(s.astimezone(self.tz), e.astimezone(self.tz))
                    for s, e in self._utc_intervals(day)]

    # -- instants -------------------------------------------------------------

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """UTC intervals that end after ``moment`` (UTC), in order, clipped to start no
        earlier than ``moment``. Raises ValueError after MAX_IDLE_DAYS days without any."""
        day = moment.astimezone(self.tz).date()
        idle = 0
        while True:
            found = False
            for start, end in self._utc_intervals(day):
                if end <= moment:
                    continue
                found = True
                yield max(start, moment), end
            if found:
                idle = 0
            else:
                idle += 1
                if idle > MAX_IDLE_DAYS:
                    raise ValueError(
                        f"no working time in the {MAX_IDLE_DAYS} days up to {day.isoformat()}; "
                        "check the branch's working hours and override days")
            day += _ONE_DAY

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is inside working time, else the start of the next
        working interval (a moment exactly at an interval's end is outside it)."""
        with _in_range():
            now = _require_aware(moment, "moment").astimezone(UTC)
            start, _ = next(self._intervals_from(now))
            return start.astimezone(self.tz)

    def add_working_hours(self, start: datetime,
                          hours: float | Decimal | timedelta) -> datetime:
        """The instant after ``hours`` of working time counted from ``start``.

        ``start`` must be aware (any time zone); the result is in ``tz``. ``hours`` is a
        number of hours (``int``, ``float``, ``Decimal``) or a ``timedelta``, not negative.
        Zero returns ``start`` unchanged (see the module docstring).
        """
        with _in_range():
            begin = _require_aware(start, "start").astimezone(UTC)
            remaining = _to_timedelta(hours)
            if remaining == _ZERO:
                return begin.astimezone(self.tz)
            for interval_start, interval_end in self._intervals_from(begin):
                available = interval_end - interval_start
                if remaining <= available:
                    return (interval_start + remaining).astimezone(self.tz)
                remaining -= available
        raise AssertionError("unreachable: _intervals_from is endless or raises")

    def working_hours_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time between the instants ``a`` and ``b``; negative if ``b < a``."""
        with _in_range():
            lo = _require_aware(a, "a").astimezone(UTC)
            hi = _require_aware(b, "b").astimezone(UTC)
            if hi < lo:
                return -self.working_hours_between(b, a)
            total = _ZERO
            day = lo.astimezone(self.tz).date()
            last = hi.astimezone(self.tz).date()
            while day <= last:
                for start, end in self._utc_intervals(day):
                    overlap = min(end, hi) - max(start, lo)
                    if overlap > _ZERO:
                        total += overlap
                day += _ONE_DAY
            return total
