"""Repair's cards and charts on the desk's home page (``fixdesk_dashboard``).

Each card is one SQL ``COUNT`` as the user who looks (the session's branch scope applies)
and links to the work-order or callback list filtered so that it shows exactly the
records counted: the card's :class:`Measure` holds both, the conditions and the same
conditions as the list's filter rows. Charts aggregate in SQL (``GROUP BY``), never
one query per row.

* open orders (not closed or cancelled), not dispatched (pending, no engineer or partner
  outlet), overdue (arrival deadline passed, not arrived, clock running, not closed or
  cancelled), due today (arrival deadline today, not arrived), callbacks due (open, due
  by the end of today), waiting for parts, closed today; for an engineer: his jobs today
  (dispatched to him, not repaired, booked for today or earlier) and his open jobs;
* deadline compliance by week (12 weeks; the chart the deadline compliance report prints
  too, :func:`compliance_by_week`), open orders by status, open orders and overdue ones
  by branch, engineers' load today (open jobs per engineer, those booked for today
  apart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import and_, case, func, or_, select

from kernel import PERIOD_CHART_KEEP, ChartData, DashboardCard, DashboardChart
from kernel.i18n import N_, _
from kernel.list_links import labels, list_url
from kernel.models import Branch, Employee
from kernel.relative_dates import phrase

from .dispatching import waiting_filters, waiting_for_dispatch
from .jobs_today import TO_DO, day_bounds, today
from .models import OPEN_STATUSES, Callback, CallbackStatus, WorkOrder, open_status
from .rules import Status

ORDERS = "repair_work_order"
CALLBACKS = "repair_callback"
READ = "repair_work_order.read"
DESK = ("admin", "branch_manager", "service_supervisor", "front_desk")
SUPERVISING = ("admin", "branch_manager", "service_supervisor")
#: on time green, late red (the desk's colours)
ON_TIME_COLOURS = ("#1e7a3c", "#b3261e")
WEEKS = 12


def _now(ctx) -> dt.datetime:
    return ctx.now().astimezone(dt.UTC)


def _today_bounds(ctx) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(ctx, today(ctx))


# ---------------------------------------------------------------------------
# cards: the counted conditions and the same as the list's filter rows
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """What a card counts: ``conditions(ctx)`` on ``cls`` (SQL) and ``rows(ctx)``, the
    same as filter rows of the list of ``entity``; None from either: nothing to count
    (an engineer's card for a user who is no engineer)."""

    entity: str
    cls: type
    conditions: Callable[..., list | None]
    rows: Callable[..., list | None]

    def count(self, ctx) -> int:
        """One ``SELECT count(*)`` of the records the user may see."""
        conditions = self.conditions(ctx)
        if conditions is None:
            return 0
        return ctx.session.scalar(select(func.count()).select_from(self.cls)
                                  .where(*conditions)) or 0

    def url(self, ctx) -> str | None:
        """The list showing exactly the counted records."""
        rows = self.rows(ctx)
        return list_url(self.entity, *rows) if rows is not None else None


def _open_rows(statuses=OPEN_STATUSES) -> tuple:
    return ("status", "in", labels(statuses))


OPEN_ORDERS = Measure(
    ORDERS, WorkOrder,
    lambda ctx: open_status(),
    lambda ctx: [_open_rows()])

UNDISPATCHED = Measure(
    ORDERS, WorkOrder,
    lambda ctx: waiting_for_dispatch(),
    lambda ctx: waiting_filters())

OVERDUE = Measure(
    ORDERS, WorkOrder,
    lambda ctx: [*open_status(), WorkOrder.deadline_at < _now(ctx),
                 WorkOrder.arrived_at.is_(None), WorkOrder.paused_at.is_(None)],
    lambda ctx: [_open_rows(), ("deadline_at", "lt", phrase("now")),
                 ("arrived_at", "empty", ""), ("paused_at", "empty", "")])


def _due_today(ctx) -> list:
    start, end = _today_bounds(ctx)
    return [*open_status(), WorkOrder.deadline_at >= start,
            WorkOrder.deadline_at < end, WorkOrder.arrived_at.is_(None)]


DUE_TODAY = Measure(
    ORDERS, WorkOrder, _due_today,
    lambda ctx: [_open_rows(), ("deadline_at", "gte", phrase("today")),
                 ("deadline_at", "lt", phrase("today", 1)), ("arrived_at", "empty", "")])

CALLBACKS_DUE = Measure(
    CALLBACKS, Callback,
    lambda ctx: [Callback.status == CallbackStatus.OPEN,
                 Callback.due_at < _today_bounds(ctx)[1]],
    lambda ctx: [("status", "eq", _(CallbackStatus.OPEN.value)),
                 ("due_at", "lt", phrase("today", 1))])

WAITING_PARTS = Measure(
    ORDERS, WorkOrder,
    lambda ctx: open_status(Status.WAITING_PARTS),
    lambda ctx: [("status", "eq", _(Status.WAITING_PARTS.value))])

CLOSED_TODAY = Measure(
    ORDERS, WorkOrder,
    lambda ctx: [WorkOrder.status == Status.CLOSED,
                 WorkOrder.closed_at >= _today_bounds(ctx)[0]],
    lambda ctx: [("status", "eq", _(Status.CLOSED.value)),
                 ("closed_at", "gte", phrase("today"))])


def _engineer(ctx) -> int | None:
    """The employee id of the user, if the user is one."""
    return getattr(ctx.user, "employee_id", None)


def _mine(ctx, booked: bool) -> list | None:
    me = _engineer(ctx)
    if me is None:
        return None
    found = [WorkOrder.engineer_id == me, *open_status(*TO_DO)]
    if booked:
        found.append(WorkOrder.appointment_at < _today_bounds(ctx)[1])
    return found


def _mine_rows(ctx, booked: bool) -> list | None:
    me = _engineer(ctx)
    if me is None:
        return None
    found = [("engineer_id", "eq", str(me)), _open_rows(TO_DO)]
    if booked:
        found.append(("appointment_at", "lt", phrase("today", 1)))
    return found


MY_JOBS_TODAY = Measure(ORDERS, WorkOrder, lambda ctx: _mine(ctx, True),
                        lambda ctx: _mine_rows(ctx, True))
MY_OPEN_JOBS = Measure(ORDERS, WorkOrder, lambda ctx: _mine(ctx, False),
                       lambda ctx: _mine_rows(ctx, False))


def _card(name: str, title: str, measure: Measure, roles, order: int, tone="neutral",
          help=None, permission=READ) -> DashboardCard:
    return DashboardCard(f"repair.{name}", title, measure.count, url=measure.url,
                         permission=permission, roles=roles, order=order, tone=tone,
                         help=help)


CARDS = [
    _card("my_jobs_today", N_("My jobs today"), MY_JOBS_TODAY, ("engineer",), 10,
          help=N_("Dispatched to you, not repaired yet, booked for today or earlier")),
    _card("my_open_jobs", N_("My open jobs"), MY_OPEN_JOBS, ("engineer",), 15,
          help=N_("Dispatched to you and not repaired yet")),
    _card("open_orders", N_("Open orders"), OPEN_ORDERS, DESK, 20,
          help=N_("Not closed or cancelled")),
    _card("undispatched", N_("Not dispatched"), UNDISPATCHED, DESK, 30, "warning",
          help=N_("Waiting for an engineer or a partner outlet")),
    _card("overdue", N_("Overdue"), OVERDUE, (*DESK, "engineer"), 40, "danger",
          help=N_("Arrival deadline passed, nobody arrived yet")),
    _card("due_today", N_("Due today"), DUE_TODAY, DESK, 50, "warning",
          help=N_("Arrival deadline today, nobody arrived yet")),
    _card("callbacks_due", N_("Callbacks due"), CALLBACKS_DUE, DESK, 60, "warning",
          help=N_("Customers to call back by the end of today"),
          permission="repair_callback.read"),
    _card("waiting_parts", N_("Waiting for parts"), WAITING_PARTS,
          ("warehouse_keeper", *SUPERVISING), 70, "warning"),
    _card("closed_today", N_("Closed today"), CLOSED_TODAY,
          ("accountant", "admin", "branch_manager"), 80),
]


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------


def _week_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """The start of each week (Monday) from ``first`` to ``last``: ``first`` itself, then
    every Monday after it."""
    starts = [first]
    monday = first - dt.timedelta(days=first.weekday()) + dt.timedelta(days=7)
    while monday <= last:
        starts.append(monday)
        monday += dt.timedelta(days=7)
    return starts


def compliance_by_week(ctx, first: dt.date, last: dt.date,
                       branch_ids: list[int] | None = None) -> ChartData:
    """Arrival deadlines met and missed per week, for the jobs reported from ``first`` to
    ``last`` (site dates, both included) and, when given, at ``branch_ids``: the rule of
    the deadline compliance report (a job counts once its outcome is known: arrived, or
    the deadline passed without an arrival and it is not cancelled), one ``GROUP BY``
    query. The dashboard shows the last 12 weeks; the report prints its own period."""
    starts = _week_starts(first, last)
    bounds = [day_bounds(ctx, day)[0] for day in starts] + [day_bounds(ctx, last)[1]]
    week = case(*[(WorkOrder.reported_at < bound, i) for i, bound in enumerate(bounds[1:])],
                else_=len(starts) - 1)
    met = case((and_(WorkOrder.arrived_at.is_not(None), WorkOrder.deadline_met.is_(True)), 1),
               else_=0)
    query = (select(week.label("week"), met.label("met"), func.count()).select_from(WorkOrder)
             .where(WorkOrder.reported_at >= bounds[0], WorkOrder.reported_at < bounds[-1],
                    WorkOrder.deadline_at.is_not(None),
                    or_(WorkOrder.arrived_at.is_not(None),
                        and_(WorkOrder.status != Status.CANCELLED,
                             WorkOrder.deadline_at < _now(ctx))))
             .group_by(week, met))
    if branch_ids is not None:
        query = query.where(WorkOrder.branch_id.in_(branch_ids))
    on_time, missed = [0] * len(starts), [0] * len(starts)
    for index, was_met, count in ctx.session.execute(query):
        (on_time if was_met else missed)[int(index)] += count
    return ChartData("stacked_bar", _("Deadline compliance by week"),
                     tuple(day.strftime("%m-%d") for day in starts),
                     ((_("On time"), tuple(on_time)), (_("Missed"), tuple(missed))),
                     colours=ON_TIME_COLOURS)


def _twelve_weeks(ctx) -> tuple[dt.date, dt.date]:
    last = today(ctx)
    monday = last - dt.timedelta(days=last.weekday())
    return monday - dt.timedelta(weeks=WEEKS - 1), last


def compliance_chart(ctx) -> ChartData:
    """The last 12 weeks' deadline compliance (this week so far included)."""
    first, last = _twelve_weeks(ctx)
    return compliance_by_week(ctx, first, last)


def compliance_report_url(ctx) -> str:
    """The deadline compliance report over the chart's 12 weeks."""
    first, last = _twelve_weeks(ctx)
    query = urlencode({"start": first.isoformat(), "end": last.isoformat(), "run": "1"})
    return f"/desk/reports/repair.compliance?{query}"


def orders_by_status(ctx) -> ChartData:
    """Open orders per status, in the workflow's order (one ``GROUP BY``)."""
    counts = dict(ctx.session.execute(
        select(WorkOrder.status, func.count()).select_from(WorkOrder)
        .where(*open_status())
        .group_by(WorkOrder.status)).all())
    counts = {Status(k): v for k, v in counts.items()}
    return ChartData("bar", _("Open orders by status"),
                     tuple(_(s.value) for s in OPEN_STATUSES),
                     ((_("Open orders"), tuple(counts.get(s, 0) for s in OPEN_STATUSES)),))


def orders_by_branch(ctx) -> ChartData:
    """Open orders and the overdue ones among them per branch the user sees (one
    ``GROUP BY``)."""
    overdue = case((and_(WorkOrder.deadline_at < _now(ctx), WorkOrder.arrived_at.is_(None),
                         WorkOrder.paused_at.is_(None)), 1), else_=0)
    rows = ctx.session.execute(
        select(Branch.code, Branch.name, func.count(), func.sum(overdue)).select_from(WorkOrder)
        .join(Branch, Branch.id == WorkOrder.branch_id)
        .where(*open_status())
        .group_by(Branch.code, Branch.name).order_by(Branch.code)).all()
    return ChartData("bar", _("Open orders by branch"),
                     tuple(name for _code, name, _n, _o in rows),
                     ((_("Open orders"), tuple(n for _c, _name, n, _o in rows)),
                      (_("Overdue"), tuple(int(o or 0) for _c, _name, _n, o in rows))),
                     colours=("#1f5fa8", "#b3261e"))


def engineer_load(ctx) -> ChartData:
    """Each engineer's jobs to do (dispatched, not repaired): those booked for today apart
    from the rest, the busiest first (one ``GROUP BY``; at most 20 engineers)."""
    start, end = _today_bounds(ctx)
    booked = case((and_(WorkOrder.appointment_at >= start, WorkOrder.appointment_at < end), 1),
                  else_=0)
    total = func.count()
    rows = ctx.session.execute(
        select(Employee.name, func.sum(booked), total).select_from(WorkOrder)
        .join(Employee, Employee.id == WorkOrder.engineer_id)
        .where(*open_status(*TO_DO))
        .group_by(Employee.id, Employee.name).order_by(total.desc(), Employee.name)
        .limit(20)).all()
    return ChartData("stacked_bar", _("Engineers' load today"),
                     tuple(name for name, _b, _t in rows),
                     ((_("Booked for today"), tuple(int(b or 0) for _n, b, _t in rows)),
                      (_("Other open jobs"), tuple(t - int(b or 0) for _n, b, t in rows))))


CHARTS = [
    DashboardChart("repair.compliance_weeks", N_("Deadline compliance by week"),
                   compliance_chart, permission=READ, roles=SUPERVISING, order=10,
                   url=compliance_report_url, keep=PERIOD_CHART_KEEP),
    DashboardChart("repair.orders_by_status", N_("Open orders by status"), orders_by_status,
                   permission=READ, roles=DESK, order=20),
    DashboardChart("repair.orders_by_branch", N_("Open orders by branch"), orders_by_branch,
                   permission=READ, roles=("admin", "branch_manager"), order=30),
    DashboardChart("repair.engineer_load", N_("Engineers' load today"), engineer_load,
                   permission=READ, roles=SUPERVISING, order=40),
]


def dashboard() -> list:
    """Repair's cards and charts (``fixdesk_dashboard``)."""
    return [*CARDS, *CHARTS]
