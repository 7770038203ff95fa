"""Reading the repair plugin's input: text, times, amounts, counts, choices, records.

Inputs may come straight from JSON (API actions) or desk forms: times as ISO strings
with a time zone, amounts as strings or numbers, records by id or code. Every reader
raises :class:`kernel.ValidationError` (or :class:`kernel.NotFound` for a record)
naming the field, before anything is written. The clock helpers read the context's
clock in UTC and the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from kernel import Money, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.values import parse_bool

#: how far in the future a reported or arrival time may lie (clocks differ a little)
CLOCK_SLACK = dt.timedelta(minutes=5)
#: how far back a report may be entered (paper registers typed in later, demo history)
MAX_BACKDATE = dt.timedelta(days=3660)
#: how far ahead of the report an appointment may be booked
MAX_APPOINTMENT = dt.timedelta(days=366)
MAX_LABOUR_HOURS = Decimal("24")
#: labels of the inputs that are no column of repair's entities (those use ``__labels__``)
INPUT_LABELS = {
    "code": N_("Code"), "branch": N_("Branch"), "order": N_("Work order"),
    "customer": N_("Customer"), "passed": N_("Passed"), "id": N_("Number"),
    "equipment": N_("Equipment"), "engineer": N_("Engineer"), "day": N_("Date"),
    "start": N_("From"), "end": N_("To"), "skill": N_("Skill"), "method": N_("Method"),
    "line_id": N_("Part line"), "internal": N_("Internal"), "hours": N_("Hours"),
    "fault": N_("Fault"), "earlier_order": N_("Earlier order"), "check": N_("Check"),
    "cause": N_("Cause"), "callback": N_("Callback"), "reason": N_("Reason"),
    "note": N_("Note"),
}
#: bounds that keep values inside the database's integer columns
MAX_ID = 2**31 - 1
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("9999999999.99")

# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------


def shown(field: str) -> str:
    """The input's label in the user's language, for messages ("数量必须大于零")."""
    from . import models

    if field in INPUT_LABELS:
        return _(INPUT_LABELS[field])
    for cls in (models.WorkOrder, models.WorkOrderLine, models.LabourEntry, models.Appointment,
                models.Callback, models.QualityCheck, models.MaintenanceContract,
                models.UnitLog, models.StatusChange):
        if field in cls.__labels__:
            return _(cls.__labels__[field])
    return field


def text(value: Any, field: str, *, required: bool = True,
         max_length: int = 300) -> str | None:
    """Trimmed text; empty is None, or an error when ``required``; at most ``max_length``."""
    cleaned = "" if value is None else str(value).strip()
    if not cleaned:
        if required:
            raise ValidationError(_("{field} is required").format(field=shown(field)),
                                  field=field)
        return None
    if len(cleaned) > max_length:
        raise ValidationError(_("{field}: at most {n} characters").format(
            field=shown(field), n=max_length), field=field)
    return cleaned


def when(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(_("{field} must be a date and time like "
                                    "2026-05-29T16:00+08:00").format(field=shown(field)),
                                  field=field) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(_("{field} must be a date and time").format(field=shown(field)),
                              field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(_("{field} needs a time zone, like 2026-05-29T16:00+08:00")
                              .format(field=shown(field)), field=field)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(_("{field} must be a date and time").format(field=shown(field)),
                              field=field) from None


def parse_date(value: Any, field: str) -> dt.date:
    """A date from a date or ISO text; :class:`ValidationError` naming ``field`` otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(_("{field} must be a date like 2026-05-29").format(
            field=shown(field)), field=field) from None


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Money.to_decimal(str(value) if isinstance(value, float | int) and
                                  not isinstance(value, bool) else value)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError(_("{field} must be an amount with at most two decimals")
                              .format(field=shown(field)), field=field) from None
    if amount > MAX_AMOUNT:
        raise ValidationError(_("{field} is too large").format(field=shown(field)), field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(_("{field} must be more than zero").format(field=shown(field))
                              if not allow_zero else
                              _("{field} must not be negative").format(field=shown(field)),
                              field=field)
    return amount


def positive_int(value: Any, field: str, maximum: int = MAX_QUANTITY) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValidationError(_("{field} must be a whole number").format(field=shown(field)),
                              field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("{field} must be a whole number").format(field=shown(field)),
                              field=field) from None
    if number <= 0:
        raise ValidationError(_("{field} must be more than zero").format(field=shown(field)),
                              field=field)
    if number > maximum:
        raise ValidationError(_("{field} is too large").format(field=shown(field)), field=field)
    return number


def minutes_of_hours(value: Any, field: str) -> int:
    """Hours (Decimal, int or str like "1.5") as whole minutes, more than zero."""
    try:
        hours = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite():
        raise ValidationError(_("{field} must be a number of hours like 1.5").format(
            field=shown(field)), field=field)
    minutes = int((hours * 60).to_integral_value())
    if minutes <= 0 or hours > MAX_LABOUR_HOURS:
        raise ValidationError(_("{field} must be more than zero and at most {n} hours")
                              .format(field=shown(field), n=MAX_LABOUR_HOURS), field=field)
    return minutes


def flag(value: Any, field: str) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise ValidationError(_("{field} must be true or false").format(field=shown(field)),
                              field=field) from None


def choice(enum_cls, value: Any, field: str):
    try:
        return enum_cls(value.value if hasattr(value, "value") else str(value).strip())
    except ValueError:
        raise ValidationError(_("{field} must be one of: {choices}").format(
            field=shown(field), choices="、".join(_(m.value) for m in enum_cls)),
            field=field) from None


def lookup(ctx, cls, value: Any, field: str, key: str):
    """A record by object, id (int) or ``key`` (code, serial number), as the user sees it."""
    if isinstance(value, cls):  # possibly loaded in another transaction
        record = value if value in ctx.session else ctx.session.get(cls, value.id)
    elif isinstance(value, int) and not isinstance(value, bool):
        record = ctx.session.get(cls, value) if 0 < value <= MAX_ID else None
    elif key == "id":
        digits = str(value or "").strip()
        record = ctx.session.get(cls, int(digits)) \
            if digits.isdigit() and 0 < int(digits) <= MAX_ID else None
    else:
        wanted = str(value or "").strip()
        record = ctx.session.scalar(select(cls).where(getattr(cls, key) == wanted)) if wanted \
            else None
    if record is None or not ctx.can_see(record):
        raise NotFound(_("no {field} {value}").format(field=shown(field), value=value),
                       field=field)
    return record



# ---------------------------------------------------------------------------
# site time
# ---------------------------------------------------------------------------


def local_date(ctx, moment: dt.datetime) -> dt.date:
    return moment.astimezone(ctx.settings.tz).date()


def now_utc(ctx) -> dt.datetime:
    return ctx.now().astimezone(dt.UTC)


def not_future(ctx, moment: dt.datetime, field: str) -> None:
    if moment > now_utc(ctx) + CLOCK_SLACK:
        raise ValidationError(_("{field} lies in the future").format(field=shown(field)),
                              field=field)



def local_text(ctx, moment: dt.datetime | None) -> str:
    """``moment`` as ``YYYY-MM-DD HH:MM`` in the site's time zone ("" for None)."""
    return moment.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if moment else ""
