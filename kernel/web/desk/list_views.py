"""What a list page adds to its rows: the default filter's chip, the user's saved filters,
group-by counts, the column picker, and the switch between the list and its other views.

The state lives in the address (:class:`~kernel.web.desk.listing.ListState`); what a user
keeps (saved filters, columns) in :mod:`kernel.list_prefs`, written by the POST routes
here (each with the session's CSRF token). Counts are SQL aggregates
(:mod:`kernel.grouping`), never a query per row.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import list_prefs
from kernel.entities import EntityInfo
from kernel.errors import NotFound, ValidationError
from kernel.grouping import group_counts, groupable_fields
from kernel.i18n import _, use_locale
from kernel.web.deps import app_of
from kernel.web.desk import contributed, fields
from kernel.web.desk.listing import ListState, service_filters
from kernel.web.desk.render import DeskRoute, desk_context, guess_locale, redirect

MAX_ID = 2**31 - 1


def _info(request: Request, name: str) -> EntityInfo:
    info = app_of(request).exposed.get(name)
    if info is None:
        with use_locale(guess_locale(request)):  # before the user's context: his language
            raise NotFound(_("There is no such page."))
    return info


def workflow_of(info: EntityInfo) -> str | None:
    """The field holding ``info``'s workflow state (``__workflow__``), or None."""
    return getattr(info, "workflow", None) or getattr(info.cls, "__workflow__", None)


def apply_preset(ctx, info: EntityInfo, state: ListState) -> ListState:
    """Put the default filter in force on ``state`` when the user asked for no filter, or
    for exactly its rows (the search box sends the filter rows it shows)."""
    if state.all:
        return state
    preset = list_prefs.preset_for(ctx, info)
    if preset is not None and state.filters == list(preset.filters):
        state.filters = []
    if state.wants_preset:
        state.preset = preset
    return state


def remove_filter_urls(state: ListState, base: str) -> list[str]:
    """For each filter row in force, the list without it (``all=1`` once none is left)."""
    rows = state.effective_filters
    urls = []
    for i in range(len(rows)):
        rest = rows[:i] + rows[i + 1:]
        urls.append(state.url(base, page=1, filters=rest, all=not rest))
    return urls


def filter_texts(ctx, info: EntityInfo, rows: list[tuple[str, str, str]]) -> list[str]:
    """The filter rows as people read them (``状态 属于 待处理, 已派工``): labels,
    operators and choices translated, references by their record's label."""
    from kernel.web.desk.listing import OPERATORS

    texts = []
    for name, op, value in rows:
        spec = info.field(name)
        values = [v.strip() for v in value.split(",")]
        if spec is not None and spec.kind == "enum":
            values = [_(v) for v in values]
        elif spec is not None and spec.kind == "boolean":
            values = [_("yes") if v in ("true", "1", _("yes")) else _("no") for v in values]
        else:
            values = referenced(ctx, spec, values) or values
        label = fields.label(info, name) if spec is not None else name
        texts.append(f"{label} {_(OPERATORS.get(op, OPERATORS['eq'])[1])} {', '.join(values)}")
    return texts


def referenced(ctx, spec, values: list[str]) -> list[str] | None:
    """The labels of the records a reference filter names by id (``12`` → ``E002 王工``;
    ``#12`` for one the user may not see), or None when the values are no ids."""
    if spec is None or not spec.foreign or not values or \
            not all(v.isdigit() and int(v) <= MAX_ID for v in values):
        return None
    found = fields.reference_labels(ctx, ctx.app, spec, [int(v) for v in values])
    return [found.get(int(v), f"#{v}") for v in values]


