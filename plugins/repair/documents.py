"""The repair plugin's printed papers (R12–R20), registered through ``fixdesk_documents``.

Each paper is a :class:`kernel.Document`: a template in ``templates/repair/`` and a
``gather(ctx, record)`` function that prepares the template's variables. Gather
functions only read; values the models do not hold (labour hours in total, the
arrival outcome, the QR code's content) are computed here so the templates stay
plain block layout.

* 服务凭证 ``repair.service_voucher`` (A5) — signed by the customer (R12, R13);
* 修护卡 ``repair.repair_card`` (A5) — hangs on a carry-in unit (R13);
* 客户商品领取收据 ``repair.product_receipt`` (80 mm roll) — voided on pickup (R13);
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
from .rules import Category, Status

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
    "late_repair": N_("Reported late"),
}

#: the four ratings of the survey (R19), each on four levels (best first)
SURVEY_QUESTIONS = RATING_LABELS
SURVEY_LEVELS = ((4, N_("Very satisfied")), (3, N_("Satisfied")), (2, N_("Fair")),
                 (1, N_("Dissatisfied")))

#: statuses in which the product receipt no longer entitles anyone to the unit (R13); it
#: is also void once the in/out register shows the unit handed back
RECEIPT_VOID = frozenset({Status.CLOSED, Status.CANCELLED})


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _contact(customer):
    if customer is None or not customer.contacts:
        return None
    return next((c for c in customer.contacts if c.is_primary), customer.contacts[0])


def gather_order(ctx, order: WorkOrder) -> dict:
    """What every work-order paper prints: parties, machine, fault, report, lines, amounts."""
    paid = order.category == Category.PAID
    url = survey_url(ctx, order) if order.category != Category.INTERNAL else None
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
        "carry_in": order.service_mode.value == "carry_in",
        "lines": order.active_lines,
        "parts_cost": order.parts_cost,
        "labour": order.labour,
        "labour_hours": _hours(labour_minutes),
        "arrival": arrival,
        "survey_url": url,
        "qr_data": url or order.number,
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


SERVICE_VOUCHER = Document(
    name="repair.service_voucher", title=N_("Service voucher"), entity="repair_work_order",
    template="repair/service_voucher.html", gather=gather_order, paper="A5")
REPAIR_CARD = Document(
    name="repair.repair_card", title=N_("Repair card"), entity="repair_work_order",
    template="repair/repair_card.html", gather=gather_order, paper="A5")
PRODUCT_RECEIPT = Document(
    name="repair.product_receipt", title=N_("Product receipt"), entity="repair_work_order",
    template="repair/product_receipt.html", gather=gather_order, paper="receipt80")
MAINTENANCE_RECORD = Document(
    name="repair.maintenance_record", title=N_("Maintenance record sheet"),
    entity="repair_work_order",
    template="repair/maintenance_record.html", gather=gather_history, paper="A4")
CONTRACT_EXPIRY_NOTICE = Document(
    name="repair.contract_expiry_notice", title=N_("Contract expiry notice"),
    entity="repair_contract", template="repair/contract_expiry_notice.html",
    gather=gather_contract, paper="A4")
SURVEY_CARD = Document(
    name="repair.survey_card", title=N_("Customer survey card"), entity="repair_work_order",
    template="repair/survey_card.html", gather=gather_survey, paper="A5")

DOCUMENTS = [SERVICE_VOUCHER, REPAIR_CARD, PRODUCT_RECEIPT, MAINTENANCE_RECORD,
             CONTRACT_EXPIRY_NOTICE, SURVEY_CARD]
