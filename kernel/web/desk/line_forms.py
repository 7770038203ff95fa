"""Saving a line in place on its parent's form (:mod:`kernel.web.desk.document_lines`).

``POST /desk/<parent>/<id>/lines/<child>`` adds a line, ``POST /desk/<parent>/<id>/lines/
<child>/<line id>`` changes one: the same services as the API
(:func:`kernel.records.create_record`, :func:`~kernel.records.update_record`), the line's
key to the parent fixed to the parent whatever is sent. A problem shows the parent's
form again with the row as typed, each error under its cell's input; nothing is written.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import records
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import _
from kernel.web.deps import app_of
from kernel.web.desk import fields, lifecycle
from kernel.web.desk.render import DeskRoute, desk_context, redirect


def _child_of(request: Request, info, child: str):
    found = app_of(request).exposed.get(child)
    if found is None or found.lines_of is None or found.lines_of[1] != info.name:
        raise NotFound(_("There is no such page."))
    return found


def router() -> APIRouter:
    """The routes that save a line of a record's table."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.post("/desk/{entity}/{record_id}/lines/{child}")
    async def add_line(request: Request, entity: str, record_id: str, child: str):
        form = await request.form()
        return await run_in_threadpool(_save, request, entity, record_id, child, None, form)

    @routes.post("/desk/{entity}/{record_id}/lines/{child}/{line_id}")
    async def change_line(request: Request, entity: str, record_id: str, child: str,
                          line_id: str):
        form = await request.form()
        return await run_in_threadpool(_save, request, entity, record_id, child, line_id,
                                       form)

    return routes


def _save(request: Request, entity: str, record_id: str, child: str, line_id: str | None,
          form):
    from kernel.web.desk import pages

    info = pages.entity_info(request, entity)
    parent_id = pages.record_id_of(record_id)
    line = pages.record_id_of(line_id) if line_id is not None else None
    lines = _child_of(request, info, child)
    key = lines.lines_of[0]
    csrf = form.get("csrf")
    raw: dict = {}
    early: dict = {}
    try:
        with desk_context(request, csrf=csrf) as ctx:
            parent = records.get_record(ctx, info, parent_id)
            if lifecycle.frozen(parent):
                raise Conflict(_("It cannot be changed any more."))
            data, raw, early = fields.parse_form(lines, form, ctx.settings.tz,
                                                 creating=line is None)
            data.pop(key, None)
            early.update(fields.resolve_references(ctx, ctx.app, lines, data))
            if line is None:
                records.create_record(ctx, lines, {**data, key: parent.id})
            else:
                if getattr(records.get_record(ctx, lines, line), key) != parent.id:
                    raise NotFound(_("There is no such page."))
                records.update_record(ctx, lines, line, data)
            if early:  # malformed input the service could not see: write nothing
                raise records.FieldErrors(early)
        done = "created" if line is None else "saved"
        return redirect(f"/desk/{info.name}/{parent_id}?done={done}#lines-{lines.name}")
    except (ValidationError, Conflict) as exc:
        found = {**pages._field_errors(exc), **early}
        shown = {n for n in found if lines.field(n) is not None and n in raw}
        problem = None if shown and shown == set(found) else exc.message
        if problem and found:
            problem = "; ".join(f"{fields.label(lines, n) if lines.field(n) else n}: {m}"
                                for n, m in found.items() if n not in shown) or exc.message
        status = exc.status
    with desk_context(request, csrf=csrf) as ctx:
        record = records.get_record(ctx, info, parent_id)
        return pages.form_page(request, ctx, info, record, status=status, line_edit={
            "entity": lines.name, "id": line, "raw": raw, "errors": found,
            "problem": problem})
