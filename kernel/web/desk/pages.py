"""The desk's pages: home, list, form (with actions, printing, history), export, batch print.

Every page runs in one transaction as the logged-in user
(:func:`~kernel.web.desk.render.desk_context`) and calls the same services as
the API: :mod:`kernel.records`, the plugins' actions, and
:mod:`kernel.documents.service`. Writes are POSTed forms carrying the
session's CSRF token.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kernel import records
from kernel.auth import ADMIN, role_title
from kernel.entities import EntityInfo
from kernel.errors import Conflict, FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.web.deps import app_of
from kernel.web.desk import action_form, contributed, document, fields, lifecycle, links, list_views
from kernel.web.desk.export import MAX_EXPORT_ROWS, matching_rows, to_csv, to_xlsx
from kernel.web.desk.listing import OPERATORS, PAGE_SIZES, ListState, service_filters
from kernel.web.desk.render import DeskRoute, desk_context, redirect, render
from kernel.web.downloads import file_response

STATIC_NAME = re.compile(r"^[\w-]+\.(css|js|svg|png|ico)$")
STATIC_TYPES = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml",
                "png": "image/png", "ico": "image/x-icon"}
MAX_ID = 2**31 - 1
#: what ``?done=...`` after a redirect says
NOTICES = {"created": N_("Created."), "saved": N_("Saved."), "deleted": N_("Deleted."),
           "action": N_("Done: {action}."), "noted": N_("Note added."),
           "attached": N_("File attached.")}


def entity_info(request: Request, name: str) -> EntityInfo:
    info = app_of(request).exposed.get(name)
    if info is None:
        raise NotFound(_("There is no such page."))
    return info


def record_id_of(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound(_("There is no such page."))
    return int(text)


def documents_for(ctx, info: EntityInfo) -> list:
    """The papers of ``info`` the user may print, offered in the user's branch."""
    from kernel.documents.service import permission_of

    return [d for d in ctx.app.documents.values() if d.entity == info.name
            and ctx.offers(d) and ctx.can(permission_of(d))]


def creatable(info: EntityInfo, can) -> bool:
    """Whether the desk offers "New" (``/desk/<entity>/new``) for ``info`` to this user.

    Entities whose every field is read-only are made by their plugin's own
    services (a work order is registered, not typed in): no "New" for them,
    unless the entity names the permission of its plugin's own new-record page
    (``__new_permission__``, such as ``"register"``).
    """
    if info.new_permission:
        return can(info.perm(info.new_permission))
    return info.offers("create") and bool(fields.form_fields(info)) and can(info.perm("create"))


# --------------------------------------------------------------------------
# home
# --------------------------------------------------------------------------


def home_modules(ctx) -> list[dict]:
    """The enabled plugins' entities the user may read and reports the user may run,
    grouped by plugin (kernel first)."""
    from kernel.actions import actions_on
    from kernel.web.desk.reports import reports_by_module

    app, can = ctx.app, ctx.can
    order = {name: i for i, name in enumerate(app.plugin_order)}
    groups: dict[str, list] = {}
    for info in app.exposed.values():
        if can(info.perm("read")):
            groups.setdefault(info.plugin, []).append(info)
    reports = reports_by_module(app, can)
    modules = []
    for plugin in sorted(set(groups) | set(reports), key=lambda p: order.get(p, len(order))):
        if plugin == "kernel":
            title = _(fields.KERNEL_MODULE)
        else:
            meta = app.plugins.get(plugin)
            title = _(meta.title) if meta is not None and meta.title else plugin
        entities = [{"info": info, "title": _(info.title), "url": f"/desk/{info.name}",
                     "new_url": f"/desk/{info.name}/new" if creatable(info, can) else None,
                     "views": list_views.entity_views(ctx, info)[1:]}  # kanban, boards
                    for info in groups.get(plugin, [])]
        actions = [_(a.title) for info in groups.get(plugin, [])
                   for a in actions_on(ctx, info.name) if can(a.permission)]
        modules.append({"name": plugin, "title": title, "entities": entities,
                        "actions": actions, "reports": reports.get(plugin, [])})
    return modules


# --------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------