def reference_texts(ctx, info: EntityInfo, rows: list[tuple[str, str, str]]) -> list:
    """For each filter row, what its ids stand for (``E002 王工``), else None: shown
    beside the value a card's or the board's link put there (one query per such row)."""
    return [", ".join(found) if (found := referenced(
        ctx, info.field(name), [v.strip() for v in value.split(",")])) else None
        for name, _op, value in rows]


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def columns_for(ctx, info: EntityInfo) -> tuple[list, list]:
    """The list's own columns (field infos) and other plugins' columns, as the user chose
    them (else the entity's defaults and every contributed column)."""
    extra = contributed.list_columns(ctx, info)
    chosen = list_prefs.chosen_columns(ctx, info.name)
    if chosen is None:
        own = [info.field(c) for c in info.list_columns if info.field(c) is not None]
        return own, extra
    own = [info.field(c) for c in chosen if "." not in c and info.field(c) is not None]
    by_name = {c.name: c for c in extra}
    return own, [by_name[c] for c in chosen if c in by_name]


def column_picker(ctx, info: EntityInfo, own: list, extra: list) -> list[dict]:
    """Every column the user may show, the shown ones first (in their order), each with
    its label and whether it is shown."""
    shown = [spec.name for spec in own] + [c.name for c in extra]
    labels = {c.name: _(c.label) for c in contributed.list_columns(ctx, info)}
    names = list_prefs.column_choices(ctx, info)
    ordered = shown + [n for n in names if n not in shown and
                       (n in labels or info.field(n) is not None)]
    return [{"name": n, "label": labels.get(n) or fields.label(info, n), "shown": n in shown}
            for n in ordered if n in labels or info.field(n) is not None]


# --------------------------------------------------------------------------
# group-by
# --------------------------------------------------------------------------


def _group_rows(spec, value) -> list[tuple[str, str, str]] | None:
    """The filter rows that select the records of one group (None: no filter can)."""
    if value is None:
        return None
    if spec.kind == "boolean":
        return [(spec.name, "eq", "true" if value else "false")]
    if spec.kind in ("date", "datetime"):
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return [(spec.name, "gte", day.isoformat()),
                (spec.name, "lt", (day + dt.timedelta(days=1)).isoformat())]
    return [(spec.name, "eq", str(value))]


def groups(ctx, info: EntityInfo, state: ListState, base: str) -> dict | None:
    """The counts per value of the field the list is grouped by (``state.group``), each a
    link to the list filtered to that value; None when the list is not grouped."""
    if not state.group:
        return None
    spec = info.field(state.group)
    counts = group_counts(ctx, info, state.group, filters=service_filters(ctx, info, state),
                          q=state.q or None)
    refs = fields.reference_labels(ctx, ctx.app, spec, [v for v, _n in counts]) \
        if spec.foreign else {}
    rows = []
    for value, count in counts:
        if value is None:
            text = _("(empty)")
        elif spec.kind == "enum":
            text = _(str(value))
        elif spec.kind == "boolean":
            text = _("yes") if value else _("no")
        elif spec.foreign:
            text = refs.get(value) or f"#{value}"
        else:
            text = str(value)
        extra = _group_rows(spec, value)
        url = state.url(base, page=1, group="", all=False,
                        filters=state.effective_filters + extra) if extra else None
        rows.append({"text": text, "count": count, "url": url,
                     "value": "" if value is None else str(value)})
    return {"field": fields.label(info, spec.name), "rows": rows,
            "total": sum(r["count"] for r in rows)}


# --------------------------------------------------------------------------
# the page's extra parts
# --------------------------------------------------------------------------


def entity_views(ctx, info: EntityInfo, current: str = "list") -> list[dict]:
    """The views of ``info`` the user may open: the list, the kanban (entities with a
    workflow) and the pages the entity declares (``__desk_views__``: ``(title msgid, url,
    permission or None)``)."""
    base = f"/desk/{info.name}"
    views = [{"name": "list", "title": _("List"), "url": base, "current": current == "list"}]
    if workflow_of(info):
        views.append({"name": "kanban", "title": _("Kanban"), "url": f"{base}/kanban",
                      "current": current == "kanban"})
    for title, url, permission in getattr(info.cls, "__desk_views__", ()):
        if permission is None or ctx.can(permission):
            views.append({"name": url, "title": _(title), "url": url,
                          "current": current == url})
    return views


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return [(k, v) for k, v in parse_qsl(query) if k not in ("page", "done")]


def _query_of(state: ListState) -> str:
    """The list's query string as a saved filter keeps it (filters in force, no page)."""
    from urllib.parse import urlencode

    return urlencode(state.params(page=1, filters=state.effective_filters, all=False))


