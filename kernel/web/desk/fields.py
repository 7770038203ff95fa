"""How the desk shows and reads fields: display values, form widgets, values read back.

Labels (:mod:`kernel.labels`) and reference lookups (:mod:`kernel.references`) live in
the kernel's core, shared with reports and the API; their names are repeated here for
the desk's pages and templates.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from kernel.entities import EntityInfo, FieldInfo
from kernel.entities import column_default as entity_column_default
from kernel.i18n import _
from kernel.labels import (  # noqa: F401 - the desk's names for them
    CODE_COLUMNS,
    FIELD_LABELS,
    KERNEL_MODULE,
    LABEL_COLUMNS,
    NAME_COLUMNS,
    label,
    record_label,
)
from kernel.references import (  # noqa: F401 - the desk's names for them
    entity_class,
    find_reference,
    lookup,
    reference_labels,
    reference_options,
    resolve_references,
)
from kernel.values import with_zone
from kernel.web.desk import links

#: fields the desk never shows in forms (the site has one company)
HIDDEN_IN_FORMS = frozenset({"company_id"})


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


def written_once(info: EntityInfo) -> bool:
    """Whether an existing record of ``info`` reads as a document with no form at all: the
    entity offers no update (written once, then changed only by its plugin's actions)
    and lays its details out in ``__groups__`` (a complaint). Its writable fields are
    then details like the read-only ones, not disabled inputs."""
    return not info.offers("update") and bool(getattr(info.cls, "__groups__", ()))


def readonly_fields(info: EntityInfo) -> list[FieldInfo]:
    """Fields shown as text on an existing record's form: the read-only ones, or all of
    them for an entity whose records are :func:`written_once`."""
    every = written_once(info)
    return [f for f in info.fields if (f.readonly or every)
            and f.name not in HIDDEN_IN_FORMS]


def has_default(info: EntityInfo, name: str) -> bool:
    """Whether the column ``name`` has a default of any kind (a value, a function such as
    "now", or the database's): left empty on a new record's form, the default applies."""
    column = info.cls.__table__.columns.get(name)
    return column is not None and (column.default is not None
                                   or column.server_default is not None)


# --------------------------------------------------------------------------
# values for display
# --------------------------------------------------------------------------


def local(value: dt.datetime, tz) -> dt.datetime:
    return value.astimezone(tz) if value.tzinfo else value


def display(spec: FieldInfo, value: Any, tz, refs: dict | None = None) -> str:
    """``value`` of ``spec`` as text for people (enums translated, instants in the site's zone)."""
    if value is None or value == "":
        return ""
    if spec.kind == "link":  # refs: the labels of linked records (kernel.linked)
        return links.text(value, refs)
    if spec.foreign and refs is not None:
        return refs.get(value) or f"#{value}"
    if spec.kind == "enum" or spec.translated:
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
    return entity_column_default(info.cls, name)


# --------------------------------------------------------------------------
# values from a form
# --------------------------------------------------------------------------


def parse_form(info: EntityInfo, form, tz, *, creating: bool,
               extensions=()) -> tuple[dict, dict, dict]:
    """The submitted values of the editable fields, for :mod:`kernel.records`.

    Returns ``(data, raw, errors)``: ``data`` for the service (other plugins' fields of
    ``extensions`` as ``{"plugin": {"field": value}}``), ``raw`` the texts as typed (to
    show the form again, keyed ``plugin.field`` for those), ``errors`` found before the
    service sees them (malformed JSON). Only fields the form showed (``_fields``) are
    read. Empty optional fields become None; an empty field that has a default is left
    out of a new record, so the default applies.
    """
    data: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    shown = set(form.getlist("_fields"))
    wanted = [(spec.name, spec, data, column_default(info, spec.name))
              for spec in form_fields(info)]
    for extension in extensions:
        target = {}
        for spec in extension.fields:
            if not spec.readonly and f"{extension.namespace}.{spec.name}" in shown:
                data[extension.namespace] = target
                wanted.append((f"{extension.namespace}.{spec.name}", spec, target, None))
    for key, spec, target, default in wanted:
        if key not in shown:
            continue
        if spec.kind == "boolean":
            value = form.get(key) is not None
            raw[key] = "1" if value else ""
            target[spec.name] = value
            continue
        if spec.kind == "link":  # an entity chosen and a record typed
            value, raw[key], problem = links.from_form(form, key)
            if problem:
                errors[key] = problem
            else:
                target[spec.name] = value
            continue
        text = str(form.get(key, ""))
        raw[key] = text
        if spec.kind not in ("string", "text"):
            text = text.strip()
        if text == "" or (not text.strip() and spec.nullable):
            if creating and (default is not None or spec.name == "branch_id"
                             or has_default(info, spec.name)):
                continue
            target[spec.name] = "" if not spec.nullable and spec.kind in ("string", "text") \
                else None
            continue
        if spec.kind == "datetime":
            target[spec.name] = with_zone(text, tz)
        elif spec.kind == "json":
            try:
                target[spec.name] = json.loads(text)
            except ValueError:
                # a list typed as "a, b" is the common case (skills)
                if text.lstrip()[:1] in "[{\"":
                    errors[key] = _("must be valid JSON")
                else:
                    target[spec.name] = [part.strip() for part in text.split(",")
                                         if part.strip()]
        else:
            target[spec.name] = text
    return data, raw, errors
