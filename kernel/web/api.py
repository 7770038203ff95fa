"""The REST API: ``/api/v1/<entity>`` for every exposed entity, actions, printing, history.

Routes only translate HTTP to the services in :mod:`kernel.records`,
:mod:`kernel.documents.service` and the plugins' actions.
"""


import datetime as dt
import functools
from typing import Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import Response as RawResponse
from pydantic import BaseModel, Field

from kernel import records
from kernel.contributions import Action
from kernel.entities import EntityInfo
from kernel.errors import NotFound
from kernel.i18n import _
from kernel.web.answers import Shape, page_answer, record_answer
from kernel.web.deps import request_context
from kernel.web.errors import ERROR_RESPONSES
from kernel.web.schemas import action_body_model, page_model, read_model, write_model

PDF = {200: {"content": {"application/pdf": {}}, "description": "PDF"}}


class BatchPrint(BaseModel):
    """Records to print as one PDF."""

    ids: list[int] = Field(min_length=1, max_length=5000)
    lang: str | None = Field(default=None, pattern="^(zh_CN|en)$")


class HistoryEntry(BaseModel):
    at: str
    actor: str
    action: str
    changes: dict[str, list[Any]]


class TokenInfo(BaseModel):
    """An API token as its owner and the administrators see it (the secret is not kept)."""

    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    state: str = Field(description="active, expired or revoked")


def _token_info(ctx, row) -> dict:
    from kernel.auth import token_state

    return {"id": row.id, "name": row.name, "created_at": row.created_at,
            "last_used_at": row.last_used_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "state": token_state(row, ctx.now())}


class Me(BaseModel):
    username: str
    full_name: str
    roles: list[str]
    branch: str
    branches: list[str]
    locale: str | None


def _entity(ctx, name: str) -> EntityInfo:
    """The entity ``name`` as the request's site describes it."""
    return ctx.app.exposed[name]


def _filters(request: Request, info: EntityInfo) -> dict[str, str]:
    reserved = {"q", "sort", "limit", "offset", "after", "before", "count"}
    return {k: v for k, v in request.query_params.items() if k not in reserved}


