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
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select

from kernel import Conflict, Money, NotFound, ValidationError
from kernel.branch_calendar import calendar_for
from kernel.i18n import _
from kernel.models import Branch, Customer, CustomerEquipment, Employee, Grade
from kernel.notifications import notify
from kernel.numbering import next_number
from kernel.records import parse_bool
from kernel.settings import get_setting

from . import rules
from .models import (
    ContractEquipment,
    LabourEntry,
    MaintenanceContract,
    StatusChange,
    UnitDirection,
    UnitLog,
    WorkOrder,
    WorkOrderLine,
)
from .rules import (
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
#: how far in the future a reported or arrival time may lie (clocks differ a little)
CLOCK_SLACK = dt.timedelta(minutes=5)
#: how far back a report may be entered (paper registers typed in later, demo history)
MAX_BACKDATE = dt.timedelta(days=3660)
#: how far ahead of the report an appointment may be booked
MAX_APPOINTMENT = dt.timedelta(days=366)
MAX_LABOUR_HOURS = Decimal("24")
#: bounds that keep values inside the database's integer columns
MAX_ID = 2**31 - 1
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("9999999999.99")

# ---------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool = True, max_length: int = 300) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise ValidationError(_("{field} is required").format(field=field), field=field)
        return None
    if len(text) > max_length:
        raise ValidationError(_("{field}: at most {n} characters").format(
            field=field, n=max_length), field=field)
    return text


def _when(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(_("{field} must be a date and time like "
                                    "2026-05-29T16:00+08:00").format(field=field),
                                  field=field) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(_("{field} must be a date and time").format(field=field),
                              field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(_("{field} needs a time zone, like 2026-05-29T16:00+08:00")
                              .format(field=field), field=field)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(_("{field} must be a date and time").format(field=field),
                              field=field) from None


def parse_date(value: Any, field: str) -> dt.date:
    """A date from a date or ISO text; :class:`ValidationError` naming ``field`` otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(_("{field} must be a date like 2026-05-29").format(field=field),
                              field=field) from None


def _money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Money.to_decimal(str(value) if isinstance(value, float | int) and
                                  not isinstance(value, bool) else value)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError(_("{field} must be an amount with at most two decimals")
                              .format(field=field), field=field) from None
    if amount > MAX_AMOUNT:
        raise ValidationError(_("{field} is too large").format(field=field), field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(_("{field} must be more than zero").format(field=field)
                              if not allow_zero else
                              _("{field} must not be negative").format(field=field),
                              field=field)
    return amount


def _positive_int(value: Any, field: str, maximum: int = MAX_QUANTITY) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValidationError(_("{field} must be a whole number").format(field=field),
                              field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("{field} must be a whole number").format(field=field),
                              field=field) from None
    if number <= 0:
        raise ValidationError(_("{field} must be more than zero").format(field=field),
                              field=field)
    if number > maximum:
        raise ValidationError(_("{field} is too large").format(field=field), field=field)
    return number


def _hours(value: Any, field: str) -> int:
    """Hours (Decimal, int or str like "1.5") as whole minutes, more than zero."""
    try:
        hours = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite():
        raise ValidationError(_("{field} must be a number of hours like 1.5").format(
            field=field), field=field)
    minutes = int((hours * 60).to_integral_value())
    if minutes <= 0 or hours > MAX_LABOUR_HOURS:
        raise ValidationError(_("{field} must be more than zero and at most {n} hours")
                              .format(field=field, n=MAX_LABOUR_HOURS), field=field)
    return minutes


def _flag(value: Any, field: str) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise ValidationError(_("{field} must be true or false").format(field=field),
                              field=field) from None


def _choice(enum_cls, value: Any, field: str):
    try:
        return enum_cls(value.value if hasattr(value, "value") else str(value).strip())
    except ValueError:
        raise ValidationError(_("{field} must be one of: {choices}").format(
            field=field, choices=", ".join(m.value for m in enum_cls)), field=field) from None


def _lookup(ctx, cls, value: Any, field: str, key: str):
    """A record by object, id (int) or ``key`` (code, serial number), as the user sees it."""
    if isinstance(value, cls):  # possibly loaded in another transaction
        record = value if value in ctx.session else ctx.session.get(cls, value.id)
    elif isinstance(value, int) and not isinstance(value, bool):
        record = ctx.session.get(cls, value) if 0 < value <= MAX_ID else None
    else:
        text = str(value or "").strip()
        record = ctx.session.scalar(select(cls).where(getattr(cls, key) == text)) if text \
            else None
    if record is None or not ctx.can_see(record):
        raise NotFound(_("no {field} {value}").format(field=field, value=value), field=field)
    return record


def _order(ctx, order, permission: str) -> WorkOrder:
    """The order, checked for ``permission``; for a change, re-read and locked
    (``SELECT ... FOR UPDATE`` on PostgreSQL) so that concurrent changes of one order queue
    and each sees the status the other left."""
    order = _lookup(ctx, WorkOrder, order, "order", "number")
    ctx.require(f"repair_work_order.{permission}", order)
    if permission != "read":
        ctx.session.refresh(order, with_for_update=True)
    return order


def _local_date(ctx, moment: dt.datetime) -> dt.date:
    return moment.astimezone(ctx.settings.tz).date()


def _now(ctx) -> dt.datetime:
    return ctx.now().astimezone(dt.UTC)


def _not_future(ctx, moment: dt.datetime, field: str) -> None:
    if moment > _now(ctx) + CLOCK_SLACK:
        raise ValidationError(_("{field} lies in the future").format(field=field), field=field)


# ---------------------------------------------------------------------------
# history and moves
# ---------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "value"):
        return value.value
    return value


def _record(ctx, order: WorkOrder, event: str, from_status, reason: str | None = None,
            detail: dict | None = None) -> StatusChange:
    """Write one history entry and tell the other plugins."""
    entry = StatusChange(
        order_id=order.id, at=_now(ctx), event=event,
        from_status=from_status, to_status=order.status,
        user_id=ctx.user.id if ctx.user else None,
        actor=ctx.user.username if ctx.user else "system", reason=reason,
        detail={k: ([_jsonable(x) for x in v] if isinstance(v, list | tuple) else _jsonable(v))
                for k, v in (detail or {}).items()})
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.hook.repair_order_status_changed(ctx=ctx, order=order, from_status=from_status and
                                         Status(from_status).value,
                                         to_status=Status(order.status).value, event=event,
                                         reason=reason)
    return entry


def _check(order: WorkOrder, action: str) -> Status:
    """The status ``action`` leads to; raises (changing nothing) when the rules refuse it."""
    return rules.next_status(action, OrderState.of(order))


def _done(ctx, order: WorkOrder, event: str, target: Status, reason: str | None = None,
          detail: dict | None = None) -> WorkOrder:
    """Move the order to ``target`` and write the history entry (fields are set already)."""
    before = Status(order.status)
    order.status = target
    ctx.session.flush()
    _record(ctx, order, event, before, reason, detail)
    return order


# ---------------------------------------------------------------------------
# registration (R1–R6, R9)
# ---------------------------------------------------------------------------


def _contracts_of(ctx, equipment: CustomerEquipment) -> list[rules.ContractCover]:
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
    return [rules.PastRepair(order_id=o.id, completed_on=_local_date(ctx, o.completed_at),
                             fault_code=o.fault_code) for o in orders]


def decide_category(ctx, *, reported_at: dt.datetime, equipment: CustomerEquipment | None,
                    internal: bool = False, exclusion: Exclusion | None = None,
                    fault_code: str | None = None,
                    earlier_order: WorkOrder | None = None) -> rules.CategoryDecision:
    """The category a job would get (R3–R5), from the equipment's warranty, contracts and
    earlier repairs on the report date. Reads only."""
    report_date = _local_date(ctx, reported_at)
    if equipment is None:
        return rules.decide_category(report_date, internal=internal, exclusion=exclusion)
    return rules.decide_category(
        report_date, internal=internal, exclusion=exclusion,
        warranty_end=equipment.warranty_end, contracts=_contracts_of(ctx, equipment),
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
    fault_description = _text(fault_description, "fault_description", max_length=4000)
    channel = _choice(Channel, channel, "channel")
    internal = _flag(internal, "internal")
    urgent = _flag(urgent, "urgent")
    machine = _lookup(ctx, CustomerEquipment, equipment, "equipment", "serial_no") \
        if equipment not in (None, "") else None
    client = _lookup(ctx, Customer, customer, "customer", "code") \
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
        branch = _lookup(ctx, Branch, branch, "branch", "code")
    else:
        branch = ctx.branch or (client.branch if client is not None else None)
    if branch is None:
        raise ValidationError(_("branch is required"), field="branch")
    ctx.require("repair_work_order.register", branch)
    reported_at = _now(ctx) if reported_at in (None, "") else _when(reported_at, "reported_at")
    _not_future(ctx, reported_at, "reported_at")
    if reported_at < _now(ctx) - MAX_BACKDATE:
        raise ValidationError(_("reported_at lies too far in the past"), field="reported_at")
    exclusion = _choice(Exclusion, exclusion, "exclusion") if exclusion not in (None, "") \
        else None
    earlier = _lookup(ctx, WorkOrder, earlier_order, "earlier_order", "number") \
        if earlier_order not in (None, "") else None
    if earlier is not None and (machine is None or earlier.equipment_id != machine.id):
        raise ValidationError(_("the earlier order {number} is for other equipment").format(
            number=earlier.number), field="earlier_order")
    fault_code = _text(fault_code, "fault_code", required=False, max_length=50)
    decision = decide_category(ctx, reported_at=reported_at, equipment=machine,
                               internal=internal, exclusion=exclusion,
                               fault_code=fault_code, earlier_order=earlier)
    basis, reason = decision.basis, None
    if decision.basis == Basis.EXCLUSION:
        reason = _text(category_reason, "category_reason", required=False) or \
            decision.exclusion.value
    if category not in (None, ""):
        category = _choice(Category, category, "category")
        if category != decision.category:
            basis = Basis.OVERRIDE
            reason = _text(category_reason, "category_reason")  # required to override
    else:
        category = decision.category
    mode = _choice(ServiceMode, service_mode, "service_mode") \
        if service_mode not in (None, "") else \
        (ServiceMode.CARRY_IN if channel == Channel.WALK_IN else ServiceMode.ON_SITE)
    primary = None
    if client is not None and client.contacts:
        primary = next((c for c in client.contacts if c.is_primary), client.contacts[0])
    site_address = (machine.address.address if machine is not None and machine.address
                    else next((a.address for a in client.addresses if a.is_default), None)
                    if client is not None else None)
    brand_model = " ".join(p for p in (machine.brand, machine.model) if p) if machine else None
    order = WorkOrder(
        company_id=branch.company_id, branch_id=branch.id,
        number=next_number(ctx, SERIES, branch=branch, on=_local_date(ctx, reported_at)),
        customer_id=client.id if client else None, equipment_id=machine.id if machine else None,
        model=_text(model, "model", required=False, max_length=150) or brand_model,
        serial_no=_text(serial_no, "serial_no", required=False, max_length=100) or
        (machine.serial_no if machine else None),
        contact_name=_text(contact_name, "contact_name", required=False, max_length=100) or
        (primary.name if primary else None),
        phone=_text(phone, "phone", required=False, max_length=50) or
        (primary.mobile or primary.phone if primary else None) or
        (client.phone if client else None),
        address=_text(address, "address", required=False) or site_address,
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
    _record(ctx, order, "register", None, reason, {
        "category": category, "basis": basis, "deadline_at": order.deadline_at})
    ctx.hook.repair_order_registered(ctx=ctx, order=order)
    return order


def edit(ctx, order, **changes) -> WorkOrder:
    """Change the details of an open order: contact, phone, address, fault description,
    fault code, urgent flag (R9)."""
    order = _order(ctx, order, "edit")
    _check(order, "edit")
    parsers = {
        "contact_name": lambda v: _text(v, "contact_name", required=False, max_length=100),
        "phone": lambda v: _text(v, "phone", required=False, max_length=50),
        "address": lambda v: _text(v, "address", required=False),
        "fault_description": lambda v: _text(v, "fault_description", max_length=4000),
        "fault_code": lambda v: _text(v, "fault_code", required=False, max_length=50),
        "urgent": lambda v: _flag(v, "urgent"),
        "promised_at": lambda v: None if v in (None, "") else _when(v, "promised_at"),
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
        _done(ctx, order, "edit", order.status, None, detail)
    return order


def recategorize(ctx, order, category: str | None = None, reason: str | None = None) -> WorkOrder:
    """A supervisor changes the category of an order (R3: overridden with a reason)."""
    order = _order(ctx, order, "categorize")
    category = _choice(Category, category, "category")
    reason = _text(reason, "reason")
    target = _check(order, "recategorize")
    detail = {"category": [order.category, category]}
    order.category, order.category_basis, order.category_reason = \
        category, Basis.OVERRIDE, reason
    if category != Category.CONTRACT:
        order.contract_id = None
    return _done(ctx, order, "recategorize", target, reason, detail)


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
    order = _order(ctx, order, "dispatch")
    partner_outlet = _text(partner_outlet, "partner_outlet", required=False, max_length=200)
    if (engineer in (None, "")) == (partner_outlet is None):
        raise ValidationError(_("give either an engineer or a partner outlet"),
                              field="engineer")
    person = None
    if engineer not in (None, ""):
        person = _lookup(ctx, Employee, engineer, "engineer", "code")
        if not person.active:
            raise ValidationError(_("{name} is no longer active").format(name=person.name),
                                  field="engineer")
    appointment = _when(appointment_at, "appointment_at") \
        if appointment_at not in (None, "") else None
    if appointment is not None and appointment < order.reported_at:
        raise ValidationError(_("the appointment lies before the report"),
                              field="appointment_at")
    if appointment is not None and appointment > order.reported_at + MAX_APPOINTMENT:
        raise ValidationError(_("the appointment lies more than a year after the report"),
                              field="appointment_at")
    reason = _text(reason, "reason", required=False)
    first = order.dispatched_at is None
    previous = None if first else {"engineer_id": order.engineer_id,
                                   "partner_outlet": order.partner_outlet,
                                   "appointment_at": order.appointment_at}
    target = _check(order, "dispatch")
    detail = {"engineer_id": [order.engineer_id, person.id if person else None],
              "partner_outlet": [order.partner_outlet, partner_outlet],
              "appointment_at": [order.appointment_at, appointment]}
    order.engineer_id = person.id if person else None
    order.partner_outlet = partner_outlet
    order.appointment_at = appointment
    order.dispatched_at = _now(ctx)
    _done(ctx, order, "dispatch", target, reason, detail)
    if (appointment is not None and order.deadline_at is not None and order.arrived_at is None
            and order.paused_at is None and appointment > order.deadline_at):
        calendar = calendar_for(ctx, order.branch)
        minutes = rules.working_minutes(calendar.working_hours_between(order.deadline_at,
                                                                       appointment))
        old = order.deadline_at
        order.deadline_at = appointment
        order.paused_minutes += minutes
        _done(ctx, order, "pause", order.status,
              _("the customer asked for an appointment after the deadline"),
              {"minutes": minutes, "deadline_at": [old, appointment]})
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
    order = _order(ctx, order, "pause")
    reason = _text(reason, "reason")
    target = _check(order, "pause")
    _check_clock(order)
    if order.paused_at is not None:
        raise Conflict(_("the deadline clock is paused already"), field="paused_at")
    order.paused_at, order.pause_reason = _now(ctx), reason
    return _done(ctx, order, "pause", target, reason)


def _resume(ctx, order: WorkOrder, at: dt.datetime) -> int:
    calendar = calendar_for(ctx, order.branch)
    minutes = rules.working_minutes(calendar.working_hours_between(order.paused_at, at)) \
        if at > order.paused_at else 0
    old = order.deadline_at
    order.deadline_at = rules.shift_deadline(calendar, order.deadline_at,
                                             dt.timedelta(minutes=minutes))
    order.paused_minutes += minutes
    order.paused_at, order.pause_reason = None, None
    _done(ctx, order, "resume", order.status, None,
          {"minutes": minutes, "deadline_at": [old, order.deadline_at]})
    return minutes


def resume(ctx, order) -> WorkOrder:
    """Restart the deadline clock; the deadline moves on by the paused working time."""
    order = _order(ctx, order, "pause")
    _check(order, "resume")
    _check_clock(order)
    if order.paused_at is None:
        raise Conflict(_("the deadline clock is not paused"), field="paused_at")
    _resume(ctx, order, _now(ctx))
    return order


def record_arrival(ctx, order, at=None) -> WorkOrder:
    """Record when the engineer reached the customer; met or missed the deadline, and by how
    many working minutes (R8). A paused clock restarts at the arrival."""
    order = _order(ctx, order, "arrive")
    _check(order, "arrive")
    if order.arrived_at is not None:
        raise Conflict(_("the arrival is recorded already"), field="arrived_at")
    at = _now(ctx) if at in (None, "") else _when(at, "at")
    _not_future(ctx, at, "at")
    if at < order.reported_at:
        raise ValidationError(_("the arrival lies before the report"), field="at")
    if order.paused_at is not None:
        _resume(ctx, order, max(at, order.paused_at))
    order.arrived_at = at
    if order.deadline_at is not None:
        late = calendar_for(ctx, order.branch).working_hours_between(order.deadline_at, at) \
            if at > order.deadline_at else dt.timedelta(0)
        order.deadline_met, order.missed_minutes = rules.arrival_outcome(order.deadline_at,
                                                                         at, late)
    return _done(ctx, order, "arrive", order.status, None, {
        "arrived_at": at, "deadline_met": order.deadline_met,
        "missed_minutes": order.missed_minutes})


# ---------------------------------------------------------------------------
# diagnosis and quote (R10, R11)
# ---------------------------------------------------------------------------


def diagnose(ctx, order, diagnosis: str | None = None, fault_code: str | None = None) -> WorkOrder:
    """The engineer records the fault's cause and the plan (R10); ``fault_code`` names the
    fault for the repair warranty (R5)."""
    order = _order(ctx, order, "diagnose")
    diagnosis = _text(diagnosis, "diagnosis", max_length=4000)
    fault_code = _text(fault_code, "fault_code", required=False, max_length=50)
    target = _check(order, "diagnose")
    order.diagnosis, order.diagnosed_at = diagnosis, _now(ctx)
    if fault_code is not None:
        order.fault_code = fault_code
    return _done(ctx, order, "diagnose", target, None, {"fault_code": order.fault_code})


QUOTE_PARTS = ("labour", "parts", "travel")


def quote(ctx, order, labour=None, parts=None, travel=None, note: str | None = None) -> WorkOrder:
    """Quote a paid job (R11): the ``repair_quote_requested`` hook prices it (billing);
    without an answer the amounts staff entered are used. The order then waits for the
    customer's decision (``quoted``)."""
    order = _order(ctx, order, "quote")
    note = _text(note, "note", required=False)
    entered = {"labour": labour, "parts": parts, "travel": travel}
    proposed = {k: _money(v, k, allow_zero=True) if v not in (None, "") else None
                for k, v in entered.items()}
    target = _check(order, "quote")
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
        amounts[key] = _money(value if value is not None else "0", key, allow_zero=True)
    total = sum(amounts.values(), Decimal("0.00"))
    if total <= 0:
        raise ValidationError(_("a quote must come to more than zero"), field="labour")
    order.quote_labour, order.quote_parts, order.quote_travel = (
        amounts["labour"], amounts["parts"], amounts["travel"])
    order.quote_total = total
    order.quote_status, order.quoted_at, order.quote_decided_at = \
        QuoteStatus.PENDING, _now(ctx), None
    return _done(ctx, order, "quote", target, note, {
        **amounts, "total": total, "priced_by": "hook" if answer is not None else "staff"})


def accept_quote(ctx, order, note: str | None = None) -> WorkOrder:
    """The customer accepts the quote: the repair may start."""
    order = _order(ctx, order, "decide_quote")
    note = _text(note, "note", required=False)
    target = _check(order, "accept_quote")
    order.quote_status, order.quote_decided_at = QuoteStatus.ACCEPTED, _now(ctx)
    return _done(ctx, order, "accept_quote", target, note)


def reject_quote(ctx, order, reason: str | None = None) -> WorkOrder:
    """The customer declines the quote: quote again, cancel, or close unrepaired."""
    order = _order(ctx, order, "decide_quote")
    reason = _text(reason, "reason", required=False)
    target = _check(order, "reject_quote")
    order.quote_status, order.quote_decided_at = QuoteStatus.REJECTED, _now(ctx)
    return _done(ctx, order, "reject_quote", target, reason)


# ---------------------------------------------------------------------------
# the repair (R12–R16)
# ---------------------------------------------------------------------------


def start(ctx, order, note: str | None = None) -> WorkOrder:
    """Start (or, after waiting for parts or help, resume) the repair. A paid job needs an
    accepted quote (R11)."""
    order = _order(ctx, order, "repair")
    note = _text(note, "note", required=False)
    target = _check(order, "start")
    order.started_at = order.started_at or _now(ctx)
    return _done(ctx, order, "start", target, note)


def wait_for_parts(ctx, order, reason: str | None = None) -> WorkOrder:
    """The repair waits for parts (R14); the customer is told."""
    order = _order(ctx, order, "repair")
    reason = _text(reason, "reason", required=False)
    target = _check(order, "wait_for_parts")
    return _done(ctx, order, "wait_for_parts", target, reason)


def hard_to_repair(ctx, order, reason: str | None = None) -> WorkOrder:
    """The fault needs help: technical discussion, the manufacturer (R10, R14)."""
    order = _order(ctx, order, "repair")
    reason = _text(reason, "reason")
    target = _check(order, "hard_to_repair")
    return _done(ctx, order, "hard_to_repair", target, reason)


def add_part(ctx, order, description: str | None = None, quantity=None, unit_cost=None,
             part_code: str | None = None) -> WorkOrderLine:
    """Add a part to the order (R24): ``repair_parts_needed`` lets inventory reserve it."""
    order = _order(ctx, order, "repair")
    _check(order, "add_part")
    line = WorkOrderLine(
        order_id=order.id, description=_text(description, "description", max_length=200),
        part_code=_text(part_code, "part_code", required=False, max_length=50),
        quantity=_positive_int(quantity, "quantity"), unit_cost=_money(unit_cost, "unit_cost"))
    ctx.session.add(line)
    ctx.session.flush()
    ctx.session.refresh(order, ["lines"])
    ctx.hook.repair_parts_needed(ctx=ctx, order=order, line=line)
    return line


def _give_back(ctx, order: WorkOrder, line: WorkOrderLine, reason: str | None) -> None:
    line.returned_at, line.return_reason = _now(ctx), reason
    ctx.session.flush()
    ctx.hook.repair_parts_returned(ctx=ctx, order=order, line=line)


def return_part(ctx, order, line_id: int | None = None, reason: str | None = None) -> WorkOrderLine:
    """Take an unused part off the order (R24): ``repair_parts_returned`` puts it back."""
    order = _order(ctx, order, "repair")
    _check(order, "return_part")
    line = next((x for x in order.lines if x.id == _positive_int(line_id, "line_id", MAX_ID)), None)
    if line is None:
        raise NotFound(_("order {number} has no part line {id}").format(
            number=order.number, id=line_id), field="line_id")
    if line.returned_at is not None:
        raise Conflict(_("the part was given back already"), field="line_id")
    _give_back(ctx, order, line, _text(reason, "reason", required=False))
    return line


def add_labour(ctx, order, hours=None, engineer=None, work_date=None,
               note: str | None = None) -> LabourEntry:
    """Record working time on the order (the hours on the repair card); the engineer
    defaults to the assigned one."""
    order = _order(ctx, order, "repair")
    _check(order, "add_labour")
    minutes = _hours(hours, "hours")
    if engineer in (None, ""):
        if order.engineer_id is None:
            raise ValidationError(_("name the engineer who worked"), field="engineer")
        person = order.engineer
    else:
        person = _lookup(ctx, Employee, engineer, "engineer", "code")
    entry = LabourEntry(
        order_id=order.id, employee_id=person.id, minutes=minutes,
        work_date=_local_date(ctx, _now(ctx)) if work_date in (None, "")
        else parse_date(work_date, "work_date"),
        note=_text(note, "note", required=False))
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
    order = _order(ctx, order, "complete")
    method = _text(method, "method", max_length=4000)
    cause = _text(cause, "cause", max_length=4000)
    fault = _text(fault, "fault", required=False, max_length=4000) or order.fault_description
    target = _check(order, "complete")
    if hours not in (None, ""):
        add_labour(ctx, order, hours)
    order.report_fault, order.report_cause, order.report_method = fault, cause, method
    order.completed_at = _now(ctx)
    _done(ctx, order, "complete", target)
    ctx.hook.repair_order_completed(ctx=ctx, order=order)
    return order


def audit(ctx, order, passed=None, note: str | None = None) -> WorkOrder:
    """A supervisor reviews the repair report (R16, R17). A failed review sends the order
    back for rework (R17; a note is required), also when it was closed already."""
    order = _order(ctx, order, "audit")
    passed = _flag(passed, "passed")
    note = _text(note, "note", required=not passed, max_length=500)
    _check(order, "audit")
    order.audit_result = AuditResult.PASSED if passed else AuditResult.FAILED
    order.audited_at, order.audited_by_id = _now(ctx), ctx.user.id if ctx.user else None
    order.audit_note = note
    _done(ctx, order, "audit", order.status, note, {"passed": passed})
    if not passed:
        target = _check(order, "rework")
        order.closed_at = None
        _done(ctx, order, "rework", target, note)
    ctx.hook.repair_order_audited(ctx=ctx, order=order, passed=passed)
    return order


def close(ctx, order, note: str | None = None) -> WorkOrder:
    """Close the register line (R12, R13): the voucher is signed or the unit picked up; or
    a job whose quote the customer rejected ends unrepaired."""
    order = _order(ctx, order, "close")
    note = _text(note, "note", required=False)
    target = _check(order, "close")
    if unit_in_workshop(order):  # picked up (R13): the register line goes out with it
        _log_unit(ctx, order, UnitDirection.RETURNED, _now(ctx))
    order.closed_at = _now(ctx)
    _done(ctx, order, "close", target, note)
    ctx.hook.repair_order_closed(ctx=ctx, order=order)
    return order


def cancel(ctx, order, reason: str | None = None) -> WorkOrder:
    """Cancel an open order with a reason; its parts are given back first."""
    order = _order(ctx, order, "cancel")
    reason = _text(reason, "reason")
    target = _check(order, "cancel")
    for line in order.active_lines:
        _give_back(ctx, order, line, reason)
    order.cancelled_at, order.cancel_reason = _now(ctx), reason
    _done(ctx, order, "cancel", target, reason)
    ctx.hook.repair_order_cancelled(ctx=ctx, order=order, reason=reason)
    return order


def reopen(ctx, order, reason: str | None = None) -> WorkOrder:
    """A supervisor reopens a closed or cancelled order, with a reason; it goes back to its
    engineer (``dispatched``) or, unassigned, to ``pending``."""
    order = _order(ctx, order, "reopen")
    reason = _text(reason, "reason")
    target = _check(order, "reopen")
    order.closed_at = order.cancelled_at = order.cancel_reason = None
    order.reopen_count += 1
    return _done(ctx, order, "reopen", target, reason)


# ---------------------------------------------------------------------------
# maintenance contracts (R20)
# ---------------------------------------------------------------------------


def create_contract(ctx, *, number: str, customer, equipment: list, start_date, end_date,
                    visits_included=None, fee="0", note: str | None = None,
                    branch=None) -> MaintenanceContract:
    """Record a signed maintenance contract covering ``equipment`` (objects, ids or serial
    numbers, all the customer's) from ``start_date`` to ``end_date`` (both included)."""
    ctx.require("repair_contract.create")
    number = _text(number, "number", max_length=50)
    client = _lookup(ctx, Customer, customer, "customer", "code")
    start_on, end_on = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    if end_on < start_on:
        raise ValidationError(_("the contract ends before it starts"), field="end_date")
    machines = [_lookup(ctx, CustomerEquipment, e, "equipment", "serial_no")
                for e in equipment or []]
    if not machines:
        raise ValidationError(_("a contract covers at least one machine"), field="equipment")
    for machine in machines:
        if machine.customer_id != client.id:
            raise ValidationError(_("equipment {serial} does not belong to customer {code}")
                                  .format(serial=machine.serial_no, code=client.code),
                                  field="equipment")
    branch = _lookup(ctx, Branch, branch, "branch", "code") if branch not in (None, "") \
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
        visits_included=_positive_int(visits_included, "visits_included")
        if visits_included not in (None, "") else None,
        fee=_money(fee, "fee", allow_zero=True), note=_text(note, "note", required=False,
                                                             max_length=4000))
    contract.items = [ContractEquipment(equipment_id=m.id)
                      for m in {m.id: m for m in machines}.values()]
    ctx.session.add(contract)
    ctx.session.flush()
    return contract


# ---------------------------------------------------------------------------
# carry-in: the product in/out register and the promised date (R13, R15)
# ---------------------------------------------------------------------------

#: statuses in which a unit may be taken in (the repair is not done yet)
NOT_REPAIRED = frozenset({Status.PENDING, Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR,
                          Status.WAITING_PARTS, Status.HARD_TO_REPAIR})


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
    moment = _now(ctx) if at in (None, "") else _when(at, "at")
    _not_future(ctx, moment, "at")
    if moment < order.reported_at:
        raise ValidationError(_("the time lies before the report"), field="at")
    return moment


def receive_unit(ctx, order, condition: str | None = None, counterpart: str | None = None,
                 promised_at=None, at=None) -> WorkOrder:
    """Take the customer's unit in for repair (R13): a line in the product in/out register
    (when, who, who handed it over, its condition), the promised date (``promised_at``)
    and, for a job registered on site, the switch to carry-in (repaired in the workshop,
    ready for pickup when done)."""
    order = _order(ctx, order, "carry_in")
    condition = _text(condition, "condition", required=False, max_length=500)
    counterpart = _text(counterpart, "counterpart", required=False, max_length=100)
    if order.status not in NOT_REPAIRED:
        raise Conflict(_("cannot take the unit in: order {number} is {status}").format(
            number=order.number, status=_(Status(order.status).value)), field="status")
    if unit_in_workshop(order):
        raise Conflict(_("the unit is in the workshop already"), field="direction")
    moment = _unit_moment(ctx, order, at)
    promised = _when(promised_at, "promised_at") if promised_at not in (None, "") else None
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
    return _done(ctx, order, "receive_unit", order.status, condition, detail)


def return_unit(ctx, order, condition: str | None = None, counterpart: str | None = None,
                note: str | None = None, at=None) -> WorkOrder:
    """Hand the unit back (R13): a line in the in/out register, and the order is closed
    (picked up) when it is ready for pickup or its quote was rejected. The unit of a
    cancelled order goes back too; the order stays cancelled."""
    order = _order(ctx, order, "carry_in")
    condition = _text(condition, "condition", required=False, max_length=500)
    counterpart = _text(counterpart, "counterpart", required=False, max_length=100)
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
    _done(ctx, order, "return_unit", order.status, condition, {"at": moment})
    if closes:
        close(ctx, order, note)
    return order


# ---------------------------------------------------------------------------
# dispatch suggestions and the morning queue (R7, R9)
# ---------------------------------------------------------------------------

#: skill → words in an order's model or fault that call for it (checked in this order)
SKILL_WORDS: dict[str, tuple[str, ...]] = {
    "copier": ("copier", "复印", "taskalfa", "bizhub", "imagerunner", "ir-adv"),
    "printer": ("printer", "打印机", "laserjet"),
    "fax": ("fax", "传真"),
}
#: orders that keep an engineer busy (assigned, not repaired yet)
BUSY = frozenset({Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR, Status.WAITING_PARTS,
                  Status.HARD_TO_REPAIR})
GRADE_RANK = {Grade.EXPERT: 3, Grade.SENIOR: 2, Grade.REGULAR: 1, Grade.TRAINEE: 0}


def needed_skill(ctx, order: WorkOrder) -> str:
    """The skill an order calls for: a skill word in its model, else in its fault
    description, else ``repair.default_skill`` (``copier``)."""
    for text in (order.model, order.fault_description):
        folded = (text or "").casefold()
        for skill, words in SKILL_WORDS.items():
            if any(word in folded for word in words):
                return skill
    return ctx.setting("repair.default_skill")


def _place_texts(order: WorkOrder) -> tuple[list[str], list[str]]:
    """(full addresses, districts) of the order's site."""
    addresses, districts = [order.address or ""], []
    site = order.equipment.address if order.equipment is not None else None
    if site is None and order.customer is not None:
        site = next((a for a in order.customer.addresses if a.is_default), None)
    if site is not None:
        addresses.append(site.address or "")
        districts.append(site.district or "")
    return [a for a in addresses if a], [d for d in districts if d]


def _region_matches(region: str | None, addresses: list[str], districts: list[str]) -> bool:
    region = (region or "").strip()
    if not region:
        return False
    return any(region in text for text in addresses + districts) or \
        any(district in region for district in districts)


def suggest_engineers(ctx, order, skill: str | None = None, limit: int = 10) -> list[dict]:
    """Engineers to dispatch ``order`` to (R7), best first, each with the reasons.

    Candidates are the active employees the user may see who work in the field (a
    service region or an equipment skill). They are ranked by: same branch as the order;
    the skill the order calls for (``skill``, else :func:`needed_skill`); their service
    region found in the order's address or district; fewest open orders (dispatched, not
    repaired yet); higher grade; employee code.
    """
    order = _lookup(ctx, WorkOrder, order, "order", "number")
    ctx.require("repair_work_order.dispatch", order)
    skill = _text(skill, "skill", required=False, max_length=50) or needed_skill(ctx, order)
    addresses, districts = _place_texts(order)
    loads = dict(ctx.session.execute(
        select(WorkOrder.engineer_id, func.count(WorkOrder.id))
        .where(WorkOrder.engineer_id.is_not(None), WorkOrder.status.in_(BUSY),
               WorkOrder.id != order.id)
        .group_by(WorkOrder.engineer_id)).all())
    people = ctx.session.scalars(select(Employee).where(
        Employee.active.is_(True), Employee.company_id == order.company_id)).all()
    ranked = []
    for person in people:
        skills = [str(s).strip().casefold() for s in person.skills or []]
        if not person.service_region and not set(skills) & set(SKILL_WORDS):
            continue  # office staff
        same_branch = person.branch_id == order.branch_id
        has_skill = skill.casefold() in skills
        in_region = _region_matches(person.service_region, addresses, districts)
        load = loads.get(person.id, 0)
        reasons = [
            _("same branch ({branch})") if same_branch else _("other branch ({branch})"),
            _("skilled in {skill}") if has_skill else _("not skilled in {skill}"),
        ]
        if person.service_region:
            reasons.append(_("covers {region}") if in_region
                           else _("covers {region}, not this address"))
        reasons.append(_("open orders: {count}"))
        values = {"branch": person.branch.code, "skill": skill,
                  "region": person.service_region, "count": load}
        ranked.append(((not same_branch, not has_skill, not in_region, load,
                        -GRADE_RANK.get(Grade(person.grade), 0), person.code), {
            "employee_id": person.id, "code": person.code, "name": person.name,
            "branch": person.branch.code, "grade": Grade(person.grade).value,
            "service_region": person.service_region, "skills": list(person.skills or []),
            "same_branch": same_branch, "skill_match": has_skill, "region_match": in_region,
            "open_orders": load, "reasons": [r.format(**values) for r in reasons]}))
    ranked.sort(key=lambda pair: pair[0])
    return [{"rank": i, **row} for i, (_key, row) in enumerate(ranked[:limit], start=1)]


def dispatch_queue(ctx, branch=None, limit: int = 200) -> list[WorkOrder]:
    """Orders waiting to be dispatched (pending, no engineer or outlet) at ``branch``
    (object, id or code; default the user's branch, else every branch the user sees):
    urgent ones first (R9), then the oldest report first, so that yesterday's jobs come
    before today's in the morning (R7)."""
    ctx.require("repair_work_order.read")
    query = select(WorkOrder).where(WorkOrder.status == Status.PENDING,
                                    WorkOrder.engineer_id.is_(None),
                                    WorkOrder.partner_outlet.is_(None))
    if branch not in (None, ""):
        branch = _lookup(ctx, Branch, branch, "branch", "code")
    else:
        branch = ctx.branch
    if branch is not None:
        query = query.where(WorkOrder.branch_id == branch.id)
    return list(ctx.session.scalars(query.order_by(
        WorkOrder.urgent.desc(), WorkOrder.reported_at, WorkOrder.id).limit(limit)))


# ---------------------------------------------------------------------------
# a returning customer's history (R2)
# ---------------------------------------------------------------------------


def _order_row(order: WorkOrder) -> dict:
    return {
        "id": order.id, "number": order.number, "reported_at": order.reported_at,
        "status": Status(order.status).value, "category": Category(order.category).value,
        "urgent": order.urgent, "serial_no": order.serial_no, "model": order.model,
        "fault_description": order.fault_description, "fault_code": order.fault_code,
        "engineer": order.engineer.name if order.engineer is not None else None,
        "partner_outlet": order.partner_outlet, "completed_at": order.completed_at,
        "closed_at": order.closed_at, "report_method": order.report_method,
        "open": Status(order.status) in rules.OPEN,
    }


def customer_history(ctx, customer_id=None, serial_no: str | None = None,
                     limit: int = 100) -> dict:
    """What the front desk sees when a known customer or serial number is entered (R2):
    the customer, their equipment (warranty and contracts today), their past orders most
    recent first (also those of ``serial_no`` without a customer), and the sections other
    plugins add through ``repair_history_extra`` (complaints, ...)."""
    ctx.require("repair_work_order.read")
    serial = _text(serial_no, "serial_no", required=False, max_length=100)
    client = _lookup(ctx, Customer, customer_id, "customer", "code") \
        if customer_id not in (None, "") else None
    if serial is None and client is None:
        raise ValidationError(_("give a customer or a serial number"), field="customer_id")
    if serial is not None:
        machine = ctx.session.scalar(select(CustomerEquipment).where(
            CustomerEquipment.serial_no == serial))
        owner = machine.customer if machine is not None else None
        if owner is None:
            earlier = ctx.session.scalar(select(WorkOrder).where(
                WorkOrder.serial_no == serial, WorkOrder.customer_id.is_not(None))
                .order_by(WorkOrder.reported_at.desc(), WorkOrder.id.desc()).limit(1))
            owner = earlier.customer if earlier is not None else None
        if client is not None and owner is not None and owner.id != client.id:
            raise ValidationError(_("equipment {serial} does not belong to customer {code}")
                                  .format(serial=serial, code=client.code), field="serial_no")
        client = client or owner
    if client is not None and not ctx.can_see(client):
        raise NotFound(_("no {field} {value}").format(field="customer", value=customer_id),
                       field="customer_id")
    conditions = []
    if client is not None:
        conditions.append(WorkOrder.customer_id == client.id)
    if serial is not None:
        conditions.append(WorkOrder.serial_no == serial)
    orders = ctx.session.scalars(select(WorkOrder).where(or_(*conditions)).order_by(
        WorkOrder.reported_at.desc(), WorkOrder.id.desc()).limit(limit)).all()
    if client is None and not orders:
        raise NotFound(_("no {field} {value}").format(field="serial_no", value=serial),
                       field="serial_no")
    today = _local_date(ctx, _now(ctx))
    equipment = []
    for machine in (client.equipment if client is not None else []):
        covers = [c for c in _contracts_of(ctx, machine)
                  if not c.cancelled and c.start <= today <= c.end]
        numbers = [ctx.session.get(MaintenanceContract, c.contract_id).number for c in covers]
        equipment.append({
            "id": machine.id, "serial_no": machine.serial_no, "brand": machine.brand,
            "model": machine.model, "warranty_end": machine.warranty_end,
            "in_warranty": machine.in_warranty(today), "contracts": numbers})
    extra = []
    if client is not None:
        for answer in ctx.hook.repair_history_extra(ctx=ctx, customer=client):
            if isinstance(answer, dict):
                extra.append(answer)
            elif answer:
                extra.extend(answer)
    return {
        "customer": None if client is None else {
            "id": client.id, "code": client.code, "name": client.name,
            "tier": client.tier.value if hasattr(client.tier, "value") else client.tier,
            "phone": client.phone, "branch": client.branch.code},
        "serial_no": serial,
        "equipment": equipment,
        "orders": [_order_row(o) for o in orders],
        "open_orders": sum(1 for o in orders if Status(o.status) in rules.OPEN),
        "extra": extra,
    }


# ---------------------------------------------------------------------------
# scheduled jobs: overdue jobs (R8, R15) and contract expiry notices (R20)
# ---------------------------------------------------------------------------

SUPERVISOR_ROLES = ("service_supervisor",)
BRANCH_NOTICE_ROLES = ("service_supervisor", "branch_manager")


def branch_recipients(ctx, branch_id: int, roles) -> list:
    """Active users of the branch (home or extra branch) holding one of ``roles`` who have
    an e-mail address."""
    from kernel.auth import User, UserBranch, UserRole

    return list(ctx.session.scalars(select(User).where(
        User.active.is_(True), User.email.is_not(None), User.email != "",
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(tuple(roles)))),
        or_(User.home_branch_id == branch_id,
            User.id.in_(select(UserBranch.user_id).where(UserBranch.branch_id == branch_id))))
        .order_by(User.id)))


