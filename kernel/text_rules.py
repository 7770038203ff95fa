"""What a text and a date may hold, on every database: the one rule for user input.

A leaf module (it imports only gettext): the flush guard
(:mod:`kernel.value_guard`) and the value parsers (:mod:`kernel.values`) both use it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from kernel.i18n import _

#: controls that turn text around on screen (a note or a file name read backwards)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: kept in texts of several lines; any other control character is refused
LINE_BREAKS = frozenset("\n\r\t")
#: the longest text a field without a length of its own (``Text``) holds, in characters
TEXT_MAX_LENGTH = 100_000
#: the dates a record may hold: earlier or later ones are typing mistakes (``1900-01-01``,
#: ``0`` read as 1970's first second is refused as not a date at all)
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)


def forbidden(ch: str, *, lines: bool = False) -> bool:
    """Whether a text may not hold ``ch``: a control character (a NUL, which PostgreSQL
    cannot store, an escape), a lone surrogate, a bidirectional override; line breaks and
    tabs are allowed in texts of several ``lines``. The one rule for every text a user
    types, on every database."""
    return (ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs")) \
        and not (lines and ch in LINE_BREAKS)


def has_forbidden(text: str, *, lines: bool = False) -> bool:
    """Whether ``text`` holds a character :func:`forbidden` refuses."""
    return any(forbidden(ch, lines=lines) for ch in text)


def check_text(text: str, *, lines: bool = False) -> None:
    """Refuse (``ValueError``) a text holding a :func:`forbidden` character."""
    if has_forbidden(text, lines=lines):
        raise ValueError(_("must not contain control characters"))


def check_date_range(day: dt.date) -> None:
    """Refuse (``ValueError``) a date outside :data:`EARLIEST_DATE`..:data:`LATEST_DATE`
    (a date-time by its date)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(_("must be between {first} and {last}").format(
            first=EARLIEST_DATE.isoformat(), last=LATEST_DATE.isoformat()))
