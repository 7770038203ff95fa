"""The kernel's own printed paper: the equipment record (设备档案)."""

from __future__ import annotations

from kernel.contributions import Document
from kernel.i18n import N_
from kernel.models import CustomerEquipment


def gather_equipment(ctx, equipment: CustomerEquipment) -> dict:
    """Customer, contact, address and warranty state of one machine."""
    customer = equipment.customer
    contact = next((c for c in customer.contacts if c.is_primary), None) or (
        customer.contacts[0] if customer.contacts else None)
    today = ctx.now().astimezone(ctx.settings.tz).date()
    return {
        "equipment": equipment,
        "customer": customer,
        "contact": contact,
        "address": equipment.address or (customer.addresses[0] if customer.addresses else None),
        "in_warranty": equipment.in_warranty(today),
    }


EQUIPMENT_RECORD = Document(
    name="kernel.equipment_record",
    title=N_("Equipment record"),
    entity=CustomerEquipment,
    template="print/equipment_record.html",
    gather=gather_equipment,
    paper="A5",
)
