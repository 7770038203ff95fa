"""Billing reports over a million invoice lines, on PostgreSQL (and SQLite).

For each database it creates a site with the billing plugin alone: two branches, 5,000
customers, 10 engineers and **300,000 invoices with 1,000,000 lines** over the last two
years (1 to 6 lines each, every service type, prices including 13 % VAT computed by the
rounding rule), 1 % of them credited by a credit note, 1 % cancelled and 0.5 % still
drafts; and payments as customers pay: invoices older than two months are mostly
settled, recent ones half, some partly, a few overpaid (the rest is customer credit),
5 % collected on site. Each payment pays its invoice through an allocation row, and every
invoice keeps ``grand_total = paid_total + credited_total + outstanding``. The rows go in
with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite), then ``VACUUM ANALYZE`` on
PostgreSQL (as autovacuum would). Then it times, after one warm-up run, each report
through the kernel's report runner (:func:`kernel.reports.service.run`, as the system,
all branches unless said) and the dashboard's cards and chart, and prints the warm-up's
time and p50 / p99 of ``--runs`` runs with the machine and its load. Usage::

    .venv/bin/python bench/billing_bench.py [--lines 1000000] [--runs 10] [--sqlite]
    .venv/bin/python bench/billing_bench.py --keep          # keep the site it built
    .venv/bin/python bench/billing_bench.py --site DIR      # time a kept site again
"""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path

import bench_sites  # this folder; it puts the repository on sys.path

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.date()
HISTORY_DAYS = 730
VAT = 13  # percent, prices include it
SERVICE_TYPES = ("repair", "repair", "repair", "install", "outsourced", "contract",
                 "training", "other_service")
INVOICE_COLUMNS = ("id", "number", "kind", "customer_id", "invoice_date", "due_date",
                   "credit_of_id", "tax_rate", "tax_inclusive", "net_total", "tax_total",
                   "grand_total", "credited_total", "paid_total", "outstanding",
                   "payment_state", "created_at", "updated_at", "company_id", "branch_id",
                   "docstatus", "submitted_at", "cancelled_at", "amendment_no")
LINE_COLUMNS = ("id", "invoice_id", "item", "service_type", "description", "quantity",
                "unit_price", "discount_percent", "net", "tax", "amount", "internal_cost")
PAYMENT_COLUMNS = ("id", "number", "customer_id", "paid_on", "method", "amount", "on_site",
                   "collected_by_id", "handed_in_at", "handed_in_by", "allocated",
                   "unallocated", "created_at", "updated_at", "company_id", "branch_id",
                   "docstatus", "submitted_at", "amendment_no")
ALLOCATION_COLUMNS = ("id", "payment_id", "invoice_id", "kind", "amount", "at")
#: the tables filled, in order, with their columns
TABLES = (("billing_invoice", INVOICE_COLUMNS), ("billing_invoice_line", LINE_COLUMNS),
          ("billing_payment", PAYMENT_COLUMNS), ("billing_allocation", ALLOCATION_COLUMNS))


# ---------------------------------------------------------------------------
# the site and its master data
# ---------------------------------------------------------------------------


