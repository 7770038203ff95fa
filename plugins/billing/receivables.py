"""What a customer owes: the statement of account (对账单) over a period, computed in SQL.

A customer's **balance** at a date is what their submitted invoices charged up to that
date, less their submitted credit notes and payments up to it (cancelled documents count
for nothing: cancelling reversed them). A payment lowers the balance by its whole amount,
so money not used on an invoice (the customer's credit) makes the balance lower, and
below zero when the customer has paid ahead.

:func:`statement` reads, for one customer and a period ``start``–``end`` (both days
included):

* the **opening balance** (everything dated before ``start``) and the period's charges
  and credits as SQL aggregates over the indexes ``(customer_id, invoice_date)`` and
  ``(customer_id, paid_on)``: a customer with years of invoices costs a few index range
  sums, never rows loaded into Python;
* the period's **lines** — invoices, credit notes and payments in date order (on a day:
  invoices, then credit notes, then payments; then by number), each with the running
  balance — at most ``limit`` of them, from two indexed queries; ``more`` says how many
  were left out (the closing balance counts them all);
* the **closing balance** (opening + charges − credits);
* the **aging** of what is open at ``end``: each invoice dated up to ``end`` with what it
  still owed then (its total less its credit notes dated up to ``end`` and the money put
  on it by payments dated up to ``end``), by days from its invoice date to ``end`` in the
  buckets of :data:`~plugins.billing.amounts.AGING_BUCKETS` (0–30, 31–60, 61–90, > 90);
  only the invoices open now or touched by a payment or credit note after ``end`` are
  looked at (the partial index ``ix_billing_invoice_open`` finds the first);
* the customer's **credit** at ``end``: what their payments dated up to ``end`` brought
  and no invoice dated up to ``end`` took.

So ``closing == open_total - credit`` whatever the period, and for a period ending today
the open amounts are the invoices' ``outstanding`` and the credit is
:func:`plugins.billing.payments.customer_credit`.
"""

from __future__ import annotations

import datetime as dt
import heapq
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, select, type_coerce, union
from sqlalchemy.orm import aliased

from kernel import ValidationError
from kernel.i18n import _
from kernel.lifecycle import DocStatus
from kernel.models import Customer
from kernel.months import add_months, month_start

from .amounts import AGING_BUCKETS, ZERO
from .models import Allocation, Invoice, InvoiceKind, Payment

#: the most lines a statement lists (the balances count every line)
MAX_LINES = 2000
#: open invoices listed by name on a statement (the aging buckets count them all)
MAX_OPEN = 200

SUBMITTED = DocStatus.SUBMITTED


def _fen(expr):
    """``expr`` (a Money column or a sum of one) as raw integer fen, 0 when NULL."""
    return func.coalesce(type_coerce(expr, BigInteger), 0)


def _money(fen) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(ZERO)


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The period a statement printed on ``today`` covers: the previous calendar month and
    this month to date (so the closing balance is today's, and a statement printed in
    the first days of a month still shows the whole month before)."""
    return add_months(month_start(today), -1), today


def bucket_of(days: int) -> int:
    """The index in :data:`AGING_BUCKETS` of an invoice ``days`` old."""
    for index, (_low, high) in enumerate(AGING_BUCKETS):
        if high is None or days <= high:
            return index
    return len(AGING_BUCKETS) - 1


def _customer_id(customer) -> int:
    return customer.id if isinstance(customer, Customer) else int(customer)


# ---------------------------------------------------------------------------
# balances
# ---------------------------------------------------------------------------


def _sums(ctx, customer_id: int, start: dt.date, end: dt.date) -> dict[str, int]:
    """In fen: what was charged, credited (credit notes) and paid before ``start`` and in
    ``start``–``end``; one aggregate over each table's customer-and-date index."""
    before_inv = Invoice.invoice_date < start

    def amount(column, condition):
        return func.sum(case((condition, type_coerce(column, BigInteger)), else_=0))

    is_note = Invoice.kind == InvoiceKind.CREDIT_NOTE
    inv = ctx.session.execute(select(
        amount(Invoice.grand_total, and_(before_inv, ~is_note)),
        amount(Invoice.grand_total, and_(before_inv, is_note)),
        amount(Invoice.grand_total, and_(~before_inv, ~is_note)),
        amount(Invoice.grand_total, and_(~before_inv, is_note)),
    ).where(Invoice.customer_id == customer_id, Invoice.docstatus == SUBMITTED,
            Invoice.invoice_date <= end)).one()
    before_pay = Payment.paid_on < start
    pay = ctx.session.execute(select(
        amount(Payment.amount, before_pay), amount(Payment.amount, ~before_pay),
    ).where(Payment.customer_id == customer_id, Payment.docstatus == SUBMITTED,
            Payment.paid_on <= end)).one()
    charged_before, noted_before, charged, noted = (int(v or 0) for v in inv)
    paid_before, paid = (int(v or 0) for v in pay)
    return {"opening": charged_before - noted_before - paid_before,
            "charges": charged, "credit_notes": noted, "payments": paid}


