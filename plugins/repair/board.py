"""The dispatch board (R7, R9): ``/desk/repair_work_order/board``.

The branch's field engineers × the next seven days (today first), each cell holding the
engineer's booked appointments of that day; a column before the days holds his jobs
dispatched without a time and visits booked earlier that were never kept; beside the
grid the orders waiting for dispatch, urgent first then the oldest (the morning queue,
:func:`dispatching.dispatch_queue`).

What the board shows stays the same size however long a branch's backlog grows: the queue
shows its first :data:`QUEUE_SHOWN` orders and each engineer's "earlier or no time"
column its oldest :data:`OTHER_SHOWN` jobs, each with the number left out and a link to
the list that shows them all (as a kanban column of Odoo loads its first records).

The supervisor dispatches an order by dragging it onto an engineer's day, or without a
mouse by selecting it and pressing the day's button; moving an appointment to another
cell reschedules it the same way. Either is one ``POST`` (with the session's CSRF token)
that runs the work order's ``dispatch`` action through :func:`kernel.actions.run_action`
— the permission, branch, state and input checks of the action's button and the API —
with the engineer and the day at the time given (empty: the appointment's own time when
moving one, else 09:00, or the next full hour today). A refusal is shown on the board
and nothing is written.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from kernel.errors import FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.list_links import labels, list_url
from kernel.models import Branch, Employee
from kernel.references import record_labels
from kernel.web.desk.render import DeskRoute, desk_context, redirect, render

from .dispatching import SKILL_WORDS, dispatch_queue, waiting_filters, waiting_for_dispatch
from .jobs_today import TO_DO
from .models import Appointment, AppointmentStatus, WorkOrder, open_status

PAGE = "/desk/repair_work_order/board"
TEMPLATE = "repair_board.html"
DAYS = 7
#: the time an appointment gets when the supervisor names none
DEFAULT_TIME = dt.time(9, 0)
#: at most this many appointments are read for the grid (a branch's week is far fewer)
MAX_CARDS = 500
#: the orders of the queue shown on the board (the rest: the list)
QUEUE_SHOWN = 50
#: each engineer's earlier or untimed jobs shown on the board, the oldest first
OTHER_SHOWN = 5
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MAX_ID = 2**31 - 1


# --------------------------------------------------------------------------
# what the board shows
# --------------------------------------------------------------------------


def board_branch(ctx, code: str | None) -> Branch:
    """The branch the board is for: ``code`` (one the user may see), else his own."""
    if not code:
        return ctx.branch
    branch = ctx.session.scalar(select(Branch).where(Branch.code == code.strip()[:20]))
    if branch is None or not ctx.can_see(branch):
        raise NotFound(_("no branch {code}").format(code=code), field="branch")
    return branch


def engineers(ctx, branch: Branch) -> list[Employee]:
    """The branch's active field engineers (a service region or an equipment skill), by
    code: the rows of the board."""
    people = ctx.session.scalars(select(Employee).where(
        Employee.branch_id == branch.id, Employee.active.is_(True)).order_by(Employee.code))
    return [p for p in people if p.service_region or
            {str(s).strip().casefold() for s in p.skills or []} & set(SKILL_WORDS)]


def _local(ctx, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ctx.settings.tz)


def _card(ctx, row, customers: dict, when: dt.datetime | None = None) -> dict:
    now = ctx.now()
    return {"order_id": row.id, "number": row.number, "url": f"/desk/repair_work_order/{row.id}",
            "customer": customers.get(row.customer_id, ""), "urgent": bool(row.urgent),
            "status": _(str(getattr(row.status, "value", row.status))),
            "time": _local(ctx, when).strftime("%H:%M") if when else "",
            "date": _local(ctx, when).strftime("%m-%d") if when else "",
            "late": when is not None and when < now}


def _untimed(ctx, branch: Branch, ids: list[int]) -> list:
    """Each engineer's oldest :data:`OTHER_SHOWN` jobs dispatched without a time, each row
    with ``total``, the number of such jobs he has (one query: a window per engineer)."""
    if not ids:
        return []
    rank = func.row_number().over(partition_by=WorkOrder.engineer_id,
                                  order_by=(WorkOrder.reported_at, WorkOrder.id))
    jobs = (select(WorkOrder.id, WorkOrder.number, WorkOrder.urgent, WorkOrder.status,
                   WorkOrder.customer_id, WorkOrder.engineer_id, rank.label("rank"),
                   func.count().over(partition_by=WorkOrder.engineer_id).label("total"))
            .where(WorkOrder.branch_id == branch.id, WorkOrder.engineer_id.in_(ids),
                   *open_status(*TO_DO), WorkOrder.appointment_at.is_(None))
            .subquery("jobs"))
    return ctx.session.execute(select(jobs).where(jobs.c.rank <= OTHER_SHOWN)
                               .order_by(jobs.c.engineer_id, jobs.c.rank)).all()


def _queue(ctx, branch: Branch) -> tuple[list[WorkOrder], int]:
    """The first :data:`QUEUE_SHOWN` orders waiting for dispatch and how many wait (counted
    only when there are more)."""
    queue = dispatch_queue(ctx, branch, limit=QUEUE_SHOWN + 1)
    if len(queue) <= QUEUE_SHOWN:
        return queue, len(queue)
    waiting = ctx.session.scalar(select(func.count()).select_from(WorkOrder).where(
        WorkOrder.branch_id == branch.id, *waiting_for_dispatch()))
    return queue[:QUEUE_SHOWN], waiting


def engineer_jobs_url(person: Employee) -> str:
    """The list of an engineer's jobs not repaired yet (the board's "more" link)."""
    return list_url("repair_work_order", ("engineer_id", "eq", str(person.id)),
                    ("status", "in", labels(TO_DO)))


def queue_url(branch: Branch) -> str:
    """The list of the branch's orders waiting for dispatch (the queue's "all" link)."""
    return list_url("repair_work_order", ("branch_id", "eq", str(branch.id)),
                    *waiting_filters())


def board(ctx, branch: Branch, start: dt.date) -> dict:
    """The board of ``branch`` for the seven days from ``start``: ``days``, ``rows`` (an
    engineer, his earlier or untimed jobs — the oldest :data:`OTHER_SHOWN`, ``more`` left
    out —, his cards per day), ``queue`` (the first orders waiting for dispatch) and
    ``waiting`` (how many wait). At most six queries whatever the number of cards."""
    tz = ctx.settings.tz
    days = [start + dt.timedelta(days=i) for i in range(DAYS)]
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    people = engineers(ctx, branch)
    ids = [p.id for p in people]
    booked = ctx.session.execute(
        select(Appointment.starts_at, Appointment.engineer_id, WorkOrder.id, WorkOrder.number,
               WorkOrder.urgent, WorkOrder.status, WorkOrder.customer_id)
        .join(WorkOrder, WorkOrder.id == Appointment.order_id)
        .where(Appointment.branch_id == branch.id, Appointment.engineer_id.in_(ids),
               Appointment.status == AppointmentStatus.BOOKED, Appointment.starts_at < end)
        .order_by(Appointment.starts_at).limit(MAX_CARDS)).all() if ids else []
    untimed = _untimed(ctx, branch, ids)
    queue, waiting = _queue(ctx, branch)
    customers = record_labels(ctx, ctx.app, "customer", {r.customer_id for r in booked}
                              | {r.customer_id for r in untimed}
                              | {o.customer_id for o in queue})
    first = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    cells: dict[tuple[int, dt.date], list] = {}
    other: dict[int, list] = {}
    for row in booked:
        card = _card(ctx, row, customers, row.starts_at)
        if row.starts_at < first:
            other.setdefault(row.engineer_id, []).append(card)
        else:
            cells.setdefault((row.engineer_id, _local(ctx, row.starts_at).date()), []) \
                .append(card)
    untimed_total: dict[int, int] = {}
    for row in untimed:
        other.setdefault(row.engineer_id, []).append(_card(ctx, row, customers))
        untimed_total[row.engineer_id] = row.total
    more: dict[int, int] = {}
    for person, cards in other.items():  # earlier visits first, then the untimed jobs
        earlier = sum(1 for card in cards if card["time"])
        more[person] = earlier + untimed_total.get(person, 0) - min(len(cards), OTHER_SHOWN)
        del cards[OTHER_SHOWN:]
    today = ctx.now().astimezone(tz).date()
    return {
        "branch": branch, "start": start, "today": today,
        "days": [{"date": d, "iso": d.isoformat(), "weekday": _(WEEKDAYS[d.weekday()]),
                  "label": d.strftime("%m-%d"), "today": d == today, "past": d < today}
                 for d in days],
        "rows": [{"id": p.id, "code": p.code, "name": p.name, "region": p.service_region,
                  "other": other.get(p.id, []), "more": more.get(p.id, 0),
                  "more_url": engineer_jobs_url(p),
                  "cells": [cells.get((p.id, d), []) for d in days],
                  "load": sum(len(cells.get((p.id, d), [])) for d in days)}
                 for p in people],
        "queue": [{**_card(ctx, o, customers),
                   "reported": _local(ctx, o.reported_at).strftime("%m-%d %H:%M"),
                   "deadline": _local(ctx, o.deadline_at).strftime("%m-%d %H:%M")
                   if o.deadline_at else "",
                   "overdue": o.deadline_at is not None and o.deadline_at < ctx.now()}
                  for o in queue],
        "waiting": waiting, "queue_url": queue_url(branch),
    }


# --------------------------------------------------------------------------
# dispatching from the board
# --------------------------------------------------------------------------


def appointment_time(ctx, order: WorkOrder, day: dt.date, typed: str | None) -> dt.datetime:
    """When the visit on ``day`` is: the time typed (``HH:MM``), else the order's
    current appointment's time (moving it), else 09:00 — today no earlier than the next
    full hour."""
    tz = ctx.settings.tz
    if typed:
        try:
            at = dt.time.fromisoformat(typed.strip())
        except ValueError as exc:
            raise ValidationError(_("give the time as HH:MM"), field="time") from exc
    elif order.appointment_at is not None:
        at = _local(ctx, order.appointment_at).time().replace(second=0, microsecond=0)
    else:
        at = DEFAULT_TIME
    moment = dt.datetime.combine(day, at, tzinfo=tz)
    now = ctx.now().astimezone(tz)
    if not typed and day == now.date() and moment < now:
        moment = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    return moment


def parse_target(text: str) -> tuple[int, dt.date]:
    """``"<employee id>|<YYYY-MM-DD>"`` of a cell's button."""
    person, _bar, day = (text or "").partition("|")
    try:
        when = dt.date.fromisoformat(day)
    except ValueError:
        when = None
    if not person.isdigit() or not 1 <= int(person) <= MAX_ID or when is None:
        raise ValidationError(_("choose an engineer's day on the board"), field="target")
    return int(person), when


