"""The repair plugin's printed papers (R12–R20), registered through ``fixdesk_documents``.

Each paper is a :class:`kernel.Document`: a template in ``templates/repair/`` and a
``gather(ctx, record)`` function that prepares the template's variables. Gather
functions only read; values the models do not hold (labour hours in total, the
arrival outcome, the QR code's content) are computed here so the templates stay
plain block layout.

* 服务凭证 ``repair.service_voucher`` (A5) — signed by the customer (R12, R13);
* 修护卡 ``repair.repair_card`` (A5) — hangs on a carry-in unit (R13);
* 客户商品领取收据 ``repair.product_receipt`` (80 mm roll) — voided on pickup (R13); only for
  carry-in jobs (``available``): printing it for an on-site job is refused;
* 维护记录单 ``repair.maintenance_record`` (A4) — the order's history and labour (R16);
* 保养到期通知书 ``repair.contract_expiry_notice`` (A4) — for a contract (R20);
* 客户意见调查卡 ``repair.survey_card`` (A5) — the four ratings of R19.
"""

from __future__ import annotations

from decimal import Decimal

from kernel.contributions import Document
from kernel.i18n import N_

from .callbacks import RATING_LABELS, survey_url
from .models import MaintenanceContract, WorkOrder
from .rules import DONE, Category, QuoteStatus, Status
from .signatures import signature_of

#: the service category's name on paper (R3)
CATEGORY_NAMES = {
    Category.PAID: N_("Paid service"),
    Category.CONTRACT: N_("Contract service"),
    Category.FREE: N_("Free service"),
    Category.INTERNAL: N_("Internal work"),
}

#: history events (``StatusChange.event``) as printed on the maintenance record sheet
EVENT_NAMES = {
    "register": N_("Registered"),
    "edit": N_("Change details"),
    "recategorize": N_("Change category"),
    "dispatch": N_("Dispatch"),
    "pause": N_("Pause deadline clock"),
    "resume": N_("Resume deadline clock"),
    "arrive": N_("Record arrival"),
    "diagnose": N_("Diagnose"),
    "quote": N_("Quote"),
    "accept_quote": N_("Quote accepted"),
    "reject_quote": N_("Quote rejected"),
    "start": N_("Start repair"),
    "wait_for_parts": N_("Wait for parts"),
    "hard_to_repair": N_("Hard to repair"),
    "complete": N_("Complete"),
    "audit": N_("Review repair"),
    "rework": N_("Rework"),
    "close": N_("Close"),
    "cancel": N_("Cancel"),
    "reopen": N_("Reopen"),
    "receive_unit": N_("Unit taken in"),
    "return_unit": N_("Unit handed back"),
    "overdue": N_("Flagged overdue"),
    "signature": N_("Customer signed"),
    "late_repair": N_("Reported late"),
}

#: the four ratings of the survey (R19), each on four levels (best first)
SURVEY_QUESTIONS = RATING_LABELS
SURVEY_LEVELS = ((4, N_("Very satisfied")), (3, N_("Satisfied")), (2, N_("Fair")),
                 (1, N_("Dissatisfied")))

#: statuses in which the product receipt no longer entitles anyone to the unit (R13); it
#: is also void once the in/out register shows the unit handed back
RECEIPT_VOID = frozenset({Status.CLOSED, Status.CANCELLED})


#: why a job that is not paid costs the customer nothing (R3, R5, R27), by category
COVERED_NOTES = {
    Category.CONTRACT: N_("Covered by the maintenance contract: no charge"),
    Category.FREE: N_("Covered by the warranty: no charge"),
    Category.INTERNAL: N_("Internal work: no charge"),
}
#: the quote's parts (R11, R27) as lines the customer pays, in the order printed
QUOTE_LINES = (("quote_parts", N_("Parts")), ("quote_labour", N_("Labour")),
               ("quote_travel", N_("Travel")))
ZERO = Decimal("0.00")


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _contact(customer):
    if customer is None or not customer.contacts:
        return None
    return next((c for c in customer.contacts if c.is_primary), customer.contacts[0])


