"""Contract fees (R20, R27: contract fees are billed per contract): a maintenance
contract's fee split over its periods, each period invoiced once.

Repair tells billing of every contract signed or renewed (``repair_contract_signed``,
answered in :mod:`plugins.billing.contracts_glue`): :func:`plan_for` makes the contract's
:class:`~plugins.billing.models.ContractPlan` — billed monthly, quarterly or yearly by the
branch's setting ``billing.contract_frequency``, for the contract's fee (a contract
without a fee gets no plan). The periods run from the contract's start, the last one cut
at its end; the fee is split evenly over them to the fen, the last period taking what
rounding left (:func:`plugins.billing.amounts.periods`, :func:`~.amounts.split`).

:func:`bill_due` bills every active plan's periods that have started: for each one a
:class:`~plugins.billing.models.ContractPeriod` row, then an invoice (a contract fee line,
service type contract, linked to the contract) issued at once. **Billed once**: the plans
are locked while they are billed (a racing run waits, then finds the periods billed) and
the period row, unique per plan and start, is written before its invoice, so that a run
that got past the lock anyway cannot bill the period a second time. A cancelled contract
bills no period starting after the day it was cancelled.

The scheduled job ``billing.contract_fees`` runs daily at 06:30 (site time) as the
system; the plan's action *Bill now* bills what is due today; ``fixdesk billing
contract-fees [--date D]`` bills what is due on a day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kernel import (
    Action,
    FormSection,
    RecordLink,
    ScheduledJob,
    SectionContent,
    ValidationError,
)
from kernel.cli.base import CliState, pass_state, print_table
from kernel.i18n import N_, _, use_locale
from kernel.models import Branch, Customer
from kernel.settings import get_setting

from . import invoices
from .amounts import ZERO, periods, split
from .models import ContractPeriod, ContractPlan, Frequency, Invoice, Item, ServiceType
from .statements import today

CONTRACTS = "repair_contract"
PLANS = "billing_contract_plan"
#: months in a billing period of each frequency
MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}


# ---------------------------------------------------------------------------
# plans
# ---------------------------------------------------------------------------


def plan_for(ctx, contract, renewal_of=None) -> ContractPlan | None:
    """The billing plan of a maintenance contract (repair's ``repair_contract`` record),
    made once per contract: its number, customer, branch, start, end and fee, billed at
    the branch's ``billing.contract_frequency``; ``renewal_of`` is the contract it renews.
    None for a contract without a fee. Safe to call again: the plan made first is
    returned."""
    found = ctx.session.scalar(select(ContractPlan).where(
        ContractPlan.contract_id == contract.id))
    if found is not None:
        return found
    fee = Decimal(contract.fee or 0)
    if fee <= ZERO:
        return None
    branch = ctx.session.get(Branch, contract.branch_id)
    frequency = Frequency(get_setting(ctx, "billing.contract_frequency", branch))
    plan = ContractPlan(company_id=contract.company_id, branch_id=contract.branch_id,
                        contract_id=contract.id, contract_number=contract.number,
                        customer_id=contract.customer_id, frequency=frequency,
                        start_date=contract.start_date, end_date=contract.end_date, fee=fee,
                        active=True,
                        renewal_of_contract_id=renewal_of.id if renewal_of is not None
                        else None)
    ctx.session.add(plan)
    ctx.session.flush()
    return plan


def _even(start: dt.date, end: dt.date, months: int,
          total: Decimal) -> list[tuple[dt.date, dt.date, Decimal]]:
    spans = periods(start, end, months)
    if not spans:
        return []
    return [(first, last, amount)
            for (first, last), amount in zip(spans, split(total, len(spans)), strict=True)]


def schedule(plan: ContractPlan, recorded: list[ContractPeriod] = ()
             ) -> list[tuple[dt.date, dt.date, Decimal]]:
    """The plan's periods, ``(first day, last day, amount)``: the fee split evenly over
    them (the last one takes what rounding left: they add up to the fee). ``recorded``
    are the plan's period rows, which stay as they were billed: when the frequency was
    changed after some were billed, what is left of the fee is split over the periods at
    the new frequency from the day after the last one billed the old way."""
    months = MONTHS[Frequency(plan.frequency)]
    ahead = _even(plan.start_date, plan.end_date, months, plan.fee)
    kept: list[tuple[dt.date, dt.date, Decimal]] = []
    for row in sorted(recorded, key=lambda row: row.period_start):
        billed = (row.period_start, row.period_end, row.amount)
        kept.append(billed)
        if ahead and ahead[0] == billed:
            ahead = ahead[1:]
            continue
        left = plan.fee - sum((amount for *_span, amount in kept), ZERO)
        ahead = _even(row.period_end + dt.timedelta(days=1), plan.end_date, months, left)
    return kept + ahead


def _recorded(ctx, plan_ids: list[int]) -> dict[int, list[ContractPeriod]]:
    """The period rows of these plans (billed, or freed by a cancelled invoice), by plan,
    in one query."""
    found: dict[int, list[ContractPeriod]] = {plan_id: [] for plan_id in plan_ids}
    if plan_ids:
        for row in ctx.session.scalars(select(ContractPeriod).where(
                ContractPeriod.plan_id.in_(plan_ids)).order_by(ContractPeriod.period_start)
                .execution_options(populate_existing=True)):
            found[row.plan_id].append(row)
    return found


def _cancelled_on(ctx, contract_ids: list[int]) -> dict[int, dt.date]:
    """The day each cancelled contract among these was cancelled (site time); nothing
    where repair is not on."""
    contracts = ctx.app.entity_class(CONTRACTS)
    if contracts is None or not contract_ids:
        return {}
    rows = ctx.session.execute(select(contracts.id, contracts.cancelled_at).where(
        contracts.id.in_(contract_ids), contracts.cancelled_at.is_not(None)))
    return {cid: at.astimezone(ctx.settings.tz).date() for cid, at in rows}


def _open_periods(plan: ContractPlan, recorded: list[ContractPeriod],
                  stop: dt.date | None) -> list[tuple[dt.date, dt.date, Decimal,
                                                      ContractPeriod | None]]:
    """The plan's periods no invoice bills: ``(first day, last day, amount, row)``, the
    row when a cancelled invoice freed the period (billed again at its amount), else
    None; a cancelled contract's periods starting after ``stop`` left out."""
    rows = {row.period_start: row for row in recorded}
    found = []
    for first, last, amount in schedule(plan, recorded):
        row = rows.get(first)
        if row is not None and row.invoice_id is not None:
            continue
        if (stop is not None and first > stop) or amount <= ZERO:
            continue
        found.append((first, last, amount, row))
    return found


def still_to_bill(ctx, plan: ContractPlan) -> list[tuple[dt.date, dt.date, Decimal]]:
    """The plan's periods no invoice bills yet, ``(first day, last day, amount)`` (those
    of a cancelled contract starting after it was cancelled left out)."""
    stop = _cancelled_on(ctx, [plan.contract_id]).get(plan.contract_id)
    return [(first, last, amount) for first, last, amount, _row
            in _open_periods(plan, _recorded(ctx, [plan.id])[plan.id], stop)]


# ---------------------------------------------------------------------------
# billing the periods
# ---------------------------------------------------------------------------


def _claim(ctx, plan: ContractPlan, start: dt.date, end: dt.date,
           amount: Decimal) -> ContractPeriod | None:
    """Write the period's row before its invoice: None when the period is billed already
    (by a run that got here first)."""
    period = ContractPeriod(plan_id=plan.id, period_start=start, period_end=end,
                            amount=amount)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(period)
            ctx.session.flush()
    except IntegrityError:
        return None
    return period


def _invoice(ctx, plan: ContractPlan, customer: Customer, branch: Branch,
             period: ContractPeriod) -> Invoice:
    source = RecordLink(CONTRACTS, plan.contract_id)
    with use_locale(ctx.settings.locale):  # the papers' texts in the company's language
        text = _("Maintenance contract {number}: {start} to {end}").format(
            number=plan.contract_number, start=period.period_start.isoformat(),
            end=period.period_end.isoformat())
    invoice = invoices.make_invoice(
        ctx, customer=customer, branch=branch, invoice_date=period.period_start,
        source=source, note=text,
        lines=[{"item": Item.CONTRACT_FEE, "service_type": ServiceType.CONTRACT,
                "description": text, "unit_price": period.amount, "source": source}])
    return invoices.issue(ctx, invoice)


def bill_due(ctx, on, plans: list[ContractPlan] | None = None) -> list[Invoice]:
    """Bill every period that has started by ``on`` (a date or ISO text) and is not
    billed yet, of every active plan (or of ``plans``): a period row and an issued
    invoice each, dated the period's first day (a period whose invoice was cancelled is
    billed again). Run again (or at the same time) it bills nothing twice. Returns the
    invoices made, by plan and period.

    :raise ValidationError: ``on`` is not a date.
    :raise PermissionDenied: the user may not bill contract plans.
    """
    on = _day(on)
    query = select(ContractPlan).where(ContractPlan.active.is_(True),
                                       ContractPlan.start_date <= on)
    if plans is not None:
        for plan in plans:
            ctx.require("billing_contract_plan.bill", plan)
        query = query.where(ContractPlan.id.in_([plan.id for plan in plans]))
    else:
        ctx.require("billing_contract_plan.bill")
    # locked in id order: a racing run waits here, then reads the periods billed
    found = [plan for plan in ctx.session.scalars(
        query.order_by(ContractPlan.id).with_for_update()
        .execution_options(populate_existing=True)) if ctx.can_see(plan)]
    recorded = _recorded(ctx, [plan.id for plan in found])
    stops = _cancelled_on(ctx, [plan.contract_id for plan in found])
    due = [(plan, first, last, amount, row) for plan in found
           for first, last, amount, row in _open_periods(plan, recorded[plan.id],
                                                         stops.get(plan.contract_id))
           if first <= on]
    if not due:
        return []
    customers = {c.id: c for c in ctx.session.scalars(select(Customer).where(
        Customer.id.in_({plan.customer_id for plan, *_rest in due})))}
    branches = {b.id: b for b in ctx.session.scalars(select(Branch).where(
        Branch.id.in_({plan.branch_id for plan, *_rest in due})))}
    made = []
    for plan, first, last, amount, row in due:
        period = row if row is not None else _claim(ctx, plan, first, last, amount)
        if period is None:
            continue
        invoice = _invoice(ctx, plan, customers[plan.customer_id], branches[plan.branch_id],
                           period)
        period.invoice_id = invoice.id
        made.append(invoice)
    ctx.session.flush()
    return made


def _day(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationError(_("must be a date like 2026-11-30"), field="date") from None


def adopt_contracts(ctx) -> list[ContractPlan]:
    """Plans for the maintenance contracts with a fee that billing was not told about
    (signed before billing was enabled, or while the part ``billing.contracts`` was
    switched off for their branch), not cancelled and not ended: one query finds them.
    Nothing where repair is not enabled."""
    contracts = ctx.app.entity_class("repair_contract")
    if contracts is None:
        return []
    found = ctx.session.scalars(select(contracts).where(
        contracts.fee > 0, contracts.cancelled_at.is_(None),
        contracts.end_date >= today(ctx),
        contracts.id.not_in(select(ContractPlan.contract_id))).order_by(contracts.id))
    return [plan for contract in found if (plan := plan_for(ctx, contract)) is not None]


def contract_fees(ctx) -> list[str]:
    """Scheduled daily at 06:30 (``billing.contract_fees``), as the system: plan the
    contracts billing was not told about (:func:`adopt_contracts`), then bill every
    contract period that has started by today (:func:`bill_due`). Returns the numbers of
    the invoices made."""
    adopt_contracts(ctx)
    return [invoice.number for invoice in bill_due(ctx, today(ctx))]


SCHEDULED_JOBS = [ScheduledJob("billing.contract_fees", contract_fees, daily_at="06:30")]


# ---------------------------------------------------------------------------
# the plan's action and form
# ---------------------------------------------------------------------------


def bill_now(ctx, plan: ContractPlan) -> ContractPlan:
    """Bill the plan's periods that have started by today and are not billed yet (the
    action *Bill now*); nothing when there are none."""
    bill_due(ctx, today(ctx), plans=[plan])
    ctx.session.refresh(plan, ["periods"])
    return plan


ACTIONS = [
    Action(PLANS, "bill_now", N_("Bill now"), bill_now,
           permission="billing_contract_plan.bill", available=lambda plan: plan.active),
]


def _to_bill_section(ctx, plan: ContractPlan) -> SectionContent:
    """The periods still to bill, with their amounts and what is left of the fee."""
    left = still_to_bill(ctx, plan)
    return SectionContent(
        summary=((_("Left to bill"), str(sum((amount for *_s, amount in left), ZERO))),),
        columns=(_("First day"), _("Last day"), _("Amount")),
        rows=tuple((start.isoformat(), end.isoformat(), str(amount))
                   for start, end, amount in left),
        note=None if plan.active else _("The plan is not active: nothing more is billed."),
        empty=_("Every period is billed."))


FORM_SECTIONS = [
    FormSection(PLANS, "billing.contract_to_bill", N_("Periods still to bill"),
                build=_to_bill_section, order=40),
]


# ---------------------------------------------------------------------------
# fixdesk billing contract-fees
# ---------------------------------------------------------------------------


@click.command("contract-fees", help=_("Bill the maintenance contract periods that have "
                                       "started and are not billed yet."))
@click.option("--date", "day", metavar="YYYY-MM-DD", help=_("Bill what is due on this day "
                                                            "(default: today)."))
@pass_state
def contract_fees_command(state: CliState, day):
    with state.context() as ctx:
        adopt_contracts(ctx)
        made = bill_due(ctx, today(ctx) if day is None else day)
        codes = {c.id: c.code for c in ctx.session.scalars(select(Customer).where(
            Customer.id.in_({i.customer_id for i in made})))} if made else {}
        rows = [(invoice.number, codes[invoice.customer_id], invoice.lines[0].description,
                 invoice.invoice_date.isoformat(), invoice.grand_total) for invoice in made]
    print_table((_("INVOICE"), _("CUSTOMER"), _("CONTRACT PERIOD"), _("DATE"), _("TOTAL")),
                rows)


SUBCOMMANDS = [contract_fees_command]
