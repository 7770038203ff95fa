"""Invoices and credit notes: made, computed, submitted, credited and cancelled.

A draft's lines and totals are recomputed whenever they are flushed (however they were
changed: the services here, the generic API, the desk), by :func:`install_totals`. On
submit an invoice owes its whole total (``outstanding``); a credit note takes its total
off the invoice it credits (never more than is left to credit), and what the invoice had
been paid beyond its new total goes back to the payments as the customer's credit.
Cancelling reverses: an invoice with payments or credit notes on it cannot be cancelled
until they are.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from kernel import Conflict, RecordLink, ValidationError
from kernel.i18n import _, use_locale
from kernel.lifecycle import DocStatus, number_new_draft
from kernel.masterdata import company_id
from kernel.models import Branch, Customer
from kernel.numbering import next_number

from .amounts import ZERO, line_amounts
from .inputs import check, positive_amount, read
from .models import (
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Item,
    Payment,
    PaymentState,
    ServiceType,
)

INVOICES = "billing_invoice"
CREDIT_SERIES = "billing_credit_note"
#: the fields a line carries over into a credit note
_LINE_FIELDS = ("item", "service_type", "description", "quantity", "unit_price",
                "discount_percent", "internal_cost", "source")


# ---------------------------------------------------------------------------
# computing drafts
# ---------------------------------------------------------------------------


def compute_line(invoice: Invoice, line: InvoiceLine) -> None:
    """Set ``line``'s net, VAT and gross from its quantity, price and discount and the
    invoice's VAT rate (:func:`plugins.billing.amounts.line_amounts`)."""
    amounts = line_amounts(line.quantity if line.quantity is not None else 1,
                           line.unit_price or ZERO, line.discount_percent or ZERO,
                           invoice.tax_rate or ZERO, bool(invoice.tax_inclusive))
    line.net, line.tax, line.amount = amounts.net, amounts.tax, amounts.gross


def compute(invoice: Invoice) -> Invoice:
    """Recompute every line of a draft and its totals (the sums of the lines)."""
    for line in invoice.lines:
        compute_line(invoice, line)
    invoice.net_total = sum((line.net for line in invoice.lines), ZERO)
    invoice.tax_total = sum((line.tax for line in invoice.lines), ZERO)
    invoice.grand_total = sum((line.amount for line in invoice.lines), ZERO)
    return invoice


_TOUCHED = "billing.touched_invoices"


def _before_flush(session: Session, _context, _instances) -> None:
    """Compute the changed lines of draft invoices and note their invoices for the
    totals (written after the flush, when every line is in the table). What no line,
    invoice or payment may hold is refused first, naming its field (:func:`.inputs.check`),
    however it was written."""
    for obj in (*session.new, *session.dirty):
        check(obj)
    touched = session.info.setdefault(_TOUCHED, set())
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, InvoiceLine):
                invoice = obj.invoice or (session.get(Invoice, obj.invoice_id)
                                          if obj.invoice_id else None)
                if invoice is not None and invoice.docstatus in (None, DocStatus.DRAFT):
                    compute_line(invoice, obj)
                    touched.add(invoice)
            elif isinstance(obj, Invoice) and obj.docstatus in (None, DocStatus.DRAFT):
                for line in obj.lines:
                    compute_line(obj, line)
                touched.add(obj)
        for obj in session.deleted:
            if isinstance(obj, InvoiceLine) and obj.invoice_id:
                invoice = session.get(Invoice, obj.invoice_id)
                if invoice is not None:
                    touched.add(invoice)


def _after_flush(session: Session, _context) -> None:
    """Write the totals of the drafts whose lines changed: the sums of their lines, in
    SQL (lines changed through the API are not in the invoice's loaded collection)."""
    touched = session.info.pop(_TOUCHED, set())
    ids = [i.id for i in touched if i.id is not None]
    if not ids:
        return
    table, lines = Invoice.__table__, InvoiceLine.__table__

    def total(column):
        return select(func.coalesce(func.sum(column), 0)).where(
            lines.c.invoice_id == table.c.id).scalar_subquery()

    session.connection().execute(
        update(table).where(table.c.id.in_(ids), table.c.docstatus == DocStatus.DRAFT.value)
        .values(net_total=total(lines.c.net), tax_total=total(lines.c.tax),
                grand_total=total(lines.c.amount)))
    for invoice in touched:
        if invoice.id is not None and invoice in session:
            session.expire(invoice, ["net_total", "tax_total", "grand_total"])


