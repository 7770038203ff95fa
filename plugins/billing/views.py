"""What the desk shows of billing beside the records' own fields: blocks on the forms of
invoices, payments and customers, receivables columns in the customer list, and
``fixdesk billing receivables``.

* :data:`FORM_SECTIONS` — on an invoice's form, *Totals* (net, VAT, total and, once
  submitted, what was credited, paid and is outstanding, with its payment state; for a
  credit note the invoice it credits, linked: no query or one), *Payments* (each
  allocation of a payment to it, the payment linked: one query) and *Credit notes* (the
  credit notes taking it back, linked: one query); on a payment's form, *Allocations*
  (the invoices it paid, linked, and the customer's credit: two queries); on a customer's
  form, *Receivables* (open invoices oldest first with the amounts outstanding, overdue
  and by age, and the customer's credit: two queries however many invoices).
* :data:`LIST_COLUMNS` — *Outstanding* and *Credit* in the customer list, each one
  grouped query for the page.
* :data:`SUBCOMMANDS` — ``fixdesk billing receivables --customer C0001``.

Everything is read through the session's branch scope: a reader sees the invoices and
payments of the branches they may see, and a link only where they may open its target.
Read-only: amounts change through submitted documents only (:mod:`.invoices`,
:mod:`.payments`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from sqlalchemy import case, func, select

from kernel import FormSection, ListColumn, NotFound, SectionContent
from kernel.cli.base import CliState, pass_state, print_table
from kernel.i18n import N_, _
from kernel.lifecycle import STATE_WORDS, DocStatus
from kernel.models import Customer

from .amounts import AGING_BUCKETS, ZERO, as_money
from .models import Allocation, Invoice, InvoiceKind, Payment

INVOICES = "billing_invoice"
PAYMENTS = "billing_payment"
CUSTOMERS = "customer"
#: the open invoices a customer's form lists at most (the invoice list shows them all)
MAX_OPEN = 50
#: the rows of payments, credit notes or allocations a form lists at most
MAX_ROWS = 200

# ---------------------------------------------------------------------------
# shown values
# ---------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _yuan(value: Decimal) -> str:
    return f"-¥{-value:,.2f}" if value < 0 else f"¥{value:,.2f}"


def _word(value) -> str:
    """A choice value (``partly_paid``) in the reader's language."""
    return _(str(getattr(value, "value", value)))


def _state(docstatus) -> str:
    return _(STATE_WORDS[DocStatus(getattr(docstatus, "value", docstatus))])


def _today(ctx) -> dt.date:
    return ctx.now().astimezone(ctx.settings.tz).date()


def _linked(ctx, entity: str, record_id: int | None, text: str):
    """``text``, linked to the record's form when the reader may open it."""
    if record_id is None:
        return text
    info = ctx.app.exposed.get(entity)
    if info is not None and ctx.can(info.perm("read")):
        return (text, f"/desk/{entity}/{record_id}")
    return text


def _more(rows: list) -> str | None:
    """A note when ``rows`` (each ending with the count of all) are not all there are."""
    shown, count = len(rows), rows[0][-1] if rows else 0
    if count <= shown:
        return None
    return _("The first {shown} of {count}; the list shows them all.").format(
        shown=shown, count=count)


def _allocations(ctx, record: Invoice | Payment, *columns) -> list:
    """The allocations of ``record`` (an invoice or a payment) in the order they happened,
    at most :data:`MAX_ROWS` (one query): each as ``(at, kind, amount, id, number,
    *columns, count of all)``, the id, number and ``columns`` of the document on the other
    side (a payment of an invoice, an invoice of a payment)."""
    if isinstance(record, Invoice):
        other, own, theirs = Payment, Allocation.invoice_id, Allocation.payment_id
    else:
        other, own, theirs = Invoice, Allocation.payment_id, Allocation.invoice_id
    return ctx.session.execute(
        select(Allocation.at, Allocation.kind, Allocation.amount, other.id, other.number,
               *columns, func.count().over())
        .join(other, other.id == theirs)
        .where(own == record.id)
        .order_by(Allocation.at, Allocation.id).limit(MAX_ROWS)).all()


def _moment(ctx, at: dt.datetime) -> str:
    return at.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------
# an invoice or credit note
# ---------------------------------------------------------------------------


