"""The engineer's phone page: ``/desk/repair/phone`` and one page per job.

Made for a phone held in one hand (390 px wide, every tap target at least 44 px): the
engineer's jobs today in appointment order (:mod:`plugins.repair.jobs_today`), each with
the customer's phone to call and the address to open in the map app; on a job's page the
steps of the visit — record the arrival, the diagnosis, start, the parts used, the hours,
the repair report — each a small form run through the work order's actions
(:func:`kernel.actions.run_action`, the same path as the desk and the API: permission,
state, inputs, audit), and the customer's signature drawn on the screen
(:mod:`plugins.repair.signatures`).

An engineer sees and works only on his own jobs (:mod:`plugins.repair.own_jobs`); a
supervisor may open any engineer's day of his branches (``?engineer=E001``). The hours
logged here are always booked to the logged-in user's own employee.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import Param
from kernel.actions import load_record, run_action
from kernel.auth import PermissionDenied
from kernel.errors import FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.params import action_params, find_reference
from kernel.web.desk.action_form import param_label
from kernel.web.desk.inputs import control
from kernel.web.desk.render import DeskRoute, desk_context, redirect, render

from . import jobs_today, signatures
from .own_jobs import engineer_of, may_work_on, works_on_others
from .rules import Status

PAGE = "/desk/repair/phone"
ENTITY = "repair_work_order"
#: the steps of a visit the phone offers, in order, with the inputs each shows (the
#: action's other params are left out: the hours are the user's own, the arrival is now)
STEPS: dict[str, tuple[str, ...]] = {
    "arrive": (),
    "diagnose": ("diagnosis", "fault_code"),
    "start": (),
    "add_part": ("part_code", "description", "quantity", "unit_cost"),
    "return_part": ("line_id", "reason"),
    "add_labour": ("hours", "work_date", "note"),
    "complete": ("fault", "cause", "method"),
}
#: what the page says after a step
DONE = {
    "arrive": N_("Arrival recorded."), "diagnose": N_("Diagnosis saved."),
    "start": N_("Repair started."), "add_part": N_("Part added."),
    "return_part": N_("Part given back."), "add_labour": N_("Hours booked to you."),
    "complete": N_("Repair report saved: the job is completed."),
    "signature": N_("The customer's signature is saved."),
}
#: the engineer picker of a supervisor
WHOSE = Param("engineer", "reference", label=N_("Engineer"), reference="employee")


def _local(ctx, moment: dt.datetime | None, day: dt.date) -> str:
    """A time as the engineer reads it: ``09:30`` today, ``11-28 09:30`` another day."""
    if moment is None:
        return ""
    local = moment.astimezone(ctx.settings.tz)
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%m-%d %H:%M")


def _job(ctx, order, day: dt.date) -> dict:
    """What a job's card and page show of ``order``."""
    customer = order.customer
    return {
        "id": order.id, "number": order.number, "url": f"{PAGE}/{order.id}",
        "status": _(Status(order.status).value), "done": jobs_today.is_done(order),
        "urgent": order.urgent, "appointment": _local(ctx, order.appointment_at, day),
        "deadline": _local(ctx, order.deadline_at, day),
        "arrived": _local(ctx, order.arrived_at, day),
        "customer": customer.name if customer is not None else "",
        "contact": order.contact_name or "", "phone": order.phone or "",
        "tel": jobs_today.tel_url(order.phone), "address": order.address or "",
        "map": jobs_today.map_url(ctx, order.address),
        "machine": " ".join(p for p in (order.model, order.serial_no) if p),
        "fault": order.fault_description, "mode": _(order.service_mode.value),
    }


# --------------------------------------------------------------------------
# the day's list
# --------------------------------------------------------------------------


def _whose_day(ctx, chosen: str):
    """The engineer whose day is shown: the user's own, or for a supervisor the one chosen
    (``?engineer=``); None when there is none to show. A problem with the choice is
    returned as the second value."""
    mine = engineer_of(ctx)
    if chosen.strip() and works_on_others(ctx):
        try:
            return find_reference(ctx, WHOSE, chosen), None
        except ValueError as exc:
            return mine, str(exc)
    return mine, None


def _list_page(request: Request, ctx, chosen: str = ""):
    day = jobs_today.today(ctx)
    engineer, problem = _whose_day(ctx, chosen)
    jobs = [_job(ctx, order, day) for order in jobs_today.jobs_of(ctx, engineer.id, day)] \
        if engineer is not None else []
    picker = control(ctx, WHOSE, id="phone-engineer", label=_(WHOSE.label), value=chosen,
                     error=problem, list_references=True) if works_on_others(ctx) else None
    return render(request, "repair_phone.html", 422 if problem else 200, ctx=ctx,
                  title=_("My jobs today"), day=day, engineer=engineer, jobs=jobs,
                  picker=picker)


# --------------------------------------------------------------------------
# one job
# --------------------------------------------------------------------------


def _own_order(ctx, order_id: int):
    """The order, if the user may work on it: another branch's is not found (404), another
    engineer's is refused (403) unless the user's role works on others' jobs."""
    order = load_record(ctx, ENTITY, order_id)
    if not may_work_on(ctx, order):
        raise PermissionDenied(_("order {number} is not dispatched to you").format(
            number=order.number))
    return order


