"""Billing's reports: plain functions taking a context, returning rows; :data:`REPORTS`
registers each as a :class:`kernel.Report`, so the kernel shows it on the desk, answers it
as JSON, Excel (R33), CSV and PDF (``GET /api/v1/reports/<name>?format=xlsx``) and prints
it; :data:`SUBCOMMANDS` are ``fixdesk billing aging`` and ``fixdesk billing revenue``.

* :func:`revenue` (``billing.revenue``, 营业收入) — net, VAT and total of the submitted
  invoice lines per branch, month of the invoice date and the line's service type; credit
  notes subtract in the month they are dated;
* :func:`aging` (``billing.aging``, 应收账款账龄) — per customer, what submitted invoices
  still owe by days since the invoice date (0–30, 31–60, 61–90, over 90:
  :data:`~plugins.billing.amounts.AGING_BUCKETS`), and the customer's credit (their
  payments' unallocated money). It reads today's balances (the invoices' ``outstanding``
  and the payments' ``unallocated``): *as of* a past date it leaves out the invoices and
  payments dated later and ages the rest from that date, but what was paid since still
  counts as paid;
* :func:`commission` (``billing.commission``, 提成汇总) — per engineer over a range of
  months: earned, deductions, reversals and the total of the commission lines;
* :func:`free_work` (``billing.free_work``, 免费服务成本) — jobs the customer did not pay
  for (categories B, C and D, and A jobs that came to nothing) per branch, category and
  month of completion: how many, their labour value and internal cost.

Every report runs as the reader (the branches they see; ``branch`` narrows to one) and
sums in the database: one ``GROUP BY`` per report (the aging two: invoices and credit),
never a row per line loaded into Python. Months are grouped by ``YYYY-MM`` text made by
the database (:func:`month_of`: ``to_char`` on PostgreSQL, ``substr`` of SQLite's ISO
date text), filtered by date ranges the indexes on ``(branch_id, date)`` serve.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import click
from sqlalchemy import (
    BigInteger,
    Date,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)

from kernel import ChartData, Column, Param, Report, ValidationError
from kernel.cli.base import CliState, pass_state
from kernel.i18n import N_, _
from kernel.lifecycle import DocStatus
from kernel.models import Branch, Customer, Employee
from kernel.months import add_months, month_end, month_start, parse_month

from .amounts import AGING_BUCKETS
from .models import (
    CommissionEntry,
    CommissionKind,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    JobCharge,
    Payment,
    ServiceType,
)

INVOICE_READ = "billing_invoice.read"
#: the invoices as a plain table (queries on it are not scoped by the session: the
#: reports name the branches themselves)
INVOICES = Invoice.__table__
COMMISSION_READ = "billing_commission_entry.read"
CHARGE_READ = "billing_job_charge.read"
#: the most months one report covers
MAX_MONTHS = 120
#: the months a report covers when none are given (this one and the 11 before)
DEFAULT_MONTHS = 12
#: repair's service categories (R3) as the reports name them
CATEGORY_TITLES = {"A": N_("A paid"), "B": N_("B contract"), "C": N_("C free (warranty)"),
                   "D": N_("D internal")}
#: the categories whose jobs the customer never pays for
FREE_CATEGORIES = ("B", "C", "D")


# ---------------------------------------------------------------------------
# scope, months, small helpers
# ---------------------------------------------------------------------------


def branch_ids(ctx, branch: Any = None) -> list[int]:
    """The ids of the branches a report covers: ``branch`` (a record the kernel checked)
    when given, else every branch the reader may see."""
    if branch is not None:
        return [branch.id]
    return [b.id for b in ctx.session.scalars(select(Branch).order_by(Branch.code))
            if ctx.can_see(b)]


def _branch_names(ctx) -> dict[int, tuple[str, str]]:
    """``{branch id: (code, name)}`` of every branch (a handful)."""
    return {row.id: (row.code, row.name) for row in ctx.session.execute(
        select(Branch.id, Branch.code, Branch.name))}


def today(ctx) -> dt.date:
    """Today in the site's time zone."""
    return ctx.now().astimezone(ctx.settings.tz).date()


