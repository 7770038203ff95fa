"""Values typed into billing's services from Python, the CLI or the API, read the way the
kernel reads an action's parameters (:func:`kernel.params.read_params`): a bad one raises
:class:`kernel.ValidationError` naming its field, before anything is written."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any

from kernel import Param, ValidationError
from kernel.params import given, read_value


def read(ctx, name: str, raw: Any, kind: str = "string", *, required: bool = False,
         **options) -> Any:
    """``raw`` as the value of a parameter ``name`` of ``kind`` (None when not given and
    not ``required``)."""
    if not given(raw):
        if required:
            from kernel.i18n import _

            raise ValidationError(_("is required"), field=name)
        return None
    try:
        return read_value(ctx, Param(name, kind, **options), raw)
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from None


def positive_amount(ctx, name: str, raw: Any) -> Any:
    """A required amount of money more than zero."""
    from kernel.i18n import _

    value = read(ctx, name, raw, "money", required=True)
    if value <= 0:
        raise ValidationError(_("must be more than zero"), field=name)
    return value


# ---------------------------------------------------------------------------
# what a written line, invoice or payment may hold
# ---------------------------------------------------------------------------

#: the largest quantity on a line, and the largest price, line amount or payment: far
#: beyond any real invoice of the company, well inside what an amount column holds
MAX_QUANTITY = Decimal("1000000")
MAX_AMOUNT = Decimal("1000000000")
#: the dates a billing document may carry
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
#: kept in notes (several lines of text); any other control character is refused
_LINE_BREAKS = frozenset("\n\r\t")


def _text(value, field: str, *, lines: bool = False) -> None:
    from kernel.i18n import _
    from kernel.values import BIDI_CONTROLS

    if value is None:
        return
    if any((ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc")
           and not (lines and ch in _LINE_BREAKS) for ch in str(value)):
        raise ValidationError(_("must not contain control characters"), field=field)


def _amount(value, field: str, *, limit: Decimal = MAX_AMOUNT,
            positive: bool = False) -> None:
    from kernel.i18n import _

    if value is None:
        return
    value = Decimal(str(value)) if isinstance(value, str | int) else value
    if positive and value <= 0:
        raise ValidationError(_("must be more than zero"), field=field)
    if value < 0:
        raise ValidationError(_("must not be negative"), field=field)
    if value > limit:
        raise ValidationError(_("must be at most {limit}").format(limit=f"{limit:,}"),
                              field=field)


def _day(value, field: str) -> None:
    from kernel.i18n import _

    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(_("must be a date from {first} to {last}").format(
            first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()), field=field)


def check(obj) -> None:
    """Refuse, naming the field, what no invoice line, invoice, payment or payment
    reference may hold however it was written (service, API, desk): control characters
    in text, negative or absurd quantities and amounts (beyond :data:`MAX_QUANTITY` and
    :data:`MAX_AMOUNT`), a discount or VAT rate outside 0–100, dates outside
    :data:`FIRST_DAY`–:data:`LAST_DAY` or a due date before the invoice date. Called for
    every new or changed object before a flush; other objects pass untouched."""
    from kernel.i18n import _

    from .models import Invoice, InvoiceLine, Payment, PaymentReference

    if isinstance(obj, InvoiceLine):
        _text(obj.description, "description")
        _amount(obj.quantity, "quantity", limit=MAX_QUANTITY, positive=True)
        _amount(obj.unit_price, "unit_price")
        _amount(obj.internal_cost, "internal_cost")
        if obj.discount_percent is not None and not 0 <= obj.discount_percent <= 100:
            raise ValidationError(_("must be from 0 to 100, with at most two decimals"),
                                  field="discount_percent")
        if obj.quantity is not None and obj.unit_price is not None:
            _amount(Decimal(str(obj.quantity)) * Decimal(str(obj.unit_price)), "unit_price")
    elif isinstance(obj, Invoice):
        _day(obj.invoice_date, "invoice_date")
        _day(obj.due_date, "due_date")
        if obj.invoice_date and obj.due_date and obj.due_date < obj.invoice_date:
            raise ValidationError(_("must not be before the invoice date"), field="due_date")
        if obj.tax_rate is not None and not 0 <= obj.tax_rate <= 100:
            raise ValidationError(_("must be from 0 to 100, with at most two decimals"),
                                  field="tax_rate")
        _text(obj.period, "period")
        _text(obj.note, "note", lines=True)
    elif isinstance(obj, Payment):
        _day(obj.paid_on, "paid_on")
        _amount(obj.amount, "amount")
        _text(obj.reference, "reference")
        _text(obj.note, "note", lines=True)
    elif isinstance(obj, PaymentReference):
        _amount(obj.amount, "amount", positive=True)
