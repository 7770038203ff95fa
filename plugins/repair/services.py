"""The repair operations: plain functions taking a :class:`kernel.Context`.

Each checks the permission (``repair_work_order.<action>``) and the order's
state (:func:`plugins.repair.rules.next_status`), validates its input, writes,
records a history entry and calls the hooks of :mod:`plugins.repair.hookspecs`.
None commits: the caller owns the transaction.

Inputs may come straight from JSON (API actions): times as ISO strings with a
time zone, amounts as strings or numbers, employees and customers by id or code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from kernel import Conflict, NotFound, ValidationError
from kernel.branch_calendar import calendar_for
from kernel.i18n import _
from kernel.models import Branch, Customer, CustomerEquipment, Employee
from kernel.numbering import next_number
from kernel.settings import get_setting

from . import appointments, callbacks, rules
from .events import check_move, load_order, move, record_event
from .inputs import (
    MAX_ID,
    choice,
    flag,
    local_date,
    lookup,
    minutes_of_hours,
    money,
    not_future,
    now_utc,
    parse_date,
    positive_int,
    text,
    when,
)
from .models import (
    ContractEquipment,
    LabourEntry,
    MaintenanceContract,
    UnitDirection,
    UnitLog,
    WorkOrder,
    WorkOrderLine,
)
from .own_jobs import labour_engineer
from .rules import (
    NOT_REPAIRED,
    AuditResult,
    Basis,
    Category,
    Channel,
    Exclusion,
    OrderState,
    QuoteStatus,
    ServiceMode,
    Status,
)

SERIES = "repair_work_order"
#: how far back a report may be entered (paper registers typed in later, demo history)
MAX_BACKDATE = dt.timedelta(days=3660)
#: how far ahead of the report an appointment may be booked
MAX_APPOINTMENT = dt.timedelta(days=366)

# ---------------------------------------------------------------------------
# registration (R1–R6, R9)
# ---------------------------------------------------------------------------


def contracts_of(ctx, equipment: CustomerEquipment) -> list[rules.ContractCover]:
    """The maintenance contracts listing ``equipment``, with the visits used under each."""
    contracts = ctx.session.scalars(
        select(MaintenanceContract).join(ContractEquipment).where(
            ContractEquipment.equipment_id == equipment.id)).all()
    covers = []
    for contract in contracts:
        used = ctx.session.scalar(select(func.count(WorkOrder.id)).where(
            WorkOrder.contract_id == contract.id, WorkOrder.category == Category.CONTRACT,
            WorkOrder.status != Status.CANCELLED))
        covers.append(rules.ContractCover(
            contract_id=contract.id, start=contract.start_date, end=contract.end_date,
            visits_included=contract.visits_included, visits_used=used or 0,
            cancelled=contract.cancelled_at is not None))
    return covers


def _past_repairs(ctx, equipment: CustomerEquipment) -> list[rules.PastRepair]:
    orders = ctx.session.scalars(select(WorkOrder).where(
        WorkOrder.equipment_id == equipment.id, WorkOrder.completed_at.is_not(None),
        WorkOrder.status.in_(rules.DONE), WorkOrder.category != Category.INTERNAL)).all()
    return [rules.PastRepair(order_id=o.id, completed_on=local_date(ctx, o.completed_at),
                             fault_code=o.fault_code) for o in orders]


def decide_category(ctx, *, reported_at: dt.datetime, equipment: CustomerEquipment | None,
                    internal: bool = False, exclusion: Exclusion | None = None,
                    fault_code: str | None = None,
                    earlier_order: WorkOrder | None = None) -> rules.CategoryDecision:
    """The category a job would get (R3–R5), from the equipment's warranty, contracts and
    earlier repairs on the report date. Reads only."""
    report_date = local_date(ctx, reported_at)
    if equipment is None:
        return rules.decide_category(report_date, internal=internal, exclusion=exclusion)
    return rules.decide_category(
        report_date, internal=internal, exclusion=exclusion,
        warranty_end=equipment.warranty_end, contracts=contracts_of(ctx, equipment),
        past_repairs=_past_repairs(ctx, equipment), fault_code=fault_code,
        earlier_order_id=earlier_order.id if earlier_order is not None else None,
        repair_warranty_days=ctx.setting("repair.repair_warranty_days"))


def deadline_for(ctx, branch: Branch, reported_at: dt.datetime) -> dt.datetime:
    """The arrival deadline of a job reported at ``branch`` (R6): the zone's hours (the
    branch's settings) counted in the branch's working time."""
    hours = rules.deadline_hours(branch.zone,
                                 get_setting(ctx, "repair.urban_deadline_hours", branch),
                                 get_setting(ctx, "repair.suburban_deadline_hours", branch))
    return rules.arrival_deadline(calendar_for(ctx, branch), reported_at, hours)


def _ask_for_deadline(ctx, order: WorkOrder) -> None:
    """Let another module set a new order's arrival deadline (``repair_override_deadline``:
    emergency response, contracts that promise less than the zone's hours)."""
    answer = ctx.hook.repair_override_deadline(ctx=ctx, order=order, deadline=order.deadline_at)
    if answer is None:
        return
    if not isinstance(answer, dt.datetime) or answer.tzinfo is None or \
            answer < order.reported_at:
        raise TypeError(f"repair_override_deadline answered {answer!r}: an aware datetime "
                        "not before the report is needed")
    order.deadline_at = answer.astimezone(dt.UTC)