def is_postgres(ctx) -> bool:
    """Whether the site's database is PostgreSQL (else SQLite)."""
    return ctx.session.get_bind().dialect.name == "postgresql"


def month_of(ctx, column):
    """SQL for the month of a date column as ``YYYY-MM`` text, the same on both databases:
    ``to_char`` on PostgreSQL, the first seven characters of SQLite's ISO date text. The
    format is written literally, so that the expression in ``SELECT`` and ``GROUP BY``
    is the same one."""
    if is_postgres(ctx):
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.substr(column, literal_column("1"), literal_column("7"))


def fen_sum(expression):
    """``SUM`` of a :class:`kernel.Money` expression read back as the bare integer fen the
    database adds up (no conversion per value; :func:`yuan` turns a total into money)."""
    return type_coerce(func.sum(expression), BigInteger)


def yuan(total) -> Decimal:
    """A total in integer fen (None over no rows; PostgreSQL's ``SUM`` gives a numeric) as
    an amount with two decimals."""
    return Decimal(total or 0).scaleb(-2)




def month_range(ctx, from_month: Any = None, to_month: Any = None) -> tuple[dt.date, dt.date]:
    """The first day of ``from_month`` and the last day of ``to_month`` (``YYYY-MM``);
    without them the last :data:`DEFAULT_MONTHS` months up to this one (or up to
    ``to_month``)."""
    last = parse_month(to_month, "to_month") if to_month not in (None, "") \
        else month_start(today(ctx))
    first = parse_month(from_month, "from_month") if from_month not in (None, "") \
        else add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise ValidationError(_("the last month lies before the first"), field="to_month")
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise ValidationError(_("a report covers at most {n} months").format(n=MAX_MONTHS),
                              field="to_month")
    return first, month_end(last)


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """Every month from ``first`` to ``last`` as ``YYYY-MM``."""
    found, month = [], month_start(first)
    while month <= last:
        found.append(month.strftime("%Y-%m"))
        month = add_months(month, 1)
    return found


def work_mem(ctx) -> None:
    """On PostgreSQL, let this transaction's hash tables use 64 MB (``SET LOCAL``), so
    that grouping a million lines is hashed in memory rather than sorted on disk."""
    if is_postgres(ctx):
        ctx.session.execute(text("SET LOCAL work_mem = '64MB'"))


# ---------------------------------------------------------------------------
# revenue by branch, month and service type (营业收入)
# ---------------------------------------------------------------------------


REVENUE_COLUMNS = (
    Column("month", N_("Month")), Column("branch", N_("Branch")),
    Column("service_type", N_("Service type"), "enum"),
    Column("net", N_("Net"), "money", total=True),
    Column("tax", N_("VAT"), "money", total=True),
    Column("total", N_("Total incl. VAT"), "money", total=True),
)


def revenue_query(ctx, first: dt.date, last: dt.date, ids: list[int],
                  service_type: str | None = None):
    """One SELECT of (branch id, month, service type, net, VAT, total in fen) of the lines
    of submitted invoices dated from ``first`` to ``last`` in the branches ``ids``; a credit
    note's lines count negative.

    The lines are summed per branch, day, kind of invoice and service type first (a few
    thousand groups, with nothing computed per line but the sums), then per month with
    the credit notes' sign. They are read as a plain table (not the mapped class), so
    the session's branch scope adds no subquery per line: the invoices' branches are
    checked here."""
    lines = InvoiceLine.__table__
    days = (select(Invoice.branch_id.label("branch_id"),
                   Invoice.invoice_date.label("invoice_date"), Invoice.kind.label("kind"),
                   lines.c.service_type.label("service_type"),
                   fen_sum(lines.c.net).label("net"), fen_sum(lines.c.tax).label("tax"),
                   fen_sum(lines.c.amount).label("total"))
            .select_from(Invoice).join(lines, lines.c.invoice_id == Invoice.id)
            .where(Invoice.branch_id.in_(ids), Invoice.invoice_date >= first,
                   Invoice.invoice_date <= last, Invoice.docstatus == DocStatus.SUBMITTED)
            .group_by(Invoice.branch_id, Invoice.invoice_date, Invoice.kind,
                      lines.c.service_type))
    if service_type:
        days = days.where(lines.c.service_type == ServiceType(service_type).value)
    days = days.subquery("days")
    credit = days.c.kind == InvoiceKind.CREDIT_NOTE.value

    def signed(column):
        return fen_sum(case((credit, -column), else_=column))

    month = month_of(ctx, days.c.invoice_date)
    return (select(days.c.branch_id, month.label("month"), days.c.service_type,
                   signed(days.c.net), signed(days.c.tax), signed(days.c.total))
            .group_by(days.c.branch_id, month, days.c.service_type))