def carry_in(order: WorkOrder) -> bool:
    """Whether the unit of ``order`` is taken in (R13): only then is there a receipt."""
    return order.service_mode.value == "carry_in"


def _line(label, text, quantity, unit_price=None, hours=False) -> dict:
    amount = None if unit_price is None else (unit_price * Decimal(quantity)).quantize(ZERO)
    return {"label": label, "text": text, "quantity": quantity, "hours": hours,
            "unit_price": unit_price, "amount": amount}


def _quoted_per_line(order: WorkOrder) -> bool:
    """Whether the live quote priced every part line and those prices add up to its parts
    amount (so the voucher may print them instead of the lump *Parts* line)."""
    lines = order.active_lines
    if not lines or order.quote_total is None or order.quote_status == QuoteStatus.REJECTED \
            or any(getattr(line, "unit_price", None) is None for line in lines):
        return False
    return sum(((line.unit_price * line.quantity).quantize(ZERO) for line in lines),
               ZERO) == (order.quote_parts or ZERO)


def charges(order: WorkOrder) -> dict:
    """What the customer pays for ``order``, line by line (R3–R5, R11, R27): every priced
    line is quantity × unit price = amount, and ``total`` is the sum of the amounts.

    * Paid (A): the parts and hours used, without a price (internal costs are not the
      customer's), then the quote's parts, labour and travel as priced lines — their sum
      is the quote's total. When the quote priced each part line (its ``unit_price``,
      adding up to the quote's parts), the part lines carry the customer's price and
      amount instead of one *Parts* line. A rejected quote charges nothing; without a
      quote the amount is not known yet (``total`` None).
    * Contract (B), free (C, warranty or repair warranty), internal (D): every part and
      every hour at ¥0.00 — covered; the total is ¥0.00 and ``note`` says why.
    """
    paid = order.category == Category.PAID
    price = None if paid else ZERO
    by_line = paid and _quoted_per_line(order)
    rows = [_line(None, line.description + (f" {line.part_code}" if line.part_code else ""),
                  line.quantity, line.unit_price if by_line else price)
            for line in order.active_lines]
    rows += [_line(N_("Labour"), f"{entry.employee.name} {entry.work_date:%m-%d}"
                   + (f" · {entry.note}" if entry.note else ""), entry.hours, price, hours=True)
             for entry in order.labour]
    note, state = None, None
    if not paid:
        note, total = COVERED_NOTES[Category(order.category)], ZERO
    elif order.quote_status == QuoteStatus.REJECTED:
        note, total = N_("Quote rejected: nothing charged"), ZERO
    elif order.quote_total is None:
        total = None
    else:
        state = order.quote_status.value
        for field, label in QUOTE_LINES:
            amount = getattr(order, field) or ZERO
            if amount and not (by_line and field == "quote_parts"):
                rows.append(_line(label, "", 1, amount))
        total = sum((r["amount"] for r in rows if r["amount"] is not None), ZERO)
    return {"rows": rows, "total": total, "note": note, "quote_state": state}


def gather_order(ctx, order: WorkOrder) -> dict:
    """What every work-order paper prints: parties, machine, fault, report, lines, amounts."""
    paid = order.category == Category.PAID
    url = survey_url(ctx, order) if order.category != Category.INTERNAL else None
    # the survey QR only once the repair is done: before that the link cannot be answered
    survey_qr = url if Status(order.status) in DONE else None
    labour_minutes = order.labour_minutes
    unit_log = list(getattr(order, "unit_log", None) or [])
    received = next((e for e in reversed(unit_log) if e.direction.value == "received"), None)
    if order.deadline_met is None:
        arrival = None
    elif order.deadline_met:
        arrival = "on_time"
    else:
        arrival = "late"
    return {
        "order": order,
        "customer": order.customer,
        "equipment": order.equipment,
        "engineer": order.engineer,
        "contract": order.contract if order.category == Category.CONTRACT else None,
        "category_name": CATEGORY_NAMES[Category(order.category)],
        "paid": paid,
        "carry_in": carry_in(order),
        "lines": order.active_lines,
        "parts_cost": order.parts_cost,
        "labour": order.labour,
        "labour_hours": _hours(labour_minutes),
        "arrival": arrival,
        "survey_url": url,
        "qr_data": survey_qr,
        "charges": charges(order),
        # the customer's signature drawn on the engineer's phone (signatures.py), if any
        "signature": signature_of(ctx, order),
        "void": Status(order.status) in RECEIPT_VOID or (
            bool(unit_log) and unit_log[-1].direction.value == "returned"),
        # the carry-in register (R13): when the unit came in, in what condition, by when
        # it was promised (read defensively: the carry-in columns are new)
        "received_at": received.at if received else order.reported_at,
        "condition": received.condition if received else None,
        "promised_at": getattr(order, "promised_at", None),
    }