def dispatch_from_board(ctx, branch: Branch, order_id: str, target: str,
                        time: str | None = None) -> WorkOrder:
    """Dispatch order ``order_id`` (or move its appointment) to the cell ``target`` of
    ``branch``'s board, through the order's ``dispatch`` action."""
    from kernel.actions import run_action

    ctx.require("repair_work_order.dispatch")
    if not str(order_id).isdigit() or not 1 <= int(order_id) <= MAX_ID:
        raise ValidationError(_("select an order first, then the engineer's day"),
                              field="order")
    person_id, day = parse_target(target)
    person = next((p for p in engineers(ctx, branch) if p.id == person_id), None)
    if person is None:
        raise ValidationError(_("that engineer is not on this board"), field="target")
    if day < ctx.now().astimezone(ctx.settings.tz).date():
        raise ValidationError(_("that day is over: choose today or a later day"),
                              field="target")
    order = ctx.session.get(WorkOrder, int(order_id))
    if order is None or not ctx.can_see(order):
        raise NotFound(_("there is no work order {id}").format(id=order_id), field="order")
    if order.branch_id != branch.id:
        raise ValidationError(_("order {number} belongs to another branch").format(
            number=order.number), field="order")
    moment = appointment_time(ctx, order, day, time)
    return run_action(ctx, "repair_work_order", order.id, "dispatch", engineer=person,
                      appointment_at=moment.isoformat())


