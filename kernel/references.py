"""Finding the records a reference may point to: by id, code, name or label, within the
branches the user may see, and their labels in one query per page.

The desk's forms and lookups, action and report parameters, and the API's filters all
find references here, so a code typed anywhere names the same record.
"""

from __future__ import annotations

import re

from sqlalchemy import String, cast, or_, select

from kernel.entities import EntityInfo, FieldInfo
from kernel.i18n import _
from kernel.labels import CODE_COLUMNS, LABEL_COLUMNS, NAME_COLUMNS, label_order, record_label

#: above this many visible records a reference is typed (with suggestions), not a select
MAX_SELECT_OPTIONS = 300


def entity_class(app, table: str):
    """The mapped class of ``table`` among the site's entities, or None."""
    return app.entity_class(table)


def reference_labels(ctx, app, spec: FieldInfo, ids) -> dict:
    """Labels of the records ``ids`` of ``spec``'s table that the user may see (one query)."""
    return record_labels(ctx, app, spec.foreign, ids)


def record_labels(ctx, app, table: str, ids) -> dict:
    """Labels of the records ``ids`` of ``table`` that the user may see (one query)."""
    cls = entity_class(app, table)
    ids = {i for i in ids if i is not None}
    if cls is None or not ids:
        return {}
    rows = ctx.session.scalars(_visible(app, select(cls), cls).where(cls.id.in_(ids)))
    return {r.id: record_label(r) for r in ctx.visible(rows)}


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
    rows = ctx.visible(ctx.session.scalars(query.order_by(label_order(cls), cls.id)
                                           .limit(MAX_SELECT_OPTIONS + 1)))
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
    rows = ctx.session.scalars(query.order_by(label_order(cls)).limit(limit))
    return [(r.id, record_label(r)) for r in ctx.visible(rows)]


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
    """Turn references typed as a code or name (not an id) into ids, in the record's own
    fields and in other plugins' (``{"plugin": {...}}``), and the records of links
    (``{"entity": "customer", "id": "C0001"}``); problems by field (``field`` or
    ``plugin.field``; see :func:`find_reference`)."""
    errors = {}
    places = [("", data, info.field)]
    for name, value in data.items():
        extension = info.extension(name) if isinstance(value, dict) else None
        if extension is not None:
            places.append((f"{name}.", value, extension.field))
    for prefix, values, field_of in places:
        for name, value in list(values.items()):
            spec = field_of(name)
            if spec is not None and spec.kind == "link":
                problem = _resolve_link(ctx, app, values, name)
                if problem:
                    errors[prefix + name] = problem
                continue
            if spec is None or not spec.foreign or value is None or \
                    str(value).strip().isdigit():
                continue
            del values[name]
            found, problem = find_reference(ctx, app, spec.foreign, str(value))
            if found is not None:
                values[name] = found
            else:
                errors[prefix + name] = problem
    return errors


def _resolve_link(ctx, app, values: dict, name: str) -> str | None:
    """Turn the record of a link typed in a form (``{"entity": table, "id": an id, a
    code, a name or a label}``) into its id; the problem when no single record of that
    entity the user may see matches (the value is then left out)."""
    value = values[name]
    if not isinstance(value, dict) or not isinstance(value.get("entity"), str):
        return None
    entity, text = value["entity"], str(value.get("id", "")).strip()
    if text.startswith("#") and text[1:].isdigit():  # the label of a record with no name
        text = text[1:]
    if text.isdigit() or entity_class(app, entity) is None:
        values[name] = {"entity": entity, "id": text}  # the service checks the rest
        return None
    del values[name]
    found, problem = find_reference(ctx, app, entity, text)
    if found is None:
        return problem
    values[name] = {"entity": entity, "id": found}
    return None