def _local_text(ctx, moment: dt.datetime | None) -> str:
    return moment.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _tell(ctx, branch_id: int, roles, template: str, context: dict) -> int:
    recipients = branch_recipients(ctx, branch_id, roles)
    for user in recipients:
        notify(ctx, channel="email", to=user.email, template=template,
               context={**context, "recipient": user.full_name}, locale=user.locale)
    return len(recipients)


def _overdue_context(ctx, order: WorkOrder, kind: str, due: dt.datetime) -> dict:
    return {
        "kind": kind, "number": order.number, "urgent": bool(order.urgent),
        "customer": order.customer.name if order.customer is not None else "",
        "address": order.address or "", "model": order.model or "",
        "serial_no": order.serial_no or "", "fault": order.fault_description,
        "status": Status(order.status).value, "due": _local_text(ctx, due),
        "reported_at": _local_text(ctx, order.reported_at),
        "engineer": order.engineer.name if order.engineer is not None
        else (order.partner_outlet or ""),
        "branch": order.branch.name,
    }


def flag_overdue(ctx) -> dict:
    """Scheduled every 5 minutes (``repair.flag_overdue``). Flags, once each:

    * on-site jobs past their arrival deadline without an arrival and with the clock
      running (R8): ``overdue_flagged_at``, history event ``overdue``;
    * carry-in jobs past their promised date and not repaired yet (R15):
      ``promise_flagged_at``, history event ``late_repair``;

    and e-mails the branch's service supervisors (``repair_overdue`` message). Returns
    the numbers flagged, ``{"overdue": [...], "late": [...]}``.
    """
    now = _now(ctx)
    flagged: dict[str, list[str]] = {"overdue": [], "late": []}
    overdue = ctx.session.scalars(select(WorkOrder).where(
        WorkOrder.service_mode == ServiceMode.ON_SITE, WorkOrder.deadline_at.is_not(None),
        WorkOrder.deadline_at < now, WorkOrder.arrived_at.is_(None),
        WorkOrder.paused_at.is_(None), WorkOrder.overdue_flagged_at.is_(None),
        WorkOrder.status.in_(NOT_REPAIRED)).order_by(WorkOrder.id).with_for_update())
    for order in overdue.all():
        order.overdue_flagged_at = now
        _record(ctx, order, "overdue", order.status, _("arrival deadline missed"),
                {"deadline_at": order.deadline_at})
        _tell(ctx, order.branch_id, SUPERVISOR_ROLES, "repair_overdue",
              _overdue_context(ctx, order, "arrival", order.deadline_at))
        flagged["overdue"].append(order.number)
    late = ctx.session.scalars(select(WorkOrder).where(
        WorkOrder.service_mode == ServiceMode.CARRY_IN, WorkOrder.promised_at.is_not(None),
        WorkOrder.promised_at < now, WorkOrder.promise_flagged_at.is_(None),
        WorkOrder.status.in_(NOT_REPAIRED)).order_by(WorkOrder.id).with_for_update())
    for order in late.all():
        order.promise_flagged_at = now
        _record(ctx, order, "late_repair", order.status, _("promised date missed"),
                {"promised_at": order.promised_at})
        _tell(ctx, order.branch_id, SUPERVISOR_ROLES, "repair_overdue",
              _overdue_context(ctx, order, "promised", order.promised_at))
        flagged["late"].append(order.number)
    return flagged


