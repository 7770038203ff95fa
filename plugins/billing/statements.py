"""Monthly statements (scenario 8): one invoice per customer and branch collecting the
month's billable jobs that no invoice billed yet.

A branch that does not invoice each job on completion (JD switches off the part
``billing.invoicing``) leaves its job charges (:class:`~plugins.billing.models.JobCharge`,
written when a paid job is completed) open; :func:`bill_month` collects them at the end
of the month: per customer a statement (``period`` ``2026-11``, dated the month's last
day) with a labour, a parts and a travel line per job (those that cost anything), each
naming the work order and linked to it, issued at once, and each charge marked with its
invoice. At a branch that invoices on completion only what was not invoiced then (an
invoice cancelled, for one) is left for the statement.

**Billed once.** The month's open charges are read with their rows locked (``SELECT ...
FOR UPDATE`` on PostgreSQL, ordered, so racing runs never deadlock) and only those still
without an invoice are billed: a second run, or one racing this one, finds nothing left.

The scheduled job ``billing.monthly_statements`` runs daily at 06:00 (site time) as the
system and bills the previous month; ``fixdesk billing statements --month 2026-11
[--branch JD]`` bills a month by hand.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import click
from sqlalchemy import select

from kernel import RecordLink, ScheduledJob, ValidationError
from kernel.cli.base import CliState, pass_state, print_table
from kernel.i18n import _, use_locale
from kernel.models import Branch, Customer
from kernel.months import month_end, month_start, parse_month

from . import invoices
from .amounts import ZERO
from .models import Invoice, Item, JobCharge

ORDERS = "repair_work_order"


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------




def today(ctx) -> dt.date:
    """Today in the site's time zone, by the context's clock."""
    return ctx.now().astimezone(ctx.settings.tz).date()


def _branches(ctx, branch) -> list[int] | None:
    """The ids of the branches to bill: ``branch`` (an object or a code), else those the
    user may see (None: every branch, for the system)."""
    from kernel.masterdata import branch_by_code

    if branch not in (None, ""):
        found = branch if isinstance(branch, Branch) else branch_by_code(ctx.session, branch)
        ctx.require("billing_invoice.bill", found)
        return [found.id]
    ctx.require("billing_invoice.bill")
    if ctx.user is None:
        return None
    return [b.id for b in ctx.session.scalars(select(Branch).order_by(Branch.id))
            if ctx.can_see(b)]


# ---------------------------------------------------------------------------
# the statement
# ---------------------------------------------------------------------------


def charge_lines(charge: JobCharge) -> list[dict]:
    """The invoice lines of one job charge: labour, parts and travel (those not zero),
    each naming the work order and its completion day and linked to the order."""
    source = RecordLink(ORDERS, charge.order_id)
    day = charge.completed_on.isoformat()
    texts = {Item.LABOUR: _("Labour, work order {number} ({day})"),
             Item.PARTS: _("Parts, work order {number} ({day})"),
             Item.TRAVEL: _("Travel, work order {number} ({day})")}
    amounts = {Item.LABOUR: charge.labour, Item.PARTS: charge.parts,
               Item.TRAVEL: charge.travel}
    lines = [{"item": item, "service_type": charge.service_type, "unit_price": amount,
              "description": texts[item].format(number=charge.order_number, day=day),
              "source": source, "internal_cost": ZERO}
             for item, amount in amounts.items() if amount]
    if not lines:  # a charge kept as a total only
        lines = [{"item": Item.OTHER_CHARGE, "service_type": charge.service_type,
                  "unit_price": charge.total, "source": source, "internal_cost": ZERO,
                  "description": _("Work order {number} ({day})").format(
                      number=charge.order_number, day=day)}]
    # what the job cost the company: the labour value on the labour line, the rest (parts
    # at cost, travel) on the parts line, else the travel line, else the first line
    value, cost = charge.labour_value or ZERO, charge.internal_cost or ZERO
    labour = next((line for line in lines if line["item"] == Item.LABOUR), None)
    rest = next((line for line in lines if line["item"] == Item.PARTS),
                next((line for line in lines if line["item"] == Item.TRAVEL), lines[0]))
    if labour is not None:
        labour["internal_cost"] = min(value, cost)
        cost -= labour["internal_cost"]
    rest["internal_cost"] += cost
    return lines


def open_charges(ctx, first: dt.date, last: dt.date, branch_ids: list[int] | None,
                 lock: bool = False) -> list[JobCharge]:
    """The billable job charges completed from ``first`` to ``last`` that no invoice
    billed, of a customer, by branch, customer and completion (``lock``: their rows
    locked until the transaction ends, read fresh)."""
    query = select(JobCharge).where(
        JobCharge.billable.is_(True), JobCharge.invoice_id.is_(None),
        JobCharge.customer_id.is_not(None),
        JobCharge.completed_on >= first, JobCharge.completed_on <= last,
        JobCharge.total > ZERO).order_by(
        JobCharge.branch_id, JobCharge.customer_id, JobCharge.completed_on, JobCharge.id)
    if branch_ids is not None:
        query = query.where(JobCharge.branch_id.in_(branch_ids))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(ctx.session.scalars(query))


def bill_month(ctx, month, branch=None) -> list[Invoice]:
    """Bill the month of ``month`` (a date, any day of the month, or ``"2026-11"``): for
    each customer (per branch; ``branch`` an object or a code, else every branch the
    user may see) one statement invoice of the month's billable job charges that no
    invoice billed yet, dated the month's last day, issued, its charges marked with it.
    Run again (or at the same time) it bills nothing twice. Returns the invoices made, by
    branch and customer.

    :raise ValidationError: ``month`` is not a month, or has not ended yet.
    :raise PermissionDenied: the user may not bill (``billing_invoice.bill``).
    """
    first = parse_month(month)
    last = month_end(first)
    if last >= today(ctx):
        raise ValidationError(_("{month} has not ended yet").format(
            month=f"{first:%Y-%m}"), field="month")
    branch_ids = _branches(ctx, branch)
    charges = open_charges(ctx, first, last, branch_ids, lock=True)
    if not charges:
        return []
    groups: dict[tuple[int, int], list[JobCharge]] = defaultdict(list)
    for charge in charges:
        groups[(charge.branch_id, charge.customer_id)].append(charge)
    customers = {c.id: c for c in ctx.session.scalars(select(Customer).where(
        Customer.id.in_({customer for _b, customer in groups})))}
    branches = {b.id: b for b in ctx.session.scalars(select(Branch).where(
        Branch.id.in_({b for b, _c in groups})))}
    period = f"{first:%Y-%m}"
    made = []
    for (branch_id, customer_id), found in groups.items():
        with use_locale(ctx.settings.locale):  # the papers' texts in the company's language
            lines = [line for charge in found for line in charge_lines(charge)]
            note = _("Statement of {month}: {count} jobs").format(month=period,
                                                                 count=len(found))
        invoice = invoices.make_invoice(
            ctx, customer=customers[customer_id], branch=branches[branch_id],
            invoice_date=last, period=period, lines=lines, note=note)
        invoices.issue(ctx, invoice)
        for charge in found:
            charge.invoice_id = invoice.id
        made.append(invoice)
    ctx.session.flush()
    return made


def previous_month(ctx) -> dt.date:
    """The first day of the month before today's (site time)."""
    return month_start(month_start(today(ctx)) - dt.timedelta(days=1))