def balance(ctx, customer, on: dt.date) -> Decimal:
    """What ``customer`` owed at the end of day ``on`` (negative: their credit)."""
    sums = _sums(ctx, _customer_id(customer), on + dt.timedelta(days=1), on)
    return _money(sums["opening"])


# ---------------------------------------------------------------------------
# lines
# ---------------------------------------------------------------------------


def _invoice_lines(ctx, customer_id, start, end, limit) -> list[dict]:
    credited = aliased(Invoice)
    rows = ctx.session.execute(
        select(Invoice.id, Invoice.number, Invoice.kind, Invoice.invoice_date,
               Invoice.due_date, Invoice.period, Invoice.grand_total,
               credited.number.label("credits"))
        .outerjoin(credited, credited.id == Invoice.credit_of_id)
        .where(Invoice.customer_id == customer_id, Invoice.docstatus == SUBMITTED,
               Invoice.invoice_date >= start, Invoice.invoice_date <= end)
        .order_by(Invoice.invoice_date,
                  case((Invoice.kind == InvoiceKind.CREDIT_NOTE, 1), else_=0), Invoice.id)
        .limit(limit))
    lines = []
    for row in rows:
        note = row.kind == InvoiceKind.CREDIT_NOTE
        lines.append({"on": row.invoice_date, "order": 1 if note else 0, "id": row.id,
                      "kind": InvoiceKind(row.kind).value, "number": row.number,
                      "due_date": None if note else row.due_date, "period": row.period,
                      "credits": row.credits,
                      "charge": None if note else row.grand_total,
                      "credit": row.grand_total if note else None})
    return lines


def _payment_lines(ctx, customer_id, start, end, limit) -> list[dict]:
    rows = ctx.session.execute(
        select(Payment.id, Payment.number, Payment.paid_on, Payment.method, Payment.reference,
               Payment.on_site, Payment.amount)
        .where(Payment.customer_id == customer_id, Payment.docstatus == SUBMITTED,
               Payment.paid_on >= start, Payment.paid_on <= end)
        .order_by(Payment.paid_on, Payment.id).limit(limit))
    return [{"on": row.paid_on, "order": 2, "id": row.id, "kind": "payment",
             "number": row.number, "method": row.method.value if row.method else None,
             "reference": row.reference, "on_site": bool(row.on_site),
             "charge": None, "credit": row.amount} for row in rows]


def _count(ctx, customer_id, start, end) -> int:
    invoices = ctx.session.scalar(select(func.count()).select_from(Invoice).where(
        Invoice.customer_id == customer_id, Invoice.docstatus == SUBMITTED,
        Invoice.invoice_date >= start, Invoice.invoice_date <= end))
    payments = ctx.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.customer_id == customer_id, Payment.docstatus == SUBMITTED,
        Payment.paid_on >= start, Payment.paid_on <= end))
    return int(invoices or 0) + int(payments or 0)


# ---------------------------------------------------------------------------
# aging
# ---------------------------------------------------------------------------


def _open_at(ctx, customer_id: int, end: dt.date) -> list[dict]:
    """The customer's invoices dated up to ``end`` with what each still owed at ``end``
    (more than nothing), oldest first."""
    touched_by_payment = (
        select(Allocation.invoice_id).join(Payment, Payment.id == Allocation.payment_id)
        .where(Payment.customer_id == customer_id, Payment.paid_on > end))
    touched_by_note = (
        select(Invoice.credit_of_id).where(
            Invoice.customer_id == customer_id, Invoice.kind == InvoiceKind.CREDIT_NOTE,
            Invoice.invoice_date > end, Invoice.credit_of_id.is_not(None)))
    note = aliased(Invoice)
    credited = (select(_fen(func.sum(type_coerce(note.grand_total, BigInteger))))
                .where(note.credit_of_id == Invoice.id, note.docstatus == SUBMITTED,
                       note.invoice_date <= end).scalar_subquery())
    paid = (select(_fen(func.sum(type_coerce(Allocation.amount, BigInteger))))
            .join(Payment, Payment.id == Allocation.payment_id)
            .where(Allocation.invoice_id == Invoice.id, Payment.docstatus == SUBMITTED,
                   Payment.paid_on <= end).scalar_subquery())
    open_now = select(Invoice.id).where(Invoice.customer_id == customer_id,
                                        Invoice.outstanding != 0, Invoice.invoice_date <= end)
    candidates = union(open_now, touched_by_payment, touched_by_note)
    rows = ctx.session.execute(
        select(Invoice.id, Invoice.number, Invoice.invoice_date, Invoice.due_date,
               _fen(Invoice.grand_total).label("total"), credited.label("credited"),
               paid.label("paid"))
        .where(Invoice.id.in_(select(candidates.subquery().c[0])),
               Invoice.customer_id == customer_id, Invoice.kind == InvoiceKind.INVOICE,
               Invoice.docstatus == SUBMITTED, Invoice.invoice_date <= end)
        .order_by(Invoice.invoice_date, Invoice.id))
    found = []
    for row in rows:
        left = int(row.total) - int(row.credited) - int(row.paid)
        if left > 0:
            days = (end - row.invoice_date).days
            found.append({"id": row.id, "number": row.number, "invoice_date": row.invoice_date,
                          "due_date": row.due_date, "total": _money(row.total),
                          "open": _money(left), "days": days, "bucket": bucket_of(days),
                          "overdue": row.due_date is not None and row.due_date < end})
    return found