def invoice_totals(ctx, invoice: Invoice) -> SectionContent:
    """Net, VAT and total; once submitted also credited, paid, outstanding and the payment
    state (the invariant total = paid + credited + outstanding is visible here), with
    the days overdue; a credit note names the invoice it credits, linked."""
    rate = f"{invoice.tax_rate:.2f}".rstrip("0").rstrip(".") + " %"
    vat = _("{amount} at {rate}, included in the prices") if invoice.tax_inclusive \
        else _("{amount} at {rate}, added to the prices")
    summary = [(_("Net total"), _yuan(invoice.net_total)),
               (_("VAT"), vat.format(amount=_yuan(invoice.tax_total), rate=rate)),
               (_("Total"), _yuan(invoice.grand_total)),
               (_("State"), _state(invoice.docstatus))]
    submitted = invoice.docstatus == DocStatus.SUBMITTED
    note = None
    if invoice.is_credit_note:
        original = invoice.credit_of
        columns = (_("Credits invoice"), _("Invoice date"), _("Total"), _("Credited"),
                   _("Outstanding"))
        rows = () if original is None else ((
            _linked(ctx, INVOICES, original.id, original.number or f"#{original.id}"),
            original.invoice_date.isoformat(), _money(original.grand_total),
            _money(original.credited_total), _money(original.outstanding)),)
        if submitted:
            note = _("This credit note takes {amount} off the invoice it credits.").format(
                amount=_yuan(invoice.grand_total))
        return SectionContent(summary=tuple(summary), columns=columns, rows=rows, note=note)
    if submitted:
        summary += [(_("Credited"), _yuan(invoice.credited_total)),
                    (_("Paid"), _yuan(invoice.paid_total)),
                    (_("Outstanding"), _yuan(invoice.outstanding)),
                    (_("Payment"), _word(invoice.payment_state))]
        today = _today(ctx)
        if invoice.outstanding > 0 and invoice.due_date is not None \
                and invoice.due_date < today:
            summary.append((_("Days overdue"), str((today - invoice.due_date).days)))
    elif invoice.docstatus in (None, DocStatus.DRAFT):
        note = _("A draft: its lines and totals are recomputed on every save; once "
                 "submitted it owes its total and can no longer be changed.")
    return SectionContent(summary=tuple(summary), note=note)


def invoice_payments(ctx, invoice: Invoice) -> SectionContent | None:
    """The money put on the invoice: each allocation with its payment (linked), the
    payment's date and method, and what it put on (or, reversed, took off) the invoice,
    in the order it happened (one query)."""
    if invoice.is_credit_note or invoice.docstatus in (None, DocStatus.DRAFT):
        return None
    rows = _allocations(ctx, invoice, Payment.paid_on, Payment.method)
    shown = tuple(
        (_linked(ctx, PAYMENTS, payment_id, number or f"#{payment_id}"), paid_on.isoformat(),
         _word(method), _word(kind), _money(amount), _moment(ctx, at))
        for at, kind, amount, payment_id, number, paid_on, method, _count in rows)
    return SectionContent(
        summary=((_("Paid"), _yuan(invoice.paid_total)),),
        columns=(_("Payment"), _("Paid on"), _("Payment method"), _("Kind"), _("Amount"),
                 _("At")),
        rows=shown, note=_more(rows),
        empty=_("No payments yet."))


def invoice_credit_notes(ctx, invoice: Invoice) -> SectionContent | None:
    """The credit notes of the invoice, drafts and cancelled ones included, each linked,
    with what is left to credit (one query)."""
    if invoice.is_credit_note or invoice.docstatus in (None, DocStatus.DRAFT):
        return None
    rows = ctx.session.execute(
        select(Invoice.id, Invoice.number, Invoice.invoice_date, Invoice.docstatus,
               Invoice.grand_total, Invoice.note)
        .where(Invoice.credit_of_id == invoice.id, Invoice.kind == InvoiceKind.CREDIT_NOTE)
        .order_by(Invoice.id).limit(MAX_ROWS)).all()
    shown = tuple(
        (_linked(ctx, INVOICES, note_id, number or f"#{note_id}"), on.isoformat(),
         _state(state), _money(total), text or "")
        for note_id, number, on, state, total, text in rows)
    left = invoice.grand_total - invoice.credited_total
    return SectionContent(
        summary=((_("Credited"), _yuan(invoice.credited_total)),
                 (_("Left to credit"), _yuan(left))),
        columns=(_("Credit note"), _("Invoice date"), _("State"), _("Total"), _("Note")),
        rows=shown, empty=_("No credit notes."))


# ---------------------------------------------------------------------------
# a payment
# ---------------------------------------------------------------------------


