"""The billing demo (SQLite): repair's order history billed as SH and JD bill
(SCENARIOS.md 2 and 8), then the statements, contract fees, payments, a credit note and
on-site collections written after it through billing's services.

One full demo site (repair, inventory, billing) made once and copied for each test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from kernel.demo import demo_accounts_text
from kernel.hookswitch import HookSwitch
from kernel.lifecycle import DocStatus
from kernel.links import link_columns
from kernel.models import Branch
from kernel.months import month_start
from plugins.billing import reports
from plugins.billing.models import (
    CommissionEntry,
    Invoice,
    InvoiceKind,
    Method,
    Payment,
)

PLUGINS = ["repair", "inventory", "billing"]


@pytest.fixture
def demo_app(make_site, app_of, db_url):
    """The full demo of repair, inventory and billing (on SQLite only: the demo is the
    same on PostgreSQL, and the services it uses are tested on both)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the full demo is checked on SQLite")
    return app_of(make_site(PLUGINS, demo=True, branch_code="SH", branch_name="上海服务中心"))


def _branch(ctx, code: str) -> int:
    return ctx.session.scalar(select(Branch.id).where(Branch.code == code))


def test_jd_bills_by_monthly_statement_and_sh_on_completion(demo_app):
    with demo_app.context(user="admin") as ctx:
        session = ctx.session
        jd, sh = _branch(ctx, "JD"), _branch(ctx, "SH")
        # scenario 8: JD switched off billing's invoice on completion, SH did not
        assert session.scalar(select(HookSwitch.branch_id).where(
            HookSwitch.plugin == "billing.invoicing",
            HookSwitch.hook == "repair_order_completed")) == jd
        today = ctx.now().astimezone(ctx.settings.tz).date()
        last_month = f"{month_start(month_start(today) - dt.timedelta(days=1)):%Y-%m}"

        def invoices(branch, *conditions):
            return session.scalars(select(Invoice).where(
                Invoice.branch_id == branch, Invoice.kind == InvoiceKind.INVOICE,
                *conditions)).all()

        source = link_columns(Invoice.source)[0]
        per_job = source == "repair_work_order"
        # JD: no invoice of a single job, statements of last month (one per customer)
        assert invoices(jd, per_job, Invoice.period.is_(None)) == []
        statements = invoices(jd, Invoice.period == last_month)
        assert len(statements) >= 2
        assert len({s.customer_id for s in statements}) == len(statements)
        for statement in statements:
            assert statement.docstatus == DocStatus.SUBMITTED
            assert statement.invoice_date.strftime("%Y-%m") == last_month
            assert statement.lines and all(line.source.entity == "repair_work_order"
                                           for line in statement.lines)
        # SH: each paid job invoiced on completion, no statement
        jobs = invoices(sh, per_job, Invoice.period.is_(None))
        assert len(jobs) > 20
        assert invoices(sh, Invoice.period.is_not(None)) == []
        # contract fees of both branches, billed per period
        fees = invoices(sh, source == "repair_contract")
        assert len(fees) >= 6 and invoices(jd, source == "repair_contract")
        # commission earned on the audits of repair's history
        assert session.scalar(select(func.count()).select_from(CommissionEntry).where(
            CommissionEntry.amount > 0)) > 5


