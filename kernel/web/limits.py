"""Limits on what a request may carry, enforced before any route reads it.

:class:`RequestLimits` is a pure ASGI middleware:

* a body larger than the site's limit (``site.toml`` ``[limits] body_mb``; a file
  upload, ``POST …/attachments``: ``upload_mb``; a route may declare its own with
  FastAPI's ``max_body_size=``) is refused with 413 — in the API's JSON error shape under
  ``/api/``, as the desk's error page elsewhere: at once when ``Content-Length`` says so,
  else as soon as the streamed body passes the limit, without reading the rest;
* under ``/api/``, a query parameter (a filter, ``q``, ``sort``) holding a control
  character (a NUL, which PostgreSQL cannot even compare) is refused with 422 naming
  the parameter.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

from kernel.i18n import _
from kernel.values import forbidden, has_forbidden

#: the routes a file is uploaded to (the API's and the desk's): the upload limit
UPLOAD_PATH = re.compile(r"^/(api/v1|desk)/[^/]+/[^/]+/attachments/?$")


class BodyTooLarge(HTTPException):
    """A request body over its limit: 413 (:mod:`kernel.web.errors` words it as JSON)."""

    def __init__(self, limit: int):
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    """"The request is larger than 2 MB", in the request's language."""
    megabytes = limit / (1024 * 1024)
    size = f"{megabytes:g}" if megabytes >= 1 else f"{megabytes:.2f}".rstrip("0")
    return _("the request is larger than {mb} MB").format(mb=size)


class RequestLimits:
    """ASGI middleware: the body limits and the query check described above."""

    def __init__(self, app, body_limit: int, upload_limit: int):
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            refused = _bad_parameter(scope.get("query_string", b""))
            if refused is not None:
                await refused(scope, receive, send)
                return
        limit = self.limit_of(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await (await _too_large(scope, limit))(scope, receive, send)  # not a byte read
            return
        received = 0
        refused_body = False
        started = False

        async def limited_receive():
            nonlocal received, refused_body
            if refused_body:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused_body = True  # whatever the route does next, no more is read
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await (await _too_large(scope, limit))(scope, receive, send)

    def limit_of(self, scope) -> int:
        """The body limit of the request's route: an upload's, a route's own
        (``max_body_size=``), else the site's."""
        if UPLOAD_PATH.match(scope["path"]):
            return self.upload_limit
        if self._own is None:  # the routes are all there by the first request
            self._own = list(_declared_limits(getattr(scope.get("app"), "router", None)))
        for pattern, methods, limit in self._own:
            if pattern.match(scope["path"]) and (not methods or scope["method"] in methods):
                return limit
        return self.body_limit

    _own: list | None = None


def _declared_limits(router, prefix: str = ""):
    """``(path regex, methods, limit)`` of every route declaring ``max_body_size``, in the
    routers FastAPI includes (each keeps its routes and its prefix)."""
    from starlette.routing import compile_path

    for route in getattr(router, "routes", ()):
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _declared_limits(included, prefix + getattr(context, "prefix", ""))
            continue
        own, path = getattr(route, "max_body_size", None), getattr(route, "path", None)
        if isinstance(own, int) and path:
            yield compile_path(prefix + path)[0], getattr(route, "methods", None), own


def _content_length(scope) -> int | None:
    for key, value in scope.get("headers") or ():
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _too_large(scope, limit: int):
    """The 413 answer: JSON naming ``body`` under ``/api/``, else the desk's error page in
    the user's language (a form posted from the desk is read by a person)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request

    from kernel.i18n import use_locale
    from kernel.web.desk.render import error_page, guess_locale
    from kernel.web.errors import error_response

    # the client may still be sending: tell it the connection will not take more
    if scope["path"].startswith("/api/"):
        message = too_large_message(limit)
        return error_response(413, "too_large", message, {"body": message},
                              headers={"Connection": "close"})
    request = Request(scope)

    def desk_page():
        with use_locale(guess_locale(request)):
            return error_page(request, 413, too_large_message(limit))

    page = await run_in_threadpool(desk_page)
    page.headers["Connection"] = "close"
    return page


def _bad_parameter(query_string: bytes):
    """The 422 answer to a query holding a control character, or None."""
    from kernel.web.errors import error_response

    text = query_string.decode("latin-1")
    for key, value in parse_qsl(text, keep_blank_values=True):
        if has_forbidden(key) or has_forbidden(value):
            name = "".join("?" if forbidden(ch) else ch for ch in key)
            message = _("must not contain control characters")
            return error_response(422, "validation_error", f"{name}: {message}",
                                  {name: message})
    return None