def register(ctx, *, fault_description: str, channel: str, customer=None, equipment=None,
             reported_at=None, contact_name: str | None = None, phone: str | None = None,
             address: str | None = None, model: str | None = None,
             serial_no: str | None = None, fault_code: str | None = None,
             urgent: bool = False, service_mode: str | None = None, internal: bool = False,
             exclusion: str | None = None, category: str | None = None,
             category_reason: str | None = None, earlier_order=None,
             branch=None) -> WorkOrder:
    """Register a repair request (R1) and return the new work order (status ``pending``).

    ``customer`` (object, id or code) and ``equipment`` (object, id or serial number) are
    the known customer and machine; the equipment alone names its customer. Contact,
    phone and address default to the customer's primary contact and the machine's
    address. The category is derived (:func:`decide_category`); ``category`` overrides
    it, with ``category_reason``. ``earlier_order`` names the order whose repair
    warranty the customer claims (R5; else the same ``fault_code`` finds it).
    ``service_mode`` defaults to carry-in for walk-ins, on site otherwise; on-site jobs
    other than internal ones get an arrival deadline (R6). ``branch`` (object or code)
    defaults to the user's branch, then the customer's.
    """
    ctx.require("repair_work_order.register")
    fault_description = text(fault_description, "fault_description", max_length=4000)
    channel = choice(Channel, channel, "channel")
    internal = flag(internal, "internal")
    urgent = flag(urgent, "urgent")
    machine = lookup(ctx, CustomerEquipment, equipment, "equipment", "serial_no") \
        if equipment not in (None, "") else None
    client = lookup(ctx, Customer, customer, "customer", "code") \
        if customer not in (None, "") else None
    if machine is not None:
        if client is not None and machine.customer_id != client.id:
            raise ValidationError(_("equipment {serial} does not belong to customer {code}")
                                  .format(serial=machine.serial_no, code=client.code),
                                  field="equipment")
        client = client or machine.customer
    if client is None and not internal:
        raise ValidationError(_("customer is required (except for internal jobs)"),
                              field="customer")
    if branch not in (None, ""):
        branch = lookup(ctx, Branch, branch, "branch", "code")
    else:
        branch = ctx.branch or (client.branch if client is not None else None)
    if branch is None:
        raise ValidationError(_("branch is required"), field="branch")
    ctx.require("repair_work_order.register", branch)
    reported_at = now_utc(ctx) if reported_at in (None, "") else when(reported_at, "reported_at")
    not_future(ctx, reported_at, "reported_at")
    if reported_at < now_utc(ctx) - MAX_BACKDATE:
        raise ValidationError(_("reported_at lies too far in the past"), field="reported_at")
    exclusion = choice(Exclusion, exclusion, "exclusion") if exclusion not in (None, "") \
        else None
    earlier = lookup(ctx, WorkOrder, earlier_order, "earlier_order", "number") \
        if earlier_order not in (None, "") else None
    if earlier is not None and (machine is None or earlier.equipment_id != machine.id):
        raise ValidationError(_("the earlier order {number} is for other equipment").format(
            number=earlier.number), field="earlier_order")
    fault_code = text(fault_code, "fault_code", required=False, max_length=50)
    decision = decide_category(ctx, reported_at=reported_at, equipment=machine,
                               internal=internal, exclusion=exclusion,
                               fault_code=fault_code, earlier_order=earlier)
    basis, reason = decision.basis, None
    if decision.basis == Basis.EXCLUSION:
        reason = text(category_reason, "category_reason", required=False) or \
            decision.exclusion.value
    if category not in (None, ""):
        category = choice(Category, category, "category")
        if category != decision.category:
            basis = Basis.OVERRIDE
            reason = text(category_reason, "category_reason")  # required to override
    else:
        category = decision.category
    mode = choice(ServiceMode, service_mode, "service_mode") \
        if service_mode not in (None, "") else \
        (ServiceMode.CARRY_IN if channel == Channel.WALK_IN else ServiceMode.ON_SITE)
    primary = None
    if client is not None and client.contacts:
        primary = next((c for c in client.contacts if c.is_primary), client.contacts[0])
    site_address = (machine.address.address if machine is not None and machine.address
                    else next((a.address for a in client.addresses if a.is_default), None)
                    if client is not None else None)
    brand_model = machine.brand_model if machine else None
    order = WorkOrder(
        company_id=branch.company_id, branch_id=branch.id,
        number=next_number(ctx, SERIES, branch=branch, on=local_date(ctx, reported_at)),
        customer_id=client.id if client else None, equipment_id=machine.id if machine else None,
        model=text(model, "model", required=False, max_length=150) or brand_model,
        serial_no=text(serial_no, "serial_no", required=False, max_length=100) or
        (machine.serial_no if machine else None),
        contact_name=text(contact_name, "contact_name", required=False, max_length=100) or
        (primary.name if primary else None),
        phone=text(phone, "phone", required=False, max_length=50) or
        (primary.mobile or primary.phone if primary else None) or
        (client.phone if client else None),
        address=text(address, "address", required=False) or site_address,
        channel=channel, service_mode=mode, fault_description=fault_description,
        fault_code=fault_code, reported_at=reported_at, category=category,
        category_basis=basis, category_reason=reason, exclusion=decision.exclusion,
        contract_id=decision.contract_id if category == Category.CONTRACT else None,
        earlier_order_id=decision.earlier_order_id if basis == Basis.REPAIR_WARRANTY
        else None,
        urgent=urgent, status=Status.PENDING, quote_status=QuoteStatus.NONE,
        paused_minutes=0, reopen_count=0,
        deadline_at=deadline_for(ctx, branch, reported_at)
        if mode == ServiceMode.ON_SITE and category != Category.INTERNAL else None,
    )
    ctx.session.add(order)
    ctx.session.flush()
    _ask_for_deadline(ctx, order)
    record_event(ctx, order, "register", None, reason, {
        "category": category, "basis": basis, "deadline_at": order.deadline_at})
    ctx.hook.repair_order_registered(ctx=ctx, order=order)
    return order


