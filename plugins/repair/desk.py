"""The front desk's registration page (R1, R2, R3): ``/desk/repair_work_order/new``.

The work order list's *New* button leads here (``WorkOrder.__new_permission__``). The
clerk names the machine or the customer and presses *Look up*: the page shows the
customer's history (their equipment with warranty and contracts, past and open orders,
what other plugins add) and the category the job would get today; then fills in the
fault and presses *Register*. The inputs are :class:`kernel.Param` controls, read back
by the kernel's one reader (:mod:`kernel.params`); :func:`services.register` does
the work, so the desk, the API and the CLI agree.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import Action, Param
from kernel.errors import FixdeskError
from kernel.i18n import N_, _
from kernel.params import action_params, read_each
from kernel.web.desk import action_form
from kernel.web.desk.render import DeskRoute, desk_context, redirect, render

from . import customer_history, register_inline, services
from .rules import Category, Channel, Exclusion, ServiceMode

PAGE = "/desk/repair_work_order/new"
TEMPLATE = "repair_register.html"

#: the registration form, in the order the clerk asks (R1)
REGISTER = Action(
    entity="repair_work_order", name="register", title=N_("Register repair request"),
    func=services.register, permission="repair_work_order.register", params=(
        Param("equipment", "reference", label=N_("Equipment"),
              reference="customer_equipment",
              help=N_("Serial number or model; the customer follows from it.")),
        Param("customer", "reference", label=N_("Customer"), reference="customer"),
        Param("channel", "choice", label=N_("Channel"), required=True,
              choices=tuple(c.value for c in Channel)),
        Param("fault_description", "text", label=N_("Fault description"), required=True),
        Param("fault_code", label=N_("Fault code"),
              help=N_("Error code or short name of the fault (SC542, drum): the same code "
                      "again within the repair warranty is free.")),
        Param("urgent", "boolean", label=N_("Urgent")),
        Param("service_mode", "choice", label=N_("Service mode"),
              choices=tuple(m.value for m in ServiceMode),
              help=N_("Empty: carry-in for walk-ins, on site otherwise.")),
        Param("contact_name", label=N_("Contact")),
        Param("phone", label=N_("Phone")),
        Param("address", label=N_("Address")),
        Param("reported_at", "datetime", label=N_("Reported at"),
              help=N_("Empty: now. Enter the time of a call taken earlier.")),
        Param("exclusion", "choice", label=N_("Warranty exclusion"),
              choices=tuple(e.value for e in Exclusion)),
        Param("internal", "boolean", label=N_("Internal job")),
        Param("category", "choice", label=N_("Category (override)"),
              choices=tuple(c.value for c in Category)),
        Param("category_reason", label=N_("Category reason")),
        Param("earlier_order", "reference", label=N_("Earlier order"),
              reference="repair_work_order"),
        Param("branch", "reference", label=N_("Branch"), reference="branch"),
    ))
#: the fields that identify the machine and customer (looked up first)
LOOKUP_FIELDS = ("equipment", "customer")


def _history(ctx, values: dict) -> dict | None:
    """The customer's history (R2) for the machine or customer named, or None."""
    machine, customer = values.get("equipment"), values.get("customer")
    if machine is None and customer is None:
        return None
    return customer_history.customer_history(
        ctx, customer_id=customer.id if machine is None else None,
        serial_no=machine.serial_no if machine is not None else None, limit=20)


def _category(ctx, values: dict) -> dict | None:
    """The category a job for the named machine would get now (R3–R5), for the preview."""
    machine = values.get("equipment")
    if machine is None:
        return None
    decision = services.decide_category(
        ctx, reported_at=ctx.now().astimezone(dt.UTC), equipment=machine,
        fault_code=values.get("fault_code"))
    return {"category": decision.category.value, "basis": decision.basis.value}