def test_payments_credit_note_collections_and_aging(demo_app):
    with demo_app.context(user="admin") as ctx:
        session = ctx.session
        sh = _branch(ctx, "SH")
        payments = session.scalars(select(Payment).where(
            Payment.docstatus == DocStatus.SUBMITTED)).all()
        methods = {p.method for p in payments}
        assert {Method.CASH, Method.TRANSFER, Method.CHEQUE} <= methods
        assert all(p.reference for p in payments
                   if p.method in (Method.TRANSFER, Method.CHEQUE))
        # cash at the counter was taken by the front desk, transfers by the accountant
        actors = dict(session.execute(text(
            "SELECT record_id, actor FROM audit_log WHERE entity = 'billing_payment' "
            "AND action = 'insert'")).all())
        counter = [p for p in payments if p.method == Method.CASH and not p.on_site
                   and p.branch_id == sh]
        assert counter and {actors[str(p.id)] for p in counter} == {"zhengli"}
        assert {actors[str(p.id)] for p in payments
                if p.method == Method.TRANSFER and p.branch_id == sh} == {"qianhui"}
        # one payment over several invoices (the hospital's quarter)
        assert session.scalar(text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM billing_payment_reference "
            "GROUP BY payment_id) AS counted")) >= 3
        # one overpayment kept as the customer's credit
        credit = [p for p in payments if p.unallocated > 0]
        assert len(credit) == 1 and credit[0].note
        # 王工's collections on site: one handed in to the cashier, one not yet
        collected = [p for p in payments if p.on_site]
        assert len(collected) == 2
        assert sorted(p.handed_in_by or "" for p in collected) == ["", "qianhui"]
        assert all(p.collected_by.code == "E001" and p.job is not None for p in collected)
        # a partial credit note with its reason
        [note] = session.scalars(select(Invoice).where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE)).all()
        assert note.docstatus == DocStatus.SUBMITTED and "优惠" in note.note
        assert note.credit_of.credited_total == note.grand_total == Decimal("50.00")
        assert note.credit_of.grand_total > note.grand_total
        # aging: open amounts in every bucket, the customer credit too
        rows = reports.aging(ctx)
        totals = {key: sum((row[key] for row in rows), Decimal(0))
                  for key in (*reports.AGING_KEYS, "credit")}
        assert all(totals[key] > 0 for key in reports.AGING_KEYS), totals
        assert totals["credit"] == credit[0].unallocated
        # some invoices still unpaid, most of the older SH ones paid
        today = ctx.now().astimezone(ctx.settings.tz).date()
        older = session.scalars(select(Invoice).where(
            Invoice.branch_id == sh, Invoice.kind == InvoiceKind.INVOICE,
            Invoice.invoice_date < today - dt.timedelta(days=10))).all()
        settled = [i for i in older if i.outstanding == 0]
        assert len(settled) > 0.8 * len(older) and len(settled) < len(older)


def test_money_invariants_hold_over_every_demo_invoice(demo_app):
    with demo_app.sessions() as session:
        def broken(sql: str) -> list:
            return session.execute(text(sql)).all()

        assert session.scalar(text("SELECT count(*) FROM billing_invoice")) > 100
        # totals are the sums of the lines
        assert broken("""
            SELECT i.number FROM billing_invoice i JOIN billing_invoice_line l
              ON l.invoice_id = i.id GROUP BY i.id, i.number, i.net_total, i.tax_total,
              i.grand_total
            HAVING i.net_total <> sum(l.net) OR i.tax_total <> sum(l.tax)
                OR i.grand_total <> sum(l.amount)""") == []
        assert broken("SELECT number FROM billing_invoice_line l JOIN billing_invoice i "
                      "ON i.id = l.invoice_id WHERE l.net + l.tax <> l.amount") == []
        # total = paid + credited + outstanding, nothing below zero
        assert broken("""
            SELECT number FROM billing_invoice WHERE docstatus = 'submitted'
              AND kind = 'invoice' AND (
              grand_total <> paid_total + credited_total + outstanding OR outstanding < 0
              OR paid_total < 0 OR credited_total < 0)""") == []
        # what was paid on an invoice is the sum of its allocations; credit notes add up
        assert broken("""
            SELECT i.number FROM billing_invoice i LEFT JOIN billing_allocation a
              ON a.invoice_id = i.id WHERE i.kind = 'invoice'
            GROUP BY i.id, i.number, i.paid_total
            HAVING i.paid_total <> coalesce(sum(a.amount), 0)""") == []
        assert broken("""
            SELECT i.number FROM billing_invoice i LEFT JOIN billing_invoice c
              ON c.credit_of_id = i.id AND c.docstatus = 'submitted'
            WHERE i.kind = 'invoice' GROUP BY i.id, i.number, i.credited_total
            HAVING i.credited_total <> coalesce(sum(c.grand_total), 0)""") == []
        # a payment's money is allocated or kept as credit, never more
        assert broken("""
            SELECT p.number FROM billing_payment p LEFT JOIN billing_allocation a
              ON a.payment_id = p.id WHERE p.docstatus = 'submitted'
            GROUP BY p.id, p.number, p.amount, p.allocated, p.unallocated
            HAVING p.amount <> p.allocated + p.unallocated
                OR p.allocated <> coalesce(sum(a.amount), 0) OR p.unallocated < 0""") == []
        # every job charge that is billable is invoiced, except this month's at JD
        assert broken("""
            SELECT c.order_number FROM billing_job_charge c JOIN branch b
              ON b.id = c.branch_id
            WHERE c.billable AND c.invoice_id IS NULL AND b.code = 'SH'""") == []


def test_the_demo_accounts_list_the_accountants(demo_app):
    accounts = demo_accounts_text(demo_app)
    for username in ("qianhui", "fengmin"):
        line = next(row for row in accounts.splitlines() if row.split()[0] == username)
        assert "accountant" in line
    assert "SH" in next(r for r in accounts.splitlines() if "qianhui" in r)
    assert "JD" in next(r for r in accounts.splitlines() if "fengmin" in r)
