"""One JSON error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

Status codes: 400 bad request, 401 not logged in, 403 not allowed, 404 not
found (also for records of a branch the user may not see), 409 conflict,
422 invalid values, 429 too many attempts. Never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.errors import FixdeskError
from kernel.i18n import N_, _

LOGGER = logging.getLogger("fixdesk.web")


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


ERROR_RESPONSES = {status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409,
                                                                    422, 429)}


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fields": fields or {}}},
                        status_code=status, headers=headers)


#: pydantic's error types → what the user reads (in the request's language)
VALIDATION_MESSAGES = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a field that can be sent here"),
    "json_invalid": N_("the body is not valid JSON"),
    "model_attributes_type": N_("must be a JSON object"),
    "dict_type": N_("must be a JSON object"),
    "list_type": N_("must be a list"),
    "string_type": N_("must be text"),
    "string_too_long": N_("is too long"),
    "string_too_short": N_("is too short"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "decimal_parsing": N_("must be a number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "date_parsing": N_("must be a date like 2026-05-29"),
    "date_from_datetime_parsing": N_("must be a date like 2026-05-29"),
    "datetime_parsing": N_("must be a date and time like 2026-05-29T16:00+08:00"),
    "datetime_from_date_parsing": N_("must be a date and time like 2026-05-29T16:00+08:00"),
    "enum": N_("is not one of the allowed values"),
    "literal_error": N_("is not one of the allowed values"),
    "greater_than": N_("is too small"),
    "greater_than_equal": N_("is too small"),
    "less_than": N_("is too large"),
    "less_than_equal": N_("is too large"),
}


def _validation_message(error: dict) -> str:
    """A pydantic error as a message in the user's language (pydantic's English otherwise)."""
    msgid = VALIDATION_MESSAGES.get(error.get("type", ""))
    return _(msgid) if msgid else _("is not valid")


def _location(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts for this path (Starlette names only the first route's)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _child = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if route_methods and match != Match.NONE:
            methods |= set(route_methods)
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Turn every error into the JSON shape above."""

    @app.exception_handler(FixdeskError)
    async def fixdesk_error(request: Request, exc: FixdeskError):
        fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else {})
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, fields, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        fields = {"body" if e.get("type") == "json_invalid" else _location(e["loc"]):
                  _validation_message(e) for e in exc.errors()}
        key, message = next(iter(fields.items()), ("body", _("is not valid")))
        # the JSON key the caller sent names the field; the body as a whole needs no name
        return error_response(422, "validation_error",
                              message if key == "body" else f"{key}: {message}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated",
                 403: "forbidden", 429: "too_many_requests"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(exc.status_code, codes.get(exc.status_code, "error"),
                              str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        LOGGER.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error: see the server log")
