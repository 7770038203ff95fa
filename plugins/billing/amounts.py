"""Billing's arithmetic, in one place and without a database: exact decimals, one
rounding rule.

**The rounding rule.** Every amount is rounded to the fen (0.01) half up
(``ROUND_HALF_UP``), once per line and never on a total: a line's amount is quantity ×
unit price × (1 − discount %) rounded; its VAT is computed from that rounded amount and
rounded; totals are sums of rounded lines. So every total equals the sum of its lines on
every database, and the printed lines add up to the printed total.

With prices **including VAT** (the site's ``billing.prices_include_tax``, usual for
Chinese retail) the line amount is the gross and VAT = amount × rate / (100 + rate);
otherwise the line amount is the net and VAT = net × rate / 100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from kernel import Money
from kernel.months import add_months

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


#: a SQL ``SUM`` of a Money column (integer fen, None over no rows) as a Decimal amount
as_money = Money.of_sum


def fen(value) -> Decimal:
    """``value`` rounded to the fen, half up (the one rounding rule)."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    """A line's net, VAT and gross (``net + tax == gross``)."""

    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(quantity, unit_price, discount_percent, tax_rate,
                 tax_inclusive: bool) -> LineAmounts:
    """The amounts of one invoice line (see the module's rounding rule)."""
    quantity, unit_price = Decimal(quantity), Decimal(unit_price)
    discount, rate = Decimal(discount_percent or 0), Decimal(tax_rate or 0)
    amount = fen(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
    if tax_inclusive:
        tax = fen(amount * rate / (HUNDRED + rate))
        return LineAmounts(amount - tax, tax, amount)
    tax = fen(amount * rate / HUNDRED)
    return LineAmounts(amount, tax, amount + tax)


def marked_up(cost, markup_percent) -> Decimal:
    """A part's price to the customer: its cost plus the management markup (R27), per
    unit, rounded to the fen (¥380.00 + 15 % = ¥437.00)."""
    return fen(Decimal(cost) * (HUNDRED + Decimal(markup_percent)) / HUNDRED)


def percent_of(amount, percent) -> Decimal:
    """``percent`` % of ``amount``, rounded to the fen."""
    return fen(Decimal(amount) * Decimal(percent) / HUNDRED)


def split(total, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` instalments of equal fen amounts; the last one takes what
    rounding left over, so they add up to ``total`` exactly. Rounding up would leave
    the last one below zero for a tiny total (¥1.00 in 60): then every instalment but the
    last is rounded down instead."""
    if parts < 1:
        raise ValueError("split into at least one part")
    total = Decimal(total)
    each = fen(total / parts)
    if total - each * (parts - 1) < 0:
        each = (total / parts).quantize(FEN, rounding=ROUND_DOWN)
    return [each] * (parts - 1) + [total - each * (parts - 1)]




def periods(start: dt.date, end: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """The billing periods of ``months`` months from ``start`` to ``end`` (both included):
    ``(first day, last day)`` pairs, the last one cut at ``end``."""
    found, begin = [], start
    while begin <= end:
        following = add_months(start, months * (len(found) + 1))
        found.append((begin, min(following - dt.timedelta(days=1), end)))
        begin = following
    return found


#: days past the invoice date in each aging bucket (the last is open-ended)
AGING_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, None))