def make_site(folder: Path, url: str | None, customers: int):
    """A new site with billing alone, branches SH and JD, ``customers`` customers (each
    served by one branch) and 10 engineers; returns the started app and the ids."""
    from sqlalchemy import insert, select

    from kernel.masterdata import add_branch, the_company
    from kernel.models import Branch, Customer, Employee, Grade, Tier
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    site = create_site(folder, SiteConfig(database_url=url or DEFAULT_DB, plugins=["billing"]),
                       company="压测服务公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    with app.context() as ctx:
        company = the_company(ctx).id
        branches = list(ctx.session.scalars(select(Branch.id)))
        branches.append(add_branch(ctx, "JD", "嘉定服务中心").id)
        ctx.session.execute(insert(Customer), [
            {"company_id": company, "branch_id": branches[n % 2], "code": f"C{n + 1:05d}",
             "name": f"客户 {n + 1}", "tier": Tier.CORPORATE, "created_at": NOW,
             "updated_at": NOW} for n in range(customers)])
        engineers = [Employee(company_id=company, branch_id=branches[n % 2],
                              code=f"E{n + 1:03d}", name=f"工程师 {n + 1}",
                              grade=Grade.REGULAR) for n in range(10)]
        ctx.session.add_all(engineers)
        ctx.session.flush()
        ids = {"company": company, "branches": branches,
               "customers": [(c.id, c.branch_id) for c in ctx.session.execute(
                   select(Customer.id, Customer.branch_id).order_by(Customer.id))],
               "engineers": {b: [e.id for e in engineers if e.branch_id == b]
                             for b in branches}}
    return site, app, ids


# ---------------------------------------------------------------------------
# invoices, lines, payments, allocations: generated in memory, inserted in bulk
# ---------------------------------------------------------------------------


def _tax(gross: int) -> int:
    """VAT in fen included in ``gross`` fen, rounded half up (the rounding rule)."""
    return (2 * gross * VAT + 100 + VAT) // (2 * (100 + VAT))


def _state(total: int, paid: int, credited: int, outstanding: int) -> str:
    if outstanding <= 0 < credited and paid == 0:
        return "credited"
    if outstanding <= 0:
        return "settled"
    return "partly_paid" if paid or credited else "unpaid"


def generate(ids: dict, lines: int, invoices: int, seed: int = 1) -> dict[str, list]:
    """Rows of each table as tuples of its columns (see the module's text)."""
    from plugins.billing.models import Item, Method

    items = {"repair": (Item.LABOUR, Item.PARTS, Item.TRAVEL),
             "install": (Item.LABOUR, Item.PARTS, Item.TRAVEL),
             "outsourced": (Item.LABOUR, Item.PARTS), "contract": (Item.CONTRACT_FEE,),
             "training": (Item.TRAINING_FEE,), "other_service": (Item.OTHER_CHARGE,)}
    rng = random.Random(seed)
    company = ids["company"]
    customers, engineers = ids["customers"], ids["engineers"]
    weights = [1 / (rank ** 0.6) for rank in range(1, len(customers) + 1)]
    chosen = rng.choices(customers, weights=weights, k=invoices)
    counts = [rng.randint(1, 6) for _ in range(invoices)]  # mean 3.5: trimmed to ``lines``
    excess = sum(counts) - lines
    while excess != 0:
        n = rng.randrange(invoices)
        if excess > 0 and counts[n] > 1:
            counts[n] -= 1
            excess -= 1
        elif excess < 0 and counts[n] < 6:
            counts[n] += 1
            excess += 1
    days = sorted(rng.randrange(HISTORY_DAYS) for _ in range(invoices))
    rows: dict[str, list] = {"billing_invoice": [], "billing_invoice_line": [],
                             "billing_payment": [], "billing_allocation": []}
    invoice_rows, line_rows = rows["billing_invoice"], rows["billing_invoice_line"]
    line_id = 0
    heads = []  # [id, customer, branch, date, gross, net, tax, state...] of each invoice
    for n in range(invoices):
        invoice_id = n + 1
        customer_id, branch_id = chosen[n]
        on = TODAY - dt.timedelta(days=HISTORY_DAYS - 1 - days[n])
        kind = rng.choice(SERVICE_TYPES)
        gross_total = net_total = tax_total = 0
        for _ in range(counts[n]):
            line_id += 1
            item = rng.choice(items[kind])
            quantity = rng.choice((100, 100, 100, 200, 300))
            price = rng.randint(20, 2000) * 100 + rng.choice((0, 0, 50))
            gross = quantity * price // 100
            tax = _tax(gross)
            cost = gross * rng.randint(40, 80) // 100 if item == "parts_fee" else None
            line_rows.append((line_id, invoice_id, item, kind, f"{item} {line_id}", quantity,
                              price, 0, gross - tax, tax, gross, cost))
            gross_total += gross
            net_total += gross - tax
            tax_total += tax
        heads.append([invoice_id, customer_id, branch_id, on, gross_total, net_total,
                      tax_total])
    # what happened to each: cancelled, draft, credited, paid
    credited: dict[int, int] = {}
    fates = {}
    for head in heads:
        roll = rng.random()
        fates[head[0]] = ("cancelled" if roll < 0.01 else "draft" if roll < 0.015
                          and (TODAY - head[3]).days < 20 else "submitted")
    notes = []
    for head in rng.sample(heads, invoices // 100):
        if fates[head[0]] != "submitted":
            continue
        share = rng.choice((100, 100, 50, 20))
        amount = head[4] * share // 100
        credited[head[0]] = amount
        notes.append((head, amount, min(TODAY, head[3] + dt.timedelta(days=rng.randint(1, 40)))))
    payments, allocations = rows["billing_payment"], rows["billing_allocation"]
    for head in heads:
        invoice_id, customer_id, branch_id, on, gross, net, tax = head
        state = fates[invoice_id]
        credit = credited.get(invoice_id, 0)
        owed = gross - credit
        paid = 0
        age = (TODAY - on).days
        if state == "submitted" and owed > 0:
            roll = rng.random()
            settle = 0.92 if age > 60 else 0.5 if age > 14 else 0.2
            if roll < settle:
                paid = owed
            elif roll < settle + 0.04:
                paid = owed * rng.randint(20, 80) // 100
        if paid:
            payment_id = len(payments) + 1
            paid_on = min(TODAY, on + dt.timedelta(days=rng.randint(0, 45)))
            extra = rng.randint(1, 200) * 100 if rng.random() < 0.01 else 0
            on_site = rng.random() < 0.05 and paid <= 100_000
            handed = NOW - dt.timedelta(days=max(0, (TODAY - paid_on).days - 1)) \
                if on_site and (TODAY - paid_on).days > 3 else None
            at = dt.datetime.combine(paid_on, dt.time(10), dt.UTC)
            payments.append((
                payment_id, f"PAY-B-{payment_id:07d}", customer_id, paid_on,
                (Method.CASH if on_site else rng.choice(
                    (Method.TRANSFER, Method.TRANSFER, Method.CHEQUE))).value,
                paid + extra, on_site,
                rng.choice(engineers[branch_id]) if on_site else None, handed,
                "cashier" if handed else None, paid, extra, at, at, company, branch_id,
                "submitted", at, 0))
            allocations.append((len(allocations) + 1, payment_id, invoice_id, "payment", paid,
                                at))
        outstanding = owed - paid if state == "submitted" else 0
        at = dt.datetime.combine(on, dt.time(9), dt.UTC)
        invoice_rows.append((
            invoice_id, f"INV-B-{invoice_id:07d}", "invoice", customer_id, on,
            on + dt.timedelta(days=30), None, VAT * 100, True, net, tax, gross,
            credit if state == "submitted" else 0, paid if state == "submitted" else 0,
            outstanding, _state(gross, paid, credit, outstanding) if state == "submitted"
            else "unpaid", at, at, company, branch_id, state,
            at if state != "draft" else None, at if state == "cancelled" else None, 0))
    for head, amount, on in notes:  # one line each, of the invoice's service type
        invoice_id = len(invoice_rows) + 1
        line_id += 1
        tax = _tax(amount)
        kind = line_rows[_first_line(line_rows, head[0])][3]
        line_rows.append((line_id, invoice_id, Item.OTHER_CHARGE.value, kind,
                          f"credit {head[0]}", 100,
                          amount, 0, amount - tax, tax, amount, None))
        at = dt.datetime.combine(on, dt.time(11), dt.UTC)
        invoice_rows.append((
            invoice_id, f"CN-B-{invoice_id:07d}", "credit_note", head[1], on, on, head[0],
            VAT * 100, True, amount - tax, tax, amount, 0, 0, 0, "credited", at, at, company,
            head[2], "submitted", at, None, 0))
    return rows


def _first_line(line_rows: list, invoice_id: int) -> int:
    """The index of the first line of ``invoice_id`` in ``line_rows`` (sorted by invoice)."""
    low, high = 0, len(line_rows)
    while low < high:
        middle = (low + high) // 2
        if line_rows[middle][1] < invoice_id:
            low = middle + 1
        else:
            high = middle
    return low


def insert(app, rows: dict[str, list], chunk: int = 250_000) -> None:
    """Every table's rows in transactions of ``chunk`` rows (:func:`bench_sites.load_tables`)."""
    bench_sites.load_tables(app, TABLES, rows, chunk)


def check(app) -> None:
    """Every invoice's total is the sum of its lines and ``grand_total = paid + credited +
    outstanding`` (one grouped query each); raises when not."""
    from sqlalchemy import func, select

    from plugins.billing.models import Invoice, InvoiceLine

    with app.sessions.begin() as session:
        sums = select(InvoiceLine.invoice_id, func.sum(InvoiceLine.amount).label("total")) \
            .group_by(InvoiceLine.invoice_id).subquery()
        wrong = session.scalar(select(func.count()).select_from(Invoice).join(
            sums, sums.c.invoice_id == Invoice.id).where(sums.c.total != Invoice.grand_total))
        drift = session.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.grand_total != Invoice.paid_total + Invoice.credited_total
            + Invoice.outstanding, Invoice.docstatus == "submitted",
            Invoice.kind == "invoice"))
    assert wrong == 0 and drift == 0, f"{wrong} totals differ from their lines, {drift} drift"


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


