"""Payments, credit notes and invoice numbers under concurrency on PostgreSQL (issue 13,
"Two cashiers recording payments for the same invoice at once on PostgreSQL never
overpay it silently").

Threads, each with its own connection and transaction, submit documents through the
kernel's lifecycle (:func:`kernel.lifecycle.submit`, whose ``fixdesk_document_submitted``
hook allocates a payment under row locks in :mod:`plugins.billing.payments`) — the real
document path, as two cashiers at two desks would. The drafts are made beforehand, so
that the racing transactions meet only on the invoice rows. A barrier releases the
threads together once each holds its connection.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)]

#: seconds a thread may wait for the others before the test gives up
PATIENCE = 120
DAY = dt.date(2026, 5, 4)


@pytest.fixture
def shop(quiet_site):
    """The site (billing alone, SH's demo staff and customers) with a second cashier, and
    an app whose pool gives every racing thread a connection of its own."""
    from kernel.auth import add_user
    from kernel.masterdata import get_branch

    site = quiet_site(["billing"])
    app = site.start(pool_size=40, max_overflow=0)
    with app.context() as ctx:
        add_user(ctx, "chuna", "孙出纳", None, get_branch(ctx, "SH"), roles=["front_desk"])
    yield app
    app.close()


def _customer(ctx, code="C0001"):
    from kernel.models import Customer

    return ctx.session.scalars(select(Customer).where(Customer.code == code)).one()


def _invoices(app, prices, code="C0001") -> list[int]:
    """Submitted invoices of one line each, oldest first (a day apart)."""
    from kernel.lifecycle import submit
    from plugins.billing import invoices

    with app.context(user="admin") as ctx:
        customer, made = _customer(ctx, code), []
        for n, price in enumerate(prices):
            invoice = invoices.make_invoice(
                ctx, customer=customer, invoice_date=DAY + dt.timedelta(days=n),
                lines=[{"description": f"维修 {n}", "unit_price": D(price)}])
            submit(ctx, invoice)
            made.append(invoice.id)
        return made


def _draft_payments(app, amounts, references=None, code="C0001") -> list[int]:
    """Draft payments of ``amounts``; each names ``references(n)`` ``[(invoice, amount)]``
    (none: it pays the customer's oldest open invoices)."""
    from kernel.lifecycle import number_new_draft
    from plugins.billing.models import Payment, PaymentReference

    with app.context(user="admin") as ctx:
        customer, made = _customer(ctx, code), []
        for n, amount in enumerate(amounts):
            payment = Payment(company_id=customer.company_id, branch_id=customer.branch_id,
                              customer_id=customer.id, paid_on=DAY, method="cash",
                              amount=D(amount), references=[
                                  PaymentReference(invoice_id=i, amount=D(a))
                                  for i, a in (references(n) if references else ())])
            ctx.session.add(payment)
            number_new_draft(ctx, payment)
            ctx.session.flush()
            made.append(payment.id)
        return made


def _race(app, jobs) -> tuple[list, list]:
    """Run every ``(user, entity class, id)`` job in a thread of its own, each submitting
    the draft in its own transaction once all hold a connection; returns the ids that
    succeeded and the exceptions of the others."""
    from kernel.lifecycle import submit

    barrier = threading.Barrier(len(jobs))
    done, failed, lock = [], [], threading.Lock()

    def run(user, model, record_id):
        try:
            with app.context(user=user) as ctx:
                ctx.session.connection()  # its own connection before the race starts
                barrier.wait(timeout=PATIENCE)
                submit(ctx, ctx.session.get(model, record_id))
        except Exception as exc:  # every outcome is counted below
            with lock:
                failed.append(exc)
        else:
            with lock:
                done.append(record_id)

    workers = [threading.Thread(target=run, args=job) for job in jobs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=PATIENCE)
    assert not any(worker.is_alive() for worker in workers)
    return done, failed


def _books(app) -> dict:
    """Every invoice's and payment's amounts as stored, and the allocations' sums."""
    from plugins.billing.models import Allocation, Invoice, Payment

    with app.sessions.begin() as session:
        allocated = dict(session.execute(select(Allocation.invoice_id, func.sum(
            Allocation.amount)).group_by(Allocation.invoice_id)).all())
        by_payment = dict(session.execute(select(Allocation.payment_id, func.sum(
            Allocation.amount)).group_by(Allocation.payment_id)).all())
        invoices = {i.id: (i.kind.value, i.docstatus.value, i.grand_total, i.paid_total,
                           i.credited_total, i.outstanding)
                    for i in session.scalars(select(Invoice))}
        payments = {p.id: (p.docstatus.value, p.amount, p.allocated, p.unallocated)
                    for p in session.scalars(select(Payment))}
    return {"invoices": invoices, "payments": payments,
            "allocated": {k: D(v) for k, v in allocated.items()},
            "by_payment": {k: D(v) for k, v in by_payment.items()}}


def _balanced(books) -> None:
    """The invariants of the books: an invoice is paid what its allocations say, never
    beyond its total, and total = paid + credited + outstanding; a payment's allocations
    are what it says it allocated, and allocated + unallocated = amount."""
    for invoice_id, (kind, state, total, paid, credited, owed) in books["invoices"].items():
        if kind != "invoice" or state != "submitted":
            continue
        assert paid == books["allocated"].get(invoice_id, D("0.00")), invoice_id
        assert D("0.00") <= paid <= total and owed >= 0, (invoice_id, total, paid, owed)
        assert paid + credited + owed == total, invoice_id
    for payment_id, (state, amount, allocated, unallocated) in books["payments"].items():
        if state != "submitted":
            assert books["by_payment"].get(payment_id, D("0.00")) == 0, payment_id
            continue
        assert allocated == books["by_payment"].get(payment_id, D("0.00")), payment_id
        assert allocated + unallocated == amount and unallocated >= 0, payment_id


def test_two_cashiers_paying_one_invoice_at_once_never_overpay_it(shop):
    """Ten invoices; for each, two cashiers submit a payment naming it for its full
    outstanding at the same moment: exactly one pays it, the other is refused (Conflict,
    naming the invoice) and stays a draft with nothing allocated."""
    from kernel import Conflict
    from plugins.billing.models import Payment

    prices = [f"{n * 111 + 57}.{n:02d}" for n in range(1, 11)]
    invoices = _invoices(shop, prices)
    first = _draft_payments(shop, prices, references=lambda n: [(invoices[n], prices[n])])
    second = _draft_payments(shop, prices, references=lambda n: [(invoices[n], prices[n])])
    jobs = [job for pair in zip(first, second, strict=True)
            for job in (("zhengli", Payment, pair[0]), ("chuna", Payment, pair[1]))]
    done, failed = _race(shop, jobs)
    assert len(done) == 10 and len(failed) == 10, failed
    assert all(isinstance(exc, Conflict) for exc in failed), failed
    assert all("outstanding" in exc.message for exc in failed), failed
    books = _books(shop)
    _balanced(books)
    for n, invoice_id in enumerate(invoices):
        kind, state, total, paid, credited, owed = books["invoices"][invoice_id]
        assert (total, paid, owed) == (D(prices[n]), D(prices[n]), D("0.00"))
        winners = [p for p in (first[n], second[n]) if p in done]
        assert len(winners) == 1  # one of the pair, never both
        loser = second[n] if winners[0] == first[n] else first[n]
        assert books["payments"][loser] == ("draft", D(prices[n]), D("0.00"), D("0.00"))


def test_many_payments_and_credit_notes_at_once_keep_the_books_balanced(shop):
    """Twenty-four cashiers pay one customer at once without naming invoices (each pays
    the oldest open ones), while two credit notes take money off invoices: the sums of
    the allocations are the invoices' paid totals, nothing is overpaid or below zero,
    and exactly as much is allocated as the invoices could take."""
    from plugins.billing import invoices as billing
    from plugins.billing.models import Invoice, Payment

    rng = random.Random(13)
    prices = [f"{rng.randint(50, 400)}.{rng.randint(0, 99):02d}" for _ in range(12)]
    invoice_ids = _invoices(shop, prices)
    amounts = [f"{rng.randint(20, 260)}.{rng.randint(0, 99):02d}" for _ in range(24)]
    payments = _draft_payments(shop, amounts)
    with shop.context(user="admin") as ctx:
        notes = [billing.credit(ctx, ctx.session.get(Invoice, invoice_ids[n]),
                                reason="折让", amount="20.00").id for n in (2, 7)]
    users = ("zhengli", "chuna", "admin")
    jobs = [(users[n % 3], Payment, p) for n, p in enumerate(payments)]
    jobs += [("admin", Invoice, note) for note in notes]
    rng.shuffle(jobs)
    done, failed = _race(shop, jobs)
    assert not failed, failed
    assert len(done) == len(jobs)
    books = _books(shop)
    _balanced(books)
    invoiced = sum((D(p) for p in prices), D("0.00")) - D("40.00")  # less the credit notes
    paid = sum(D(a) for a in amounts)
    # more is paid than invoiced, even with what the credit notes give back as credit:
    # every invoice ends settled, whichever order the documents came in
    assert paid > invoiced + D("40.00")
    assert all(row[5] == 0 for row in books["invoices"].values())
    total_allocated = sum(books["allocated"].values(), D("0.00"))
    assert total_allocated == min(invoiced, paid)
    assert total_allocated == sum(row[3] for row in books["invoices"].values())
    assert total_allocated == sum(row[2] for row in books["payments"].values())
    credit = sum(row[3] for row in books["payments"].values())
    assert credit == paid - total_allocated  # the rest is the customer's credit


def test_invoice_and_credit_note_numbers_never_repeat_under_concurrent_creation(shop):
    """Thirty threads make invoices at once (every fifth rolls back), while ten make credit
    notes: every number is used once, and the committed ones follow each other."""
    from kernel.lifecycle import submit
    from plugins.billing import invoices as billing
    from plugins.billing.models import Invoice, InvoiceKind

    credited = _invoices(shop, ["100.00"] * 10)
    makers, notes = 30, 10
    barrier = threading.Barrier(makers + notes)
    errors, lock = [], threading.Lock()

    def make(index: int) -> None:
        try:
            with shop.context(user="admin") as ctx:
                customer = _customer(ctx)
                ctx.session.connection()
                barrier.wait(timeout=PATIENCE)
                if index < makers:
                    invoice = billing.make_invoice(ctx, customer=customer, lines=[
                        {"description": f"培训 {index}", "unit_price": D("80.00")}])
                    submit(ctx, invoice)
                    if index % 5 == 0:
                        raise LookupError("rolled back on purpose")
                else:
                    original = ctx.session.get(Invoice, credited[index - makers])
                    submit(ctx, billing.credit(ctx, original, reason="退款"))
        except LookupError:
            pass
        except Exception as exc:  # reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(makers + notes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE)
    assert not errors, errors
    with shop.sessions.begin() as session:
        rows = session.execute(select(Invoice.kind, Invoice.number)).all()
    year = dt.datetime.now(shop.site.config.tz).year
    numbers = sorted(n for kind, n in rows if kind == InvoiceKind.INVOICE)
    assert len(set(numbers)) == len(numbers) == 10 + 24
    assert numbers == [f"INV-SH-{year}-{n:05d}" for n in range(1, 35)]
    credit_numbers = sorted(n for kind, n in rows if kind == InvoiceKind.CREDIT_NOTE)
    assert credit_numbers == [f"CN-SH-{year}-{n:04d}" for n in range(1, 11)]
