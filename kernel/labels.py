"""What people read for fields and records: field labels and a record's short name.

Labels come from the entity class's ``__labels__`` (``{"field": N_("Label")}``,
for plugins), then the kernel's table below, then the field name made readable.
A record is named by its code and name where it has them (``E002 李明``), or by
the columns its class lists in ``__label_columns__``.
"""

from __future__ import annotations

from kernel.entities import EntityInfo, ExtensionInfo, FieldInfo
from kernel.i18n import N_, _

#: columns that name a record, in order of preference: a code, then a name
CODE_COLUMNS = ("code", "number", "serial_no", "username")
NAME_COLUMNS = ("name", "full_name", "title", "label", "model")

FIELD_LABELS = {
    "id": N_("ID"),
    "created_at": N_("Created"),
    "updated_at": N_("Updated"),
    "company_id": N_("Company"),
    "branch_id": N_("Branch"),
    "user_id": N_("User account"),
    "code": N_("Code"),
    "number": N_("Number"),
    "name": N_("Name"),
    "short_name": N_("Short name"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "tax_id": N_("Tax ID"),
    "zone": N_("Zone"),
    "active": N_("Active"),
    "grade": N_("Grade"),
    "skills": N_("Skills"),
    "service_region": N_("Service region"),
    "tier": N_("Tier"),
    "note": N_("Note"),
    "customer_id": N_("Customer"),
    "title": N_("Title"),
    "is_primary": N_("Primary contact"),
    "label": N_("Label"),
    "district": N_("District"),
    "is_default": N_("Default address"),
    "address_id": N_("Service address"),
    "brand": N_("Brand"),
    "model": N_("Model"),
    "serial_no": N_("Serial number"),
    "purchase_date": N_("Purchase date"),
    "warranty_end": N_("Warranty end"),
    "amount": N_("Amount"),
    "status": N_("Status"),
    # documents that are submitted (kernel.lifecycle)
    "docstatus": N_("Document status"),
    "submitted_at": N_("Submitted at"),
    "cancelled_at": N_("Cancelled at"),
    "cancel_reason": N_("Reason for cancelling"),
    "amended_from_id": N_("Amended from"),
    "amendment_no": N_("Amendment"),
}
#: labels that differ for one entity
ENTITY_FIELD_LABELS = {
    ("customer_contact", "title"): N_("Job title"),
}
#: the kernel's modules on the home page
KERNEL_MODULE = N_("Master data")


def label(info: EntityInfo, name: str) -> str:
    """The translated label of field ``name`` of ``info``."""
    own = getattr(info.cls, "__labels__", {}).get(name)
    text = own or ENTITY_FIELD_LABELS.get((info.name, name)) or FIELD_LABELS.get(name)
    if text is None:
        base = name[:-3] if name.endswith("_id") else name
        text = base.replace("_", " ").capitalize()
    return _(text)


class _Labelled:
    """An entity-like object for :func:`label` (it reads ``cls`` and ``name``)."""

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__table__.name


def extension_label(extension: ExtensionInfo, spec: FieldInfo) -> str:
    """The translated label of an extension field (its companion class's ``__labels__``,
    else the kernel's label of a field of that name)."""
    own = getattr(extension.model, "__labels__", {}).get(spec.name)
    if own:
        return _(own)
    return label(_Labelled(extension.model), spec.name)


def label_of(info: EntityInfo, name: str) -> str:
    """The label of a field of ``info``: its own, or ``plugin.field`` of an extension."""
    if "." in name:
        namespace, _dot, field_name = name.partition(".")
        extension = info.extension(namespace)
        spec = extension.field(field_name) if extension else None
        if spec is not None:
            return extension_label(extension, spec)
    return label(info, name)


#: records named by other columns than a code and a name (a class may set ``__label_columns__``)
LABEL_COLUMNS = {
    "customer_address": ("label", "address"),
    "customer_contact": ("name", "phone"),
}


def record_label(record) -> str:
    """A short name for a record: its code and name where it has them."""
    table = type(record).__table__.name
    own = getattr(type(record), "__label_columns__", None) or LABEL_COLUMNS.get(table)
    if own:
        text = " · ".join(str(v) for v in (getattr(record, c, None) for c in own)
                          if v not in (None, ""))
        return text or f"#{record.id}"
    parts = []
    for group in (CODE_COLUMNS, NAME_COLUMNS):
        for column in group:
            value = getattr(record, column, None)
            if value not in (None, ""):
                parts.append(str(value))
                break
    return " ".join(parts) or f"#{record.id}"


def label_order(cls):
    for column in (*CODE_COLUMNS, *NAME_COLUMNS):
        if column in cls.__table__.columns:
            return getattr(cls, column)
    return cls.id


def entity_title(app, table: str) -> str:
    """What people call the records of ``table`` ("维修工单"), for messages; the table's
    name only for a table the site does not know."""
    cls = app.entity_class(table) if app is not None else None
    title = getattr(cls, "__title__", None)
    return _(title) if title else table