def filter_fields(ctx, info: EntityInfo) -> list[dict]:
    """The fields a list can be filtered on: the entity's own, then its extensions'."""
    own = [(f.name, fields.label(info, f.name), f) for f in info.fields
           if f.name not in fields.HIDDEN_IN_FORMS]
    extended = [(f"{e.namespace}.{f.name}", contributed.extension_label(e, f), f)
                for e in records.extensions_of(ctx, info) for f in e.fields]
    return [{"name": name, "label": text, "kind": "reference" if f.foreign else f.kind,
             "choices": [(c, _(c)) for c in f.choices] if f.kind == "enum" else
             [(_("yes"), _("yes")), (_("no"), _("no"))] if f.kind == "boolean" else []}
            for name, text, f in own + extended]


def list_page(request: Request, ctx, info: EntityInfo, query: str | None = None,
              save_problem: dict | None = None) -> Response:
    """The list of ``info`` (``query``: its query string, default the request's);
    ``save_problem``: why saving a filter failed, shown under the filter's name."""
    from starlette.datastructures import QueryParams

    app, can, tz = ctx.app, ctx.can, ctx.settings.tz
    base = f"/desk/{info.name}"
    state = ListState.from_query(request.query_params if query is None else QueryParams(query))
    ctx.require(info.perm("read"))
    list_views.apply_preset(ctx, info, state)
    problem = None
    try:
        page = records.list_records(ctx, info, filters=service_filters(ctx, info, state),
                                    q=state.q or None, sort=state.effective_sort or None,
                                    limit=state.limit, offset=state.offset,
                                    after=state.after or None, before=state.before or None,
                                    count=state.count)
    except ValidationError as exc:
        page, problem = records.RecordPage([], 0), exc.message
    rows = page.rows
    pager = _pager(state, page, base)
    columns, extra = list_views.columns_for(ctx, info)  # the user's choice, else defaults
    extra_cells = contributed.column_cells(ctx, info, extra, rows)
    refs = {spec.name: fields.reference_labels(ctx, app, spec,
                                               [getattr(r, spec.name) for r in rows])
            for spec in columns if spec.foreign}
    refs.update(links.column_labels(ctx, columns, rows))  # one query per linked entity
    linkable = {spec.name: spec.foreign for spec in columns
                if spec.foreign in app.exposed and can(app.exposed[spec.foreign].perm("read"))}
    table = []
    for record in rows:
        cells = []
        for spec in columns:
            value = getattr(record, spec.name)
            text = fields.display(spec, value, tz, refs.get(spec.name))
            url = f"/desk/{linkable[spec.name]}/{value}" if spec.name in linkable and \
                value is not None and value in refs.get(spec.name, {}) else None
            url = url or links.url(spec, value, refs.get(spec.name))
            cells.append({"text": text, "url": url, "kind": spec.kind})
        for column in extra:
            cells.append({"text": extra_cells[column.name][record.id], "url": None,
                          "kind": column.kind})
        table.append({"id": record.id, "url": f"{base}/{record.id}", "cells": cells,
                      "label": fields.record_label(record)})
    headers = [{"name": spec.name, "label": fields.label(info, spec.name),
                "sorted": state.sorted_by(spec.name), "kind": spec.kind,
                "url": state.url(base, sort=state.sort_link(spec.name), page=1)}
               for spec in columns]
    for column in extra:
        key = contributed.column_key(ctx, column)
        headers.append({"name": column.name, "label": _(column.label),
                        "sorted": state.sorted_by(key) if key else None, "kind": column.kind,
                        "url": state.url(base, sort=state.sort_link(key), page=1) if key
                        else None})
    query = state.url("", page=1)
    filterable = filter_fields(ctx, info)
    try:
        workbench = list_views.page_parts(ctx, info, state, base, columns, extra)
    except ValidationError as exc:  # a group-by the list cannot do
        state.group, problem = "", problem or exc.message
        workbench = list_views.page_parts(ctx, info, state, base, columns, extra)
    return render(
        request, "list.html", 422 if problem or save_problem else 200, ctx=ctx, info=info,
        workbench=workbench, save_problem=save_problem,
        title=_(info.title), base=base, state=state, headers=headers, rows=table, **pager,
        filter_fields=filterable,
        choice_fields={f["name"] for f in filterable if f["kind"] in ("enum", "boolean")},
        operators=[(k, _(v[1])) for k, v in OPERATORS.items()],
        page_sizes=PAGE_SIZES, remove_filter_urls=list_views.remove_filter_urls(state, base),
        filter_refs=list_views.reference_texts(ctx, info, state.effective_filters),
        documents=[(d.name, _(d.title)) for d in documents_for(ctx, info)],
        can_create=creatable(info, can), problem=problem,
        export_csv=f"{base}/export.csv{query}", export_xlsx=f"{base}/export.xlsx{query}",
        max_export=MAX_EXPORT_ROWS, notice=_notice(request))


