"""A returning customer's history (R2): what the front desk sees when a known customer or
serial number is entered."""

from __future__ import annotations

from sqlalchemy import or_, select

from kernel import NotFound, ValidationError
from kernel.i18n import _
from kernel.models import Customer, CustomerEquipment

from . import rules
from .inputs import local_date, lookup, now_utc, text
from .models import MaintenanceContract, WorkOrder
from .rules import Category, Status
from .services import contracts_of

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
    serial = text(serial_no, "serial_no", required=False, max_length=100)
    client = lookup(ctx, Customer, customer_id, "customer", "code") \
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
    today = local_date(ctx, now_utc(ctx))
    equipment = []
    for machine in (client.equipment if client is not None else []):
        covers = [c for c in contracts_of(ctx, machine)
                  if not c.cancelled and c.start <= today <= c.end]
        numbers = [ctx.session.get(MaintenanceContract, c.contract_id).number for c in covers]
        equipment.append({
            "id": machine.id, "serial_no": machine.serial_no, "brand": machine.brand,
            "model": machine.model, "name": machine.brand_model,
            "warranty_end": machine.warranty_end,
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

