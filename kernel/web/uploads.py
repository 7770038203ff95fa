"""Reading a file uploaded with a multipart form (the desk's upload box, the API), within
the site's size limit for attachments."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from kernel import attachments
from kernel.i18n import _

#: what a multipart form may carry besides the file (CSRF token, boundaries, headers)
FORM_OVERHEAD = 64 * 1024


def upload_limit(app) -> int:
    """The site's size limit for one file, read in a short read-only transaction (before
    the request's body is read)."""
    with app.sessions() as session:
        return attachments.max_bytes(app.context_in(session))


def declared_length(request: Request) -> int:
    """The request body's length as the client declares it (0 when it does not)."""
    text = request.headers.get("content-length", "")
    return int(text) if text.isdigit() else 0


def too_large(limit: int) -> attachments.TooLarge:
    """The refusal of a file over ``limit`` bytes (413, naming ``file``)."""
    return attachments.TooLarge(_("the file is larger than {mb} MB").format(
        mb=limit // (1024 * 1024)), field="file")


async def read_upload(request: Request, limit: int):
    """``(form, data, filename, content type)`` of a multipart upload whose file field is
    ``file``; ``data`` is None when no file was chosen. A body declared larger than the
    limit is refused before it is read; of the file at most ``limit + 1`` bytes are
    read, so a larger one is told apart without holding it."""
    if declared_length(request) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return form, None, None, None
    data = await upload.read(limit + 1)
    if not data and not upload.filename:
        return form, None, None, None
    return form, data, upload.filename or "", upload.content_type or ""
