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
