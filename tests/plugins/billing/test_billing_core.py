"""Invoices, credit notes and payments by their services on a site with billing alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from kernel import Conflict
from kernel.lifecycle import cancel, submit
from kernel.models import Customer
from plugins.billing import invoices, payments
from plugins.billing.models import Invoice, Payment, PaymentReference, PaymentState


def _customer(ctx) -> Customer:
    return ctx.session.scalars(select(Customer).order_by(Customer.id)).first()


def _invoice(ctx, *prices, submit_it=True) -> Invoice:
    invoice = invoices.make_invoice(ctx, customer=_customer(ctx), lines=[
        {"description": f"item {i}", "unit_price": Decimal(p)} for i, p in enumerate(prices)])
    if submit_it:
        submit(ctx, invoice)
    return invoice


def test_invoice_totals_are_the_sums_of_their_lines(billing_app):
    with billing_app.context(user="admin") as ctx:
        invoice = _invoice(ctx, "437.00", "120.00", submit_it=False)
        assert invoice.number.startswith("INV-SH-")
        assert invoice.grand_total == Decimal("557.00")
        assert invoice.tax_total == sum(line.tax for line in invoice.lines)
        assert invoice.net_total + invoice.tax_total == invoice.grand_total
        submit(ctx, invoice)
        assert invoice.outstanding == Decimal("557.00")
        assert invoice.payment_state == PaymentState.UNPAID


def test_payment_pays_oldest_invoices_and_keeps_the_rest_as_credit(billing_app):
    with billing_app.context(user="admin") as ctx:
        first, second = _invoice(ctx, "100.00"), _invoice(ctx, "50.00")
        payment = Payment(company_id=first.company_id, branch_id=first.branch_id,
                          customer_id=first.customer_id, paid_on=first.invoice_date,
                          method="bank_transfer", amount=Decimal("180.00"))
        ctx.session.add(payment)
        ctx.session.flush()
        submit(ctx, payment)
        assert (first.outstanding, second.outstanding) == (0, 0)
        assert payment.unallocated == Decimal("30.00")
        assert payments.customer_credit(ctx, first.customer_id) == Decimal("30.00")
        third = _invoice(ctx, "20.00")
        payments.apply_credit(ctx, third)
        assert third.payment_state == PaymentState.SETTLED
        assert payment.unallocated == Decimal("10.00")
        cancel(ctx, payment, reason="bounced")
        for invoice in (first, second, third):
            assert invoice.outstanding == invoice.grand_total


def test_credit_note_never_exceeds_what_is_left_and_frees_overpayment(billing_app):
    with billing_app.context(user="admin") as ctx:
        invoice = _invoice(ctx, "100.00")
        payment = Payment(company_id=invoice.company_id, branch_id=invoice.branch_id,
                          customer_id=invoice.customer_id, paid_on=invoice.invoice_date,
                          method="cash", amount=Decimal("100.00"),
                          references=[PaymentReference(invoice_id=invoice.id,
                                                       amount=Decimal("100.00"))])
        ctx.session.add(payment)
        ctx.session.flush()
        submit(ctx, payment)
        note = invoices.credit(ctx, invoice, reason="discount", amount="30.00")
        submit(ctx, note)
        assert invoice.credited_total == Decimal("30.00")
        assert invoice.paid_total == Decimal("70.00") and invoice.outstanding == 0
        assert payment.unallocated == Decimal("30.00")
        assert invoice.paid_total + invoice.credited_total + invoice.outstanding \
            == invoice.grand_total
        too_much = invoices.credit(ctx, invoice, reason="again", amount="70.00")
        too_much.lines[0].unit_price = Decimal("80.00")
        ctx.session.flush()
        with pytest.raises(Conflict):
            submit(ctx, too_much)
