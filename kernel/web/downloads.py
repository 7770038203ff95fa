"""Files the API and the desk hand out: printed papers, exports, reports."""

from __future__ import annotations

from fastapi.responses import Response


def file_response(content: bytes | str, media_type: str, filename: str, *,
                  download: bool = True) -> Response:
    """``content`` as a file named ``filename``: saved by the browser (``download``) or
    shown in the page (a PDF preview); never cached, never sniffed as another type."""
    disposition = "attachment" if download else "inline"
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def content_disposition(filename: str, *, download: bool = True) -> str:
    """A ``Content-Disposition`` header for any file name: an ASCII name for old clients
    and the real one (Chinese, say) in RFC 6266's ``filename*``."""
    from urllib.parse import quote

    fallback = "".join(ch for ch in filename if 32 <= ord(ch) < 127 and ch not in '"\\;')
    _stem, dot, ext = filename.rpartition(".")
    if not fallback.strip(" .") or fallback.strip() == f".{ext}":
        fallback = f"file.{ext}" if dot and ext.isascii() and ext.isalnum() else "file"
    disposition = "attachment" if download else "inline"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_response(attachment, data: bytes, *, download: bool) -> Response:
    """A file attached to a record (:mod:`kernel.attachments`) as it is handed out: its
    type as its content says, never sniffed as another, never run as a page (a sandbox
    policy), kept only in the user's own browser."""
    return Response(data, media_type=attachment.content_type, headers={
        "Content-Disposition": content_disposition(attachment.filename, download=download),
        "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox"})