def gather_history(ctx, order: WorkOrder) -> dict:
    """The work-order data plus its history, each event with its printed name."""
    data = gather_order(ctx, order)
    data["history"] = [
        {"at": change.at, "event": EVENT_NAMES.get(change.event, change.event),
         "from_status": change.from_status.value if change.from_status else None,
         "to_status": change.to_status.value, "actor": change.actor,
         "reason": change.reason}
        for change in order.history]
    return data


def gather_survey(ctx, order: WorkOrder) -> dict:
    data = gather_order(ctx, order)
    data["questions"] = SURVEY_QUESTIONS
    data["levels"] = SURVEY_LEVELS
    return data


def gather_contract(ctx, contract: MaintenanceContract) -> dict:
    """The contract, its customer (contact and address for the letter) and its machines."""
    customer = contract.customer
    today = ctx.now().astimezone(ctx.settings.tz).date()
    return {
        "contract": contract,
        "customer": customer,
        "contact": _contact(customer),
        "address": customer.addresses[0] if customer.addresses else None,
        "machines": [item.equipment for item in contract.items],
        "days_left": (contract.end_date - today).days,
    }


#: what gather_order reads of an order, loaded for a whole batch at once
ORDER_PRELOAD = ("customer", "equipment", "engineer", "lines", "labour", "unit_log")
SERVICE_VOUCHER = Document(
    name="repair.service_voucher", title=N_("Service voucher"), entity="repair_work_order",
    template="repair/service_voucher.html", gather=gather_order, paper="A5",
    preload=ORDER_PRELOAD)
REPAIR_CARD = Document(
    name="repair.repair_card", title=N_("Repair card"), entity="repair_work_order",
    template="repair/repair_card.html", gather=gather_order, paper="A5",
    preload=ORDER_PRELOAD)
PRODUCT_RECEIPT = Document(
    name="repair.product_receipt", title=N_("Product receipt"), entity="repair_work_order",
    template="repair/product_receipt.html", gather=gather_order, paper="receipt80",
    available=carry_in, unavailable=N_("a product receipt is only for carry-in jobs"),
    preload=ORDER_PRELOAD)
MAINTENANCE_RECORD = Document(
    name="repair.maintenance_record", title=N_("Maintenance record sheet"),
    entity="repair_work_order",
    template="repair/maintenance_record.html", gather=gather_history, paper="A4",
    preload=(*ORDER_PRELOAD, "history"))
CONTRACT_EXPIRY_NOTICE = Document(
    name="repair.contract_expiry_notice", title=N_("Contract expiry notice"),
    entity="repair_contract", template="repair/contract_expiry_notice.html",
    gather=gather_contract, paper="A4")
SURVEY_CARD = Document(
    name="repair.survey_card", title=N_("Customer survey card"), entity="repair_work_order",
    template="repair/survey_card.html", gather=gather_survey, paper="A5",
    preload=ORDER_PRELOAD)

DOCUMENTS = [SERVICE_VOUCHER, REPAIR_CARD, PRODUCT_RECEIPT, MAINTENANCE_RECORD,
             CONTRACT_EXPIRY_NOTICE, SURVEY_CARD]
