"""HTTP routes that only translate to services: registering a repair request and recording
a maintenance contract. Everything else on an order is an action of the generic API
(``POST /api/v1/repair_work_order/{id}/<action>``, see :mod:`plugins.repair.actions`)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kernel import records
from kernel.web.deps import request_context
from kernel.web.errors import ERROR_RESPONSES

from . import callbacks, customer_history, dispatching, quality, services


class RegisterRequest(BaseModel):
    """A repair request as the front desk takes it (R1)."""

    model_config = ConfigDict(extra="forbid")

    fault_description: str = Field(max_length=4000)
    channel: str = Field(description="phone, email, web or walk_in")
    customer: int | str | None = Field(None, description="customer id or code")
    equipment: int | str | None = Field(None, description="equipment id or serial number")
    reported_at: AwareDatetime | None = None
    contact_name: str | None = None
    phone: str | None = None
    address: str | None = None
    model: str | None = None
    serial_no: str | None = None
    fault_code: str | None = None
    urgent: bool = False
    service_mode: str | None = Field(None, description="on_site or carry_in")
    internal: bool = False
    exclusion: str | None = None
    category: str | None = Field(None, description="A, B, C or D to override the derived one")
    category_reason: str | None = None
    earlier_order: int | str | None = Field(None, description="order id or number")
    branch: str | None = Field(None, description="branch code (default: the user's)")


class DrawRequest(BaseModel):
    """Which day's completed jobs to draw spot checks from (R17)."""

    model_config = ConfigDict(extra="forbid")

    day: dt.date | None = Field(None, description="completion day (default: yesterday)")
    branch: str | None = Field(None, max_length=20, description="branch code (default: all)")


class ContractRequest(BaseModel):
    """A signed maintenance contract (R20)."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=50)
    customer: int | str
    equipment: list[int | str] = Field(min_length=1, max_length=500)
    start_date: dt.date
    end_date: dt.date
    visits_included: int | None = None
    fee: str = "0"
    note: str | None = None
    branch: str | None = None


def router() -> APIRouter:
    routes = APIRouter(prefix="/api/repair", tags=["repair"], responses=ERROR_RESPONSES)

    @routes.post("/work_orders", status_code=201, summary="Register a repair request")
    def register(request: Request, body: RegisterRequest = Body(...)) -> dict:
        with request_context(request) as ctx:
            order = services.register(ctx, **body.model_dump(exclude_unset=True))
            return records.record_dict(ctx, ctx.app.exposed["repair_work_order"], order)

    @routes.post("/contracts", status_code=201, summary="Record a maintenance contract")
    def create_contract(request: Request, body: ContractRequest = Body(...)) -> dict:
        with request_context(request) as ctx:
            contract = services.create_contract(ctx, **body.model_dump(exclude_unset=True))
            return records.record_dict(ctx, ctx.app.exposed["repair_contract"], contract)

    @routes.get("/work_orders/{order_id}/suggestions",
                summary="Engineers to dispatch a work order to, best first, with reasons")
    def suggestions(request: Request, order_id: int,
                    skill: str | None = Query(None, max_length=50),
                    limit: int = Query(10, ge=1, le=100)) -> list[dict]:
        with request_context(request) as ctx:
            return dispatching.suggest_engineers(ctx, order_id, skill=skill, limit=limit)

    @routes.get("/dispatch_queue",
                summary="Undispatched work orders: urgent first, then the oldest report")
    def dispatch_queue(request: Request, branch: str | None = Query(None, max_length=20),
                       limit: int = Query(200, ge=1, le=1000)) -> list[dict]:
        with request_context(request) as ctx:
            info = ctx.app.exposed["repair_work_order"]
            return records.page_dicts(ctx, info, dispatching.dispatch_queue(ctx, branch,
                                                                            limit=limit))

    @routes.get("/work_orders/{order_id}/survey_link",
                summary="The customer's signed survey link for an order (R19), to send or read out")
    def survey_link(request: Request, order_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
        with request_context(request) as ctx:
            return callbacks.survey_link(ctx, order_id)

    @routes.post("/spot_checks/draw", status_code=201,
                 summary="Draw the quality spot checks of a day's completed jobs (R17)")
    def draw_spot_checks(request: Request, body: DrawRequest = Body(...)) -> list[dict]:
        with request_context(request) as ctx:
            info = ctx.app.exposed["repair_quality_check"]
            return [records.to_dict(info, check) for check in quality.draw_spot_checks(
                ctx, day=body.day, branch=body.branch)]

    @routes.get("/history", summary="A returning customer's equipment and past orders (R2)")
    def history(request: Request, customer_id: int | None = Query(None, ge=1, le=2**31 - 1),
                serial_no: str | None = Query(None, max_length=100),
                limit: int = Query(100, ge=1, le=1000)) -> dict:
        with request_context(request) as ctx:
            return customer_history.customer_history(ctx, customer_id=customer_id,
                                             serial_no=serial_no, limit=limit)

    return routes

