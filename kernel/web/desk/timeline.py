"""The desk's routes of a record's timeline: its pages, writing a note, attaching a file,
handing files out, and the colleagues a note can @mention.

``/desk/<entity>/<id>/timeline`` (older entries, ``?before=``), ``POST .../notes``,
``POST .../attachments`` (multipart), ``GET .../attachments/<n>`` (``?download=1``) and
``.../attachments/<n>/thumbnail``, ``GET .../mentionable?q=`` (JSON). Writes carry the
session's CSRF token; a refused note or file draws the record's form again with the
problem under its box.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kernel import attachments, notes, records
from kernel.errors import NotFound, ValidationError
from kernel.i18n import _
from kernel.labels import record_label
from kernel.timeline import PAGE, parse_cursor, timeline
from kernel.web.deps import app_of
from kernel.web.desk import timeline_panel
from kernel.web.desk.pages import entity_info, form_page, record_id_of
from kernel.web.desk.render import DeskRoute, desk_context, redirect, render
from kernel.web.downloads import attachment_response
from kernel.web.uploads import read_upload, upload_limit


def _token(form) -> str | None:
    """The CSRF token a form sent (a file sent under its name is none)."""
    value = form.get("csrf")
    return value if isinstance(value, str) else None


def _matches(row, info, record_id: int) -> None:
    """A file is served under its own record's address only."""
    if row.entity != info.name or row.record_id != record_id:
        raise NotFound(_("There is no such page."))


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/{entity}/{record_id}/timeline")
    def timeline_page(request: Request, entity: str, record_id: str, before: str = ""):
        info = entity_info(request, entity)
        number = record_id_of(record_id)
        with desk_context(request) as ctx:
            record = records.get_record(ctx, info, number)
            page = timeline(ctx, info.name, record, before=parse_cursor(before), limit=PAGE)
            record_url = f"/desk/{info.name}/{record.id}"
            return render(
                request, "timeline.html", ctx=ctx, info=info, title=_(info.title),
                heading=record_label(record), base=f"/desk/{info.name}", record_url=record_url,
                events=timeline_panel.events(ctx, info, record, page),
                older_url=timeline_panel.older_url(info, record, page),
                newer_url=f"{record_url}/timeline" if before else None)

    @routes.post("/desk/{entity}/{record_id}/notes")
    async def add_note(request: Request, entity: str, record_id: str):
        number = record_id_of(record_id)
        form = await request.form(max_files=0, max_fields=20)
        return await run_in_threadpool(_note, request, entity, number, form)

    def _note(request: Request, entity: str, record_id: int, form):
        info = entity_info(request, entity)
        body = form.get("body")
        body = body if isinstance(body, str) else ""
        try:
            with desk_context(request, csrf=_token(form)) as ctx:
                notes.add_note(ctx, info.name, record_id, body)
            return redirect(f"/desk/{info.name}/{record_id}?done=noted#timeline")
        except ValidationError as exc:
            problem, status = exc.message, exc.status
        request.state.timeline_input = {"note": body, "note_error": problem}
        with desk_context(request, csrf=_token(form)) as ctx:
            record = records.get_record(ctx, info, record_id)
            return form_page(request, ctx, info, record, status=status)

    @routes.post("/desk/{entity}/{record_id}/attachments")
    async def upload(request: Request, entity: str, record_id: str):
        number = record_id_of(record_id)
        entity_info(request, entity)
        limit = await run_in_threadpool(upload_limit, app_of(request))
        form, data, filename, content_type = await read_upload(request, limit)
        return await run_in_threadpool(_upload, request, entity, number, form, data, filename,
                                       content_type)

    def _upload(request: Request, entity: str, record_id: int, form, data, filename,
                content_type):
        info = entity_info(request, entity)
        try:
            with desk_context(request, csrf=_token(form)) as ctx:
                if data is None:
                    raise ValidationError(_("choose a file first"), field="file")
                attachments.add_attachment(ctx, info.name, record_id, filename, data,
                                           content_type)
            return redirect(f"/desk/{info.name}/{record_id}?done=attached#timeline")
        except ValidationError as exc:
            problem, status = exc.message, exc.status
        request.state.timeline_input = {"file_error": problem}
        with desk_context(request, csrf=_token(form)) as ctx:
            record = records.get_record(ctx, info, record_id)
            return form_page(request, ctx, info, record, status=status)

    @routes.get("/desk/{entity}/{record_id}/attachments/{attachment_id}")
    def download(request: Request, entity: str, record_id: str, attachment_id: str,
                 download: bool = False):
        info = entity_info(request, entity)
        number, wanted = record_id_of(record_id), record_id_of(attachment_id)
        with desk_context(request) as ctx:
            row, data = attachments.read_attachment(ctx, wanted)
            _matches(row, info, number)
        # images show in the page; anything else (a PDF) is saved, never opened here
        return attachment_response(row, data, download=download or not row.is_image)

    @routes.get("/desk/{entity}/{record_id}/attachments/{attachment_id}/thumbnail")
    def thumbnail(request: Request, entity: str, record_id: str, attachment_id: str):
        info = entity_info(request, entity)
        number, wanted = record_id_of(record_id), record_id_of(attachment_id)
        with desk_context(request) as ctx:
            found = attachments.read_thumbnail(ctx, wanted)
            if found is None:
                raise NotFound(_("There is no such page."))
            row, data, mime = found
            _matches(row, info, number)
        return Response(data, media_type=mime, headers={
            "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox"})

    @routes.get("/desk/{entity}/{record_id}/mentionable")
    def mentionable(request: Request, entity: str, record_id: str, q: str = ""):
        info = entity_info(request, entity)
        number = record_id_of(record_id)
        with desk_context(request) as ctx:
            people = notes.mentionable_users(ctx, info.name, number, q[:60])
        return JSONResponse([{"username": u, "full_name": n} for u, n in people],
                            headers={"Cache-Control": "no-store"})

    return routes