@functools.lru_cache(maxsize=1024)
def entity_router(info: EntityInfo) -> APIRouter:
    """CRUD routes for one entity, with models generated from its fields.

    Built once per process for each shape of entity (``EntityInfo`` compares by its
    fields, extensions and operations): building FastAPI's routes and pydantic's models
    is most of an app's start-up. So the routes hold nothing of one site: each request
    reads the entity as its own site describes it (:func:`_entity`)."""
    name = info.name
    router = APIRouter(prefix=f"/api/v1/{info.name}", tags=[info.name],
                       responses=ERROR_RESPONSES)
    Read = read_model(info)
    Create = write_model(info, partial=False)
    Update = write_model(info, partial=True)
    Page = page_model(info, Read)
    # answers are shaped and encoded here; the models stay for OpenAPI (kernel.web.answers)
    item_shape, page_shape = Shape(Read), Shape(Page)
    def list_items(request: Request, q: str | None = Query(None, max_length=100),
                   sort: str | None = Query(None, max_length=200),
                   limit: int = Query(50, ge=1, le=records.MAX_LIMIT),
                   after: str | None = Query(None, max_length=2000, description=(
                       "the `next` cursor of the page before: the page after it")),
                   before: str | None = Query(None, max_length=2000, description=(
                       "the `previous` cursor of the page after: the page before it")),
                   count: bool = Query(False, description=(
                       "also count every matching record (`total`; costs a scan)")),
                   offset: int = Query(0, ge=0, le=records.MAX_OFFSET, description=(
                       "rows to skip (slow for deep pages: page on with `after`)"))):
        with request_context(request, transaction=False) as ctx:
            info = _entity(ctx, name)
            page = records.list_records(ctx, info, filters=_filters(request, info), q=q,
                                        sort=sort, limit=limit, offset=offset, after=after,
                                        before=before, count=count, as_dicts=True)
            return page_answer(page_shape, item_shape, {
                "items": page.rows, "total": page.total,
                "limit": limit, "offset": offset, "next": page.next,
                "previous": page.previous})

    list_items.__doc__ = (f"List {info.name} records the caller may see. Filter on any field "
                          "(`field=value`, `field__gte`, `__lte`, `__gt`, `__lt`, `__ne`, "
                          "`__in=a,b`, `__contains`, `__empty=true|false`; dates relative "
                          "to now: `deadline_at__lt=now`, `due_at__gte=today-7`), other "
                          "plugins' fields included "
                          "(`plugin.field=value`), search with `q`, sort with "
                          "`sort=-created_at,name`. Page on with `after=<next>` (the "
                          "`next` cursor of the answer; `before=<previous>` goes back); "
                          "`total` is counted only with `count=true`. A link to any record "
                          "is filtered as "
                          "`entity:id`: `about=customer:12`, `about__ne=customer:12`, "
                          "`about__in=customer:12,customer:15`, and `about__entity=customer` "
                          "for every link to that entity (`about=` for no link).")
    # the field filters are read from the query string by kernel.records, which checks
    # them; here they are only documented (declaring each to FastAPI would have it
    # build and check dozens of absent parameters on every request)
    router.add_api_route("", list_items, methods=["GET"], response_model=Page,
                         summary=f"List {info.name}",
                         openapi_extra={"parameters": filter_parameters(info)})

    if info.offers("create"):
        def create(request: Request, body: Create = Body(...)):  # type: ignore[valid-type]
            with request_context(request) as ctx:
                info = _entity(ctx, name)
                record = records.create_record(ctx, info, body.model_dump(exclude_unset=True))
                return record_answer(item_shape, records.record_dict(ctx, info, record), 201)

        router.add_api_route("", create, methods=["POST"], response_model=Read,
                             status_code=201, summary=f"Create a {info.name}")

    def get_one(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1)):
        with request_context(request, transaction=False) as ctx:
            info = _entity(ctx, name)
            return record_answer(item_shape, records.record_dict(
                ctx, info, records.get_record(ctx, info, record_id)))

    router.add_api_route("/{record_id}", get_one, methods=["GET"], response_model=Read,
                         summary=f"Get a {info.name}")

    if info.offers("update") or info.extensions:
        def update(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1),
                   body: Update = Body(...)):  # type: ignore[valid-type]
            with request_context(request) as ctx:
                info = _entity(ctx, name)
                record = records.update_record(ctx, info, record_id,
                                               body.model_dump(exclude_unset=True))
                return record_answer(item_shape, records.record_dict(ctx, info, record))

        router.add_api_route("/{record_id}", update, methods=["PATCH"], response_model=Read,
                             summary=f"Change a {info.name}")

    if info.deletable:
        def delete(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1)):
            with request_context(request) as ctx:
                records.delete_record(ctx, _entity(ctx, name), record_id)
            return Response(status_code=204)

        router.add_api_route("/{record_id}", delete, methods=["DELETE"], status_code=204,
                             response_class=Response, summary=f"Delete a {info.name}")

    def history(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1)):
        from kernel.audit import record_history as audit_history

        with request_context(request) as ctx:
            info = _entity(ctx, name)
            records.get_record(ctx, info, record_id)
            ctx.require("audit.read")
            tz = ctx.settings.tz
            return [{"at": row.at.astimezone(tz).isoformat(), "actor": row.actor,
                     "action": row.action, "changes": changes}
                    for row, changes in audit_history(ctx, info, record_id)]

    router.add_api_route("/{record_id}/history", history, methods=["GET"],
                         response_model=list[HistoryEntry], summary="Audit history")

    def print_one(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1),
                  document: str = Path(..., max_length=100),
                  lang: str | None = Query(None, pattern="^(zh_CN|en)$")):
        from kernel.documents.detached import Requester, print_detached
        from kernel.documents.registry import get_document

        with request_context(request) as ctx:
            doc = get_document(ctx.app, document)
            if doc.entity != name:
                raise NotFound(_("no document {name!r} for {entity}").format(
                    name=document, entity=name))
            requester, app = Requester.of(ctx), ctx.app
        # laid out after the request's transaction: never holding the write lock
        data = print_detached(app, requester, document, [record_id], locale=lang)
        return RawResponse(data, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{document}-{record_id}.pdf"'})

    router.add_api_route("/{record_id}/print/{document}", print_one, methods=["GET"],
                         response_class=RawResponse, responses=PDF,
                         summary="Print a document for this record")
    return router


#: the JSON schema of a filter value, by field kind (anything else: a string)
FILTER_SCHEMAS = {"integer": {"type": "integer"}, "boolean": {"type": "boolean"},
                  "date": {"type": "string", "format": "date"},
                  "datetime": {"type": "string", "format": "date-time"},
                  "time": {"type": "string", "format": "time"}}


def filter_parameters(info: EntityInfo) -> list[dict]:
    """The OpenAPI query parameters of ``info``'s equality filters: one per field, one per
    other plugin's field (``plugin.field``), and ``field__entity`` per link."""
    def parameter(name: str, schema: dict) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema}

    def schema(spec) -> dict:
        if spec.kind == "enum" and spec.choices:
            return {"type": "string", "enum": list(spec.choices)}
        return FILTER_SCHEMAS.get(spec.kind, {"type": "string"})

    found = [parameter(f.name, schema(f)) for f in info.fields]
    found += [parameter(f"{e.namespace}.{f.name}", schema(f)) for e in info.extensions
              for f in e.fields]
    found += [parameter(f"{f.name}__entity", {"type": "string"}) for f in info.fields
              if f.kind == "link"]
    return found


