"""A record's form as a document: the status bar, the header, the sections of details.

What an entity class declares (all optional; an entity without them keeps the generic
form):

``__workflow__ = "status"``   the enum field of the record's workflow: the status bar shows
                              its states in the enum's order, the current one marked;
                              ``__workflow_side__`` lists the states shown only while
                              current (``"cancelled"``)
``__header__``                what matters, on top of the form: field names; a field of
                              the record a foreign key points to (``"order_id.phone"``);
                              several fields on one line (``("model", "serial_no")``); a
                              deadline (``("deadline_at", "deadline", "arrived_at",
                              "cancelled_at")``: time left or late by, in clock time,
                              against ``ctx.now()``; met or missed when the first field
                              after ``"deadline"`` is set, no longer counted once a later
                              one is)
``__technical__``             fields never shown (besides ``id``, ``company_id``,
                              ``created_at``, ``updated_at``, always hidden)
``__groups__``                ``((N_("Title"), ("field", ...)), ...)``: the read-only
                              details in titled sections; the rest go to *Details*

The actions possible now (:func:`kernel.actions.possible_actions`) are the bar's buttons,
the usual next step (:meth:`kernel.Action.is_next`) first, then by ``Action.order``.
Lines of the record (:mod:`kernel.web.desk.document_lines`) follow the details.
"""

from __future__ import annotations

import datetime as dt

from kernel.entities import EntityInfo, FieldInfo
from kernel.i18n import N_, _
from kernel.web.desk import document_lines, fields, lifecycle
from kernel.web.desk.document_values import TECHNICAL, cells, columns_of, technical

__all__ = ["TECHNICAL", "build", "editing_of", "header", "sections", "status_bar",
           "technical"]

#: how a header item may be shown besides its plain value
STYLES = ("deadline",)
#: the section of details no group names
REST_TITLE = N_("Details")
#: a deadline closer than this is shown as due soon
SOON = dt.timedelta(hours=1)


# --------------------------------------------------------------------------
# the status bar
# --------------------------------------------------------------------------


def state_of(info: EntityInfo, record) -> str | None:
    """The record's workflow state (the value of its ``__workflow__`` field)."""
    if not info.workflow or record is None:
        return None
    value = getattr(record, info.workflow, None)
    return None if value is None else str(getattr(value, "value", value))


def states(info: EntityInfo, record) -> list[dict]:
    """The workflow's states as the bar shows them: ``value``, translated ``title``,
    ``current``; side states only while current."""
    spec = info.field(info.workflow) if info.workflow else None
    if spec is None or record is None:
        return []
    current = state_of(info, record)
    side = set(getattr(info.cls, "__workflow_side__", ()))
    return [{"value": choice, "title": _(choice), "current": choice == current}
            for choice in spec.choices if choice not in side or choice == current]


def ordered(info: EntityInfo, record, actions: list) -> list:
    """``actions`` (:class:`kernel.Action`) in the bar's order: the usual next step
    first, then by ``order``, then as registered."""
    ranked = sorted(enumerate(actions), key=lambda pair: (
        not pair[1].is_next(record, info.workflow), pair[1].order, pair[0]))
    return [action for _i, action in ranked]


def status_bar(info: EntityInfo, record, actions: list, boxes: dict[str, dict]) -> dict | None:
    """The bar: the workflow's ``states`` and the ``actions`` possible now as buttons
    (their boxes from :func:`kernel.web.desk.action_form.describe`, by name), the usual
    next step first and marked ``primary``. None when there is neither."""
    shown = [a for a in ordered(info, record, actions) if a.name in boxes]
    buttons = []
    for action in shown:
        box = dict(boxes[action.name])
        box["next"], box["primary"] = action.is_next(record, info.workflow), False
        buttons.append(box)
    if buttons and buttons[0]["next"]:
        buttons[0]["primary"] = True
    found = states(info, record)
    if not found and not buttons:
        return None
    current = next((s["title"] for s in found if s["current"]), None)
    return {"states": found, "current": current, "actions": buttons,
            "field": fields.label(info, info.workflow) if info.workflow else None}


# --------------------------------------------------------------------------
# the header
# --------------------------------------------------------------------------


def _parts(item) -> tuple[tuple[str, ...], str | None, tuple[str, ...]]:
    """A ``__header__`` item as (fields shown, style, fields that stop a deadline)."""
    if isinstance(item, str):
        return (item,), None, ()
    item = tuple(item)
    if len(item) > 1 and item[1] in STYLES:
        return (item[0],), item[1], item[2:]
    return item, None, ()


def duration(minutes: int) -> str:
    """``minutes`` as people read a stretch of time: ``2 h 15 min``, ``1 d 3 h``."""
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest) if rest else \
            _("{hours} h").format(hours=hours)
    days, hours = divmod(hours, 24)
    return _("{days} d {hours} h").format(days=days, hours=hours) if hours else \
        _("{days} d").format(days=days)


