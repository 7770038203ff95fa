"""Field values: reading them from JSON, forms and query strings, and writing them as JSON.

One reader for every way a value arrives (the API's JSON, a desk form, a query
string filter, a setting typed on the command line), so they all accept and
refuse the same things with the same messages.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from kernel.db import Money
from kernel.entities import FieldInfo
from kernel.i18n import _
from kernel.links import RecordLink, parse_link
from kernel.text_rules import (  # noqa: F401 - the rules, re-exported for the callers
    BIDI_CONTROLS,
    EARLIEST_DATE,
    LATEST_DATE,
    LINE_BREAKS,
    TEXT_MAX_LENGTH,
    check_date_range,
    check_text,
    forbidden,
    has_forbidden,
)

TRUE_WORDS = ("1", "true", "yes", "on", "是")
FALSE_WORDS = ("0", "false", "no", "off", "否")


def check_email(text: str) -> str:
    """``text`` if it is an e-mail address (its syntax, and a domain that could receive
    mail; nobody is asked), else ``ValueError``."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(_("must be an e-mail address like name@example.com")) from None
    return text


def parse_bool(value: Any) -> bool:
    """``True``/``False`` from a bool or a word (true/false, yes/no, on/off, 1/0, 是/否)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("must be true or false"))


def coerce(spec: FieldInfo, value: Any, *, for_filter: bool = False) -> Any:
    """``value`` (from JSON, a form or a query string) as the field's Python value.

    ``for_filter``: a value to compare with, not to store (no length or
    required checks: a too long text simply matches nothing).
    """
    if value is None or (value == "" and spec.kind not in ("string", "text")):
        if not spec.nullable and not for_filter:
            raise ValueError(_("is required"))
        return None
    kind = spec.kind
    if kind in ("string", "text"):
        if isinstance(value, list | dict | tuple | set | bytes):
            raise ValueError(_("must be text"))
        text = str(value)
        check_text(text, lines=kind == "text")  # names and codes: one line, no controls
        if for_filter:
            return text
        limit = spec.max_length or TEXT_MAX_LENGTH
        if len(text) > limit:
            raise ValueError(_("at most {n} characters").format(n=limit))
        if not spec.nullable and not text.strip():
            raise ValueError(_("is required"))
        if spec.email and text:
            return check_email(text)
        return text
    if kind == "integer":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(_("must be a whole number"))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("must be a whole number")) from None
        if spec.max_int is not None and abs(number) > spec.max_int:
            raise ValueError(_("is too large"))
        return number
    if kind == "boolean":
        return parse_bool(value)
    if kind == "money":
        try:
            return Money.to_decimal(str(value) if isinstance(value, float | int) else value)
        except (TypeError, ValueError):
            raise ValueError(_("must be an amount with at most two decimals")) from None
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day = value
        else:
            try:  # text only: a number (0) is no date, though 1970-01-01 is its second 0
                day = dt.date.fromisoformat(_iso_text(value))
            except ValueError:
                raise ValueError(_("must be a date like 2026-05-29")) from None
        if not for_filter:
            check_date_range(day)
        return day
    if kind == "datetime":
        try:
            parsed = value if isinstance(value, dt.datetime) else \
                dt.datetime.fromisoformat(_iso_text(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(_("must be a date and time like 2026-05-29T16:00+08:00")) from None
        if parsed.tzinfo is None:
            raise ValueError(_("needs a time zone, like 2026-05-29T16:00+08:00"))
        if not for_filter:
            check_date_range(parsed)
        return parsed
    if kind == "time":
        try:
            return value if isinstance(value, dt.time) else \
                dt.time.fromisoformat(_iso_text(value))
        except ValueError:
            raise ValueError(_("must be a time like 09:00")) from None
    if kind == "enum":
        text = value.value if isinstance(value, enum.Enum) else str(value)
        if text not in spec.choices:
            raise ValueError(_("must be one of: {choices}").format(choices=", ".join(
                spec.choices)))
        return text
    if kind == "link":  # its shape only: kernel.linked checks the record
        return parse_link(value)
    return value


def _iso_text(value: Any) -> str:
    """``value`` when it is text (``ValueError`` otherwise): dates are read from ISO text."""
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def plain(value: Any) -> Any:
    """A column value as JSON: money and dates as strings (instants in UTC, ``…Z``), enums
    as their value, links as ``{"entity": ..., "id": ...}``."""
    if isinstance(value, RecordLink):
        return {"entity": value.entity, "id": value.id}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        # one form for every instant, as the API's response models write it
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def with_zone(text: str, tz) -> str:
    """A date-time typed without a zone is in the site's zone; a bare date is its midnight."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # the service names the problem
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()