def _month(months_ago: int) -> str:
    year, month = divmod(TODAY.year * 12 + TODAY.month - 1 - months_ago, 12)
    return f"{year:04d}-{month + 1:02d}"


def cases(app) -> list[tuple[str, object]]:
    """(label, function of a context returning a row count) for each measured call."""
    from kernel.reports.service import run
    from plugins.billing import dashboard

    def report(name, **raw):
        return lambda ctx: len(run(ctx, name, raw).rows)

    return [
        ("billing.revenue, last 12 months", report("billing.revenue")),
        ("billing.revenue, last 12 months, SH", report("billing.revenue", branch="SH")),
        ("billing.revenue, 24 months",
         report("billing.revenue", from_month=_month(23), to_month=_month(0))),
        (f"billing.revenue, one month ({_month(1)})",
         report("billing.revenue", from_month=_month(1), to_month=_month(1))),
        ("billing.aging, today", report("billing.aging")),
        ("billing.aging, today, SH", report("billing.aging", branch="SH")),
        ("billing.aging, a year ago",
         report("billing.aging", date=(TODAY - dt.timedelta(days=365)).isoformat())),
        ("dashboard: revenue this month", dashboard.revenue_this_month),
        ("dashboard: receivables > 30 days", dashboard.receivables_overdue),
        ("dashboard: collections not handed in", dashboard.collections_not_handed_in),
        ("dashboard: revenue by month (chart)",
         lambda ctx: len(dashboard.revenue_by_month(ctx).labels)),
    ]


def measure(app, runs: int) -> list[tuple[str, object, float, float]]:
    """The cases timed by :func:`bench_sites.measure`."""
    return bench_sites.measure(app, cases(app), runs, bench="billing")


def bench(label: str, url: str | None, args) -> None:
    began = time.perf_counter()
    with bench_sites.scratch_site(
            "fixdesk-billbench-", url, args.keep,
            lambda path: make_site(path, url, args.customers)) as (_site, app, ids):
        rows = generate(ids, args.lines, args.invoices)
        print(f"{label}: {bench_sites.machine(app)}\n  {args.customers:,} customers, "
              f"{len(rows['billing_invoice']):,} invoices and credit notes, "
              f"{len(rows['billing_invoice_line']):,} lines, "
              f"{len(rows['billing_payment']):,} payments", flush=True)
        insert(app, rows)
        del rows
        check(app)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        measure(app, args.runs)


def sizes(parser) -> None:
    """The options of the site's size besides ``--lines``."""
    parser.add_argument("--invoices", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=5000)


def main() -> None:
    bench_sites.main(__doc__, sizes, bench, measure, "fixdesk_billbench")


if __name__ == "__main__":
    main()