def revenue(ctx, from_month: str | None = None, to_month: str | None = None, branch=None,
            service_type: str | None = None) -> list[dict]:
    """Net, VAT and total per branch, month (of the invoice date) and service type (of the
    line) of the submitted invoices and credit notes (subtracted) from ``from_month`` to
    ``to_month`` (``YYYY-MM``; default the last 12 months). One grouped query."""
    ctx.require(INVOICE_READ)
    first, last = month_range(ctx, from_month, to_month)
    names = _branch_names(ctx)
    work_mem(ctx)
    rows = []
    for branch_id, month, kind, net, tax, total in ctx.session.execute(
            revenue_query(ctx, first, last, branch_ids(ctx, branch), service_type)):
        code, name = names[branch_id]
        rows.append({"month": month, "branch_code": code, "branch": name,
                     "service_type": ServiceType(kind), "net": yuan(net), "tax": yuan(tax),
                     "total": yuan(total)})
    rows.sort(key=lambda r: (r["month"], r["branch_code"], r["service_type"].value))
    return rows


def _revenue_charts(ctx, rows: list[dict], from_month=None, to_month=None,
                    **_params) -> list:
    """The revenue report's chart: net revenue per month, a bar per service type stacked."""
    first, last = month_range(ctx, from_month, to_month)
    months = months_between(first, last)
    kinds = sorted({r["service_type"] for r in rows}, key=lambda k: k.value)
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in rows:
        sums[(r["month"], r["service_type"])] += r["net"]
    if not kinds:
        return []
    return [ChartData("stacked_bar", _("Net revenue by month (yuan)"), tuple(months),
                      tuple((_(kind.value), tuple(float(sums.get((m, kind), 0))
                                                  for m in months)) for kind in kinds))]


# ---------------------------------------------------------------------------
# receivables aging (应收账款账龄)
# ---------------------------------------------------------------------------


AGING_KEYS = ("days_0_30", "days_31_60", "days_61_90", "days_over_90")
AGING_COLUMNS = (
    Column("customer_code", N_("Customer code")), Column("customer", N_("Customer")),
    Column("days_0_30", N_("0–30 days"), "money", total=True),
    Column("days_31_60", N_("31–60 days"), "money", total=True),
    Column("days_61_90", N_("61–90 days"), "money", total=True),
    Column("days_over_90", N_("Over 90 days"), "money", total=True),
    Column("outstanding", N_("Outstanding"), "money", total=True),
    Column("credit", N_("Customer credit"), "money", total=True),
    Column("balance", N_("Balance"), "money", total=True),
    Column("oldest", N_("Oldest invoice"), "date"),
)


def _bucket_bounds(as_of: dt.date) -> list[tuple[dt.date | None, dt.date]]:
    """(earliest, latest) invoice date of each aging bucket as of ``as_of`` (None: open)."""
    return [(as_of - dt.timedelta(days=high) if high is not None else None,
             as_of - dt.timedelta(days=low)) for low, high in AGING_BUCKETS]


