"""Payments: allocated to invoices on submit, reversed on cancel, the rest kept as the
customer's credit; on-site collections handed in to the cashier.

Every change of what an invoice was paid locks the invoice rows first (in id order,
``SELECT ... FOR UPDATE``) and reads them fresh: two cashiers paying one invoice at the
same moment queue, and the second sees what the first paid — a payment never takes an
invoice below zero outstanding (refused, naming the invoice) and money beyond what the
named invoices owe stays on the payment as credit (``unallocated``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from kernel import Conflict, ValidationError
from kernel.i18n import _
from kernel.lifecycle import DocStatus, document_name

from .amounts import ZERO, as_money
from .invoices import lock, locked, settle
from .models import Allocation, AllocationKind, Invoice, InvoiceKind, Payment


def _allocate(ctx, payment: Payment, invoice: Invoice, amount: Decimal,
              kind: AllocationKind) -> None:
    ctx.session.add(Allocation(payment_id=payment.id, invoice_id=invoice.id, kind=kind,
                               amount=amount, at=ctx.now()))
    invoice.paid_total += amount
    settle(invoice)
    payment.allocated += amount
    payment.unallocated -= amount


def _open_invoices(ctx, customer_id: int, exclude=()) -> list[int]:
    """The customer's submitted invoices with something outstanding, oldest first."""
    return list(ctx.session.scalars(
        select(Invoice.id).where(Invoice.customer_id == customer_id,
                                 Invoice.kind == InvoiceKind.INVOICE,
                                 Invoice.docstatus == DocStatus.SUBMITTED,
                                 Invoice.outstanding > 0, Invoice.id.not_in(exclude))
        .order_by(Invoice.invoice_date, Invoice.id)))


def on_submit(ctx, payment: Payment) -> None:
    """Pay the invoices the payment names (each at most what it still owes), or, naming
    none, the customer's oldest open invoices; the rest is the customer's credit."""
    if payment.amount is None or payment.amount <= 0:
        raise ValidationError(_("must be more than zero"), field="amount")
    if payment.on_site and payment.collected_by_id is None:
        raise ValidationError(_("say which engineer collected the money"),
                              field="collected_by_id")
    payment.allocated, payment.unallocated = ZERO, payment.amount
    wanted = defaultdict(lambda: ZERO)
    for reference in payment.references:
        if reference.amount is None or reference.amount <= 0:
            raise ValidationError(_("must be more than zero"), field="references.amount")
        wanted[reference.invoice_id] += reference.amount
    if sum(wanted.values(), ZERO) > payment.amount:
        raise ValidationError(_("the invoices named add up to more than the payment"),
                              field="amount")
    invoices = lock(ctx, wanted or _open_invoices(ctx, payment.customer_id))
    for invoice_id in (wanted or invoices):
        invoice = invoices.get(invoice_id)
        if invoice is None:
            continue
        if (invoice.customer_id != payment.customer_id or invoice.is_credit_note
                or invoice.docstatus != DocStatus.SUBMITTED):
            raise Conflict(_("{invoice} is not an open invoice of this customer").format(
                invoice=document_name(invoice)), field="references")
        amount = wanted[invoice_id] if wanted else min(invoice.outstanding,
                                                        payment.unallocated)
        if amount > invoice.outstanding:
            raise Conflict(_("{invoice} has only {left} outstanding").format(
                invoice=document_name(invoice), left=invoice.outstanding),
                field="references")
        if amount > 0:
            _allocate(ctx, payment, invoice, amount, AllocationKind.PAYMENT)
        if payment.unallocated <= 0:
            break


def allocated_per_invoice(ctx, payment_ids) -> dict[tuple[int, int], Decimal]:
    """What each of the payments still has on each invoice: ``{(payment, invoice): net}``."""
    rows = ctx.session.execute(
        select(Allocation.payment_id, Allocation.invoice_id, func.sum(Allocation.amount))
        .where(Allocation.payment_id.in_(list(payment_ids)))
        .group_by(Allocation.payment_id, Allocation.invoice_id))
    return {(p, i): as_money(total) for p, i, total in rows if as_money(total) != 0}