def monthly_statements(ctx) -> list[str]:
    """Scheduled daily at 06:00 (``billing.monthly_statements``), as the system: bill the
    previous month (:func:`bill_month`; what is billed already stays as it is). Returns
    the numbers of the invoices made."""
    return [invoice.number for invoice in bill_month(ctx, previous_month(ctx))]


SCHEDULED_JOBS = [ScheduledJob("billing.monthly_statements", monthly_statements,
                               daily_at="06:00")]


# ---------------------------------------------------------------------------
# fixdesk billing statements
# ---------------------------------------------------------------------------


def invoice_rows(ctx, made: list[Invoice]) -> list[tuple]:
    """Number, branch, customer code and name, month, jobs and total of each invoice."""
    customers = {c.id: c for c in ctx.session.scalars(select(Customer).where(
        Customer.id.in_({i.customer_id for i in made})))} if made else {}
    branches = {b.id: b.code for b in ctx.session.scalars(select(Branch))}
    return [(invoice.number, branches.get(invoice.branch_id, ""),
             customers[invoice.customer_id].code, customers[invoice.customer_id].name,
             invoice.period or "", len({line.source for line in invoice.lines}),
             invoice.grand_total) for invoice in made]


@click.command("statements", help=_("Bill a month's uninvoiced jobs: one statement invoice "
                                    "per customer and branch (default: last month)."))
@click.option("--month", metavar="YYYY-MM", help=_("The month to bill (default: last "
                                                    "month)."))
@click.option("--branch", "branch_code", metavar="CODE", help=_("Only this branch."))
@pass_state
def statements_command(state: CliState, month, branch_code):
    with state.context() as ctx:
        made = bill_month(ctx, previous_month(ctx) if month is None else month,
                          branch=branch_code)
        rows = invoice_rows(ctx, made)
    print_table((_("INVOICE"), _("BRANCH"), _("CUSTOMER"), _("NAME"), _("MONTH"), _("JOBS"),
                 _("TOTAL")), rows)


SUBCOMMANDS = [statements_command]