def issue_contract_expiry_notices(ctx) -> list[str]:
    """Scheduled daily at 08:00 (``repair.contract_expiry_notices``, R20): each contract
    that is not cancelled and ends within ``repair.contract_notice_days`` (30) days from
    today (site time zone; a contract ending today included, one ended yesterday not) gets
    its expiry notice once: ``expiry_notice_at`` is set and the branch's supervisors and
    managers are e-mailed (``repair_contract_expiry``). Returns the contract numbers."""
    now = _now(ctx)
    today = _local_date(ctx, now)
    days = ctx.setting("repair.contract_notice_days")
    contracts = ctx.session.scalars(select(MaintenanceContract).where(
        MaintenanceContract.cancelled_at.is_(None),
        MaintenanceContract.expiry_notice_at.is_(None),
        MaintenanceContract.end_date >= today,
        MaintenanceContract.end_date <= today + dt.timedelta(days=days))
        .order_by(MaintenanceContract.end_date, MaintenanceContract.id).with_for_update())
    issued = []
    for contract in contracts.all():
        contract.expiry_notice_at = now
        branch = ctx.session.get(Branch, contract.branch_id)
        _tell(ctx, contract.branch_id, BRANCH_NOTICE_ROLES, "repair_contract_expiry", {
            "number": contract.number, "customer": contract.customer.name,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "days_left": (contract.end_date - today).days,
            "equipment": ", ".join(item.equipment.serial_no for item in contract.items),
            "branch": branch.name})
        issued.append(contract.number)
    ctx.session.flush()
    return issued
