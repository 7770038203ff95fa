"""The API of a record's notes, attachments and timeline, for every exposed entity.

``GET/POST /api/v1/<entity>/<id>/notes``, ``GET/POST /api/v1/<entity>/<id>/attachments``
(upload as ``multipart/form-data``: ``file``, optional ``kind``),
``GET /api/v1/<entity>/<id>/attachments/<n>`` (the file) and
``GET /api/v1/<entity>/<id>/timeline`` (``?before=`` for older entries). Routes only
translate HTTP to :mod:`kernel.notes`, :mod:`kernel.attachments` and
:mod:`kernel.timeline`; a record of another branch is not found (404), a refused value
names its field (422), a file over the site's limit is 413.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kernel import attachments, notes
from kernel.errors import NotFound, ValidationError
from kernel.i18n import _
from kernel.record_access import find_record
from kernel.timeline import PAGE, parse_cursor, timeline
from kernel.web.deps import app_of, request_context
from kernel.web.downloads import attachment_response
from kernel.web.errors import ERROR_RESPONSES, ErrorResponse
from kernel.web.uploads import read_upload, upload_limit

RECORD_ID = Path(..., ge=1, le=2**31 - 1)
ENTITY = Path(..., max_length=100)
FILE_TYPES = {mime: {} for mime, _test in attachments.SIGNATURES.values()}


class NoteIn(BaseModel):
    """A note to write on the record; ``@username`` mentions a colleague."""

    body: str = Field(..., max_length=notes.MAX_NOTE_LENGTH * 2)


class NoteOut(BaseModel):
    id: int
    entity: str
    record_id: int
    body: str
    author: str
    created_at: str
    mentions: list[str]


class AttachmentOut(BaseModel):
    id: int
    entity: str
    record_id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: str
    url: str


class TimelineEntry(BaseModel):
    at: str
    kind: str
    title: str
    actor: str
    text: str | None
    changes: list[list[str]]
    data: dict[str, Any]


class TimelinePageOut(BaseModel):
    events: list[TimelineEntry]
    older: str | None


def note_dict(ctx, note) -> dict:
    return {"id": note.id, "entity": note.entity, "record_id": note.record_id,
            "body": note.body, "author": note.author,
            "created_at": note.created_at.astimezone(ctx.settings.tz).isoformat(),
            "mentions": note.mentioned}


def attachment_dict(ctx, row) -> dict:
    return {"id": row.id, "entity": row.entity, "record_id": row.record_id, "kind": row.kind,
            "filename": row.filename, "content_type": row.content_type, "size": row.size,
            "sha256": row.sha256, "uploaded_by": row.uploaded_by,
            "uploaded_at": row.uploaded_at.astimezone(ctx.settings.tz).isoformat(),
            "url": f"/api/v1/{row.entity}/{row.record_id}/attachments/{row.id}"}


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "PNG, JPEG, WebP or PDF (checked by content), within the "
                                "site's size limit"},
        "kind": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,19}$", "default": "file",
                 "description": "what the file is for: file, signature, ..."}}}}}}}


def router() -> APIRouter:
    """The routes above, for any exposed entity (an unknown one is not found)."""
    routes = APIRouter(prefix="/api/v1", tags=["notes and attachments"],
                       responses=ERROR_RESPONSES)

    @routes.get("/{entity}/{record_id}/notes", response_model=list[NoteOut],
                summary="Notes of a record, newest first")
    def list_notes(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID,
                   limit: int = Query(50, ge=1, le=500)):
        with request_context(request) as ctx:
            return [note_dict(ctx, n) for n in notes.notes_of(ctx, entity, record_id,
                                                              limit=limit)]

    @routes.post("/{entity}/{record_id}/notes", response_model=NoteOut, status_code=201,
                 summary="Write a note on a record (@username mentions a colleague)")
    def add_note(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID,
                 body: NoteIn = Body(...)):
        with request_context(request) as ctx:
            return note_dict(ctx, notes.add_note(ctx, entity, record_id, body.body))

    @routes.get("/{entity}/{record_id}/attachments", response_model=list[AttachmentOut],
                summary="Files attached to a record, newest first")
    def list_attachments(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID,
                         kind: str | None = Query(None, max_length=20)):
        with request_context(request) as ctx:
            return [attachment_dict(ctx, a)
                    for a in attachments.attachments_of(ctx, entity, record_id, kind)]

    @routes.post("/{entity}/{record_id}/attachments", response_model=AttachmentOut,
                 status_code=201, openapi_extra=UPLOAD_BODY,
                 responses={413: {"model": ErrorResponse, "description": "File too large"}},
                 summary="Attach a file to a record")
    async def upload(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID):
        limit = await run_in_threadpool(upload_limit, app_of(request))
        form, data, filename, content_type = await read_upload(request, limit)
        kind = form.get("kind")
        kind = kind if isinstance(kind, str) and kind else "file"
        return await run_in_threadpool(_upload, request, entity, record_id, data, filename,
                                       content_type, kind)

    def _upload(request, entity, record_id, data, filename, content_type, kind):
        with request_context(request) as ctx:
            if data is None:
                find_record(ctx, entity, record_id)  # an unknown record first: 404
                raise ValidationError(_("choose a file first"), field="file")
            row = attachments.add_attachment(ctx, entity, record_id, filename, data,
                                             content_type, kind=kind)
            return attachment_dict(ctx, row)

    @routes.get("/{entity}/{record_id}/attachments/{attachment_id}", response_class=Response,
                responses={200: {"content": FILE_TYPES, "description": "The file"}},
                summary="Download a file attached to a record")
    def download(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID,
                 attachment_id: int = Path(..., ge=1, le=2**31 - 1)):
        with request_context(request) as ctx:
            row, data = attachments.read_attachment(ctx, attachment_id)
            if row.entity != entity or row.record_id != record_id:
                raise NotFound(_("no attachment {id}").format(id=attachment_id),
                               field="attachment")
        return attachment_response(row, data, download=True)

    @routes.get("/{entity}/{record_id}/timeline", response_model=TimelinePageOut,
                summary="A record's timeline: status changes, field changes, prints, "
                        "notes, files")
    def record_timeline(request: Request, entity: str = ENTITY, record_id: int = RECORD_ID,
                        before: str | None = Query(None, max_length=40),
                        limit: int = Query(PAGE, ge=1, le=200)):
        with request_context(request) as ctx:
            info, record = find_record(ctx, entity, record_id)
            page = timeline(ctx, info.name, record, before=parse_cursor(before), limit=limit)
            tz = ctx.settings.tz
            return {"events": [{"at": e.at.astimezone(tz).isoformat(), "kind": e.kind,
                                "title": e.title, "actor": e.actor, "text": e.text,
                                "changes": [list(c) for c in e.changes],
                                "data": _plain(e.data)} for e in page.events],
                    "older": page.older.isoformat() if page.older else None}

    return routes


def _plain(data: dict) -> dict:
    """An event's extra data as JSON (anything unusual as text)."""
    from kernel.values import plain

    return {str(k): plain(v) if not isinstance(v, list | dict) else v for k, v in data.items()}