def on_cancel(ctx, payment: Payment) -> None:
    """Take the payment's money off every invoice it paid (reversing allocations); its
    credit goes with it."""
    held = allocated_per_invoice(ctx, [payment.id])
    invoices = lock(ctx, [invoice_id for _p, invoice_id in held])
    for (_p, invoice_id), amount in sorted(held.items()):
        _allocate(ctx, payment, invoices[invoice_id], -amount, AllocationKind.REVERSAL)
    payment.allocated, payment.unallocated = ZERO, ZERO


def lock_payers(ctx, invoice_id: int) -> dict[int, Payment]:
    """Lock the payments that paid the invoice (before the invoice itself: payments come
    first in every path that locks both, so two of them never wait on each other)."""
    return locked(ctx, Payment, ctx.session.scalars(
        select(Allocation.payment_id).where(Allocation.invoice_id == invoice_id).distinct()))


def release(ctx, invoice: Invoice, excess: Decimal) -> None:
    """Give ``excess`` paid on ``invoice`` (locked by the caller) back to the payments that
    paid it, latest first, as the customer's credit (a credit note left it overpaid)."""
    rows = ctx.session.execute(select(Allocation.payment_id, func.sum(Allocation.amount))
                               .where(Allocation.invoice_id == invoice.id)
                               .group_by(Allocation.payment_id))
    paid = {payment_id: as_money(total) for payment_id, total in rows
            if as_money(total) > 0}
    payments = locked(ctx, Payment, paid)
    for payment_id in sorted(paid, reverse=True):
        if excess <= 0:
            break
        amount = min(paid[payment_id], excess)
        _allocate(ctx, payments[payment_id], invoice, -amount, AllocationKind.REVERSAL)
        excess -= amount


def customer_credit(ctx, customer_id: int) -> Decimal:
    """The customer's credit: what their submitted payments left unallocated."""
    total = ctx.session.scalar(select(func.sum(Payment.unallocated)).where(
        Payment.customer_id == customer_id, Payment.docstatus == DocStatus.SUBMITTED,
        Payment.unallocated > 0))
    return as_money(total)


def apply_credit(ctx, invoice: Invoice) -> Invoice:
    """Pay what ``invoice`` owes from the customer's credit (their payments' unallocated
    money), oldest payment first."""
    ctx.require("billing_payment.create", invoice)
    # payments before invoices, the order every path takes (no deadlock between them)
    ids = ctx.session.scalars(select(Payment.id).where(
        Payment.customer_id == invoice.customer_id, Payment.docstatus == DocStatus.SUBMITTED,
        Payment.unallocated > 0))
    payments = locked(ctx, Payment, list(ids))
    invoice = lock(ctx, [invoice.id])[invoice.id]
    if invoice.is_credit_note or invoice.docstatus != DocStatus.SUBMITTED \
            or invoice.outstanding <= 0:
        raise Conflict(_("{invoice} owes nothing").format(invoice=document_name(invoice)))
    payments = {i: p for i, p in payments.items() if p.unallocated > 0}
    if not payments:
        raise Conflict(_("the customer has no credit"), field="customer_id")
    for payment in sorted(payments.values(), key=lambda p: (p.paid_on, p.id)):
        amount = min(payment.unallocated, invoice.outstanding)
        if amount > 0:
            _allocate(ctx, payment, invoice, amount, AllocationKind.CREDIT)
    ctx.session.flush()
    return invoice


def hand_in(ctx, payment: Payment) -> Payment:
    """The cashier received the money an engineer collected on site: the collection is
    reconciled (who and when)."""
    if not payment.on_site or payment.docstatus != DocStatus.SUBMITTED:
        raise Conflict(_("only a submitted collection made on site is handed in"),
                       field="on_site")
    if payment.handed_in_at is not None:
        raise Conflict(_("{payment} was handed in already").format(
            payment=document_name(payment)), field="handed_in_at")
    payment.handed_in_at = ctx.now()
    payment.handed_in_by = ctx.user.username if ctx.user else "system"
    ctx.session.flush()
    return payment