def _credit_at(ctx, customer_id: int, end: dt.date) -> int:
    """In fen: the credit the customer's payments dated up to ``end`` had then — what is
    unallocated of them now, plus what they later paid of invoices dated after ``end``."""
    unallocated = ctx.session.scalar(select(_fen(func.sum(
        type_coerce(Payment.unallocated, BigInteger)))).where(
        Payment.customer_id == customer_id, Payment.docstatus == SUBMITTED,
        Payment.paid_on <= end))
    later = ctx.session.scalar(
        select(_fen(func.sum(type_coerce(Allocation.amount, BigInteger))))
        .select_from(Invoice)
        .join(Allocation, Allocation.invoice_id == Invoice.id)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Invoice.customer_id == customer_id, Invoice.invoice_date > end,
               Payment.docstatus == SUBMITTED, Payment.paid_on <= end))
    return int(unallocated or 0) + int(later or 0)


def aging(ctx, customer, on: dt.date) -> dict:
    """What ``customer``'s invoices owed at the end of day ``on``, by age
    (:data:`AGING_BUCKETS`): ``{"buckets": [amount, ...], "open_total", "invoices"}``
    (``invoices``: the open ones, oldest first, each with ``open``, ``days`` and
    ``bucket``)."""
    invoices = _open_at(ctx, _customer_id(customer), on)
    buckets = [ZERO] * len(AGING_BUCKETS)
    for invoice in invoices:
        buckets[invoice["bucket"]] += invoice["open"]
    return {"buckets": buckets, "open_total": sum(buckets, ZERO), "invoices": invoices}


# ---------------------------------------------------------------------------
# the statement
# ---------------------------------------------------------------------------


def statement(ctx, customer, start: dt.date, end: dt.date, *,
              limit: int = MAX_LINES) -> dict:
    """The statement of account of ``customer`` (a :class:`~kernel.models.Customer` or its
    id) for ``start``–``end`` (both included), as the module describes: ``opening``,
    ``lines`` (each with ``balance``), ``more``, ``charges``, ``credits``, ``closing``,
    ``aging`` (a list of ``{"low", "high", "amount"}``), ``open_total``,
    ``open_invoices``, ``credit``; amounts are Decimals."""
    if start > end:
        raise ValidationError(_("the period must start on or before its end"), field="start")
    customer_id = _customer_id(customer)
    sums = _sums(ctx, customer_id, start, end)
    opening = sums["opening"]
    lines = list(heapq.merge(_invoice_lines(ctx, customer_id, start, end, limit),
                             _payment_lines(ctx, customer_id, start, end, limit),
                             key=lambda line: (line["on"], line["order"], line["id"])))[:limit]
    running = _money(opening)
    for line in lines:
        running += (line["charge"] or ZERO) - (line["credit"] or ZERO)
        line["balance"] = running
    more = _count(ctx, customer_id, start, end) - len(lines) if len(lines) == limit else 0
    credits = sums["credit_notes"] + sums["payments"]
    closing = opening + sums["charges"] - credits
    open_items = aging(ctx, customer_id, end)
    return {
        "customer_id": customer_id, "start": start, "end": end,
        "opening": _money(opening), "lines": lines, "more": more,
        "charges": _money(sums["charges"]), "credit_notes": _money(sums["credit_notes"]),
        "payments": _money(sums["payments"]), "credits": _money(credits),
        "closing": _money(closing),
        "aging": [{"low": low, "high": high, "amount": amount}
                  for (low, high), amount in zip(AGING_BUCKETS, open_items["buckets"],
                                                 strict=True)],
        "open_total": open_items["open_total"],
        "open_invoices": open_items["invoices"][:MAX_OPEN],
        "open_count": len(open_items["invoices"]),
        "credit": _money(_credit_at(ctx, customer_id, end)),
    }