def page_parts(ctx, info: EntityInfo, state: ListState, base: str, own: list,
               extra: list) -> dict:
    """Everything the list page's workbench bar shows (``desk/_list_views.html``)."""
    saved = list_prefs.saved_filters(ctx, info.name) if ctx.user is not None else []
    current = _query_of(state)
    mine = _pairs(current)
    preset = state.preset
    return {
        "views": entity_views(ctx, info, "list"),
        "chip": {"label": preset.label,
                 "remove_url": state.url(base, page=1, filters=[], all=True)}
        if preset is not None and not state.filters else None,
        "saved": [{"id": s.id, "name": s.name, "url": f"{base}?{s.query}" if s.query else
                   f"{base}?all=1", "default": s.is_default, "current": _pairs(s.query) == mine}
                  for s in saved],
        "query": current,
        "group_fields": [(f.name, fields.label(info, f.name))
                         for f in groupable_fields(info)],
        "group": groups(ctx, info, state, base),
        "columns": column_picker(ctx, info, own, extra),
        "group_hidden": [(k, v) for k, v in state.params(page=1, group="") if k != "page"],
        "back": state.url(base),
    }


# --------------------------------------------------------------------------
# routes: saved filters and columns
# --------------------------------------------------------------------------


def _filter_id(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound(_("There is no such page."))
    return int(text)


def _back(form, base: str) -> str:
    """Where to go after a change: the list the form came from (never another site)."""
    back = str(form.get("back") or "")
    return back if back.startswith(f"{base}?") or back == base else base


def router(list_page) -> APIRouter:
    """``POST /desk/<entity>/filters`` (save), ``.../filters/<id>/delete``,
    ``.../filters/<id>/default`` and ``/desk/<entity>/columns``; ``list_page`` draws the
    list again when a filter cannot be saved (:func:`kernel.web.desk.pages.list_page`)."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.post("/desk/{entity}/filters")
    async def save_filter(request: Request, entity: str):
        form = await request.form()
        return await run_in_threadpool(_save_filter, request, entity, form, list_page)

    @routes.post("/desk/{entity}/filters/{filter_id}/{what}")
    async def change_filter(request: Request, entity: str, filter_id: str, what: str):
        form = await request.form()
        return await run_in_threadpool(_change_filter, request, entity,
                                       _filter_id(filter_id), what, form)

    @routes.post("/desk/{entity}/columns")
    async def save_columns(request: Request, entity: str):
        form = await request.form()
        return await run_in_threadpool(_save_columns, request, entity, form)

    return routes


def _save_filter(request: Request, entity: str, form, list_page):
    """Save the filter; a wrong name shows the list again with the error under it."""
    info = _info(request, entity)
    base = f"/desk/{info.name}"
    query = str(form.get("query") or "")
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            list_prefs.save_filter(ctx, info.name, str(form.get("name") or ""), query,
                                   default=form.get("default") in ("1", "on", "true"))
        return redirect(f"{base}?{query}" if query else f"{base}?all=1")
    except ValidationError as exc:
        problem = {"field": exc.field or "name", "message": exc.message,
                   "name": str(form.get("name") or "")[:200]}
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        return list_page(request, ctx, info, query=query, save_problem=problem)


def _change_filter(request: Request, entity: str, filter_id: int, what: str, form):
    info = _info(request, entity)
    base = f"/desk/{info.name}"
    if what not in ("delete", "default", "undefault"):
        raise NotFound(_("There is no such page."))
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        if what == "delete":
            list_prefs.delete_filter(ctx, info.name, filter_id)
        else:
            list_prefs.set_default(ctx, info.name, filter_id if what == "default" else None)
    return redirect(_back(form, base))


def _save_columns(request: Request, entity: str, form):
    info = _info(request, entity)
    base = f"/desk/{info.name}"
    names = [] if form.get("reset") else [str(n) for n in form.getlist("columns")]
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        list_prefs.save_columns(ctx, info.name, names or None)
    return redirect(_back(form, base))
