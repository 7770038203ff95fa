"""Values a record's form shows as a document (:mod:`kernel.web.desk.document`): fields
of the record or of the record a foreign key points to (``"order_id.phone"``), read for
a page of rows in one query per key and per referenced table; and the fields never
shown (:func:`technical`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kernel.entities import EntityInfo, FieldInfo
from kernel.web.desk import fields, links

#: fields no form shows
TECHNICAL = frozenset({"id", "company_id", "created_at", "updated_at"})

def technical(info: EntityInfo) -> frozenset[str]:
    """The fields of ``info`` the form never shows."""
    return TECHNICAL | frozenset(getattr(info.cls, "__technical__", ()))


# --------------------------------------------------------------------------
# values of fields, also of the record a foreign key points to
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A value shown of a record: its own field, or ``via.field`` of the record its
    foreign key ``via`` points to."""

    name: str
    label: str
    spec: FieldInfo
    via: FieldInfo | None = None


def column(ctx, info: EntityInfo, name: str) -> Column | None:
    """The :class:`Column` named ``name`` (``"phone"``, ``"order_id.phone"``), or None
    for a name that is no such field."""
    if "." in name:
        key, _dot, rest = name.partition(".")
        via = info.field_map.get(key)
        target = ctx.app.exposed.get(via.foreign) if via is not None and via.foreign else None
        spec = target.field_map.get(rest) if target is not None else None
        if spec is None or rest in technical(target):
            return None
        return Column(name, fields.label(target, rest), spec, via)
    spec = info.field_map.get(name)
    return Column(name, fields.label(info, name), spec) if spec is not None else None


def columns_of(ctx, info: EntityInfo, names) -> list[Column]:
    """The :class:`Column` of each name that is a field (others are left out)."""
    return [c for c in (column(ctx, info, n) for n in names) if c is not None]


def cells(ctx, columns: list[Column], rows: list) -> dict[int, dict[str, dict]]:
    """``{row id: {column name: {"text", "url", "kind", "value"}}}`` for ``rows``: one
    query per foreign key followed and per referenced table, never one per row."""
    app, tz = ctx.app, ctx.settings.tz
    targets: dict[str, dict[int, object]] = {}
    for via in {c.via.name: c.via for c in columns if c.via is not None}.values():
        cls = app.entity_class(via.foreign)
        ids = {getattr(r, via.name) for r in rows} - {None}
        found = ctx.session.scalars(select(cls).where(cls.id.in_(ids))) if ids else []
        targets[via.name] = {t.id: t for t in ctx.visible(found)}

    def value_of(col: Column, row):
        if col.via is None:
            return getattr(row, col.spec.name)
        target = targets[col.via.name].get(getattr(row, col.via.name))
        return getattr(target, col.spec.name) if target is not None else None

    values = {c.name: {r.id: value_of(c, r) for r in rows} for c in columns}
    refs = {}
    for col in columns:
        if col.spec.foreign:
            refs[col.name] = fields.reference_labels(ctx, app, col.spec,
                                                     values[col.name].values())
        elif col.spec.kind == "link":
            refs[col.name] = links.labels_of(ctx, col.spec, list(values[col.name].values()))
    readable = {t for t, i in app.exposed.items() if ctx.can(i.perm("read"))}
    found: dict[int, dict[str, dict]] = {}
    for row in rows:
        shown = found.setdefault(row.id, {})
        for col in columns:
            value, labels = values[col.name][row.id], refs.get(col.name)
            url = None
            if col.spec.foreign in readable and value is not None and value in (labels or {}):
                url = f"/desk/{col.spec.foreign}/{value}"
            url = url or links.url(col.spec, value, labels)
            shown[col.name] = {"text": fields.display(col.spec, value, tz, labels),
                               "url": url, "value": value,
                               "kind": "reference" if col.spec.foreign else col.spec.kind}
    return found