def install_totals() -> None:
    """Keep drafts' line amounts and totals computed in every session (once a process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)


# ---------------------------------------------------------------------------
# making invoices
# ---------------------------------------------------------------------------


def _terms(ctx, branch) -> tuple[Decimal, bool, int]:
    from kernel.settings import get_setting

    return (Decimal(str(get_setting(ctx, "billing.vat_rate"))),
            bool(get_setting(ctx, "billing.prices_include_tax")),
            int(get_setting(ctx, "billing.payment_terms_days", branch)))


def fill_defaults(ctx, record) -> None:
    """Give a new invoice or payment typed in the desk or API what it left empty: today's
    local date, and for an invoice the site's VAT rate, whether prices include it, and
    the due date after the branch's payment terms."""
    today = ctx.now().astimezone(ctx.settings.tz).date()
    if isinstance(record, Payment):
        record.paid_on = record.paid_on or today
        return
    branch = ctx.session.get(Branch, record.branch_id) if record.branch_id else ctx.branch
    rate, inclusive, days = _terms(ctx, branch)
    record.invoice_date = record.invoice_date or today
    if record.tax_rate is None:
        record.tax_rate = rate
    if record.tax_inclusive is None:
        record.tax_inclusive = inclusive
    if record.due_date is None:
        record.due_date = record.invoice_date + dt.timedelta(days=days)


def new_line(**values) -> InvoiceLine:
    """An invoice line from keyword values (``item``, ``service_type``, ``description``,
    ``quantity``, ``unit_price``, ``discount_percent``, ``internal_cost``, ``source``)."""
    values.setdefault("item", Item.OTHER_CHARGE)
    values.setdefault("service_type", ServiceType.OTHER_SERVICE)
    values.setdefault("quantity", Decimal("1.00"))
    values.setdefault("discount_percent", ZERO)
    return InvoiceLine(**values)


def make_invoice(ctx, *, customer: Customer, branch: Branch | None = None, lines: list,
                 invoice_date: dt.date | None = None, source: RecordLink | None = None,
                 period: str | None = None, note: str | None = None,
                 kind: InvoiceKind = InvoiceKind.INVOICE) -> Invoice:
    """A draft invoice (numbered) for ``customer`` with ``lines`` (:class:`InvoiceLine`
    objects or dicts for :func:`new_line`), VAT and payment terms from the settings."""
    branch = branch or customer.branch
    on = invoice_date or ctx.now().astimezone(ctx.settings.tz).date()
    rate, inclusive, days = _terms(ctx, branch)
    invoice = Invoice(company_id=company_id(ctx), branch_id=branch.id, kind=kind,
                      customer_id=customer.id, invoice_date=on,
                      due_date=on + dt.timedelta(days=days), period=period, source=source,
                      tax_rate=rate, tax_inclusive=inclusive, note=note,
                      lines=[line if isinstance(line, InvoiceLine) else new_line(**line)
                             for line in lines])
    if kind is InvoiceKind.CREDIT_NOTE:
        invoice.number = next_number(ctx, CREDIT_SERIES, branch=branch, on=on)
    else:
        number_new_draft(ctx, invoice)
    compute(invoice)
    ctx.session.add(invoice)
    ctx.session.flush()
    return invoice


