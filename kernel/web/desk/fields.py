"""How the desk shows and reads fields: labels, display values, form widgets, references.

Labels come from the entity class's ``__labels__`` (``{"field": N_("Label")}``,
for plugins), then the kernel's table below, then the field name made readable.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, or_, select

from kernel.entities import EntityInfo, FieldInfo
from kernel.i18n import N_, _

#: fields the desk never shows in forms (the site has one company)
HIDDEN_IN_FORMS = frozenset({"company_id"})
#: above this many visible records a reference is typed (with suggestions), not a select
MAX_SELECT_OPTIONS = 300
#: columns that name a record, in order of preference: a code, then a name
CODE_COLUMNS = ("code", "number", "serial_no", "username")
NAME_COLUMNS = ("name", "full_name", "title", "label", "model")

FIELD_LABELS = {
    "id": N_("ID"),
    "created_at": N_("Created"),
    "updated_at": N_("Updated"),
    "company_id": N_("Company"),
    "branch_id": N_("Branch"),
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


def widget(spec: FieldInfo) -> str:
    """The kind of form control for a field."""
    if spec.foreign:
        return "reference"
    if spec.kind == "string":
        if "email" in spec.name:
            return "email"
        if "phone" in spec.name or "mobile" in spec.name:
            return "tel"
    return spec.kind


def form_fields(info: EntityInfo) -> list[FieldInfo]:
    """Fields a form edits, in declaration order (automatic and hidden ones left out)."""
    return [f for f in info.fields if not f.readonly and f.name not in HIDDEN_IN_FORMS]


def readonly_fields(info: EntityInfo) -> list[FieldInfo]:
    """Fields shown as text on an existing record's form."""
    return [f for f in info.fields if f.readonly and f.name not in HIDDEN_IN_FORMS]


# --------------------------------------------------------------------------
# values for display
# --------------------------------------------------------------------------


def local(value: dt.datetime, tz) -> dt.datetime:
    return value.astimezone(tz) if value.tzinfo else value


