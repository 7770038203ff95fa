"""Lines on a record's form: the rows of child entities as tables, added to and edited
in place.

A child entity declares itself lines of a parent, named by table, so that a plugin can
put lines on another plugin's entity:

``__lines_of__ = ("order_id", "repair_work_order")``  the column holding the parent's id
``__line_columns__``   the table's columns (default: its list columns but the parent's);
                       ``"order_id.phone"`` shows a field of the record a key points to
``__line_order__``     the rows' order (default: ``__default_sort__``, else by id)
``__lines_title__``    the table's title (default: the entity's title)
``__line_action__``    the parent's action that adds a line (for lines only a plugin's
                       actions write: repair's ``add_part``); its inputs are the add row
``__row_actions__``    ``(("return_part", "line_id"),)``: the parent's actions on one line,
                       offered on each row with the row's id as that param (only on the
                       rows the param's ``choices_for`` lists, when it has one)

Lines whose fields the user may write (a customer's contacts) get an add row and an
*Edit* link per row that turns the row into inputs; both are saved by
:mod:`kernel.web.desk.line_forms` through :mod:`kernel.records`, the parent fixed.
"""

from __future__ import annotations

from kernel import records
from kernel.entities import EntityInfo
from kernel.i18n import _
from kernel.web.desk import action_form, fields
from kernel.web.desk.document_values import cells, columns_of, technical

#: at most this many lines are shown (the rest through the list of the child entity)
MAX_LINES = 200


def children(ctx, info: EntityInfo) -> list[EntityInfo]:
    """The entities that are lines of ``info`` and that the user may read, in the
    site's order."""
    return [child for child in ctx.app.exposed.values()
            if child.lines_of is not None and child.lines_of[1] == info.name
            and ctx.can(child.perm("read"))]


def line_actions(ctx, info: EntityInfo) -> set[str]:
    """The names of ``info``'s actions that add a line of one of its tables (shown as
    that table's add row instead of in the bar)."""
    return {getattr(child.cls, "__line_action__", None) for child in children(ctx, info)} \
        - {None}


def _column_names(child: EntityInfo) -> list[str]:
    key = child.lines_of[0]
    declared = getattr(child.cls, "__line_columns__", None)
    names = declared or [n for n in child.list_columns if n != key]
    return [n for n in names if n not in technical(child) and n != key]


def tables(ctx, info: EntityInfo, record, *, control, possible: dict, failed: dict,
           editing: dict | None, frozen: bool) -> list[dict]:
    """The lines tables of ``record``: for each child entity its ``title``, ``headers``,
    ``rows`` (cells, edit link, row actions, inputs when being edited), and its add row
    (``add``: inputs of its fields, or ``action``: the box of the parent's action that
    adds a line). ``control(child, spec, name, label, value, error, editable)`` draws an
    input (the form's own); ``possible`` are the parent's actions possible now, by name;
    ``failed`` the action that failed (``name``, ``raw``, ``errors``, ``row``);
    ``editing`` the line being written (``entity``, ``id`` or None for a new one,
    ``raw``, ``errors``)."""
    found = []
    base = f"/desk/{info.name}/{record.id}"
    for child in children(ctx, info):
        key = child.lines_of[0]
        columns = columns_of(ctx, child, _column_names(child))
        order = getattr(child.cls, "__line_order__", None) or \
            getattr(child.cls, "__default_sort__", None)
        page = records.list_records(ctx, child, filters={key: str(record.id)},
                                    sort=order, limit=MAX_LINES, count=True)
        rows, total = page.rows, page.total
        shown = cells(ctx, columns, rows)
        writable = [c for c in columns if c.via is None and c.spec in fields.form_fields(child)]
        can_add = bool(writable) and not frozen and child.offers("create") and \
            ctx.can(child.perm("create"))
        can_edit = bool(writable) and not frozen and child.offers("update") and \
            ctx.can(child.perm("update"))
        mine = editing if editing and editing.get("entity") == child.name else None
        readable = f"/desk/{child.name}"
        row_actions = _row_actions(ctx, info, record, child, possible)
        table = {"name": child.name, "title": _(getattr(child.cls, "__lines_title__", None)
                                                 or child.title),
                 "headers": [{"name": c.name, "label": c.label,
                              "kind": "reference" if c.spec.foreign else c.spec.kind}
                             for c in columns],
                 "rows": [], "total": total, "more_url": None, "add": None, "action": None,
                 "form_url": f"{base}/lines/{child.name}", "has_row_tools": False,
                 "problem": mine.get("problem") if mine else None}
        if total > len(rows):
            table["more_url"] = f"{readable}?f={key}&op=eq&v={record.id}"
        for row in rows:
            editing_row = mine is not None and mine.get("id") == row.id
            entry = {"id": row.id, "url": f"{readable}/{row.id}",
                     "cells": [shown[row.id][c.name] for c in columns],
                     "edit_url": f"{base}?edit={child.name}.{row.id}#line-{child.name}-{row.id}"
                     if can_edit else None,
                     "inputs": None, "actions": []}
            if editing_row:
                entry["inputs"] = _inputs(child, columns, control, row, mine,
                                          f"l-{child.name}-{row.id}", ctx.settings.tz)
            for action, param, offered in row_actions:
                if offered is not None and str(row.id) not in offered:
                    continue
                entry["actions"].append(_row_box(ctx, info, record, action, param, row,
                                                 failed))
            table["has_row_tools"] = table["has_row_tools"] or bool(
                entry["edit_url"] or entry["actions"])
            table["rows"].append(entry)
        if can_add:
            adding = mine if mine is not None and mine.get("id") is None else None
            table["add"] = _inputs(child, columns, control, None, adding,
                                   f"l-{child.name}-new", ctx.settings.tz)
        adder = possible.get(getattr(child.cls, "__line_action__", None))
        if adder is not None:
            table["action"] = action_form.describe(
                ctx, info, adder, raw=failed.get("raw") if failed.get("name") == adder.name
                else None, errors=failed.get("errors") if failed.get("name") == adder.name
                else None, record=record)
        found.append(table)
    return found