def _steps(ctx, order, failed: dict | None) -> list[dict]:
    """The steps possible now on ``order``, each with its inputs (a failed one as typed,
    with its errors)."""
    info = ctx.app.exposed[ENTITY]
    failed = failed or {}
    shown = []
    for name, inputs in STEPS.items():
        action = ctx.app.actions.get((ENTITY, name))
        if action is None or not ctx.offers(action) or not ctx.can(action.permission) \
                or not action.available(order):
            continue
        if name == "return_part" and not order.active_lines:
            continue
        mine = failed.get("name") == name
        raw, errors = (failed.get("raw") or {}, failed.get("errors") or {}) if mine \
            else ({}, {})
        params = {p.name: p for p in action_params(info, action)}
        controls = [control(ctx, params[n], id=f"p-{name}-{n}", label=param_label(info, params[n]),
                            value=raw.get(n, ""), error=errors.get(n), record=order)
                    for n in inputs if n in params]
        shown.append({"name": name, "title": _(action.title), "controls": controls,
                      "url": f"{PAGE}/{order.id}/step/{name}", "open": mine,
                      "problem": failed.get("problem") if mine else None})
    return shown


def _job_page(request: Request, ctx, order, *, failed: dict | None = None,
              signature_error: str | None = None, status: int = 200):
    day = jobs_today.today(ctx)
    done = request.query_params.get("done")
    signed = signatures.signature_of(ctx, order)
    steps = _steps(ctx, order, failed)
    problem = None  # a step refused that is no longer offered (arrival recorded already)
    if failed and failed["name"] not in {step["name"] for step in steps}:
        problem = failed.get("problem") or "; ".join((failed.get("errors") or {}).values())
    return render(
        request, "repair_phone_job.html", status, ctx=ctx, title=order.number,
        job=_job(ctx, order, day), order=order, steps=steps, problem=problem,
        lines=order.active_lines, labour=order.labour,
        diagnosis=order.diagnosis, report=order.report_method,
        done=_(DONE[done]) if done in DONE else None,
        signature=signed, signature_error=signature_error,
        may_sign=signatures.may_sign(ctx, order), back=PAGE)


def _field_errors(exc: FixdeskError) -> dict[str, str]:
    found = getattr(exc, "fields", None)
    if found:
        return dict(found)
    return {exc.field: exc.message} if exc.field else {}


def _step(request: Request, order_id: int, name: str, form):
    """Run one step through the work order's action; on a problem show the job again with
    the step's form as typed, each error under its input; nothing is written."""
    inputs = STEPS.get(name)
    if inputs is None:
        raise NotFound(_("There is no such page."))
    raw = {n: str(form.get(n) or "") for n in inputs}
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            order = _own_order(ctx, order_id)
            params = dict(raw)
            if name == "add_labour":  # booked to the user's own employee, never another
                mine = engineer_of(ctx)
                if mine is None:
                    raise ValidationError(_("your account is not linked to an employee: "
                                            "hours cannot be booked to you"), field="hours")
                params["engineer"] = mine
            run_action(ctx, ENTITY, order, name, **params)
        return redirect(f"{PAGE}/{order_id}?done={name}")
    except FixdeskError as exc:
        if exc.status in (401, 403) or (isinstance(exc, NotFound) and exc.field not in raw):
            raise
        found = _field_errors(exc)
        errors = {k: v for k, v in found.items() if k in raw}
        problem = None if errors and set(errors) == set(found) else exc.message
        status = 422 if isinstance(exc, NotFound) else exc.status
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        order = _own_order(ctx, order_id)
        return _job_page(request, ctx, order, status=status, failed={
            "name": name, "raw": raw, "errors": errors, "problem": problem})


def _sign(request: Request, order_id: int, form):
    """Store the drawn signature (a PNG ``data:`` URL) as the order's signature."""
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            order = _own_order(ctx, order_id)
            signatures.record_signature(ctx, order, str(form.get("signature") or ""))
        return redirect(f"{PAGE}/{order_id}?done=signature")
    except FixdeskError as exc:
        if exc.status in (401, 403, 404):
            raise
        message, status = exc.message, exc.status
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        order = _own_order(ctx, order_id)
        return _job_page(request, ctx, order, signature_error=message, status=status)


def router() -> APIRouter:
    """``GET /desk/repair/phone`` (the day's jobs), ``GET /desk/repair/phone/<id>`` (a job),
    ``POST …/<id>/step/<action>`` (a step of the visit), ``POST …/<id>/signature``."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(PAGE)
    def phone_jobs(request: Request, engineer: str = ""):
        with desk_context(request) as ctx:
            ctx.require(f"{ENTITY}.read")
            return _list_page(request, ctx, engineer[:200])

    @routes.get(PAGE + "/{order_id}")
    def phone_job(request: Request, order_id: int):
        with desk_context(request) as ctx:
            return _job_page(request, ctx, _own_order(ctx, order_id))

    @routes.post(PAGE + "/{order_id}/step/{name}")
    async def phone_step(request: Request, order_id: int, name: str):
        form = await request.form()
        return await run_in_threadpool(_step, request, order_id, name, form)

    @routes.post(PAGE + "/{order_id}/signature")
    async def phone_signature(request: Request, order_id: int):
        form = await request.form(max_part_size=signatures.MAX_FIELD)
        return await run_in_threadpool(_sign, request, order_id, form)

    return routes