def edit(ctx, order, **changes) -> WorkOrder:
    """Change the details of an open order: contact, phone, address, fault description,
    fault code, urgent flag (R9)."""
    order = load_order(ctx, order, "edit")
    check_move(order, "edit")
    parsers = {
        "contact_name": lambda v: text(v, "contact_name", required=False, max_length=100),
        "phone": lambda v: text(v, "phone", required=False, max_length=50),
        "address": lambda v: text(v, "address", required=False),
        "fault_description": lambda v: text(v, "fault_description", max_length=4000),
        "fault_code": lambda v: text(v, "fault_code", required=False, max_length=50),
        "urgent": lambda v: flag(v, "urgent"),
        "promised_at": lambda v: None if v in (None, "") else when(v, "promised_at"),
    }
    if changes.get("promised_at") not in (None, "") and \
            order.service_mode != ServiceMode.CARRY_IN:
        raise ValidationError(_("only carry-in repairs have a promised date"),
                              field="promised_at")
    unknown = sorted(set(changes) - set(parsers))
    if unknown:
        raise ValidationError(_("{field} cannot be changed here").format(field=unknown[0]),
                              field=unknown[0])
    detail = {}
    for name, raw in changes.items():
        value = parsers[name](raw)
        if getattr(order, name) != value:
            detail[name] = [getattr(order, name), value]
            setattr(order, name, value)
    if "promised_at" in detail:  # a new promise: missing it is reported again (R15)
        order.promise_flagged_at = None
    if detail:
        move(ctx, order, "edit", order.status, None, detail)
    return order


def recategorize(ctx, order, category: str | None = None, reason: str | None = None) -> WorkOrder:
    """A supervisor changes the category of an order (R3: overridden with a reason)."""
    order = load_order(ctx, order, "categorize")
    category = choice(Category, category, "category")
    reason = text(reason, "reason")
    target = check_move(order, "recategorize")
    detail = {"category": [order.category, category]}
    order.category, order.category_basis, order.category_reason = \
        category, Basis.OVERRIDE, reason
    if category != Category.CONTRACT:
        order.contract_id = None
    return move(ctx, order, "recategorize", target, reason, detail)


# ---------------------------------------------------------------------------
# dispatch and the deadline clock (R6–R8)
# ---------------------------------------------------------------------------