def issue(ctx, invoice: Invoice) -> Invoice:
    """Submit a draft the system made (job, statement, contract fee) in the same unit of
    work, as the kernel's submit would, without asking the acting user's permission: the
    user completing a job is not the one who bills it. Then ``fixdesk_document_submitted``
    is called, as on any submit (billing's own :func:`on_submit` and
    ``billing_invoice_submitted``)."""
    from kernel.lifecycle import _sanctioned

    now = ctx.now()
    ctx.session.flush()
    ctx.session.refresh(invoice)
    with _sanctioned(ctx.session, invoice):  # the lifecycle guard lets the state through
        invoice.docstatus, invoice.submitted_at = DocStatus.SUBMITTED, now
    ctx.hook.fixdesk_document_submitted(ctx=ctx, entity=INVOICES, record=invoice)
    ctx.session.flush()
    return invoice


# ---------------------------------------------------------------------------
# submitting and cancelling
# ---------------------------------------------------------------------------


def _state(invoice: Invoice) -> PaymentState:
    if invoice.outstanding <= 0 < invoice.credited_total and invoice.paid_total == 0:
        return PaymentState.CREDITED
    if invoice.outstanding <= 0:
        return PaymentState.SETTLED
    if invoice.paid_total > 0 or invoice.credited_total > 0:
        return PaymentState.PARTLY_PAID
    return PaymentState.UNPAID


def settle(invoice: Invoice) -> None:
    """Derive ``outstanding`` and ``payment_state`` from the total, payments and credits
    (the invariant ``grand_total = paid_total + credited_total + outstanding``)."""
    invoice.outstanding = invoice.grand_total - invoice.paid_total - invoice.credited_total
    invoice.payment_state = _state(invoice)