def _inputs(child: EntityInfo, columns, control, row, editing: dict | None, prefix: str,
            tz) -> list[dict]:
    """An input per column of a line (a cell's text for columns that are not written):
    the row's values, or as typed with the errors found."""
    raw = (editing or {}).get("raw") or {}
    errors = (editing or {}).get("errors") or {}
    writable = set(fields.form_fields(child))
    found = []
    for col in columns:
        if col.via is not None or col.spec not in writable:
            found.append({"text": "", "control": None})
            continue
        name = col.spec.name
        if editing is not None and name in raw:
            value = raw[name]
        elif row is not None:
            value = fields.form_value(col.spec, getattr(row, name), tz)
        else:
            value = fields.form_value(col.spec, fields.column_default(child, name), tz)
        made = control(child, col.spec, name, col.label, value, errors.get(name), True)
        made["id"] = f"{prefix}-{name}"
        found.append({"text": "", "control": made})
    return found


def _row_actions(ctx, info: EntityInfo, record, child: EntityInfo, possible: dict):
    """``(action, param, offered ids or None)`` of each row action of ``child`` possible
    on ``record`` now."""
    from kernel.params import action_params

    found = []
    for declared in getattr(child.cls, "__row_actions__", ()):
        name, param_name = declared[0], declared[1]
        action = possible.get(name)
        if action is None:
            continue
        param = next((p for p in action_params(info, action) if p.name == param_name), None)
        if param is None:
            continue
        offered = None
        if getattr(param, "choices_for", None) is not None:
            offered = {str(value) for value, _text in param.choices_for(ctx, record)}
        found.append((action, param_name, offered))
    return found


def _row_box(ctx, info: EntityInfo, record, action, param_name: str, row,
             failed: dict) -> dict:
    """The box of ``action`` for one line: its other inputs (ids ``a-<action>-<param>-
    <row>``), the row's id sent as ``param_name``; open as typed when it failed there."""
    mine = failed.get("name") == action.name and failed.get("row") and \
        str((failed.get("raw") or {}).get(param_name)) == str(row.id)
    box = action_form.describe(ctx, info, action, raw=failed.get("raw") if mine else None,
                               errors=failed.get("errors") if mine else None, record=record)
    box["controls"] = [dict(c, id=f"{c['id']}-{row.id}") for c in box["controls"]
                       if c["name"] != param_name]
    box["row_param"], box["row_id"], box["open"] = param_name, row.id, bool(mine)
    return box