def _pager(state: ListState, page, base: str) -> dict:
    """What the pager shows: the rows' numbers (``51–100``), the total when it was
    counted or the page holds the whole list, and the links around the page (by cursor:
    each page as fast as the first)."""
    first = 1 if page.previous is None and not state.offset else state.start + state.offset
    total = page.total
    if total is None and page.previous is None and page.next is None and not state.offset:
        total = len(page.rows)  # the whole list is on this page: counted for free
    return {
        "total": total, "first": first if page.rows else 0,
        "last": first + len(page.rows) - 1,
        "prev_url": state.url(base, page=1, before=page.previous, after="",
                              start=max(1, first - state.limit)) if page.previous else None,
        "next_url": state.url(base, page=1, after=page.next, before="",
                              start=first + len(page.rows)) if page.next else None,
        "first_url": state.url(base, page=1),
        "count_url": state.url(base, count=True) if total is None else None,
    }


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done")
    if done not in NOTICES:
        return None
    if done == "action":
        app = app_of(request)
        name = request.query_params.get("action", "")
        # the page's own entity first: several entities have an "approve"
        action = app.actions.get((request.path_params.get("entity"), name)) or next(
            (a for (_e, n), a in app.actions.items() if n == name), None)
        return _(NOTICES[done]).format(action=_(action.title) if action else name)
    return _(NOTICES[done])


# --------------------------------------------------------------------------
# form
# --------------------------------------------------------------------------


def field_control(ctx, info: EntityInfo, spec, *, name: str, label: str, value: str,
                  error: str | None, editable: bool) -> dict:
    """One input of a record's form (an own field, or ``plugin.field`` of an extension)."""
    app = ctx.app
    control = {"name": name, "label": label, "widget": fields.widget(spec), "kind": spec.kind,
               "value": value, "required": not spec.nullable and spec.kind != "boolean",
               "max_length": spec.max_length, "error": error, "options": None,
               "lookup": None, "readonly": spec.readonly or not editable}
    if spec.kind == "link":
        return links.link_control(ctx, spec, control)
    if spec.kind == "enum":
        control["options"] = [(c, _(c)) for c in spec.choices]
    elif spec.foreign:
        options = fields.reference_options(ctx, app, spec) if editable else None
        if options is None:
            target = fields.entity_class(app, spec.foreign)
            labels = fields.reference_labels(ctx, app, spec, [int(value)]) \
                if value.isdigit() else {}
            control["widget"] = "lookup"
            control["lookup"] = f"/desk/{spec.foreign}/lookup" \
                if spec.foreign in app.exposed and target is not None else ""
            if value.isdigit() and int(value) in labels:
                control["value"] = labels[int(value)]
        else:
            if value.isdigit() and int(value) not in {i for i, _l in options}:
                kept = fields.reference_labels(ctx, app, spec, [int(value)])
                options = [(int(value), kept.get(int(value), f"#{value}")), *options]
            control["options"] = [(str(i), text) for i, text in options]
    return control