def open_invoices(ctx, ids: list[int], as_of: dt.date):
    """The conditions (on the table ``billing_invoice``, so that the session's branch
    scope adds nothing) of the invoices that still owe something, dated up to ``as_of``,
    in the branches ``ids``, read through the partial index ``ix_billing_invoice_open``.

    ``outstanding <> 0`` is written as the index's own condition, so that both databases
    can use it. SQLite plans without statistics (nothing runs ``ANALYZE``) and would take
    ``branch_id IN`` or ``docstatus =`` for selective, reading every invoice through
    their indexes instead of the few open ones: there the two are written as expressions
    (``branch_id + 0``, ``docstatus || ''``) no index answers."""
    table = INVOICES
    branch, state = table.c.branch_id, table.c.docstatus
    if not is_postgres(ctx):
        branch, state = branch + 0, state.concat("")
    return (table.c.kind == InvoiceKind.INVOICE.value, state == DocStatus.SUBMITTED.value,
            text("billing_invoice.outstanding <> 0"), table.c.invoice_date <= as_of,
            branch.in_(ids))


def aging(ctx, date: dt.date | None = None, branch=None, customer=None) -> list[dict]:
    """Per customer, what their submitted invoices still owe by days since the invoice
    date as of ``date`` (default today), the total, the customer's credit (submitted
    payments' unallocated money) and the balance (outstanding − credit); customers with
    either, by code. One query: the open invoices (through their partial index) and the
    payments with credit, summed per customer.

    Balances are today's: ``date`` leaves out what was invoiced or paid after it and ages
    the rest from it, without undoing later payments."""
    ctx.require(INVOICE_READ)
    as_of = date or today(ctx)
    ids = branch_ids(ctx, branch)
    nothing = literal_column("0")

    def fen(expression):
        return type_coerce(expression, BigInteger)

    invoice = INVOICES.c
    buckets = [fen(case((and_(*([invoice.invoice_date >= low] if low else []),
                              invoice.invoice_date <= high), invoice.outstanding),
                        else_=nothing)).label(key)
               for (low, high), key in zip(_bucket_bounds(as_of), AGING_KEYS, strict=True)]
    owed = (select(invoice.customer_id.label("customer_id"), *buckets,
                   fen(invoice.outstanding).label("outstanding"),
                   fen(nothing).label("credit"), invoice.invoice_date.label("oldest"))
            .where(*open_invoices(ctx, ids, as_of)))
    credit = (select(Payment.customer_id, *(fen(nothing) for _key in AGING_KEYS),
                     fen(nothing), fen(Payment.unallocated),
                     type_coerce(literal_column("NULL"), Date))
              .where(Payment.docstatus == DocStatus.SUBMITTED, Payment.unallocated > 0,
                     Payment.paid_on <= as_of, Payment.branch_id.in_(ids)))
    if customer is not None:
        owed = owed.where(invoice.customer_id == customer.id)
        credit = credit.where(Payment.customer_id == customer.id)
    both = union_all(owed, credit).subquery("both")
    keys = (*AGING_KEYS, "outstanding", "credit")
    sums = (select(both.c.customer_id, *(fen_sum(both.c[key]).label(key) for key in keys),
                   func.min(both.c.oldest).label("oldest"))
            .group_by(both.c.customer_id).subquery("sums"))
    customers = Customer.__table__  # a customer of another branch may owe this one
    query = (select(customers.c.id, customers.c.code, customers.c.name,
                    *(sums.c[key] for key in keys), sums.c.oldest)
             .join(customers, customers.c.id == sums.c.customer_id)
             .order_by(customers.c.code, customers.c.id))
    rows = []
    for customer_id, code, name, *totals, oldest in ctx.session.execute(query):
        row = dict(zip(keys, map(yuan, totals), strict=True))
        row.update(customer_id=customer_id, customer_code=code, customer=name,
                   balance=row["outstanding"] - row["credit"], oldest=_as_date(oldest),
                   as_of=as_of)
        rows.append(row)
    return rows


def _as_date(value) -> dt.date | None:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


# ---------------------------------------------------------------------------
# commission by engineer (提成汇总)
# ---------------------------------------------------------------------------


COMMISSION_COLUMNS = (
    Column("engineer_code", N_("Engineer code")), Column("engineer", N_("Engineer")),
    Column("branch", N_("Branch")), Column("jobs", N_("Jobs"), "int", total=True),
    Column("earned", N_("Earned"), "money", total=True),
    Column("deductions", N_("Deductions"), "money", total=True),
    Column("reversals", N_("Reversals"), "money", total=True),
    Column("total", N_("Commission"), "money", total=True),
)