def dispatch(ctx, order, engineer=None, partner_outlet: str | None = None,
             appointment_at=None, reason: str | None = None) -> WorkOrder:
    """Assign an engineer (employee object, id or code) or a partner outlet, with an
    appointment (R7). Dispatching again re-assigns and keeps the former assignment in the
    history. An appointment the customer wants later than the deadline stops the deadline
    clock until then: the deadline moves to the appointment and the working time between
    counts as paused."""
    order = load_order(ctx, order, "dispatch")
    partner_outlet = text(partner_outlet, "partner_outlet", required=False, max_length=200)
    if (engineer in (None, "")) == (partner_outlet is None):
        raise ValidationError(_("give either an engineer or a partner outlet"),
                              field="engineer")
    person = None
    if engineer not in (None, ""):
        person = lookup(ctx, Employee, engineer, "engineer", "code")
        if not person.active:
            raise ValidationError(_("{name} is no longer active").format(name=person.name),
                                  field="engineer")
    appointment = when(appointment_at, "appointment_at") \
        if appointment_at not in (None, "") else None
    if appointment is not None and appointment < order.reported_at:
        raise ValidationError(_("the appointment lies before the report"),
                              field="appointment_at")
    if appointment is not None and appointment > order.reported_at + MAX_APPOINTMENT:
        raise ValidationError(_("the appointment lies more than a year after the report"),
                              field="appointment_at")
    reason = text(reason, "reason", required=False)
    first = order.dispatched_at is None
    previous = None if first else {"engineer_id": order.engineer_id,
                                   "partner_outlet": order.partner_outlet,
                                   "appointment_at": order.appointment_at}
    target = check_move(order, "dispatch")
    detail = {"engineer_id": [order.engineer_id, person.id if person else None],
              "partner_outlet": [order.partner_outlet, partner_outlet],
              "appointment_at": [order.appointment_at, appointment]}
    order.engineer_id = person.id if person else None
    order.partner_outlet = partner_outlet
    order.appointment_at = appointment
    order.dispatched_at = now_utc(ctx)
    move(ctx, order, "dispatch", target, reason, detail)
    if (appointment is not None and order.deadline_at is not None and order.arrived_at is None
            and order.paused_at is None and appointment > order.deadline_at):
        calendar = calendar_for(ctx, order.branch)
        minutes = rules.working_minutes(calendar.working_hours_between(order.deadline_at,
                                                                       appointment))
        old = order.deadline_at
        order.deadline_at = appointment
        order.paused_minutes += minutes
        move(ctx, order, "pause", order.status,
             _("the customer asked for an appointment after the deadline"),
             {"minutes": minutes, "deadline_at": [old, appointment]})
    appointments.book(ctx, order, reason)
    ctx.hook.repair_order_dispatched(ctx=ctx, order=order, previous=previous)
    return order


def _check_clock(order: WorkOrder) -> None:
    if order.deadline_at is None:
        raise Conflict(_("order {number} has no arrival deadline").format(number=order.number),
                       field="deadline_at")
    if order.arrived_at is not None:
        raise Conflict(_("the engineer has arrived already: the deadline clock has stopped"),
                       field="arrived_at")


def pause(ctx, order, reason: str | None = None) -> WorkOrder:
    """Stop the deadline clock while the job waits on the customer (R6), with the reason."""
    order = load_order(ctx, order, "pause")
    reason = text(reason, "reason")
    target = check_move(order, "pause")
    _check_clock(order)
    if order.paused_at is not None:
        raise Conflict(_("the deadline clock is paused already"), field="paused_at")
    order.paused_at, order.pause_reason = now_utc(ctx), reason
    return move(ctx, order, "pause", target, reason)


def _resume(ctx, order: WorkOrder, at: dt.datetime) -> int:
    calendar = calendar_for(ctx, order.branch)
    minutes = rules.working_minutes(calendar.working_hours_between(order.paused_at, at)) \
        if at > order.paused_at else 0
    old = order.deadline_at
    order.deadline_at = rules.shift_deadline(calendar, order.deadline_at,
                                             dt.timedelta(minutes=minutes))
    order.paused_minutes += minutes
    order.paused_at, order.pause_reason = None, None
    move(ctx, order, "resume", order.status, None,
         {"minutes": minutes, "deadline_at": [old, order.deadline_at]})
    return minutes


def resume(ctx, order) -> WorkOrder:
    """Restart the deadline clock; the deadline moves on by the paused working time."""
    order = load_order(ctx, order, "pause")
    check_move(order, "resume")
    _check_clock(order)
    if order.paused_at is None:
        raise Conflict(_("the deadline clock is not paused"), field="paused_at")
    _resume(ctx, order, now_utc(ctx))
    return order


def record_arrival(ctx, order, at=None) -> WorkOrder:
    """Record when the engineer reached the customer; met or missed the deadline, and by how
    many working minutes (R8). A paused clock restarts at the arrival."""
    order = load_order(ctx, order, "arrive")
    check_move(order, "arrive")
    if order.arrived_at is not None:
        raise Conflict(_("the arrival is recorded already"), field="arrived_at")
    at = now_utc(ctx) if at in (None, "") else when(at, "at")
    not_future(ctx, at, "at")
    if at < order.reported_at:
        raise ValidationError(_("the arrival lies before the report"), field="at")
    if order.paused_at is not None:
        _resume(ctx, order, max(at, order.paused_at))
    order.arrived_at = at
    appointments.keep(ctx, order, at)
    if order.deadline_at is not None:
        late = calendar_for(ctx, order.branch).working_hours_between(order.deadline_at, at) \
            if at > order.deadline_at else dt.timedelta(0)
        order.deadline_met, order.missed_minutes = rules.arrival_outcome(order.deadline_at,
                                                                         at, late)
    return move(ctx, order, "arrive", order.status, None, {
        "arrived_at": at, "deadline_met": order.deadline_met,
        "missed_minutes": order.missed_minutes})


# ---------------------------------------------------------------------------
# diagnosis and quote (R10, R11)
# ---------------------------------------------------------------------------