def form_page(request: Request, ctx, info: EntityInfo, record, *, raw: dict | None = None,
              errors: dict | None = None, problem: str | None = None,
              status: int = 200, failed_action: dict | None = None,
              line_edit: dict | None = None) -> Response:
    """The form of ``record`` (None: a new one), optionally as typed with the errors found.

    ``failed_action`` (``{"name", "raw", "errors"}``, ``"row"`` when sent from a line)
    shows that action's form again as the user sent it, with the problems next to its
    inputs. ``line_edit`` (``{"entity", "id", "raw", "errors", "problem"}``) shows a line
    being written in place (:mod:`kernel.web.desk.line_forms`). The record is laid out as
    a document (:mod:`kernel.web.desk.document`): status bar, header, sections, lines.
    Other plugins' blocks (their sections and extension fields) follow.
    """
    from kernel.actions import possible_actions

    app, can, tz = ctx.app, ctx.can, ctx.settings.tz
    base = f"/desk/{info.name}"
    errors = dict(errors or {})
    editable = bool(fields.form_fields(info)) and (
        can(info.perm("update")) and info.offers("update") and not lifecycle.frozen(record)
        if record is not None else can(info.perm("create")) and info.offers("create"))
    controls = []
    # an existing record written once reads as a document: no form of disabled inputs,
    # its fields are the details (fields.readonly_fields)
    written = [] if record is not None and fields.written_once(info) else \
        fields.form_fields(info)
    for spec in written:
        if raw is not None and spec.name in raw:
            value = raw[spec.name]
        elif record is not None:
            value = fields.form_value(spec, getattr(record, spec.name), tz)
        elif spec.name == "branch_id" and ctx.branch is not None:
            value = str(ctx.branch.id)
        else:
            value = fields.form_value(spec, fields.column_default(info, spec.name), tz)
        controls.append(field_control(ctx, info, spec, name=spec.name,
                                      label=fields.label(info, spec.name), value=value,
                                      error=errors.pop(spec.name, None), editable=editable))
    extension_rows = records.extension_rows(ctx, info, [record.id]) \
        if record is not None and info.extensions else {}

    def extension_control(extension, spec, can_write):
        name = f"{extension.namespace}.{spec.name}"
        row = extension_rows.get(extension.namespace, {}).get(record.id)
        current = records.extension_value(extension, spec, row)
        value = raw[name] if raw is not None and name in raw else \
            fields.form_value(spec, current, tz)
        control = field_control(ctx, info, spec, name=name,
                                label=contributed.extension_label(extension, spec), value=value,
                                error=errors.pop(name, None), editable=can_write)
        refs = fields.reference_labels(ctx, app, spec, [current]) if spec.foreign else \
            links.labels_of(ctx, spec, [current])
        control["text"] = fields.display(spec, current, tz, refs)
        return control

    blocks = contributed.form_blocks(ctx, info, record, extension_control) \
        if record is not None else []
    details = []
    actions, documents, timeline, related, doc = [], [], None, [], None
    if record is not None:
        failed = failed_action or {}
        possible = possible_actions(ctx, info.name, record)
        boxes = {a.name: action_form.describe(ctx, info, a, raw=failed.get("raw"),
                                              errors=failed.get("errors"), record=record)
                 if a.name == failed.get("name") and not failed.get("row") else
                 action_form.describe(ctx, info, a, record=record) for a in possible}
        doc = document.build(
            ctx, info, record, possible=possible, boxes=boxes, failed=failed,
            editing=line_edit or document.editing_of(request.query_params.get("edit")),
            control=lambda child, spec, name, label, value, error, can_write: field_control(
                ctx, child, spec, name=name, label=label, value=value, error=error,
                editable=can_write))
        actions = doc["bar"]["actions"] if doc["bar"] else []
        details = [item for section in doc["sections"] for item in section["entries"]]
        documents = [{"name": d.name, "title": _(d.title),
                      "url": f"{base}/{record.id}/print/{d.name}"}
                     for d in documents_for(ctx, info) if d.available(record)]
        from kernel.web.desk.timeline_panel import panel as timeline_panel

        timeline = timeline_panel(request, ctx, info, record)
        related = [{"title": _(other.title), "field": fields.label(other, spec.name),
                    "url": f"/desk/{other.name}?f={spec.name}&op=eq&v={record.id}"}
                   for other in app.exposed.values() if can(other.perm("read"))
                   for spec in other.fields if spec.foreign == info.name
                   and other.lines_of != (spec.name, info.name)]  # lines: tables of the form
    title = _(info.title)
    heading = fields.record_label(record) if record is not None else \
        _("New {entity}").format(entity=title)
    return render(
        request, "form.html", status, ctx=ctx, info=info, title=title, heading=heading,
        base=base, record=record, controls=controls, details=details, editable=editable,
        errors=[(name, contributed.label_of(info, name) if info.field(name) else name, message)
                for name, message in errors.items()],
        problem=problem, actions=actions, documents=documents, timeline=timeline,
        related=related,
        blocks=blocks, doc=doc,
        deletable=record is not None and info.deletable and can(info.perm("delete"))
        and not lifecycle.frozen(record),
        document_state=lifecycle.document_state(ctx, info, record),
        action_url=f"{base}/{record.id}" if record is not None else f"{base}/new",
        notice=_notice(request), field_names=[c["name"] for c in controls],
        can_create=creatable(info, can))