def _problem(exc: FixdeskError) -> str:
    """The refusal as one line (each field's message when the action names several)."""
    found = getattr(exc, "fields", None)
    if found:
        return "; ".join(found.values())
    return exc.message


# --------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------


def _start(ctx, text: str | None) -> dt.date:
    today = ctx.now().astimezone(ctx.settings.tz).date()
    try:
        return dt.date.fromisoformat(text) if text else today
    except ValueError:
        return today


def _page(request: Request, ctx, branch_code: str | None, start_text: str | None,
          problem: str | None = None, status: int = 200, notice: str | None = None,
          selected: str | None = None, time: str = ""):
    ctx.require("repair_work_order.read")
    branch = board_branch(ctx, branch_code)
    start = _start(ctx, start_text)
    data = board(ctx, branch, start)
    base = f"{PAGE}?branch={branch.code}"
    branches = [b for b in ctx.session.scalars(select(Branch).where(Branch.active.is_(True))
                                               .order_by(Branch.code)) if ctx.can_see(b)]
    return render(
        request, TEMPLATE, status, ctx=ctx, title=_("Dispatch board"), board=data,
        list_url="/desk/repair_work_order", can_dispatch=ctx.can("repair_work_order.dispatch"),
        problem=problem, notice=notice, selected=selected or "", time=time,
        branches=[(b.code, b.name) for b in branches],
        prev_url=f"{base}&start={(start - dt.timedelta(days=DAYS)).isoformat()}",
        next_url=f"{base}&start={(start + dt.timedelta(days=DAYS)).isoformat()}",
        today_url=base, start_iso=start.isoformat())