def diagnose(ctx, order, diagnosis: str | None = None, fault_code: str | None = None) -> WorkOrder:
    """The engineer records the fault's cause and the plan (R10); ``fault_code`` names the
    fault for the repair warranty (R5)."""
    order = load_order(ctx, order, "diagnose")
    diagnosis = text(diagnosis, "diagnosis", max_length=4000)
    fault_code = text(fault_code, "fault_code", required=False, max_length=50)
    target = check_move(order, "diagnose")
    order.diagnosis, order.diagnosed_at = diagnosis, now_utc(ctx)
    if fault_code is not None:
        order.fault_code = fault_code
    return move(ctx, order, "diagnose", target, None, {"fault_code": order.fault_code})


QUOTE_PARTS = ("labour", "parts", "travel")


def quote(ctx, order, labour=None, parts=None, travel=None, note: str | None = None) -> WorkOrder:
    """Quote a paid job (R11): the ``repair_quote_requested`` hook prices it (billing);
    without an answer the amounts staff entered are used. The order then waits for the
    customer's decision (``quoted``)."""
    order = load_order(ctx, order, "quote")
    note = text(note, "note", required=False)
    entered = {"labour": labour, "parts": parts, "travel": travel}
    proposed = {k: money(v, k, allow_zero=True) if v not in (None, "") else None
                for k, v in entered.items()}
    target = check_move(order, "quote")
    if not order.diagnosis:
        raise Conflict(_("diagnose the fault before quoting"), field="diagnosis")
    staff = proposed if any(v is not None for v in proposed.values()) else None
    answer = ctx.hook.repair_quote_requested(ctx=ctx, order=order, lines=order.active_lines,
                                             proposed=staff)
    if answer is None and staff is None:
        raise ValidationError(_("enter the quote amounts (labour, parts, travel)"),
                              field="labour")
    amounts = {}
    for key in QUOTE_PARTS:
        value = (answer or {}).get(key)
        if value is None:
            value = (staff or {}).get(key)
        amounts[key] = money(value if value is not None else "0", key, allow_zero=True)
    total = sum(amounts.values(), Decimal("0.00"))
    if total <= 0:
        raise ValidationError(_("a quote must come to more than zero"), field="labour")
    order.quote_labour, order.quote_parts, order.quote_travel = (
        amounts["labour"], amounts["parts"], amounts["travel"])
    order.quote_total = total
    order.quote_status, order.quoted_at, order.quote_decided_at = \
        QuoteStatus.PENDING, now_utc(ctx), None
    _price_lines(order, answer)
    return move(ctx, order, "quote", target, note, {
        **amounts, "total": total, "priced_by": "hook" if answer is not None else "staff"})


def _price_lines(order, answer: dict | None) -> None:
    """Keep each part line's price to the customer when the hook priced the parts and gave
    them (``answer["lines"]``: line id → unit price); otherwise (staff's lump sum for the
    parts, a line the answer left out) the line has none. Quoting again replaces them."""
    prices = (answer or {}).get("lines") if (answer or {}).get("parts") is not None else None
    prices = prices or {}
    for line in order.lines:
        price = prices.get(line.id) if line.returned_at is None else None
        line.unit_price = money(price, "lines", allow_zero=True) if price is not None else None


def accept_quote(ctx, order, note: str | None = None) -> WorkOrder:
    """The customer accepts the quote: the repair may start."""
    order = load_order(ctx, order, "decide_quote")
    note = text(note, "note", required=False)
    target = check_move(order, "accept_quote")
    order.quote_status, order.quote_decided_at = QuoteStatus.ACCEPTED, now_utc(ctx)
    return move(ctx, order, "accept_quote", target, note)


def reject_quote(ctx, order, reason: str | None = None) -> WorkOrder:
    """The customer declines the quote: quote again, cancel, or close unrepaired."""
    order = load_order(ctx, order, "decide_quote")
    reason = text(reason, "reason", required=False)
    target = check_move(order, "reject_quote")
    order.quote_status, order.quote_decided_at = QuoteStatus.REJECTED, now_utc(ctx)
    return move(ctx, order, "reject_quote", target, reason)


# ---------------------------------------------------------------------------
# the repair (R12–R16)
# ---------------------------------------------------------------------------


def start(ctx, order, note: str | None = None) -> WorkOrder:
    """Start (or, after waiting for parts or help, resume) the repair. A paid job needs an
    accepted quote (R11)."""
    order = load_order(ctx, order, "repair")
    note = text(note, "note", required=False)
    target = check_move(order, "start")
    order.started_at = order.started_at or now_utc(ctx)
    return move(ctx, order, "start", target, note)


def wait_for_parts(ctx, order, reason: str | None = None) -> WorkOrder:
    """The repair waits for parts (R14); the customer is told."""
    order = load_order(ctx, order, "repair")
    reason = text(reason, "reason", required=False)
    target = check_move(order, "wait_for_parts")
    return move(ctx, order, "wait_for_parts", target, reason)


def hard_to_repair(ctx, order, reason: str | None = None) -> WorkOrder:
    """The fault needs help: technical discussion, the manufacturer (R10, R14)."""
    order = load_order(ctx, order, "repair")
    reason = text(reason, "reason")
    target = check_move(order, "hard_to_repair")
    return move(ctx, order, "hard_to_repair", target, reason)