# --------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/_static/{name}")
    def static(request: Request, name: str):
        from kernel.documents.templating import search_path

        if not STATIC_NAME.match(name):
            raise NotFound(_("There is no such page."))
        for _owner, folder in search_path(app_of(request)):
            path = Path(folder) / "desk" / "static" / name
            if path.is_file():
                return FileResponse(path, media_type=STATIC_TYPES[name.rsplit(".", 1)[1]],
                                    headers={"Cache-Control": "public, max-age=300",
                                             "X-Content-Type-Options": "nosniff"})
        raise NotFound(_("There is no such page."))

    @routes.get("/")
    def home(request: Request, refresh: str | None = None):
        with desk_context(request) as ctx:
            app = ctx.app
            user = ctx.user
            admin = ADMIN in user.roles
            from kernel.web.desk.dashboard import dashboard

            return render(request, "home.html", ctx=ctx, title=_("Home"),
                          modules=home_modules(ctx), user=user, dashboard=dashboard(ctx, refresh),
                          branch=user.home_branch,
                          roles=[role_title(app, r) for r in user.roles],
                          plugins=[(n, _(app.plugins[n].title or n), app.plugins[n].version)
                                   for n in app.enabled_plugins] if admin else [],
                          failed=app.failed_plugins if admin else {},
                          inactive=app.inactive if admin else [])

    @routes.get("/desk")
    def desk_root():
        return redirect("/")

    @routes.get("/desk/{entity}")
    def list_view(request: Request, entity: str):
        info = entity_info(request, entity)
        with desk_context(request, transaction=False) as ctx:
            return list_page(request, ctx, info)

    @routes.get("/desk/{entity}/export.{fmt}")
    def export(request: Request, entity: str, fmt: str):
        info = entity_info(request, entity)
        if fmt not in ("csv", "xlsx"):
            raise NotFound(_("There is no such page."))
        state = ListState.from_query(request.query_params)
        with desk_context(request) as ctx:
            list_views.apply_preset(ctx, info, state)
            pages = matching_rows(ctx, info, service_filters(ctx, info, state), state.q,
                                  state.effective_sort)
            if fmt == "csv":
                data, media = to_csv(ctx, info, pages), "text/csv; charset=utf-8"
            else:
                data = to_xlsx(ctx, info, pages, _(info.title))
                media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        stamp = ctx.now().astimezone(ctx.settings.tz).strftime("%Y%m%d-%H%M")
        return file_response(data, media, f"{info.name}-{stamp}.{fmt}")

    @routes.get("/desk/{entity}/lookup")
    def lookup(request: Request, entity: str, q: str = ""):
        info = entity_info(request, entity)
        with desk_context(request, transaction=False) as ctx:
            ctx.require(info.perm("read"))
            found = fields.lookup(ctx, ctx.app, info.cls, q.strip()[:100])
        return JSONResponse([{"id": i, "label": text} for i, text in found],
                            headers={"Cache-Control": "no-store"})

    @routes.post("/desk/{entity}/print")
    async def print_many(request: Request, entity: str):
        form = await request.form()
        return await run_in_threadpool(_print_many, request, entity, form)

    def _print_many(request: Request, entity: str, form):
        from kernel.web.desk import printing  # a job with a progress page

        return printing.start_batch(request, entity_info(request, entity), form)

    @routes.get("/desk/{entity}/new")
    def new_form(request: Request, entity: str):
        info = entity_info(request, entity)
        with desk_context(request) as ctx:
            ctx.require(info.perm("create"))
            if not fields.form_fields(info) or not info.offers("create"):
                raise NotFound(_("There is no such page."))
            return form_page(request, ctx, info, None)

    @routes.post("/desk/{entity}/new")
    async def create(request: Request, entity: str):
        form = await request.form()
        return await run_in_threadpool(_save, request, entity, None, form)

    @routes.get("/desk/{entity}/{record_id}")
    def form_view(request: Request, entity: str, record_id: str):
        info = entity_info(request, entity)
        with desk_context(request, transaction=False) as ctx:
            record = records.get_record(ctx, info, record_id_of(record_id))
            return form_page(request, ctx, info, record)

    @routes.post("/desk/{entity}/{record_id}")
    async def save(request: Request, entity: str, record_id: str):
        form = await request.form()
        return await run_in_threadpool(_save, request, entity, record_id_of(record_id), form)

    def _save(request: Request, entity: str, record_id: int | None, form):
        info = entity_info(request, entity)
        csrf = form.get("csrf")
        raw: dict = {}
        early: dict = {}
        try:
            with desk_context(request, csrf=csrf) as ctx:
                data, raw, early = fields.parse_form(
                    info, form, ctx.settings.tz, creating=record_id is None,
                    extensions=records.extensions_of(ctx, info))
                early.update(fields.resolve_references(ctx, ctx.app, info, data))
                if record_id is None:
                    record = records.create_record(ctx, info, data)
                else:
                    record = records.update_record(ctx, info, record_id, data)
                if early:  # malformed input the service could not see: write nothing
                    raise records.FieldErrors(early)
                saved_id = record.id
            done = "created" if record_id is None else "saved"
            return redirect(f"/desk/{info.name}/{saved_id}?done={done}")
        except (ValidationError, Conflict) as exc:
            found = {**_field_errors(exc), **early}
            problem = None if any(info.field(n) for n in found) else exc.message
            status = exc.status
        with desk_context(request, csrf=csrf) as ctx:
            record = records.get_record(ctx, info, record_id) if record_id else None
            return form_page(request, ctx, info, record, raw=raw, errors=found,
                             problem=problem, status=status)

    @routes.post("/desk/{entity}/{record_id}/delete")
    async def delete(request: Request, entity: str, record_id: str):
        form = await request.form()
        return await run_in_threadpool(_delete, request, entity, record_id_of(record_id), form)

    def _delete(request: Request, entity: str, record_id: int, form):
        info = entity_info(request, entity)
        try:
            with desk_context(request, csrf=form.get("csrf")) as ctx:
                records.delete_record(ctx, info, record_id)
            return redirect(f"/desk/{info.name}?done=deleted")
        except Conflict as exc:
            problem, status = exc.message, exc.status
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            record = records.get_record(ctx, info, record_id)
            return form_page(request, ctx, info, record, problem=problem, status=status)

    @routes.post("/desk/{entity}/{record_id}/action/{name}")
    async def run_action(request: Request, entity: str, record_id: str, name: str):
        form = await request.form()
        return await run_in_threadpool(_action, request, entity, record_id_of(record_id), name,
                                       form)

    def _action(request: Request, entity: str, record_id: int, name: str, form):
        from kernel.actions import run_action

        info = entity_info(request, entity)
        action = app_of(request).actions.get((info.name, name))
        if action is None:
            raise NotFound(_("There is no such page."))
        raw = action_form.typed(action, form)
        try:
            with desk_context(request, csrf=form.get("csrf")) as ctx:
                records.get_record(ctx, info, record_id)
                result = run_action(ctx, info.name, record_id, name, **raw)
                # an action that makes another record (an amendment, a receipt of an
                # order, a count sheet of a warehouse) shows that one
                target, shown = _made(request, info, result, record_id)
            return redirect(f"/desk/{target}/{shown}?done=action&action={name}")
        except FixdeskError as exc:
            # a record the service did not find is the user's input when it names a param
            if not isinstance(exc, ValidationError | Conflict) and exc.field not in raw:
                raise
            found = {k: v for k, v in _field_errors(exc).items() if k in raw}
            problem, status = exc.message, 422 if isinstance(exc, NotFound) else exc.status
            # the reader's messages do not name the input: the label does
            by_label = found and set(found) == set(getattr(exc, "fields", None) or {})
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            if by_label:  # in the user's language, so inside the user's context
                labels = action_form.labels(info, action)
                problem = "; ".join(f"{labels[n]}: {message}" for n, message in found.items())
            record = records.get_record(ctx, info, record_id)
            return form_page(request, ctx, info, record, problem=problem, status=status,
                             failed_action={"name": name, "raw": raw, "errors": found,
                                            "row": form.get("_row")})

    def _made(request: Request, info, result, record_id: int) -> tuple[str, int]:
        """The page to show after an action: the document it made or returned (a record of
        an entity of the site that is not a line of another, such as a part line an order's
        action adds), else the record it ran on."""
        table = getattr(getattr(result, "__table__", None), "name", None)
        made = app_of(request).exposed.get(table) if table is not None else None
        if made is not None and made.lines_of is None and \
                getattr(result, "id", None) is not None:
            return table, result.id
        return info.name, record_id

    @routes.get("/desk/{entity}/{record_id}/print/{document}")
    def print_one(request: Request, entity: str, record_id: str, document: str,
                  download: bool = False, preview: bool = False):
        from kernel.web.desk import printing  # a preview is not a print: not logged

        return printing.print_single(request, entity_info(request, entity),
                                     record_id_of(record_id), document, download=download,
                                     preview=preview)

    @routes.api_route("/desk/{rest:path}", methods=["GET", "POST"])
    def not_found(rest: str):
        raise NotFound(_("There is no such page."))

    return routes


def _field_errors(exc: FixdeskError) -> dict[str, str]:
    found = getattr(exc, "fields", None)
    if found:
        return dict(found)
    return {exc.field: exc.message} if exc.field else {}