def commission(ctx, from_month: str | None = None, to_month: str | None = None,
               branch=None, engineer=None) -> list[dict]:
    """Per engineer, the commission lines of the months from ``from_month`` to
    ``to_month`` (default the last 12) of the branches the reader sees: jobs that earned,
    what they earned, the deductions, the reversals (each as its lines carry it: a
    deduction or a reversal is negative) and the total. One grouped query."""
    ctx.require(COMMISSION_READ)
    first, last = month_range(ctx, from_month, to_month)
    entry, people = CommissionEntry, Employee.__table__

    def of(kind: CommissionKind):
        return fen_sum(case((entry.kind == kind, entry.amount), else_=literal_column("0")))

    query = (select(entry.engineer_id, people.c.code, people.c.name, people.c.branch_id,
                    func.count(func.distinct(case((entry.kind == CommissionKind.EARNED,
                                                   entry.order_id)))),
                    of(CommissionKind.EARNED), of(CommissionKind.DEDUCTION),
                    of(CommissionKind.REVERSAL), fen_sum(entry.amount))
             .join(people, people.c.id == entry.engineer_id)
             .where(entry.month >= first, entry.month <= last,
                    entry.branch_id.in_(branch_ids(ctx, branch)))
             .group_by(entry.engineer_id, people.c.code, people.c.name, people.c.branch_id)
             .order_by(people.c.code, entry.engineer_id))
    if engineer is not None:
        query = query.where(entry.engineer_id == engineer.id)
    names = _branch_names(ctx)
    return [{"engineer_id": engineer_id, "engineer_code": code, "engineer": name,
             "branch": names[home][1], "branch_code": names[home][0], "jobs": jobs,
             "earned": yuan(earned), "deductions": yuan(deductions),
             "reversals": yuan(reversals), "total": yuan(total)}
            for engineer_id, code, name, home, jobs, earned, deductions, reversals, total
            in ctx.session.execute(query)]


# ---------------------------------------------------------------------------
# free work at internal cost (免费服务成本)
# ---------------------------------------------------------------------------


FREE_COLUMNS = (
    Column("month", N_("Month")), Column("branch", N_("Branch")),
    Column("category", N_("Service category")), Column("jobs", N_("Jobs"), "int", total=True),
    Column("labour_value", N_("Labour value"), "money", total=True),
    Column("internal_cost", N_("Internal cost"), "money", total=True),
)


def free_work(ctx, from_month: str | None = None, to_month: str | None = None, branch=None,
              category: str | None = None) -> list[dict]:
    """The jobs completed from ``from_month`` to ``to_month`` (default the last 12 months)
    that the customer did not pay for — contract (B), warranty (C) and internal (D) jobs,
    and paid (A) jobs that came to nothing — per month, branch and category: how many,
    their labour value and their internal cost at the price rules. One grouped query."""
    ctx.require(CHARGE_READ)
    first, last = month_range(ctx, from_month, to_month)
    charge = JobCharge
    month = month_of(ctx, charge.completed_on)
    query = (select(month.label("month"), charge.branch_id, charge.category,
                    func.count(charge.id), fen_sum(charge.labour_value),
                    fen_sum(charge.internal_cost))
             .where(charge.completed_on >= first, charge.completed_on <= last,
                    charge.branch_id.in_(branch_ids(ctx, branch)),
                    or_(charge.category.in_(FREE_CATEGORIES),
                        and_(charge.category == "A", charge.total == 0)))
             .group_by(month, charge.branch_id, charge.category))
    if category:
        query = query.where(charge.category == category)
    names = _branch_names(ctx)
    rows = [{"month": found_month, "branch_code": names[branch_id][0],
             "branch": names[branch_id][1], "category_code": code,
             "category": _(CATEGORY_TITLES.get(code, code)), "jobs": jobs,
             "labour_value": yuan(labour), "internal_cost": yuan(cost)}
            for found_month, branch_id, code, jobs, labour, cost in ctx.session.execute(query)]
    rows.sort(key=lambda r: (r["month"], r["branch_code"], r["category_code"]))
    return rows