def customer_credit(ctx, customer_ids) -> dict[int, Decimal]:
    """``{customer id: credit}``: what the customers' submitted payments left unallocated
    (one grouped query, in the reader's branch scope)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(Payment.customer_id, func.sum(Payment.unallocated))
        .where(Payment.customer_id.in_(ids), Payment.docstatus == DocStatus.SUBMITTED,
               Payment.unallocated > 0)
        .group_by(Payment.customer_id))
    return {customer_id: as_money(total) for customer_id, total in rows}


def payment_allocations(ctx, payment: Payment) -> SectionContent:
    """What the payment paid: each allocation with its invoice (linked) and that invoice's
    outstanding now, then the payment's own credit and the customer's credit in all
    (two queries)."""
    credit = customer_credit(ctx, [payment.customer_id]).get(payment.customer_id, ZERO)
    summary = ((_("Amount"), _yuan(payment.amount or ZERO)),
               (_("Allocated"), _yuan(payment.allocated or ZERO)),
               (_("Left on this payment"), _yuan(payment.unallocated or ZERO)),
               (_("Customer credit"), _yuan(credit)))
    if payment.docstatus in (None, DocStatus.DRAFT):
        return SectionContent(
            summary=((_("Customer credit"), _yuan(credit)),),
            note=_("Allocated when submitted: to the invoices listed, else to the "
                   "customer's oldest open invoices; what is left stays as the customer's "
                   "credit."))
    rows = _allocations(ctx, payment, Invoice.invoice_date, Invoice.outstanding)
    shown = tuple(
        (_linked(ctx, INVOICES, invoice_id, number or f"#{invoice_id}"), on.isoformat(),
         _word(kind), _money(amount), _money(outstanding), _moment(ctx, at))
        for at, kind, amount, invoice_id, number, on, outstanding, _count in rows)
    return SectionContent(
        summary=summary,
        columns=(_("Invoice"), _("Invoice date"), _("Kind"), _("Amount"),
                 _("Outstanding now"), _("At")),
        rows=shown, note=_more(rows),
        empty=_("Nothing allocated: the whole amount is the customer's credit."))


# ---------------------------------------------------------------------------
# a customer
# ---------------------------------------------------------------------------


def _open():
    """The conditions of an open invoice: submitted, not a credit note, owing money."""
    return (Invoice.kind == InvoiceKind.INVOICE, Invoice.docstatus == DocStatus.SUBMITTED,
            Invoice.outstanding > 0)


def _bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("Over {days} days").format(days=low - 1)
    return _("{low}–{high} days").format(low=low, high=high)


def open_invoices(ctx, customer_id: int, limit: int | None = MAX_OPEN):
    """The customer's open invoices, oldest first, each with the totals of all of them
    (count, outstanding, overdue count and amount, and outstanding by age since the
    invoice date, :data:`~plugins.billing.amounts.AGING_BUCKETS`) as window sums: one
    query however many invoices there are."""
    today = _today(ctx)
    overdue = Invoice.due_date < today
    buckets = []
    for low, high in AGING_BUCKETS:
        since = Invoice.invoice_date <= today - dt.timedelta(days=low)
        within = since if high is None else since & (
            Invoice.invoice_date >= today - dt.timedelta(days=high))
        buckets.append(func.sum(case((within, Invoice.outstanding), else_=0)).over())
    query = (select(Invoice.id, Invoice.number, Invoice.invoice_date, Invoice.due_date,
                    Invoice.grand_total, Invoice.paid_total, Invoice.credited_total,
                    Invoice.outstanding, func.count().over(),
                    func.sum(Invoice.outstanding).over(),
                    func.sum(case((overdue, 1), else_=0)).over(),
                    func.sum(case((overdue, Invoice.outstanding), else_=0)).over(), *buckets)
             .where(Invoice.customer_id == customer_id, *_open())
             .order_by(Invoice.invoice_date, Invoice.id))
    if limit is not None:
        query = query.limit(limit)
    return ctx.session.execute(query).all(), today


def customer_receivables(ctx, customer: Customer) -> SectionContent:
    """The customer's receivables: open invoices (oldest first, linked) with their
    outstanding and days overdue; how many and how much is open and overdue, by age; the
    customer's credit and the balance (two queries)."""
    rows, today = open_invoices(ctx, customer.id)
    credit = customer_credit(ctx, [customer.id]).get(customer.id, ZERO)
    columns = (_("Invoice"), _("Invoice date"), _("Due date"), _("Total"), _("Paid"),
               _("Outstanding"), _("Days overdue"))
    if not rows:
        summary = ((_("Outstanding"), _yuan(ZERO)), (_("Customer credit"), _yuan(credit)))
        return SectionContent(summary=summary, columns=columns,
                              empty=_("No open invoices."))
    first = rows[0]
    count, outstanding = first[8], as_money(first[9])
    overdue_count, overdue = int(first[10] or 0), as_money(first[11])
    aged = [as_money(total) for total in first[12:]]
    summary = [(_("Open invoices"), str(count)), (_("Outstanding"), _yuan(outstanding)),
               (_("Overdue amount"), _("{amount} in {count} invoices").format(
                   amount=_yuan(overdue), count=overdue_count)),
               *((_bucket_label(low, high), _yuan(amount))
                 for (low, high), amount in zip(AGING_BUCKETS, aged, strict=True) if amount),
               (_("Customer credit"), _yuan(credit)),
               (_("Balance"), _yuan(outstanding - credit))]
    shown = tuple(
        (_linked(ctx, INVOICES, invoice_id, number or f"#{invoice_id}"), on.isoformat(),
         due.isoformat() if due else "", _money(total), _money(paid + credited),
         _money(owed), str((today - due).days) if due and due < today else "")
        for invoice_id, number, on, due, total, paid, credited, owed, *_totals in rows)
    note = None
    if count > len(rows):
        note = _("The oldest {shown} of {count} open invoices; the invoice list shows them "
                 "all.").format(shown=len(rows), count=count)
    return SectionContent(summary=tuple(summary), columns=columns, rows=shown, note=note)