def deadline_state(deadline: dt.datetime, now: dt.datetime, met: dt.datetime | None = None,
                   stopped: bool = False) -> tuple[str | None, str]:
    """(what to say, state) of a deadline: time left (``ok``, ``soon``), late by
    (``late``), or once ``met`` is set, ``met`` or ``missed`` by how much; nothing
    (``stopped``) when it stopped counting without being met. Clock time, whole
    minutes."""
    if met is not None:
        late = int((met - deadline).total_seconds() // 60)
        if late <= 0:
            return _("done on time"), "met"
        return _("done {time} late").format(time=duration(late)), "missed"
    if stopped:
        return None, "stopped"
    left = deadline - now
    if left >= dt.timedelta(0):
        minutes = int(left.total_seconds() // 60)
        return _("{time} left").format(time=duration(minutes)), \
            "soon" if left < SOON else "ok"
    late = int(-left.total_seconds() // 60) or 1
    return _("{time} late").format(time=duration(late)), "late"


def header(ctx, info: EntityInfo, record) -> list[dict]:
    """The header items of ``record`` (``__header__``): ``label``, ``text``, ``url``,
    and for a deadline ``note`` (time left, late by), ``state`` and ``clock`` (the note
    counts clock time)."""
    declared = [_parts(item) for item in getattr(info.cls, "__header__", ())]
    if record is None or not declared:
        return []
    names = [n for shown, _style, _stops in declared for n in shown]
    known = {c.name: c for c in columns_of(ctx, info, names)}
    values = cells(ctx, list(known.values()), [record]).get(record.id, {})
    items = []
    for shown, style, stops in declared:
        parts = [values[n] for n in shown if n in known and values[n]["text"]]
        if not parts:
            continue
        labels = [known[n].label for n in shown if n in known and values[n]["text"]]
        item = {"name": shown[0], "label": " · ".join(labels),
                "text": " · ".join(p["text"] for p in parts),
                "url": parts[0]["url"] if len(parts) == 1 else None, "note": None,
                "state": None, "clock": False}
        deadline = parts[0]["value"]
        if style == "deadline" and isinstance(deadline, dt.datetime):
            met = getattr(record, stops[0], None) if stops else None
            stopped = any(getattr(record, s, None) is not None for s in stops[1:])
            item["note"], item["state"] = deadline_state(deadline, ctx.now(), met, stopped)
            item["clock"] = met is None and not stopped
        items.append(item)
    return items


# --------------------------------------------------------------------------
# the sections of read-only details
# --------------------------------------------------------------------------


def _at_default(info: EntityInfo, name: str, value) -> bool:
    default = fields.column_default(info, name)
    if default is None or callable(default):
        return False
    return str(getattr(value, "value", value)) == str(getattr(default, "value", default))


def sections(ctx, info: EntityInfo, record, *, readonly: list[FieldInfo]) -> list[dict]:
    """The read-only details of ``record`` in titled sections (``__groups__``, then
    *Details* for the rest): ``title`` and ``entries`` (``label``, ``text``, ``url``,
    ``kind``) that say something: empty values and values still at their column's
    default (no pause, never reopened) are left out, and so are sections left empty.
    Technical fields, the workflow field and fields of the header are left out of the
    rest."""
    if record is None:
        return []
    hidden = technical(info) | {info.workflow}
    wanted = [spec.name for spec in readonly if spec.name not in hidden]
    groups = [(_(title), [n for n in names if n in wanted])
              for title, names in getattr(info.cls, "__groups__", ())]
    placed = {n for _title, names in groups for n in names}
    in_header = {n for shown, _s, _stops in map(_parts, getattr(info.cls, "__header__", ()))
                 for n in shown}
    rest = [n for n in wanted if n not in placed and n not in in_header]
    if rest:
        groups.append((_(REST_TITLE), rest))
    known = {c.name: c for c in columns_of(ctx, info, [n for _t, names in groups
                                                       for n in names])}
    values = cells(ctx, list(known.values()), [record]).get(record.id, {})
    found = []
    for title, names in groups:
        items = [{"name": n, "label": known[n].label, **values[n]} for n in names
                 if n in known and values[n]["text"] not in ("", None)
                 and not _at_default(info, n, values[n]["value"])]
        if items:
            found.append({"title": title, "entries": items,
                          "slug": "details" if title == _(REST_TITLE) else
                          f"group-{len(found) + 1}"})
    return found


# --------------------------------------------------------------------------
# the whole document
# --------------------------------------------------------------------------


def editing_of(text: str | None) -> dict | None:
    """The line ``?edit=<child entity>.<id>`` asks to edit in place, or None."""
    entity, _dot, number = str(text or "").partition(".")
    if not entity or not number.isdigit() or len(number) > 10:
        return None
    return {"entity": entity, "id": int(number)}


def build(ctx, info: EntityInfo, record, *, possible: list, boxes: dict[str, dict],
          failed: dict, editing: dict | None, control) -> dict:
    """What ``form.html`` draws of an existing ``record`` as a document: ``bar``
    (:func:`status_bar`), ``header``, ``sections`` (the read-only details) and
    ``lines`` (:func:`kernel.web.desk.document_lines.tables`). The actions that add a
    line are its table's add row, not buttons of the bar."""
    frozen = lifecycle.frozen(record)
    by_name = {a.name: a for a in possible}
    lines = document_lines.tables(ctx, info, record, control=control, possible=by_name,
                                  failed=failed, editing=editing, frozen=frozen)
    adders = {t["action"]["name"] for t in lines if t["action"]}
    bar = status_bar(info, record, [a for a in possible if a.name not in adders], boxes)
    return {"bar": bar, "header": header(ctx, info, record), "lines": lines,
            "sections": sections(ctx, info, record, readonly=fields.readonly_fields(info))}