def _page(request: Request, ctx, raw: dict | None = None, errors: dict | None = None,
          problem: str | None = None, status: int = 200, preview: dict | None = None,
          inline: dict | None = None):
    info = ctx.app.exposed["repair_work_order"]
    form = action_form.describe(ctx, info, REGISTER, raw=raw or {}, errors=errors)
    # the small forms that create a customer or machine in place (register_inline.py)
    inline = inline or {}
    typed_in, opened = register_inline.prefill(raw or {}, errors or {}, inline.get("opened"))
    boxes = register_inline.boxes(ctx, {**typed_in, **inline.get("raw", {})},
                                  inline.get("errors") or {}, opened, inline.get("problem"))
    return render(request, TEMPLATE, status, ctx=ctx, title=_("Register repair request"),
                  list_url="/desk/repair_work_order", entity_title=_(info.title),
                  controls=form["controls"], problem=problem, errors=errors or {},
                  history=(preview or {}).get("history"),
                  category=(preview or {}).get("category"), inline=boxes,
                  created=inline.get("created"))


def router() -> APIRouter:
    """``GET``/``POST /desk/repair_work_order/new``: the registration page."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(PAGE)
    def register_form(request: Request):
        with desk_context(request) as ctx:
            ctx.require(REGISTER.permission)
            return _page(request, ctx)

    @routes.post(PAGE)
    async def register_post(request: Request):
        form = await request.form()
        return await run_in_threadpool(_post, request, form)

    return routes


def _post(request: Request, form):
    """*Look up* shows the history and category; *Register* registers and opens the order;
    *Create customer* / *Create equipment* make the one not on file in place."""
    raw = action_form.typed(REGISTER, form)
    if form.get("step") in register_inline.FORMS:
        return _create_inline(request, form, raw, form.get("step"))
    looking_up = form.get("step") == "lookup"
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            ctx.require(REGISTER.permission)
            info = ctx.app.exposed["repair_work_order"]
            values, errors = read_each(ctx, action_params(info, REGISTER), raw)
            if looking_up:
                errors = {k: v for k, v in errors.items() if k in LOOKUP_FIELDS}
                preview = None if errors else {"history": _history(ctx, values),
                                               "category": _category(ctx, values)}
                return _page(request, ctx, raw, errors, status=422 if errors else 200,
                             preview=preview)
            if errors:
                return _page(request, ctx, raw, errors, status=422)
            order_id = services.register(ctx, **values).id
        return redirect(f"/desk/repair_work_order/{order_id}?done=created")
    except FixdeskError as exc:
        if exc.status in (401, 403):
            raise
        field = exc.field if exc.field in REGISTER.param_names else None
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            return _page(request, ctx, raw, {field: exc.message} if field else None,
                         problem=None if field else exc.message, status=exc.status)


def _create_inline(request: Request, form, raw: dict, step: str):
    """Create the customer or machine of the small form ``step`` (the kernel's record
    services), then show the registration looked up with it filled in; on a problem the
    small form stays open as typed, each error under its input, and nothing is written."""
    typed_in = register_inline.typed(form)
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            ctx.require(REGISTER.permission)
            if step == "new_customer":
                made = register_inline.create_customer(ctx, typed_in)
                raw["customer"] = made.code
                created = _("Customer {code} {name} created.").format(code=made.code,
                                                                      name=made.name)
            else:
                made = register_inline.create_equipment(ctx, typed_in)
                raw["equipment"] = made.serial_no
                raw["customer"] = made.customer.code
                created = _("Equipment {serial} created.").format(serial=made.serial_no)
    except FixdeskError as exc:
        if exc.status in (401, 403):
            raise
        found = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else {})
        errors = {k: v for k, v in found.items() if k in typed_in}
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            return _page(request, ctx, raw, status=exc.status, inline={
                "raw": typed_in, "errors": errors, "opened": step,
                "problem": None if errors else exc.message})
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        info = ctx.app.exposed["repair_work_order"]
        values, _problems = read_each(ctx, action_params(info, REGISTER), raw)
        preview = {"history": _history(ctx, values), "category": _category(ctx, values)}
        return _page(request, ctx, raw, preview=preview, inline={"created": created})