def customers_outstanding(ctx, customers: list) -> dict[int, Decimal]:
    """``{customer id: outstanding}`` of a page of customers (one grouped query); nothing
    for a reader who may not see invoices."""
    if not customers or not ctx.can("billing_invoice.read"):
        return {}
    rows = ctx.session.execute(
        select(Invoice.customer_id, func.sum(Invoice.outstanding))
        .where(Invoice.customer_id.in_([c.id for c in customers]), *_open())
        .group_by(Invoice.customer_id))
    return {customer_id: as_money(total) for customer_id, total in rows}


def customers_credit(ctx, customers: list) -> dict[int, Decimal]:
    """``{customer id: credit}`` of a page of customers (one grouped query); nothing for a
    reader who may not see payments."""
    if not customers or not ctx.can("billing_payment.read"):
        return {}
    return customer_credit(ctx, [c.id for c in customers])


FORM_SECTIONS = [
    FormSection(INVOICES, "billing.invoice_totals", N_("Totals"), build=invoice_totals,
                order=10),
    FormSection(INVOICES, "billing.invoice_payments", N_("Payments"),
                build=invoice_payments, order=20, permission="billing_payment.read"),
    FormSection(INVOICES, "billing.invoice_credit_notes", N_("Credit notes"),
                build=invoice_credit_notes, order=30),
    FormSection(PAYMENTS, "billing.payment_allocations", N_("Allocations"),
                build=payment_allocations, order=10),
    FormSection(CUSTOMERS, "billing.receivables", N_("Receivables"),
                build=customer_receivables, order=50, permission="billing_invoice.read"),
]

LIST_COLUMNS = [
    ListColumn(CUSTOMERS, "billing.outstanding", N_("Outstanding"),
               compute=customers_outstanding, kind="money"),
    ListColumn(CUSTOMERS, "billing.credit", N_("Credit"), compute=customers_credit,
               kind="money"),
]


# ---------------------------------------------------------------------------
# fixdesk billing receivables
# ---------------------------------------------------------------------------


def customer_by_code(session, code: str) -> Customer:
    """The customer with ``code``, or :class:`kernel.NotFound` (one line for the CLI)."""
    code = (code or "").strip()
    # a NUL makes PostgreSQL refuse the query itself: such a code names no customer
    found = session.scalars(select(Customer).where(Customer.code == code)
                            .order_by(Customer.id)).first() \
        if code.isprintable() and len(code) <= 30 else None
    if found is None:
        shown = "".join(ch for ch in code if ch.isprintable())[:30]
        raise NotFound(_("no customer {code}").format(code=shown), field="customer")
    return found


@click.command("receivables", help=_("A customer's open invoices, oldest first, with what "
                                     "each still owes, the days overdue, the customer's "
                                     "credit and the balance."))
@click.option("--customer", "customer_code", required=True, metavar="CODE",
              help=_("The customer's code."))
@pass_state
def receivables_command(state: CliState, customer_code):
    with state.context() as ctx:
        customer = customer_by_code(ctx.session, customer_code)
        rows, today = open_invoices(ctx, customer.id, limit=None)
        credit = customer_credit(ctx, [customer.id]).get(customer.id, ZERO)
        name = f"{customer.code} {customer.name}"
    outstanding = sum((row[7] for row in rows), ZERO)
    click.echo(name)
    print_table((_("INVOICE"), _("INVOICE DATE"), _("DUE DATE"), _("TOTAL"), _("PAID"),
                 _("CREDITED"), _("OUTSTANDING"), _("DAYS OVERDUE")),
                [(number, on, due or "", total, paid, credited, owed,
                  (today - due).days if due and due < today else "")
                 for _id, number, on, due, total, paid, credited, owed, *_totals in rows])
    print_table((_("OPEN INVOICES"), _("OUTSTANDING"), _("CREDIT"), _("NET RECEIVABLE")),
                [(len(rows), outstanding, credit, outstanding - credit)])


SUBCOMMANDS = [receivables_command]
