"""What other plugins add to an entity's desk pages: blocks on its form (their sections
and extension fields) and columns on its list.

Everything here is filtered by the user's branch (a plugin's hook implementation switched
off there hides what it contributed) and rights, and computed once per page: a list
column's values come from one call for the page's records, extension values from one
query per extension.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kernel import records
from kernel.contributions import ListColumn
from kernel.entities import EntityInfo, ExtensionInfo
from kernel.i18n import _
from kernel.labels import extension_label, label_of  # noqa: F401 - the desk's names for them

# --------------------------------------------------------------------------
# form blocks
# --------------------------------------------------------------------------


def _cell(value: Any) -> dict:
    if isinstance(value, tuple) and len(value) == 2:
        return {"text": str(value[0]), "url": value[1]}
    return {"text": "" if value is None else str(value), "url": None}


def form_blocks(ctx, info: EntityInfo, record, control) -> list[dict]:
    """The blocks other plugins add to ``record``'s form, in order.

    ``control(extension, spec, editable)`` draws one extension field (the form's own
    control builder). Each block: ``title``, ``summary`` (label, text), ``columns``
    and ``rows`` (child rows: cells with ``text`` and ``url``), ``note``, ``controls``
    of the plugin's fields and whether they can be ``editable`` (saved with the block's
    own form). Extension fields no section names join their plugin's first section, or
    get a block of their own when the plugin has no section here.
    """
    extensions = {e.namespace: e for e in records.extensions_of(ctx, info)}
    placed: set[tuple[str, str]] = set()
    blocks = []
    for section in ctx.app.registry.sections.get(info.name, []):
        if not ctx.offers(section) or (section.permission and not ctx.can(section.permission)):
            continue
        owner = ctx.app.registry.owner(section)
        extension = extensions.get(owner)
        content = section.build(ctx, record) if section.build and record is not None else None
        names = list(section.fields) if extension is not None else []
        placed.update((owner, n) for n in names)
        block = _block(ctx, section.name, _(section.title), extension, names, control)
        if content is not None:
            block.update(summary=list(content.summary), columns=list(content.columns),
                         rows=[[_cell(v) for v in row] for row in content.rows],
                         note=content.note, empty=content.empty)
        if block["controls"] or content is not None:
            blocks.append(block)
    for namespace, extension in extensions.items():
        rest = [f.name for f in extension.fields if (namespace, f.name) not in placed]
        if not rest:
            continue
        own = next((b for b in blocks if b["namespace"] == namespace), None)
        if own is None:  # the plugin has no section here: its fields get a block
            blocks.append(_block(ctx, f"{namespace}.fields", _(extension.title), extension,
                                 rest, control))
        else:  # the rest of its fields join its first section
            own["controls"] += [control(extension, extension.field(n), own["can_write"])
                                for n in rest]
    for block in blocks:
        block["editable"] = block["can_write"] and any(not c["readonly"]
                                                       for c in block["controls"])
    return blocks


def _block(ctx, name: str, title: str, extension: ExtensionInfo | None, names: list[str],
           control) -> dict:
    editable = extension is not None and ctx.can(extension.permission)
    controls = [control(extension, extension.field(n), editable) for n in names] \
        if extension is not None else []
    return {"name": name, "title": title, "summary": [], "columns": [], "rows": [],
            "note": None, "empty": None, "controls": controls, "can_write": editable,
            "namespace": extension.namespace if extension is not None else None}


# --------------------------------------------------------------------------
# list columns
# --------------------------------------------------------------------------


def list_columns(ctx, info: EntityInfo) -> list[ListColumn]:
    """The columns other plugins add to ``info``'s list, offered in the user's branch."""
    offered = {e.namespace for e in records.extensions_of(ctx, info)}
    return [c for c in ctx.app.registry.columns.get(info.name, [])
            if ctx.offers(c) and (c.field is None or ctx.app.registry.owner(c) in offered)]


def column_key(ctx, column: ListColumn) -> str | None:
    """What the list sorts by for ``column``: ``plugin.field`` for an extension field,
    None for a computed column."""
    return f"{ctx.app.registry.owner(column)}.{column.field}" if column.field else None


def column_cells(ctx, info: EntityInfo, columns: list[ListColumn], rows: list
                 ) -> dict[str, dict[int, str]]:
    """``{column name: {record id: text}}`` for a page of records: one call of each
    computed column, one query per extension."""
    from kernel.web.desk.fields import display

    if not columns or not rows:
        return {}
    tz = ctx.settings.tz
    extension_rows = records.extension_rows(ctx, info, [r.id for r in rows]) \
        if any(c.field for c in columns) else {}
    found = {}
    for column in columns:
        if column.compute is not None:
            values = dict(column.compute(ctx, rows) or {})
            found[column.name] = {r.id: _shown(column, values.get(r.id), tz) for r in rows}
            continue
        owner = ctx.app.registry.owner(column)
        extension = info.extension(owner)
        spec = extension.field(column.field)
        by_id = extension_rows.get(owner, {})
        found[column.name] = {
            r.id: display(spec, records.extension_value(extension, spec, by_id.get(r.id)), tz)
            for r in rows}
    return found


def _shown(column: ListColumn, value: Any, tz) -> str:
    """A computed column's value as text for people."""
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return f"{Decimal(value):,.2f}"
    if column.kind == "boolean":
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