def _notice(ctx, order_id: str | None) -> str | None:
    if not order_id or not order_id.isdigit() or int(order_id) > MAX_ID:
        return None
    order = ctx.session.get(WorkOrder, int(order_id))
    if order is None or not ctx.can_see(order) or order.engineer is None:
        return None
    when = _local(ctx, order.appointment_at).strftime("%m-%d %H:%M") \
        if order.appointment_at else ""
    return _("Dispatched {number} to {engineer} {when}.").format(
        number=order.number, engineer=order.engineer.name, when=when)


def router() -> APIRouter:
    """``GET``/``POST /desk/repair_work_order/board``: the dispatch board."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(PAGE)
    def show(request: Request, branch: str | None = None, start: str | None = None,
             done: str | None = None):
        with desk_context(request) as ctx:
            return _page(request, ctx, branch, start, notice=_notice(ctx, done))

    @routes.post(PAGE)
    async def dispatch(request: Request):
        form = await request.form()
        return await run_in_threadpool(_post, request, form)

    return routes


def _post(request: Request, form):
    """Dispatch from the board; a refusal (bad input, a state that does not allow it) is
    shown on the board, nothing written; a missing permission is a 403 page."""
    branch_code = str(form.get("branch") or "")
    start = str(form.get("start") or "")
    order_id = str(form.get("order") or "")
    time = str(form.get("time") or "").strip()
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            branch = board_branch(ctx, branch_code)
            order = dispatch_from_board(ctx, branch, order_id, str(form.get("target") or ""),
                                        time or None)
            done, code = order.id, branch.code
        return redirect(f"{PAGE}?branch={code}&start={start}&done={done}")
    except FixdeskError as exc:
        if exc.status in (401, 403, 404):
            raise
        problem, status = _problem(exc), exc.status
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        return _page(request, ctx, branch_code, start, problem=problem, status=status,
                     selected=order_id, time=time)
