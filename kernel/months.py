"""Calendar months as reports and periodic jobs name them: ``2026-11``, its first and last
day, a month so many months away."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from kernel.errors import ValidationError
from kernel.i18n import _

MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (the 31st becomes the month's last)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_month(raw, field: str = "month") -> dt.date:
    """The first day of the month ``raw`` names: a date (any day of it) or ``2026-11``;
    :class:`kernel.ValidationError` on ``field`` otherwise."""
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return month_start(raw)
    found = MONTH.match(str(raw or ""))
    if found and 1900 <= int(found.group(1)) <= 9999 and 1 <= int(found.group(2)) <= 12:
        return dt.date(int(found.group(1)), int(found.group(2)), 1)
    raise ValidationError(_("must be a month like 2026-11"), field=field)
