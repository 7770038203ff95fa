"""Dates relative to the moment a filter runs: ``now``, ``today``, ``today+1``, ``today-7``.

A list filter or API filter on a date or date-time field may name a day relative to today
in the site's time zone, so that a link ("overdue: deadline before now", "due today:
deadline from today to today+1") or a saved filter means the same thing every day. For a
date-time field ``today`` is the start of the day (00:00 in the site's zone) and ``now``
the instant; for a date field both are the date.
"""

from __future__ import annotations

import datetime as dt
import re

_RELATIVE = re.compile(r"^\s*(now|today)\s*(?:([+-])\s*(\d{1,4}))?\s*$", re.I)


def resolve(text: str, kind: str, now: dt.datetime, tz) -> dt.date | dt.datetime | None:
    """The date (``kind`` ``"date"``) or aware instant (``"datetime"``) that ``text`` names
    at ``now`` in the time zone ``tz``; None when it names none (an ordinary value).
    ``now±N`` moves by N days, like ``today±N``."""
    found = _RELATIVE.match(text) if isinstance(text, str) else None
    if found is None or kind not in ("date", "datetime"):
        return None
    word, sign, number = found.group(1).lower(), found.group(2), found.group(3)
    shift = dt.timedelta(days=int(number) * (-1 if sign == "-" else 1)) if sign else \
        dt.timedelta(0)
    local = now.astimezone(tz)
    if kind == "date":
        return local.date() + shift
    if word == "now":
        return now + shift
    return dt.datetime.combine(local.date() + shift, dt.time(0), tzinfo=tz)


def phrase(word: str, days: int = 0) -> str:
    """``word`` (``"today"`` or ``"now"``) moved by ``days``, as the reader types it in a
    list filter (``今天+1`` on a Chinese desk, ``today+1`` on an English one): for links
    whose filters people see."""
    from kernel.i18n import _

    if word not in ("today", "now"):
        raise ValueError(f"not a relative day: {word!r}")
    text = _(word)
    return f"{text}{days:+d}" if days else text