def api_actions(app) -> tuple[tuple[EntityInfo, Action], ...]:
    """The actions of ``app`` that the API offers, with their entities: what
    :func:`action_router` is made from."""
    return tuple((app.exposed[entity], action) for (entity, _name), action in app.actions.items()
                 if entity in app.exposed)


def action_routes_shape(actions: tuple[tuple[EntityInfo, Action], ...]) -> tuple:
    """What the routes of :func:`action_router` depend on: each entity, action name and
    params (actions of two apps are new objects, their ``available`` new functions)."""
    from kernel.params import action_params

    return tuple((info, action.name, action_params(info, action)) for info, action in actions)


def action_router(actions: tuple[tuple[EntityInfo, Action], ...]) -> APIRouter:
    """``POST /api/v1/<entity>/<id>/<action>`` for every action of ``actions``
    (:func:`api_actions`). Like :func:`entity_router`, it holds nothing of one site."""
    router = APIRouter(prefix="/api/v1", tags=["actions"], responses=ERROR_RESPONSES)
    reads: dict[str, type] = {}  # one answer model per entity, not one per action
    for info, action in actions:
        if info.name not in reads:
            reads[info.name] = read_model(info)
        router.add_api_route(f"/{info.name}/{{record_id}}/{action.name}",
                             _action_endpoint(info, action), methods=["POST"],
                             response_model=reads[info.name],
                             summary=f"{info.name}: {action.name}")
    return router


def _action_endpoint(shape: EntityInfo, action: Action):
    """The route of one action; its body model lists the params (unknown ones: 422). It
    runs through :func:`kernel.actions.run_action`, as the desk and plugins do."""
    from kernel.actions import run_action

    Params = action_body_model(shape, action)

    def run(request: Request, record_id: int = Path(..., ge=1, le=2**31 - 1),
            body: Params | None = Body(None)):  # type: ignore[valid-type]
        params = body.model_dump(by_alias=True, exclude_unset=True) if body else {}
        with request_context(request) as ctx:
            info = _entity(ctx, shape.name)
            records.get_record(ctx, info, record_id)
            result = run_action(ctx, info.name, record_id, action.name, **params)
            if not isinstance(result, info.cls):
                result = records.get_record(ctx, info, record_id)
            return records.record_dict(ctx, info, result)

    return run


def general_router() -> APIRouter:
    """Routes that are not about one entity: who am I, batch printing."""
    router = APIRouter(prefix="/api/v1", tags=["general"], responses=ERROR_RESPONSES)

    @router.get("/me", response_model=Me, summary="The calling user")
    def me(request: Request):
        from kernel.models import Branch

        with request_context(request) as ctx:
            user = ctx.user
            codes = sorted(ctx.session.get(Branch, b).code for b in user.branch_ids)
            return {"username": user.username, "full_name": user.full_name, "roles": user.roles,
                    "branch": user.home_branch.code, "branches": codes, "locale": user.locale}

    @router.get("/me/tokens", response_model=list[TokenInfo],
                summary="The calling user's API tokens (never their secrets)")
    def my_tokens(request: Request):
        from kernel.auth import caller_tokens

        with request_context(request) as ctx:
            return [_token_info(ctx, t) for t in caller_tokens(ctx)]

    @router.post("/tokens/{token_id}/revoke", response_model=TokenInfo,
                 summary="Revoke an API token (one's own; any for an administrator)")
    def revoke_api_token(request: Request, token_id: int = Path(..., ge=1, le=2**31 - 1)):
        from kernel.auth import revoke_as_caller

        with request_context(request) as ctx:
            return _token_info(ctx, revoke_as_caller(ctx, token_id))

    @router.post("/print/{document}", response_class=RawResponse, responses=PDF,
                 summary="Print many records into one PDF")
    def print_batch(request: Request, document: str = Path(..., max_length=100),
                    body: BatchPrint = Body(...)):
        from kernel.documents.detached import Requester, print_detached

        with request_context(request) as ctx:
            requester, app = Requester.of(ctx), ctx.app
        # checked and logged in a short transaction, laid out after it (kernel.documents.detached)
        data = print_detached(app, requester, document, body.ids, locale=body.lang)
        return RawResponse(data, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{document}.pdf"'})

    return router