# ---------------------------------------------------------------------------
# the catalogue: what fixdesk_reports registers
# ---------------------------------------------------------------------------


BRANCH = Param("branch", "reference", reference="branch",
               help=N_("Empty: every branch you may see"))
FROM_MONTH = Param("from_month", label=N_("From month"), max_length=10,
                   help=N_("Like 2026-01; empty: 11 months before the last"))
TO_MONTH = Param("to_month", label=N_("To month"), max_length=10,
                 help=N_("Like 2026-11; empty: this month"))

REPORTS = [
    Report("billing.revenue", N_("Revenue by branch and service type"), REVENUE_COLUMNS,
           revenue, permission=INVOICE_READ, charts=_revenue_charts,
           params=(FROM_MONTH, TO_MONTH, BRANCH,
                   Param("service_type", "choice", label=N_("Service type"),
                         choices=tuple(s.value for s in ServiceType)))),
    Report("billing.aging", N_("Receivables aging"), AGING_COLUMNS, aging,
           permission=INVOICE_READ, orientation="landscape",
           params=(Param("date", "date", label=N_("As of"), help=N_("Empty: today")),
                   BRANCH, Param("customer", "reference", reference="customer",
                                 label=N_("Customer")))),
    Report("billing.commission", N_("Commission by engineer"), COMMISSION_COLUMNS,
           commission, permission=COMMISSION_READ, orientation="landscape",
           params=(FROM_MONTH, TO_MONTH, BRANCH,
                   Param("engineer", "reference", reference="employee",
                         label=N_("Engineer")))),
    Report("billing.free_work", N_("Free work at internal cost"), FREE_COLUMNS, free_work,
           permission=CHARGE_READ,
           params=(FROM_MONTH, TO_MONTH, BRANCH,
                   Param("category", "choice", label=N_("Service category"),
                         choices=tuple(CATEGORY_TITLES)))),
]


# ---------------------------------------------------------------------------
# fixdesk billing aging / revenue
# ---------------------------------------------------------------------------


def _print_report(state: CliState, name: str, raw: dict[str, Any]) -> None:
    """Run the report ``name`` as the system, as ``fixdesk report run`` does (a reading
    transaction, never the write lock), and print it tab-separated with its totals line
    in the terminal's language; a bad value raises (one line, exit 2)."""
    import getpass

    from kernel.documents.detached import Requester
    from kernel.i18n import terminal_locale
    from kernel.reports.detached import render_detached

    given = {key: value for key, value in raw.items() if value not in (None, "")}
    with state.app() as app:
        done = render_detached(app, Requester(system_actor=f"cli:{getpass.getuser()}"),
                               name, given, "table", terminal_locale())
    click.echo(done.content, nl=False)


@click.command("aging", help=_("Receivables aging per customer: what open invoices owe by "
                               "days since the invoice date (0-30, 31-60, 61-90, over 90), "
                               "the customer's credit and the balance."))
@click.option("--branch", metavar="CODE", help=_("Only this branch."))
@click.option("--date", metavar="YYYY-MM-DD", help=_("Age as of this date (default: today)."))
@pass_state
def aging_command(state: CliState, branch, date):
    _print_report(state, "billing.aging", {"branch": branch, "date": date})


@click.command("revenue", help=_("Revenue per month, branch and service type: net, VAT and "
                                 "total of submitted invoices less credit notes."))
@click.option("--from", "from_month", metavar="YYYY-MM",
              help=_("First month (default: 11 months before the last)."))
@click.option("--to", "to_month", metavar="YYYY-MM", help=_("Last month (default: this "
                                                             "month)."))
@click.option("--branch", metavar="CODE", help=_("Only this branch."))
@pass_state
def revenue_command(state: CliState, from_month, to_month, branch):
    _print_report(state, "billing.revenue",
                  {"from_month": from_month, "to_month": to_month, "branch": branch})


#: what ``fixdesk billing`` adds from this module
SUBCOMMANDS = [aging_command, revenue_command]