def add_part(ctx, order, description: str | None = None, quantity=None, unit_cost=None,
             part_code: str | None = None) -> WorkOrderLine:
    """Add a part to the order (R24): ``repair_parts_needed`` lets inventory reserve it.

    A part code without a description or unit cost is looked up with the question
    ``repair_resolve_part`` (inventory knows its parts); staff's own values win."""
    order = load_order(ctx, order, "repair")
    check_move(order, "add_part")
    code = text(part_code, "part_code", required=False, max_length=50)
    if code and (description in (None, "") or unit_cost in (None, "")):
        known = ctx.hook.repair_resolve_part(ctx=ctx, order=order, code=code) or {}
        description = known.get("description") if description in (None, "") else description
        unit_cost = known.get("unit_cost") if unit_cost in (None, "") else unit_cost
    line = WorkOrderLine(
        order_id=order.id, description=text(description, "description", max_length=200),
        part_code=code, quantity=positive_int(quantity, "quantity"),
        unit_cost=money(unit_cost, "unit_cost"))
    ctx.session.add(line)
    ctx.session.flush()
    ctx.session.refresh(order, ["lines"])
    ctx.hook.repair_parts_needed(ctx=ctx, order=order, line=line)
    return line


def _give_back(ctx, order: WorkOrder, line: WorkOrderLine, reason: str | None) -> None:
    line.returned_at, line.return_reason = now_utc(ctx), reason
    ctx.session.flush()
    ctx.hook.repair_parts_returned(ctx=ctx, order=order, line=line)


def return_part(ctx, order, line_id: int | None = None, reason: str | None = None) -> WorkOrderLine:
    """Take an unused part off the order (R24): ``repair_parts_returned`` puts it back."""
    order = load_order(ctx, order, "repair")
    check_move(order, "return_part")
    line = next((x for x in order.lines if x.id == positive_int(line_id, "line_id", MAX_ID)), None)
    if line is None:
        raise NotFound(_("order {number} has no part line {id}").format(
            number=order.number, id=line_id), field="line_id")
    if line.returned_at is not None:
        raise Conflict(_("the part was given back already"), field="line_id")
    _give_back(ctx, order, line, text(reason, "reason", required=False))
    return line


def add_labour(ctx, order, hours=None, engineer=None, work_date=None,
               note: str | None = None) -> LabourEntry:
    """Record working time on the order (the hours on the repair card). An engineer books
    his own hours; a supervisor names the engineer, by default the assigned one."""
    order = load_order(ctx, order, "repair")
    check_move(order, "add_labour")
    minutes = minutes_of_hours(hours, "hours")
    named = lookup(ctx, Employee, engineer, "engineer", "code") \
        if engineer not in (None, "") else None
    person = labour_engineer(ctx, order, named)  # an engineer books his own hours
    if person is None:
        raise ValidationError(_("name the engineer who worked"), field="engineer")
    entry = LabourEntry(
        order_id=order.id, employee_id=person.id, minutes=minutes,
        work_date=local_date(ctx, now_utc(ctx)) if work_date in (None, "")
        else parse_date(work_date, "work_date"),
        note=text(note, "note", required=False))
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.session.refresh(order, ["labour"])
    return entry


def complete(ctx, order, method: str | None = None, cause: str | None = None,
             fault: str | None = None, hours=None) -> WorkOrder:
    """The repair is done; write the repair report (R16: fault, cause, method; parts and
    hours are the order's lines and labour entries). ``hours`` adds a labour entry for the
    assigned engineer. On-site jobs become ``completed``, carry-in ones
    ``ready_for_pickup`` (R13)."""
    order = load_order(ctx, order, "complete")
    method = text(method, "method", max_length=4000)
    cause = text(cause, "cause", max_length=4000)
    fault = text(fault, "fault", required=False, max_length=4000) or order.fault_description
    target = check_move(order, "complete")
    if hours not in (None, ""):
        add_labour(ctx, order, hours)
    order.report_fault, order.report_cause, order.report_method = fault, cause, method
    order.completed_at = now_utc(ctx)
    move(ctx, order, "complete", target)
    completion = sum(1 for change in order.history if change.event == "complete")
    ctx.hook.repair_order_completed(ctx=ctx, order=order, completion=completion)
    return order


def audit(ctx, order, passed=None, note: str | None = None) -> WorkOrder:
    """A supervisor reviews the repair report (R16, R17). A failed review sends the order
    back for rework (R17; a note is required), also when it was closed already."""
    order = load_order(ctx, order, "audit")
    passed = flag(passed, "passed")
    note = text(note, "note", required=not passed, max_length=500)
    check_move(order, "audit")
    order.audit_result = AuditResult.PASSED if passed else AuditResult.FAILED
    order.audited_at, order.audited_by_id = now_utc(ctx), ctx.user.id if ctx.user else None
    order.audit_note = note
    move(ctx, order, "audit", order.status, note, {"passed": passed})
    if not passed:
        send_back_for_rework(ctx, order, note)
    ctx.hook.repair_order_audited(ctx=ctx, order=order, passed=passed)
    return order


