"""One JSON error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

Status codes: 400 bad request, 401 not logged in, 403 not allowed, 404 not
found (also for records of a branch the user may not see), 409 conflict,
422 invalid values, 429 too many attempts, 503 the site cannot now (disk full,
read-only folder, database unavailable: ``Retry-After`` says when to try again).
Never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.errors import FixdeskError, Unavailable
from kernel.failures import trouble
from kernel.i18n import N_, _
from kernel.logs import REQUEST_ID

LOGGER = logging.getLogger("fixdesk.web")


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


#: the error answers every API route documents. They name the schema rather than the
#: model: FastAPI would otherwise build a checked response field per status for every
#: route (thousands at start-up) though error bodies are never checked on the way out.
#: :func:`add_error_schemas` puts the schema into the OpenAPI document.
ERROR_RESPONSES = {status: {"content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/ErrorResponse"}}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 503)}


def add_error_schemas(web: FastAPI) -> None:
    """Have ``web``'s OpenAPI document hold the schemas ``ERROR_RESPONSES`` names."""
    plain = web.openapi

    def openapi() -> dict:
        if web.openapi_schema is None:
            schema = plain()
            error = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(error.pop("$defs", {}))
            schemas["ErrorResponse"] = error
        return web.openapi_schema

    web.openapi = openapi


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None) -> JSONResponse:
    error = {"code": code, "message": message, "fields": fields or {}}
    request_id = REQUEST_ID.get()
    if status >= 500 and request_id:  # support finds the request's log lines by it
        error["request_id"] = request_id
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


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
    "int_parsing_size": N_("is too large"),
    "date_type": N_("must be a date like 2026-05-29"),
    "datetime_type": N_("must be a date and time like 2026-05-29T16:00+08:00"),
    "timezone_aware": N_("needs a time zone, like 2026-05-29T16:00+08:00"),
    "time_type": N_("must be a time like 09:00"),
    "time_parsing": N_("must be a time like 09:00"),
    "model_type": N_("must be a JSON object"),
    "too_short": N_("has too few items"),
    "too_long": N_("has too many items"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "string_unicode": N_("must be text"),
    "param_type": N_("has the wrong type"),
    "readonly": N_("cannot be changed"),
}

#: what Starlette and FastAPI say in English for these statuses, in the user's language
HTTP_MESSAGES = {
    400: N_("the request could not be read"),
    404: N_("nothing here: check the address"),
    405: N_("this address does not take this method"),
    413: N_("the request is too large"),
    415: N_("this type of body is not accepted here"),
}
#: FastAPI's own words for a body it could not parse (answered 400)
_PARSE_FAILURE = "There was an error parsing the body"


def _validation_message(error: dict) -> str:
    """A pydantic error as a message in the user's language (never pydantic's English):
    a text too long tells its limit; an unmapped error is "is not valid"."""
    kind = error.get("type", "")
    limit = (error.get("ctx") or {}).get("max_length")
    if kind == "string_too_long" and isinstance(limit, int):
        return _("at most {n} characters").format(n=limit)
    msgid = VALIDATION_MESSAGES.get(kind)
    return _(msgid) if msgid else _("is not valid")


def _location(loc) -> str:
    """The field an error is about: names only (a list's item numbers left out)."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path") and not isinstance(p, int)]
    return ".".join(parts) or "body"


def _readonly(request: Request) -> frozenset:
    """The read-only fields of the route's body model (:func:`kernel.web.schemas.write_model`)."""
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return getattr(model, "__fixdesk_readonly__", frozenset())


def _error_fields(request: Request, errors) -> dict[str, str]:
    """``{field: message}`` of pydantic's errors, worded for the user."""
    readonly = _readonly(request)
    fields: dict[str, str] = {}
    for error in errors:
        if error.get("type") == "json_invalid":
            fields["body"] = _validation_message(error)
            continue
        key = _location(error["loc"])
        if error.get("type") == "extra_forbidden" and key in readonly:
            error = {**error, "type": "readonly"}
        fields.setdefault(key, _validation_message(error))
    return fields


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


def _phrase(status: int) -> str:
    """The standard English phrase of ``status`` ("Not Found"), Starlette's default detail."""
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def install(app: FastAPI) -> None:
    """Turn every error into the JSON shape above."""

    @app.exception_handler(FixdeskError)
    async def fixdesk_error(request: Request, exc: FixdeskError):
        fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else {})
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, Unavailable):  # 503: the site cannot now, the client may retry
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(exc.status, exc.code, exc.message, fields, headers)

    async def failure(request: Request, exc: Exception):
        """A disk, folder or database failure is a 503 saying which (:mod:`kernel.health`);
        anything else a 500 (logged, never shown)."""
        state = getattr(request.app.state, "fixdesk", None)
        problem = trouble(exc, state.site.path if state is not None else None)
        if problem is None:
            LOGGER.error("unexpected error on %s %s", request.method, request.url.path,
                         exc_info=exc)
            return error_response(500, "internal_error", "internal error: see the server log")
        LOGGER.warning("%s on %s %s: %s", problem.code, request.method, request.url.path,
                       getattr(exc, "orig", None) or exc)
        return await fixdesk_error(request, problem)

    # raised by a route: answered inside the app's middleware (the request's language)
    for failed in (DBAPIError, OSError, PoolTimeout):
        app.add_exception_handler(failed, failure)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # FastAPI reads the body before any route code runs: whoever is not logged in
        # learns that first, not what is wrong with his body
        if request.url.path.startswith("/api/"):
            from starlette.concurrency import run_in_threadpool

            from kernel.web.deps import authentication_failure

            failure = await run_in_threadpool(authentication_failure, request)
            if failure is not None:
                return await fixdesk_error(request, failure)
        fields = _error_fields(request, exc.errors())
        key, message = next(iter(fields.items()), ("body", _("is not valid")))
        # the JSON key the caller sent names the field; the body as a whole needs no name
        return error_response(422, "validation_error",
                              message if key == "body" else f"{key}: {message}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated",
                 403: "forbidden", 413: "too_large", 429: "too_many_requests"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        message = str(exc.detail)
        if exc.status_code in HTTP_MESSAGES and message in (_PARSE_FAILURE, _phrase(
                exc.status_code)):
            message = _(HTTP_MESSAGES[exc.status_code])
        return error_response(exc.status_code, codes.get(exc.status_code, "error"),
                              message, headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return await failure(request, exc)  # raised by a middleware, or anything else