def locked(ctx, model, ids) -> dict:
    """The rows of ``model`` with these ids, locked in id order until the transaction ends
    (two cashiers paying one invoice queue here), fresh from the database."""
    rows = ctx.session.scalars(select(model).where(model.id.in_(sorted(set(ids)) or [0]))
                               .order_by(model.id).with_for_update()
                               .execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def lock(ctx, invoice_ids) -> dict[int, Invoice]:
    """The invoices with these ids, locked (:func:`locked`)."""
    return locked(ctx, Invoice, invoice_ids)


def creditable(ctx, invoice: Invoice) -> Decimal:
    """What is left to credit of ``invoice``: its total less its submitted credit notes."""
    return invoice.grand_total - invoice.credited_total


def on_submit(ctx, invoice: Invoice) -> None:
    """A submitted invoice owes its total; a credit note takes its total off the invoice
    it credits (refused beyond what is left to credit)."""
    if not invoice.lines:
        raise ValidationError(_("an invoice needs at least one line"), field="lines")
    if invoice.grand_total <= 0:
        raise ValidationError(_("the total must be more than zero"), field="lines")
    invoice.paid_total = invoice.credited_total = ZERO
    if not invoice.is_credit_note:
        settle(invoice)
        return
    from .payments import lock_payers

    lock_payers(ctx, invoice.credit_of_id)  # payments before invoices: see payments.py
    original = lock(ctx, [invoice.credit_of_id])[invoice.credit_of_id]
    if original.docstatus != DocStatus.SUBMITTED:
        raise Conflict(_("invoice {number} is not submitted: nothing to credit").format(
            number=original.number), field="credit_of_id")
    left = creditable(ctx, original)
    if invoice.grand_total > left:
        raise Conflict(_("invoice {number} has only {left} left to credit").format(
            number=original.number, left=left), field="lines")
    original.credited_total += invoice.grand_total
    settle(original)
    if original.outstanding < 0:  # paid beyond its new total: the excess is credit again
        from .payments import release

        release(ctx, original, -original.outstanding)
    invoice.outstanding, invoice.payment_state = ZERO, PaymentState.CREDITED


def on_cancel(ctx, invoice: Invoice) -> None:
    """Cancelling: an invoice must have no payments or credit notes left on it; a credit
    note gives the credited amount back to its invoice; job charges and contract periods
    it billed can be billed again."""
    from .models import ContractPeriod, JobCharge

    if not invoice.is_credit_note:
        if invoice.paid_total or invoice.credited_total or _has_allocations(ctx, invoice):
            raise Conflict(_("invoice {number} has payments or credit notes: cancel them "
                             "first").format(number=invoice.number), field="docstatus")
        invoice.outstanding, invoice.payment_state = ZERO, PaymentState.UNPAID
        for model in (JobCharge, ContractPeriod):
            for row in ctx.session.scalars(select(model).where(model.invoice_id == invoice.id)):
                row.invoice_id = None
        return
    original = lock(ctx, [invoice.credit_of_id])[invoice.credit_of_id]
    original.credited_total -= invoice.grand_total
    settle(original)


def _has_allocations(ctx, invoice: Invoice) -> bool:
    return ctx.session.scalar(select(func.coalesce(func.sum(Allocation.amount), 0)).where(
        Allocation.invoice_id == invoice.id)) not in (0, None)


# ---------------------------------------------------------------------------
# credit notes
# ---------------------------------------------------------------------------


def net_for(gross: Decimal, rate: Decimal) -> Decimal:
    """The net price of one unit whose gross with ``rate`` % VAT added is ``gross``; where
    no net price gives it exactly (VAT rounding skips some fen), the one just below, so
    that a credit never exceeds the amount asked (at most ¥0.01 less)."""
    guess = (gross * 100 / (100 + rate)).quantize(ZERO)
    for net in (guess + Decimal("0.01"), guess, guess - Decimal("0.01")):
        if net >= 0 and line_amounts(1, net, 0, rate, False).gross <= gross:
            return net
    return ZERO


def credit(ctx, invoice: Invoice, reason: str | None = None,
           amount=None) -> Invoice:
    """A draft credit note for ``invoice``: all its lines (a full credit), or one line of
    ``amount`` (a partial credit, at the invoice's VAT rate). Refused when nothing is left
    to credit. Without ``amount`` after an earlier partial credit, the one line is all
    that is left, to the fen: where VAT added to a net price cannot reach it, the note's
    price holds the VAT instead."""
    ctx.require("billing_invoice.create", invoice)
    reason = read(ctx, "reason", reason)
    if invoice.is_credit_note or invoice.docstatus != DocStatus.SUBMITTED:
        raise Conflict(_("only a submitted invoice can be credited"), field="docstatus")
    left = creditable(ctx, invoice)
    if left <= 0:
        raise Conflict(_("invoice {number} is fully credited").format(number=invoice.number))
    asked = amount not in (None, "")
    gross_typed = invoice.tax_inclusive
    if not asked and left == invoice.grand_total:
        lines = [new_line(**{f: getattr(line, f) for f in _LINE_FIELDS})
                 for line in invoice.lines]
    else:
        value = positive_amount(ctx, "amount", amount if amount not in (None, "") else left)
        if value > left:
            raise ValidationError(_("at most {left} is left to credit").format(left=left),
                                  field="amount")
        with use_locale(ctx.settings.locale):  # the paper's text in the company's language
            described = reason or _("Credit on invoice {number}").format(
                number=invoice.number)
        lines = [new_line(item=Item.OTHER_CHARGE, description=described, unit_price=value,
            service_type=invoice.lines[0].service_type if invoice.lines else
            ServiceType.OTHER_SERVICE)]
        if not invoice.tax_inclusive:  # the credit is typed gross: price it net
            net = net_for(value, invoice.tax_rate)
            if asked or line_amounts(1, net, 0, invoice.tax_rate, False).gross == value:
                lines[0].unit_price = net
            else:  # all that is left, which no net price reaches: the note's price holds VAT
                gross_typed = True
    with use_locale(ctx.settings.locale):
        note = _("Credit note for invoice {number}").format(number=invoice.number)
    note = f"{note}: {reason}" if reason else note
    made = make_invoice(ctx, customer=invoice.customer, branch=invoice.branch, lines=lines,
                        source=invoice.source, note=note, kind=InvoiceKind.CREDIT_NOTE)
    made.credit_of_id = invoice.id
    made.tax_rate, made.tax_inclusive = invoice.tax_rate, gross_typed
    compute(made)
    ctx.session.flush()
    return made
