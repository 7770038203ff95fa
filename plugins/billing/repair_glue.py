"""Glue for repair (the part ``billing.repair``, registered only where repair runs).

Repair is reached only through its hooks (:mod:`plugins.repair.hookspecs`), its tables by
name and the objects its hooks pass — never imported. With it:

- billing's fields on the work order (``billing.difficulty``, ``billing.travel_zone_id``,
  ``billing.agreed_travel``: :class:`~plugins.billing.models.OrderTerms`) show in the work
  order's API, form and lists;
- a **quote** is priced by the branch's price rules (R11, R27): billing answers
  ``repair_quote_requested`` with the amounts staff did not enter — labour by the
  engineer's grade and the job's difficulty, parts at cost plus the markup of their
  category (each part line's price to the customer too), travel by zone or as agreed;
- a **completed** job gets its job charge (:func:`plugins.billing.charges.record_charge`):
  what the customer pays and what the job cost internally;
- the form shows *Charges and invoice* (the price, the internal cost, the invoice and its
  payments) and the list the column *Invoice*;
- an engineer **collects** a small amount on site (``billing_collect``): an on-site
  payment of the job's invoice, submitted at once, up to the branch's
  ``billing.on_site_limit``.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import or_, select

from kernel import (
    Action,
    Conflict,
    Extension,
    FormSection,
    ListColumn,
    Param,
    RecordLink,
    SectionContent,
    ValidationError,
    hookimpl,
)
from kernel.contributions import titled
from kernel.i18n import N_, _
from kernel.lifecycle import DocStatus, document_name, number_new_draft
from kernel.models import Grade
from kernel.settings import get_setting

from . import charges, pricing
from .amounts import ZERO, as_money
from .inputs import positive_amount, read
from .models import (
    Allocation,
    Invoice,
    JobCharge,
    Method,
    OrderTerms,
    Payment,
    PaymentReference,
)

ORDERS = "repair_work_order"
#: order statuses in which the repair is done (an engineer may collect the money)
DONE = ("completed", "ready_for_pickup", "closed")
QUOTE_KEYS = ("labour", "parts", "travel")


# ---------------------------------------------------------------------------
# billing's fields on the work order
# ---------------------------------------------------------------------------


@hookimpl
def fixdesk_extensions():
    """Difficulty, travel zone and agreed travel fee on the work order (``billing.*``),
    written by whoever may quote the job."""
    return [Extension(ORDERS, OrderTerms, permission="repair_work_order.quote",
                      title=N_("Billing"))]


# ---------------------------------------------------------------------------
# quotes (R11, R27)
# ---------------------------------------------------------------------------


@hookimpl
@titled(N_("Price quotes by the branch's price rules"))
def repair_quote_requested(ctx, order, lines, proposed):
    """Price the quote by the rules of the order's branch (:func:`pricing.price_job`),
    answering only what staff did not enter: labour, parts (with each part line's unit
    price to the customer, ``"lines"``) and travel. Staff who entered every amount priced
    it themselves (None). Without a labour rate for the engineer's grade and the job's
    difficulty, staff must enter the labour (refused naming ``labour``)."""
    staff = proposed or {}
    wanted = [key for key in QUOTE_KEYS if staff.get(key) is None]
    if not wanted:
        return None
    price = pricing.price_job(ctx, order, lines)
    answer: dict = {}
    if "labour" in wanted:
        if price.labour is None:
            engineer = getattr(order, "engineer", None)
            grade = str(engineer.grade if engineer is not None else Grade.REGULAR)
            raise ValidationError(_(
                "no labour rate for a {grade} engineer on a {difficulty} job: enter the "
                "labour or add the rate").format(
                    grade=_(grade), difficulty=_(pricing.difficulty_of(ctx, order).value)),
                field="labour")
        answer["labour"] = price.labour
    if "parts" in wanted:
        answer["parts"] = price.parts
        answer["lines"] = dict(price.line_prices)
    if "travel" in wanted:
        answer["travel"] = price.travel
    return answer


# ---------------------------------------------------------------------------
# job charges
# ---------------------------------------------------------------------------


@hookimpl
@titled(N_("Record what each completed job is worth"))
def repair_order_completed(ctx, order, completion):
    """Record the job charge of the completed order: the customer's amounts (an accepted
    quote of a paid job; nothing for contract, warranty and internal jobs) and the
    internal cost at the price rules. Safe to receive again after a rework: one row per
    order, and an invoiced charge keeps its amounts."""
    charges.record_charge(ctx, order)


# ---------------------------------------------------------------------------
# the work order's form and list
# ---------------------------------------------------------------------------


def _money(amount) -> str:
    return f"{(amount or ZERO):,.2f}"


def _payments(ctx, order, invoice_id: int | None) -> list[Payment]:
    """Submitted payments collected for the order or paying its invoice: one query."""
    paid_invoice = Payment.id.in_(select(Allocation.payment_id).where(
        Allocation.invoice_id == invoice_id)) if invoice_id is not None else None
    condition = Payment.job == RecordLink(ORDERS, order.id)
    if paid_invoice is not None:
        condition = or_(condition, paid_invoice)
    return list(ctx.session.scalars(select(Payment).where(
        condition, Payment.docstatus == DocStatus.SUBMITTED).order_by(Payment.id)))


def charges_section(ctx, order) -> SectionContent:
    """What the job costs: before completion the price by the rules (labour, parts,
    travel, what it costs the company); after, the job charge — what the customer pays,
    the internal cost, the invoice with what it still owes, and its payments (linked)."""
    charge = charges.charge_of(ctx, order.id)
    difficulty = _(pricing.difficulty_of(ctx, order).value)
    if charge is None:
        price = pricing.price_job(ctx, order, charges.live_lines(order))
        summary = (
            (_("Difficulty"), difficulty),
            (_("Labour by the rules"), _money(price.labour) if price.labour is not None
             else _("no labour rate")),
            (_("Parts at customer prices"), _money(price.parts)),
            (_("Travel"), _money(price.travel)),
            (_("Price by the rules"), _money(price.total)),
            (_("Internal cost"), _money(price.internal_cost)),
        )
        return SectionContent(summary=summary, note=_(
            "The job charge is recorded when the job is completed."))
    invoice = ctx.session.get(Invoice, charge.invoice_id) if charge.invoice_id else None
    summary = [
        (_("Difficulty"), difficulty),
        (_("Customer pays"), _("{total} (labour {labour}, parts {parts}, travel {travel})")
         .format(total=_money(charge.total), labour=_money(charge.labour),
                 parts=_money(charge.parts), travel=_money(charge.travel))),
        (_("Labour value"), _money(charge.labour_value)),
        (_("Internal cost"), _money(charge.internal_cost)),
    ]
    if invoice is not None:
        summary += [(_("Invoice"), invoice.number or f"#{invoice.id}"),
                    (_("Outstanding"), _money(invoice.outstanding))]
    elif charge.billable:
        summary.append((_("Invoice"), _("not invoiced yet (monthly statement)")))
    else:
        summary.append((_("Invoice"), _("no charge to the customer")))
    rows = []
    if invoice is not None:
        rows.append(((invoice.number, f"/desk/billing_invoice/{invoice.id}"),
                     _("Invoice"), invoice.invoice_date.isoformat(),
                     _money(invoice.grand_total), _(str(invoice.payment_state))))
    for payment in _payments(ctx, order, charge.invoice_id):
        kind = _("Collected on site") if payment.on_site else _("Payment")
        rows.append(((payment.number, f"/desk/billing_payment/{payment.id}"), kind,
                     payment.paid_on.isoformat(), _money(payment.amount),
                     _(str(payment.method))))
    return SectionContent(
        summary=tuple(summary),
        columns=(_("Number"), _("Kind"), _("Date"), _("Amount"), _("State")),
        rows=tuple(rows))


@hookimpl
def fixdesk_form_sections():
    """*Charges and invoice* on the work order's form, with billing's fields."""
    return [FormSection(ORDERS, "billing.charges", N_("Charges and invoice"),
                        build=charges_section,
                        fields=("difficulty", "travel_zone_id", "agreed_travel"),
                        order=70, permission="billing_job_charge.read")]


def invoice_column(ctx, orders) -> dict:
    """Per work order of a page: its invoice's number and what it still owes, *to
    invoice* (billed by the month's statement) or *no charge* — one query for the page."""
    if not ctx.can("billing_job_charge.read"):
        return {}
    rows = ctx.session.execute(
        select(JobCharge.order_id, JobCharge.billable, Invoice.number, Invoice.outstanding)
        .outerjoin(Invoice, Invoice.id == JobCharge.invoice_id)
        .where(JobCharge.order_id.in_([o.id for o in orders])))
    shown = {}
    for order_id, billable, number, outstanding in rows:
        owed = as_money(outstanding) if outstanding is not None else ZERO
        if number is not None:
            shown[order_id] = _("{number} (owes {amount})").format(
                number=number, amount=_money(owed)) if owed > 0 else number
        else:
            shown[order_id] = _("to invoice") if billable else _("no charge")
    return shown


@hookimpl
def fixdesk_list_columns():
    """*Invoice* in the work order list: the number and what it still owes."""
    return [ListColumn(ORDERS, "billing.invoice", N_("Invoice"), compute=invoice_column)]


# ---------------------------------------------------------------------------
# collecting on site (R27)
# ---------------------------------------------------------------------------


def collect(ctx, order, amount=None, method=None, reference=None) -> Payment:
    """An engineer collects ``amount`` on site for the job's invoice: an on-site payment
    (collected by the order's engineer, the job linked) paying that invoice, submitted at
    once by the system (the engineer needs no billing rights beyond collecting). Refused
    above the branch's ``billing.on_site_limit`` (422 on ``amount``) or above what the
    invoice still owes (409 on ``amount``); a job without an invoice or an engineer is
    refused too. The cashier reconciles it later (*Handed in*)."""
    amount = positive_amount(ctx, "amount", amount)
    method = read(ctx, "method", method, "choice",
                  choices=tuple(m.value for m in Method)) or Method.CASH.value
    reference = read(ctx, "reference", reference, max_length=100)
    limit = Decimal(str(get_setting(ctx, "billing.on_site_limit", order.branch)))
    if amount > limit:
        raise ValidationError(_("at most {limit} may be collected on site").format(
            limit=_money(limit)), field="amount")
    if order.engineer_id is None:
        raise Conflict(_("{number} has no engineer to collect the money").format(
            number=order.number), field="engineer")
    charge = charges.charge_of(ctx, order.id)
    if charge is None or charge.invoice_id is None:
        raise Conflict(_("{number} has no invoice to collect for yet").format(
            number=order.number), field="amount")
    from .invoices import lock

    invoice = lock(ctx, [charge.invoice_id])[charge.invoice_id]
    if invoice.docstatus != DocStatus.SUBMITTED or invoice.outstanding <= 0:
        raise Conflict(_("{invoice} owes nothing").format(invoice=document_name(invoice)),
                       field="amount")
    if amount > invoice.outstanding:
        raise Conflict(_("{invoice} has only {left} outstanding").format(
            invoice=document_name(invoice), left=_money(invoice.outstanding)),
            field="amount")
    payment = Payment(
        company_id=invoice.company_id, branch_id=order.branch_id,
        customer_id=invoice.customer_id, paid_on=ctx.now().astimezone(ctx.settings.tz).date(),
        method=Method(method), amount=amount, reference=reference, on_site=True,
        collected_by_id=order.engineer_id, job=RecordLink(ORDERS, order.id),
        references=[PaymentReference(invoice_id=invoice.id, amount=amount)])
    number_new_draft(ctx, payment)
    ctx.session.add(payment)
    ctx.session.flush()
    return _submit(ctx, payment)


def _submit(ctx, payment: Payment) -> Payment:
    """Submit a payment the system made, as the kernel's submit would, without the acting
    user's ``billing_payment.submit`` (the engineer collecting holds ``collect`` only)."""
    from kernel.lifecycle import _sanctioned

    with _sanctioned(ctx.session, payment):
        payment.docstatus, payment.submitted_at = DocStatus.SUBMITTED, ctx.now()
    ctx.hook.fixdesk_document_submitted(ctx=ctx, entity="billing_payment", record=payment)
    ctx.session.flush()
    return payment


def _collectable(order) -> bool:
    return str(order.category) == charges.PAID and str(order.status) in DONE


@hookimpl
def fixdesk_actions():
    """*Collect on site* on a paid job that is done."""
    return [Action(ORDERS, "billing_collect", N_("Collect on site"), collect,
                   "billing_payment.collect", available=_collectable,
                   params=(Param("amount", "money", N_("Amount collected"), required=True),
                           Param("method", "choice", N_("Payment method"),
                                 choices=tuple(m.value for m in Method),
                                 help=N_("Cash unless said otherwise")),
                           Param("reference", "string", N_("Reference (cheque, transfer)"),
                                 max_length=100)),
                   order=150)]


# ---------------------------------------------------------------------------
# demo data
# ---------------------------------------------------------------------------


@hookimpl
def fixdesk_demo_data(ctx):
    """After repair's demo history (whose completed jobs billing priced and invoiced as
    they happened): the months' statements, contract fees, payments, a credit note and
    on-site collections (:func:`plugins.billing.demo_history.load_history`)."""
    from .demo_history import load_history

    load_history(ctx)
