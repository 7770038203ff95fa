"""The actions on invoices and payments besides submit, cancel and amend (which the
kernel offers on every document): credit an invoice, pay it from the customer's credit,
hand in an on-site collection."""

from __future__ import annotations

from kernel import Action, Param
from kernel.i18n import N_
from kernel.lifecycle import DocStatus

from . import invoices, payments
from .models import InvoiceKind


def _open_invoice(invoice) -> bool:
    return (invoice.kind == InvoiceKind.INVOICE and invoice.docstatus == DocStatus.SUBMITTED
            and invoice.grand_total > invoice.credited_total)


def _owing(invoice) -> bool:
    return _open_invoice(invoice) and invoice.outstanding > 0


def _to_hand_in(payment) -> bool:
    return (payment.on_site and payment.docstatus == DocStatus.SUBMITTED
            and payment.handed_in_at is None)


def _credit(ctx, invoice, reason=None, amount=None):
    return invoices.credit(ctx, invoice, reason=reason, amount=amount)


ACTIONS = [
    Action("billing_invoice", "credit", N_("Credit note"), _credit,
           permission="billing_invoice.create", available=_open_invoice,
           params=(Param("amount", "money", N_("Amount to credit (empty: all)")),
                   Param("reason", "string", N_("Reason"), required=True))),
    Action("billing_invoice", "apply_credit", N_("Pay from credit"), payments.apply_credit,
           permission="billing_payment.create", available=_owing),
    Action("billing_payment", "hand_in", N_("Handed in"), payments.hand_in,
           permission="billing_payment.hand_in", available=_to_hand_in),
]