def send_back_for_rework(ctx, order: WorkOrder, reason: str,
                         detail: dict | None = None) -> WorkOrder:
    """A repaired (or closed) order goes back to ``in_repair`` for rework (R17): a failed
    review or quality spot check. Its engineer stays assigned."""
    target = check_move(order, "rework")
    order.closed_at = None
    return move(ctx, order, "rework", target, reason, detail)


def close(ctx, order, note: str | None = None) -> WorkOrder:
    """Close the register line (R12, R13): the voucher is signed or the unit picked up; or
    a job whose quote the customer rejected ends unrepaired."""
    order = load_order(ctx, order, "close")
    note = text(note, "note", required=False)
    target = check_move(order, "close")
    if unit_in_workshop(order):  # picked up (R13): the register line goes out with it
        _log_unit(ctx, order, UnitDirection.RETURNED, now_utc(ctx))
    order.closed_at = now_utc(ctx)
    move(ctx, order, "close", target, note)
    if order.category != Category.INTERNAL:  # the callback and survey (R19)
        callbacks.open_callback(ctx, order)
    ctx.hook.repair_order_closed(ctx=ctx, order=order)
    return order


def cancel(ctx, order, reason: str | None = None) -> WorkOrder:
    """Cancel an open order with a reason; its parts are given back first."""
    order = load_order(ctx, order, "cancel")
    reason = text(reason, "reason")
    target = check_move(order, "cancel")
    for line in order.active_lines:
        _give_back(ctx, order, line, reason)
    order.cancelled_at, order.cancel_reason = now_utc(ctx), reason
    appointments.cancel(ctx, order)
    move(ctx, order, "cancel", target, reason)
    ctx.hook.repair_order_cancelled(ctx=ctx, order=order, reason=reason)
    return order


def reopen(ctx, order, reason: str | None = None) -> WorkOrder:
    """A supervisor reopens a closed or cancelled order, with a reason; it goes back to its
    engineer (``dispatched``) or, unassigned, to ``pending``."""
    order = load_order(ctx, order, "reopen")
    reason = text(reason, "reason")
    target = check_move(order, "reopen")
    order.closed_at = order.cancelled_at = order.cancel_reason = None
    order.reopen_count += 1
    return move(ctx, order, "reopen", target, reason)


# ---------------------------------------------------------------------------
# maintenance contracts (R20)
# ---------------------------------------------------------------------------


def create_contract(ctx, *, number: str, customer, equipment: list, start_date, end_date,
                    visits_included=None, fee="0", note: str | None = None,
                    branch=None, renewal_of: MaintenanceContract | None = None
                    ) -> MaintenanceContract:
    """Record a signed maintenance contract covering ``equipment`` (objects, ids or serial
    numbers, all the customer's) from ``start_date`` to ``end_date`` (both included), then
    tell the other plugins (``repair_contract_signed``; ``renewal_of`` is the contract it
    renews, as :func:`renew_contract` passes it)."""
    ctx.require("repair_contract.create")
    number = text(number, "number", max_length=50)
    client = lookup(ctx, Customer, customer, "customer", "code")
    start_on, end_on = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    if end_on < start_on:
        raise ValidationError(_("the contract ends before it starts"), field="end_date")
    machines = [lookup(ctx, CustomerEquipment, e, "equipment", "serial_no")
                for e in equipment or []]
    if not machines:
        raise ValidationError(_("a contract covers at least one machine"), field="equipment")
    for machine in machines:
        if machine.customer_id != client.id:
            raise ValidationError(_("equipment {serial} does not belong to customer {code}")
                                  .format(serial=machine.serial_no, code=client.code),
                                  field="equipment")
    branch = lookup(ctx, Branch, branch, "branch", "code") if branch not in (None, "") \
        else client.branch
    ctx.require("repair_contract.create", branch)
    if ctx.session.scalar(select(MaintenanceContract.id).where(
            MaintenanceContract.company_id == branch.company_id,
            MaintenanceContract.number == number)):
        raise Conflict(_("contract {number} exists already").format(number=number),
                       field="number")
    contract = MaintenanceContract(
        company_id=branch.company_id, branch_id=branch.id, number=number,
        customer_id=client.id, start_date=start_on, end_date=end_on,
        visits_included=positive_int(visits_included, "visits_included")
        if visits_included not in (None, "") else None,
        fee=money(fee, "fee", allow_zero=True), note=text(note, "note", required=False,
                                                            max_length=4000))
    contract.items = [ContractEquipment(equipment_id=m.id)
                      for m in {m.id: m for m in machines}.values()]
    ctx.session.add(contract)
    ctx.session.flush()
    ctx.hook.repair_contract_signed(ctx=ctx, contract=contract, renewal_of=renewal_of)
    return contract


