"""Job charges: what a completed repair job is worth, and the invoice that bills it (R27).

A :class:`~plugins.billing.models.JobCharge` is kept per work order (``order_id``,
unique) by :func:`record_charge`, called whenever repair says a job was completed (again
after a rework: the row is updated, never doubled). It holds

- what the **customer** pays: for a paid job (category A) with an accepted quote the
  quote's labour, parts and travel (billable when they come to more than nothing); for
  contract (B), warranty (C) and internal (D) jobs nothing;
- what the job is **worth internally**, for reports and commission, at the price rules
  of its branch whatever the customer pays: ``labour_value`` (the labour rate of the
  engineer's grade and the job's difficulty) and ``internal_cost`` (labour value + parts
  at cost + travel);
- the **invoice** that billed it (``invoice_id``): made at once by :func:`invoice_job`
  where the branch invoices each job on completion (part ``billing.invoicing``), else by
  the month's statement. Once invoiced the customer's amounts never change.

Repair is not imported: the order is the object repair's hook passes (its documented
fields), other records of repair are read by table name.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kernel import RecordLink
from kernel.i18n import _, use_locale

from . import invoices, pricing
from .amounts import ZERO
from .models import Invoice, Item, JobCharge

ORDERS = "repair_work_order"
#: the service category whose jobs the customer pays for (R3)
PAID = "A"
ACCEPTED = "accepted"


def charge_of(ctx, order_id: int, *, lock: bool = False) -> JobCharge | None:
    """The job charge of the work order with this id (its row locked when ``lock``)."""
    query = select(JobCharge).where(JobCharge.order_id == order_id)
    if lock:
        query = query.with_for_update()
    return ctx.session.scalars(query).first()


def live_lines(order) -> list:
    """The order's part lines not given back."""
    return [line for line in order.lines if line.returned_at is None]


def completed_on(ctx, order):
    """The local date the order was completed (today when it has no completion time)."""
    when = order.completed_at or ctx.now()
    return when.astimezone(ctx.settings.tz).date()


def customer_amounts(order) -> tuple[Decimal, Decimal, Decimal]:
    """Labour, parts and travel the customer pays: an accepted quote's for a paid job,
    nothing for the others (contract, warranty, internal) and for a paid job without an
    accepted quote."""
    if str(order.category) != PAID or str(order.quote_status) != ACCEPTED:
        return ZERO, ZERO, ZERO
    return (order.quote_labour or ZERO, order.quote_parts or ZERO, order.quote_travel or ZERO)


def record_charge(ctx, order) -> JobCharge:
    """Write (insert or update) the job charge of a completed work order and return it.
    Idempotent: keyed on the order, so repair's event received twice (a rework completed
    again) updates the one row; an invoiced charge keeps its customer amounts."""
    price = pricing.price_job(ctx, order, live_lines(order))
    values = {"branch_id": order.branch_id, "order_number": order.number,
              "customer_id": order.customer_id, "category": str(order.category),
              "service_type": pricing.service_type_of(ctx, order),
              "engineer_id": order.engineer_id, "completed_on": completed_on(ctx, order)}
    labour, parts, travel = customer_amounts(order)
    amounts = {"labour": labour, "parts": parts, "travel": travel,
               "total": labour + parts + travel, "billable": labour + parts + travel > 0,
               "labour_value": price.labour or ZERO, "internal_cost": price.internal_cost}
    charge = charge_of(ctx, order.id, lock=True)
    if charge is None:
        charge = JobCharge(order_id=order.id, company_id=order.company_id)
        ctx.session.add(charge)
    for name, value in {**values, **(amounts if charge.invoice_id is None else {})}.items():
        setattr(charge, name, value)
    ctx.session.flush()
    return charge


def _part_text(line) -> str:
    return line.description + (f" ({line.part_code})" if line.part_code else "")


def job_lines(ctx, order, charge: JobCharge) -> list[dict]:
    """The invoice lines of a job charge (for :func:`plugins.billing.invoices.new_line`):
    labour, the parts — one line per part at the customer's unit price when the quote
    priced each line and they add up to the charge's parts, else one *Parts* line — and
    travel. Each carries its service type, the work order as its source and what it cost
    the company; their amounts add up to the charge's total."""
    source = RecordLink(ORDERS, order.id)
    common = {"service_type": charge.service_type, "source": source}
    number = order.number
    lines = []
    if charge.labour:
        difficulty = pricing.difficulty_of(ctx, order)
        lines.append({**common, "item": Item.LABOUR, "unit_price": charge.labour,
                      "internal_cost": charge.labour_value,
                      "description": _("Labour ({difficulty}), work order {number}").format(
                          difficulty=_(difficulty.value), number=number)})
    parts = live_lines(order)
    parts_cost = sum((line.unit_cost * line.quantity for line in parts), ZERO)
    if charge.parts:
        priced = parts and all(line.unit_price is not None for line in parts) and sum(
            (line.unit_price * line.quantity for line in parts), ZERO) == charge.parts
        if priced:
            lines += [{**common, "item": Item.PARTS, "description": _part_text(line),
                       "quantity": Decimal(line.quantity), "unit_price": line.unit_price,
                       "internal_cost": line.unit_cost * line.quantity} for line in parts]
        else:
            lines.append({**common, "item": Item.PARTS, "unit_price": charge.parts,
                          "internal_cost": parts_cost,
                          "description": _("Parts, work order {number}").format(
                              number=number)})
    if charge.travel:
        travel_cost = charge.internal_cost - charge.labour_value - parts_cost
        lines.append({**common, "item": Item.TRAVEL, "unit_price": charge.travel,
                      "internal_cost": max(travel_cost, ZERO),
                      "description": _("Travel, work order {number}").format(number=number)})
    return lines


def invoice_job(ctx, order, charge: JobCharge) -> Invoice | None:
    """Invoice a billable job charge that no invoice has billed yet: an invoice of its
    lines (:func:`job_lines`) dated the day the job was completed, for the work order
    (``source``), issued at once (submitted by the system), noted on the charge. Nothing
    for a charge that is not billable or is invoiced already."""
    if not charge.billable or charge.invoice_id is not None:
        return None
    with use_locale(ctx.settings.locale):  # the papers' texts in the company's language
        lines = job_lines(ctx, order, charge)
        note = _("Work order {number}").format(number=order.number)
    invoice = invoices.make_invoice(
        ctx, customer=order.customer, branch=order.branch, lines=lines,
        invoice_date=charge.completed_on, source=RecordLink(ORDERS, order.id), note=note)
    invoices.issue(ctx, invoice)
    charge.invoice_id = invoice.id
    ctx.session.flush()
    return invoice