def display(spec: FieldInfo, value: Any, tz, refs: dict | None = None) -> str:
    """``value`` of ``spec`` as text for people (enums translated, instants in the site's zone)."""
    if value is None or value == "":
        return ""
    if spec.foreign and refs is not None:
        return refs.get(value) or f"#{value}"
    if spec.kind == "enum":
        raw = getattr(value, "value", value)
        return _(str(raw))
    if spec.kind == "boolean":
        return _("yes") if value else _("no")
    if spec.kind == "money":
        return f"{Decimal(value):,.2f}"
    if isinstance(value, dt.datetime):
        return local(value, tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if spec.kind == "json":
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def form_value(spec: FieldInfo, value: Any, tz) -> str:
    """``value`` as the text an input of ``spec`` holds."""
    if value is None:
        return ""
    if spec.kind == "enum":
        return str(getattr(value, "value", value))
    if spec.kind == "boolean":
        return "1" if value else ""
    if spec.kind == "money":
        return f"{Decimal(value):.2f}"
    if isinstance(value, dt.datetime):
        return local(value, tz).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if spec.kind == "json":
        if isinstance(value, list) and all(isinstance(v, str) and "," not in v for v in value):
            return ", ".join(value)
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def column_default(info: EntityInfo, name: str) -> Any:
    """A field's scalar column default (for a new record's form), or None."""
    column = info.cls.__table__.columns.get(name)
    default = getattr(column, "default", None)
    if default is None or not getattr(default, "is_scalar", False):
        return None
    return default.arg


# --------------------------------------------------------------------------
# values from a form
# --------------------------------------------------------------------------


def parse_form(info: EntityInfo, form, tz, *, creating: bool) -> tuple[dict, dict, dict]:
    """The submitted values of the editable fields, for :mod:`kernel.records`.

    Returns ``(data, raw, errors)``: ``data`` for the service, ``raw`` the
    texts as typed (to show the form again), ``errors`` found before the
    service sees them (malformed JSON). Empty optional fields become None; an
    empty field that has a default is left out of a new record, so the default
    applies.
    """
    data: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    shown = set(form.getlist("_fields"))
    for spec in form_fields(info):
        if spec.name not in shown:
            continue
        if spec.kind == "boolean":
            value = form.get(spec.name) is not None
            raw[spec.name] = "1" if value else ""
            data[spec.name] = value
            continue
        text = str(form.get(spec.name, ""))
        raw[spec.name] = text
        if spec.kind not in ("string", "text"):
            text = text.strip()
        if text == "" or (not text.strip() and spec.nullable):
            if creating and (column_default(info, spec.name) is not None or
                             spec.name == "branch_id"):
                continue
            data[spec.name] = "" if not spec.nullable and spec.kind in ("string", "text") \
                else None
            continue
        if spec.kind == "datetime":
            data[spec.name] = with_zone(text, tz)
        elif spec.kind == "json":
            try:
                data[spec.name] = json.loads(text)
            except ValueError:
                # a list typed as "a, b" is the common case (skills)
                if text.lstrip()[:1] in "[{\"":
                    errors[spec.name] = _("must be valid JSON")
                else:
                    data[spec.name] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            data[spec.name] = text
    return data, raw, errors


def with_zone(text: str, tz) -> str:
    """A date-time typed without a zone is in the site's zone; a bare date is its midnight."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # the service names the problem
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


# --------------------------------------------------------------------------
# references (foreign keys)
# --------------------------------------------------------------------------


def entity_class(app, table: str):
    """The mapped class of ``table`` among the site's entities, or None."""
    return app.entity_class(table)


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


def _label_order(cls):
    for column in (*CODE_COLUMNS, *NAME_COLUMNS):
        if column in cls.__table__.columns:
            return getattr(cls, column)
    return cls.id


def reference_labels(ctx, app, spec: FieldInfo, ids) -> dict:
    """Labels of the records ``ids`` of ``spec``'s table that the user may see (one query)."""
    cls = entity_class(app, spec.foreign)
    ids = {i for i in ids if i is not None}
    if cls is None or not ids:
        return {}
    rows = ctx.session.scalars(_visible(app, select(cls), cls).where(cls.id.in_(ids)))
    return {r.id: record_label(r) for r in rows if ctx.can_see(r)}


def _visible(app, query, cls):
    """Join required parents that belong to branches, so the branch scope applies to them too.

    (A customer's addresses have no branch of their own: they are visible when
    the customer is.)
    """
    if "branch_id" in cls.__table__.columns:
        return query
    for column in cls.__table__.columns:
        if column.nullable or not column.foreign_keys:
            continue
        target = next(iter(column.foreign_keys)).column
        parent = entity_class(app, target.table.name)
        if parent is not None and parent is not cls and "branch_id" in target.table.columns:
            query = query.join(parent, target == getattr(cls, column.key))
    return query


def reference_options(ctx, app, spec: FieldInfo) -> list[tuple[int, str]] | None:
    """The records a reference may point to, as ``(id, label)``; None when too many for a list."""
    cls = entity_class(app, spec.foreign)
    if cls is None:
        return None
    query = _visible(app, select(cls), cls)
    if "active" in cls.__table__.columns:
        query = query.where(cls.active.is_(True))
    rows = [r for r in ctx.session.scalars(query.order_by(_label_order(cls), cls.id)
                                          .limit(MAX_SELECT_OPTIONS + 1)) if ctx.can_see(r)]
    if len(rows) > MAX_SELECT_OPTIONS:
        return None
    return [(r.id, record_label(r)) for r in rows]


def lookup(ctx, app, cls, text: str, limit: int = 20) -> list[tuple[int, str]]:
    """Records of ``cls`` the user may see whose code or name contains ``text``."""
    own = getattr(cls, "__label_columns__", None) or LABEL_COLUMNS.get(cls.__table__.name, ())
    columns = [getattr(cls, c) for c in dict.fromkeys((*CODE_COLUMNS, *NAME_COLUMNS, *own))
               if c in cls.__table__.columns]
    query = _visible(app, select(cls), cls)
    if text and columns:
        query = query.where(or_(*[cast(c, String).ilike(f"%{text}%") for c in columns]))
    rows = ctx.session.scalars(query.order_by(_label_order(cls)).limit(limit))
    return [(r.id, record_label(r)) for r in rows if ctx.can_see(r)]


def find_reference(ctx, app, table: str, text: str) -> tuple[int | None, str | None]:
    """The id of the record of ``table`` that ``text`` (a label, code or name) names,
    or None and the problem.

    A record is found when exactly one visible record has that label, code or name,
    or when exactly one contains the text.
    """
    text = text.strip()
    cls = entity_class(app, table)
    if cls is None:
        return None, _("nothing matches {text}").format(text=text)
    found = lookup(ctx, app, cls, text, limit=10)
    head = re.split(r" · | ", text, maxsplit=1)[0]
    if not found and head != text:  # a whole label picked from the suggestions ("E002 李明")
        found = [(i, shown) for i, shown in lookup(ctx, app, cls, head, limit=100)
                 if shown == text]
    exact = [i for i, shown in found
             if text in (shown, shown.split(" ", 1)[0], shown.split(" ", 1)[-1])]
    chosen = exact or [i for i, _shown in found]
    if len(chosen) == 1:
        return chosen[0], None
    if not chosen:
        return None, _("nothing matches {text}").format(text=text)
    return None, _("several records match {text}: type more of it").format(text=text)


def resolve_references(ctx, app, info: EntityInfo, data: dict) -> dict[str, str]:
    """Turn references typed as a code or name (not an id) into ids; problems by field
    (see :func:`find_reference`)."""
    errors = {}
    for name, value in list(data.items()):
        spec = info.field(name)
        if spec is None or not spec.foreign or value is None or str(value).strip().isdigit():
            continue
        del data[name]
        found, problem = find_reference(ctx, app, spec.foreign, str(value))
        if found is not None:
            data[name] = found
        else:
            errors[name] = problem
    return errors