def renew_contract(ctx, contract, *, number: str, end_date, fee, start_date=None,
                   note: str | None = None) -> MaintenanceContract:
    """Renew a maintenance contract (R20): a new contract ``number`` for the same customer,
    equipment, branch and visits, from the day after ``contract`` ends (or ``start_date``)
    to ``end_date``, at ``fee``; the other plugins hear of it with ``renewal_of`` set
    (``repair_contract_signed``). A cancelled contract is not renewed."""
    ctx.require("repair_contract.create")
    old = lookup(ctx, MaintenanceContract, contract, "contract", "number")
    if old.cancelled_at is not None:
        raise Conflict(_("contract {number} is cancelled: it cannot be renewed").format(
            number=old.number), field="contract")
    start_on = old.end_date + dt.timedelta(days=1) if start_date in (None, "") \
        else parse_date(start_date, "start_date")
    return create_contract(ctx, number=number, customer=old.customer_id,
                           equipment=[item.equipment_id for item in old.items],
                           start_date=start_on, end_date=end_date,
                           visits_included=old.visits_included, fee=fee, note=note,
                           branch=ctx.session.get(Branch, old.branch_id), renewal_of=old)


# ---------------------------------------------------------------------------
# carry-in: the product in/out register and the promised date (R13, R15)
# ---------------------------------------------------------------------------

def unit_in_workshop(order: WorkOrder) -> bool:
    """Whether the order's unit is in the workshop: its last register line took it in."""
    return bool(order.unit_log) and order.unit_log[-1].direction == UnitDirection.RECEIVED


def _log_unit(ctx, order: WorkOrder, direction: UnitDirection, at: dt.datetime,
              counterpart: str | None = None, condition: str | None = None) -> UnitLog:
    entry = UnitLog(order_id=order.id, direction=direction, at=at,
                    user_id=ctx.user.id if ctx.user else None,
                    actor=ctx.user.username if ctx.user else "system",
                    counterpart=counterpart, condition=condition)
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.session.refresh(order, ["unit_log"])
    return entry


def _unit_moment(ctx, order: WorkOrder, at) -> dt.datetime:
    moment = now_utc(ctx) if at in (None, "") else when(at, "at")
    not_future(ctx, moment, "at")
    if moment < order.reported_at:
        raise ValidationError(_("the time lies before the report"), field="at")
    return moment


def receive_unit(ctx, order, condition: str | None = None, counterpart: str | None = None,
                 promised_at=None, at=None) -> WorkOrder:
    """Take the customer's unit in for repair (R13): a line in the product in/out register
    (when, who, who handed it over, its condition), the promised date (``promised_at``)
    and, for a job registered on site, the switch to carry-in (repaired in the workshop,
    ready for pickup when done)."""
    order = load_order(ctx, order, "carry_in")
    condition = text(condition, "condition", required=False, max_length=500)
    counterpart = text(counterpart, "counterpart", required=False, max_length=100)
    if order.status not in NOT_REPAIRED:
        raise Conflict(_("cannot take the unit in: order {number} is {status}").format(
            number=order.number, status=_(Status(order.status).value)), field="status")
    if unit_in_workshop(order):
        raise Conflict(_("the unit is in the workshop already"), field="direction")
    moment = _unit_moment(ctx, order, at)
    promised = when(promised_at, "promised_at") if promised_at not in (None, "") else None
    if promised is not None and promised <= moment:
        raise ValidationError(_("the promised date must lie after the unit is taken in"),
                              field="promised_at")
    detail: dict = {"at": moment}
    if order.service_mode != ServiceMode.CARRY_IN:
        detail["service_mode"] = [order.service_mode, ServiceMode.CARRY_IN]
        order.service_mode = ServiceMode.CARRY_IN
    if promised is not None and promised != order.promised_at:
        detail["promised_at"] = [order.promised_at, promised]
        order.promised_at, order.promise_flagged_at = promised, None
    _log_unit(ctx, order, UnitDirection.RECEIVED, moment, counterpart, condition)
    return move(ctx, order, "receive_unit", order.status, condition, detail)


def return_unit(ctx, order, condition: str | None = None, counterpart: str | None = None,
                note: str | None = None, at=None) -> WorkOrder:
    """Hand the unit back (R13): a line in the in/out register, and the order is closed
    (picked up) when it is ready for pickup or its quote was rejected. The unit of a
    cancelled order goes back too; the order stays cancelled."""
    order = load_order(ctx, order, "carry_in")
    condition = text(condition, "condition", required=False, max_length=500)
    counterpart = text(counterpart, "counterpart", required=False, max_length=100)
    if not unit_in_workshop(order):
        raise Conflict(_("the unit is not in the workshop"), field="direction")
    closes = rules.can("close", OrderState.of(order))
    if not closes and order.status != Status.CANCELLED:
        raise Conflict(_("the unit goes back when it is ready for pickup, the quote was "
                         "rejected or the order was cancelled; order {number} is {status}")
                       .format(number=order.number, status=_(Status(order.status).value)),
                       field="status")
    if closes:
        ctx.require("repair_work_order.close", order)
    moment = _unit_moment(ctx, order, at)
    _log_unit(ctx, order, UnitDirection.RETURNED, moment, counterpart, condition)
    move(ctx, order, "return_unit", order.status, condition, {"at": moment})
    if closes:
        close(ctx, order, note)
    return order

