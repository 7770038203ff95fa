"""The repair reports (R1, R8, R17–R19, R33): plain functions taking a context, returning rows.

* :func:`repair_register` — the repair register (报修登记簿) by day and branch: one line
  per order reported in a date range, with the register's columns (R1);
* :func:`deadline_compliance` — share of jobs that met their arrival deadline, by branch
  or by engineer, for jobs reported in a date range (R6, R8), printed with the weekly
  chart of the home page (:func:`plugins.repair.dashboard.compliance_by_week`);
* :func:`engineer_daily` — the engineer's daily work report (技术员工作日报表): per
  engineer and day, the jobs worked on with their category and hours (R18);
* :func:`supervisor_daily` — the supervisor's daily report (服务主任日报表) per branch:
  what happened that day and, at the end of it, the open jobs by status, overdue and
  undispatched (R18), with the lists of the overdue and undispatched orders;
* :func:`dispatch_queue_rows` — the orders waiting for dispatch, urgent and oldest first
  (R7, R9);
* :func:`engineer_scores` — each engineer's month: jobs closed, arrivals on time and
  late, the survey ratings' means and poor ratings, spot checks passed and failed (R8,
  R17, R19).

Rows are dicts of plain Python values (dates, datetimes in UTC, Decimals, enum values).
:data:`REPORTS` registers each as a :class:`kernel.Report` (``fixdesk_reports``): the
kernel reads the parameters, shows the table on the desk, exports it to Excel (R33) and
prints it; the two daily reports have papers of their own
(``templates/repair/engineer_daily.html``, ``supervisor_daily.html``). The reader needs
``repair_work_order.read``; branch scoping is the session's (a user sees the branches
they may see), and ``branch`` narrows to one of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from kernel import Column, NotFound, Param, Report, ValidationError
from kernel.i18n import N_, _
from kernel.models import Branch, Employee
from kernel.months import month_end, parse_month

from .inputs import parse_date
from .models import Callback, CheckStatus, LabourEntry, QualityCheck, StatusChange, WorkOrder
from .rules import OPEN, Status

#: the longest date range one report covers
MAX_DAYS = 366
PERMISSION = "repair_work_order.read"


# ---------------------------------------------------------------------------
# input and scope
# ---------------------------------------------------------------------------


def _period(start: Any, end: Any) -> tuple[dt.date, dt.date]:
    first, last = parse_date(start, "start"), parse_date(end, "end")
    if last < first:
        raise ValidationError(_("the end date lies before the start date"), field="end")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(_("a report covers at most {n} days").format(n=MAX_DAYS),
                              field="end")
    return first, last


def _bounds(ctx, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of ``first``, start of the day after ``last``) in the site's time zone, UTC."""
    tz = ctx.settings.tz
    return (dt.datetime.combine(first, dt.time(0), tz).astimezone(dt.UTC),
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC))


def _branches(ctx, branch: Any = None) -> list[Branch]:
    """The branches the report covers: ``branch`` (object or code) if given and visible,
    else every branch the user may see, by code."""
    if branch in (None, ""):
        return [b for b in ctx.session.scalars(select(Branch).order_by(Branch.code))
                if ctx.can_see(b)]
    found = branch if isinstance(branch, Branch) else ctx.session.scalar(
        select(Branch).where(Branch.code == str(branch).strip()))
    if found is None or not ctx.can_see(found):
        raise NotFound(_("no {field} {value}").format(field="branch", value=branch),
                       field="branch")
    return [found]


def _unindexed(ctx, column):
    """``+column`` on SQLite (else ``column``): SQLite's no-op that keeps it off the
    column's index. It plans without statistics and takes an equality on ``branch_id``
    or a range of report times for narrow, and so would read half of the history where
    another index finds the few rows wanted."""
    if ctx.session.get_bind().dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _local(ctx, moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(ctx.settings.tz) if moment is not None else None


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


# ---------------------------------------------------------------------------
# the repair register (R1)
# ---------------------------------------------------------------------------


REGISTER_COLUMNS = (
    Column("day", N_("Date"), "date"), Column("branch", N_("Branch")),
    Column("number", N_("Number")), Column("reported_at", N_("Reported at"), "datetime"),
    Column("channel", N_("Channel"), "enum"), Column("urgent", N_("Urgent"), "bool"),
    Column("customer", N_("Customer")), Column("contact_name", N_("Contact")),
    Column("phone", N_("Phone")), Column("address", N_("Address")),
    Column("model", N_("Model")), Column("serial_no", N_("Serial number")),
    Column("fault_description", N_("Fault description")),
    Column("category", N_("Category"), "enum"),
    Column("service_mode", N_("Service mode"), "enum"),
    Column("engineer", N_("Engineer")),
    Column("deadline_at", N_("Arrival deadline"), "datetime"),
    Column("arrived_at", N_("Arrived at"), "datetime"),
    Column("deadline_met", N_("Deadline met"), "bool"),
    Column("status", N_("Status"), "enum"), Column("closed_at", N_("Closed at"), "datetime"),
)


def repair_register(ctx, start, end, branch=None) -> list[dict]:
    """One line per order reported from ``start`` to ``end`` (dates, both included, site
    time), ordered by day, branch and report time: the repair register (报修登记簿)."""
    ctx.require(PERMISSION)
    first, last = _period(start, end)
    low, high = _bounds(ctx, first, last)
    branches = _branches(ctx, branch)
    orders = ctx.session.scalars(
        select(WorkOrder).options(joinedload(WorkOrder.customer), joinedload(WorkOrder.engineer),
                                  joinedload(WorkOrder.branch))
        .where(WorkOrder.reported_at >= low, WorkOrder.reported_at < high,
               WorkOrder.branch_id.in_([b.id for b in branches]))).unique().all()
    rows = []
    for order in orders:
        rows.append({
            "day": _local(ctx, order.reported_at).date(), "branch": order.branch.name,
            "branch_code": order.branch.code, "number": order.number,
            "reported_at": order.reported_at, "channel": order.channel.value,
            "urgent": order.urgent,
            "customer": order.customer.name if order.customer else None,
            "contact_name": order.contact_name, "phone": order.phone,
            "address": order.address, "model": order.model, "serial_no": order.serial_no,
            "fault_description": order.fault_description, "category": order.category.value,
            "service_mode": order.service_mode.value,
            "engineer": order.engineer.name if order.engineer else order.partner_outlet,
            "deadline_at": order.deadline_at, "arrived_at": order.arrived_at,
            "deadline_met": order.deadline_met, "status": order.status.value,
            "closed_at": order.closed_at,
        })
    rows.sort(key=lambda r: (r["day"], r["branch_code"], r["reported_at"], r["number"]))
    return rows


# ---------------------------------------------------------------------------
# deadline compliance (R6, R8)
# ---------------------------------------------------------------------------


COMPLIANCE_COLUMNS = (
    Column("branch", N_("Branch")), Column("engineer", N_("Engineer")),
    Column("jobs", N_("Jobs with a deadline"), "int"), Column("on_time", N_("On time"), "int"),
    Column("missed", N_("Missed"), "int"),
    Column("not_arrived", N_("Overdue, not arrived yet"), "int"),
    Column("on_time_share", N_("Share on time"), "share"),
    Column("missed_minutes", N_("Missed by (working minutes)"), "int"),
)


def deadline_compliance(ctx, start, end, by: str = "branch", branch=None) -> list[dict]:
    """The arrival deadlines of jobs reported from ``start`` to ``end``, per branch
    (``by="branch"``, with a total line) or per engineer (``by="engineer"``).

    A job counts once its outcome is known: the engineer arrived (met or missed, R8), or
    the deadline has passed without an arrival (missed, "overdue, not arrived yet").
    Jobs without a deadline (carry-in, internal) and jobs cancelled before an arrival do
    not count. ``missed_minutes`` adds up the working minutes of the recorded lateness.
    The share on time is a fraction (0.75 for 75 %), empty when no job counts.
    """
    ctx.require(PERMISSION)
    if by not in ("branch", "engineer"):
        raise ValidationError(_("by must be one of: {choices}").format(
            choices="branch, engineer"), field="by")
    first, last = _period(start, end)
    low, high = _bounds(ctx, first, last)
    branches = _branches(ctx, branch)
    name_of = {b.id: b.name for b in branches}
    code_of = {b.id: b.code for b in branches}
    groups: dict[tuple, dict] = {}
    found = _compliance_counts(ctx, low, high, [b.id for b in branches], by == "engineer")
    people = {e.id: e for e in ctx.session.scalars(select(Employee).where(
        Employee.id.in_({r.engineer_id for r in found if r.engineer_id})))} \
        if by == "engineer" and found else {}
    for found_row in found:
        if by == "branch":
            key = (code_of[found_row.branch_id],)
            label = {"branch": name_of[found_row.branch_id], "engineer": None}
        else:
            person = people.get(found_row.engineer_id)
            who = person.name if person else found_row.partner_outlet or _("not dispatched")
            key = (code_of[found_row.branch_id], person.code if person else "~" + who)
            label = {"branch": name_of[found_row.branch_id], "engineer": who,
                     "engineer_code": person.code if person else None}
        line = groups.setdefault(key, {**label, "jobs": 0, "on_time": 0, "missed": 0,
                                       "not_arrived": 0, "missed_minutes": 0})
        line["jobs"] += found_row.jobs
        line["on_time"] += found_row.on_time
        line["missed"] += found_row.jobs - found_row.on_time
        line["not_arrived"] += found_row.not_arrived
        line["missed_minutes"] += found_row.missed_minutes or 0
    rows = [groups[key] for key in sorted(groups)]
    if by == "branch" and rows:
        total = {"branch": _("Total"), "engineer": None}
        for name in ("jobs", "on_time", "missed", "not_arrived", "missed_minutes"):
            total[name] = sum(r[name] for r in rows)
        rows.append(total)
    for row in rows:
        row["on_time_share"] = _share(row["on_time"], row["jobs"])
    return rows


def _compliance_counts(ctx, low: dt.datetime, high: dt.datetime, ids: list[int],
                       by_engineer: bool) -> list:
    """The jobs with a deadline reported in [``low``, ``high``) at branches ``ids`` whose
    outcome is known (arrived, or the deadline passed without an arrival and not
    cancelled), counted in the database per branch (and per engineer or outlet): rows of
    ``branch_id``, ``engineer_id``, ``partner_outlet``, ``jobs``, ``on_time``,
    ``not_arrived`` and ``missed_minutes`` (of the late arrivals)."""
    now = ctx.now().astimezone(dt.UTC)
    arrived = WorkOrder.arrived_at.is_not(None)
    late = and_(arrived, or_(WorkOrder.deadline_met.is_(None),
                             WorkOrder.deadline_met.is_(False)))
    keys = [WorkOrder.branch_id]
    if by_engineer:
        keys += [WorkOrder.engineer_id, WorkOrder.partner_outlet]
    query = (
        select(*keys, func.count().label("jobs"),
               func.count(case((and_(arrived, WorkOrder.deadline_met.is_(True)), 1)))
               .label("on_time"),
               func.count(case((WorkOrder.arrived_at.is_(None), 1))).label("not_arrived"),
               func.sum(case((late, func.coalesce(WorkOrder.missed_minutes, 0)), else_=0))
               .label("missed_minutes"))
        .where(WorkOrder.reported_at >= low, WorkOrder.reported_at < high,
               WorkOrder.deadline_at.is_not(None), WorkOrder.branch_id.in_(ids),
               or_(arrived, and_(WorkOrder.status != Status.CANCELLED,
                                 WorkOrder.deadline_at < now)))
        .group_by(*keys))
    return ctx.session.execute(query).all()


# ---------------------------------------------------------------------------
# the engineer's daily work report (R18)
# ---------------------------------------------------------------------------


ENGINEER_DAILY_COLUMNS = (
    Column("day", N_("Date"), "date"), Column("branch", N_("Branch")),
    Column("engineer_code", N_("Engineer number")), Column("engineer", N_("Engineer")),
    Column("number", N_("Work order")), Column("customer", N_("Customer")),
    Column("model", N_("Model")), Column("category", N_("Category"), "enum"),
    Column("service_mode", N_("Service mode"), "enum"), Column("status", N_("Status"), "enum"),
    Column("hours", N_("Hours"), "hours", total=True), Column("note", N_("Note")),
)


def engineer_daily(ctx, start, end=None, engineer=None, branch=None) -> list[dict]:
    """Per engineer and day from ``start`` to ``end`` (default: ``start`` alone): each job
    they recorded working time on (the hours on the repair card, R13/R16), with its
    category and the hours that day; ordered by day, branch, engineer and order.
    ``engineer`` (an employee or a code) narrows to one."""
    ctx.require(PERMISSION)
    first, last = _period(start, start if end in (None, "") else end)
    branches = _branches(ctx, branch)
    query = (select(LabourEntry.work_date, LabourEntry.employee_id, LabourEntry.order_id,
                    func.sum(LabourEntry.minutes), func.count(LabourEntry.id))
             .join(WorkOrder, WorkOrder.id == LabourEntry.order_id)
             .where(LabourEntry.work_date >= first, LabourEntry.work_date <= last,
                    WorkOrder.branch_id.in_([b.id for b in branches]))
             .group_by(LabourEntry.work_date, LabourEntry.employee_id, LabourEntry.order_id))
    if engineer not in (None, ""):
        person = engineer if isinstance(engineer, Employee) else ctx.session.scalar(
            select(Employee).where(Employee.code == str(engineer)))
        if person is None or not ctx.can_see(person):
            raise NotFound(_("no {field} {value}").format(field="engineer", value=engineer),
                           field="engineer")
        query = query.where(LabourEntry.employee_id == person.id)
    found = ctx.session.execute(query).all()
    orders = {o.id: o for o in ctx.session.scalars(
        select(WorkOrder).options(joinedload(WorkOrder.customer), joinedload(WorkOrder.branch))
        .where(WorkOrder.id.in_({r[2] for r in found})))} if found else {}
    people = {e.id: e for e in ctx.session.scalars(
        select(Employee).where(Employee.id.in_({r[1] for r in found})))} if found else {}
    notes: dict[tuple, list[str]] = defaultdict(list)
    if found:
        for day, person_id, order_id, note in ctx.session.execute(
                select(LabourEntry.work_date, LabourEntry.employee_id, LabourEntry.order_id,
                       LabourEntry.note)
                .where(LabourEntry.order_id.in_(set(orders)), LabourEntry.note.is_not(None),
                       LabourEntry.work_date >= first, LabourEntry.work_date <= last)
                .order_by(LabourEntry.id)):
            notes[(day, person_id, order_id)].append(note)
    rows = []
    for day, person_id, order_id, minutes, _entries in found:
        order, person = orders[order_id], people.get(person_id)
        rows.append({
            "day": day, "branch": order.branch.name, "branch_code": order.branch.code,
            "engineer_code": person.code if person else None,
            "engineer": person.name if person else None, "number": order.number,
            "customer": order.customer.name if order.customer else None,
            "model": order.model, "category": order.category.value,
            "service_mode": order.service_mode.value, "status": order.status.value,
            "minutes": int(minutes), "hours": _hours(int(minutes)),
            "note": "; ".join(notes.get((day, person_id, order_id), [])) or None,
        })
    rows.sort(key=lambda r: (r["day"], r["branch_code"], r["engineer_code"] or "",
                             r["number"]))
    return rows


# ---------------------------------------------------------------------------
# the supervisor's daily report (R18)
# ---------------------------------------------------------------------------


#: statuses counted as "open" at the end of the day, in the report's column order
OPEN_ORDER = (Status.PENDING, Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR,
              Status.WAITING_PARTS, Status.HARD_TO_REPAIR, Status.COMPLETED,
              Status.READY_FOR_PICKUP)
#: events of the day → column
DAY_EVENTS = {"register": "reported", "dispatch": "dispatched", "arrive": "arrived",
              "complete": "completed", "close": "closed", "cancel": "cancelled"}

SUPERVISOR_DAILY_COLUMNS = (
    Column("day", N_("Date"), "date"), Column("branch", N_("Branch")),
    Column("reported", N_("Reported"), "int", True),
    Column("dispatched", N_("Dispatched"), "int", True),
    Column("arrived", N_("Arrived"), "int", True),
    Column("arrived_late", N_("Arrived after the deadline"), "int", True),
    Column("completed", N_("Completed"), "int", True),
    Column("closed", N_("Closed"), "int", True),
    Column("cancelled", N_("Cancelled"), "int", True),
    *(Column(f"open_{s.value}", label, "int", True) for s, label in zip(OPEN_ORDER, (
        N_("Open: pending"), N_("Open: dispatched"), N_("Open: quoted"),
        N_("Open: in repair"), N_("Open: waiting for parts"), N_("Open: hard to repair"),
        N_("Open: completed, not closed"), N_("Open: ready for pickup")), strict=True)),
    Column("open", N_("Open in all"), "int", True),
    Column("urgent_open", N_("Urgent open"), "int", True),
    Column("overdue", N_("Overdue (deadline passed, not arrived)"), "int", True),
    Column("undispatched", N_("Not dispatched"), "int", True),
)


def supervisor_daily(ctx, day, branch=None) -> list[dict]:
    """One line per branch for ``day`` (site time): orders reported, dispatched (first
    dispatch), arrived (and of those late), completed, closed and cancelled that day;
    and at the end of the day (or now, for today) the open orders by status, the urgent
    ones, the overdue ones (deadline passed, engineer not arrived) and those not
    dispatched. Statuses at the end of the day come from the orders' history.

    Each line also lists the orders behind two figures, for the paper:
    ``overdue_orders`` and ``undispatched_orders`` (number, customer, urgent, reported at,
    deadline, engineer, status at the end of the day), oldest report first."""
    ctx.require(PERMISSION)
    on = parse_date(day, "day")
    low, high = _bounds(ctx, on, on)
    moment = min(high, ctx.now().astimezone(dt.UTC))
    branches = _branches(ctx, branch)
    rows = {b.id: {"day": on, "branch": b.name, "branch_code": b.code,
                   **{column: 0 for column in DAY_EVENTS.values()}, "arrived_late": 0,
                   **{f"open_{s.value}": 0 for s in OPEN_ORDER}, "open": 0,
                   "urgent_open": 0, "overdue": 0, "undispatched": 0} for b in branches}
    ids = list(rows)
    # the day's events: each order counted once per kind of event
    events = ctx.session.execute(
        select(WorkOrder.branch_id, StatusChange.event, StatusChange.detail,
               StatusChange.order_id, StatusChange.from_status)
        .join(WorkOrder, WorkOrder.id == StatusChange.order_id)
        .where(StatusChange.at >= low, StatusChange.at < high,
               StatusChange.event.in_(list(DAY_EVENTS)),
               _unindexed(ctx, WorkOrder.branch_id).in_(ids))
        .order_by(StatusChange.id)).all()
    seen = set()
    for branch_id, event, detail, order_id, from_status in events:
        if event == "dispatch" and from_status != Status.PENDING:
            continue  # a re-dispatch is not a new dispatch
        if (event, order_id) in seen:
            continue
        seen.add((event, order_id))
        rows[branch_id][DAY_EVENTS[event]] += 1
        if event == "arrive" and (detail or {}).get("deadline_met") is False:
            rows[branch_id]["arrived_late"] += 1
    listed: dict[str, dict[int, Status]] = {"overdue": {}, "undispatched": {}}
    for branch_id, status, urgent, deadline_at, arrived_at, order_id in _states_at(
            ctx, ids, moment):
        status = Status(status)
        if status not in OPEN:
            continue
        line = rows[branch_id]
        line[f"open_{status.value}"] += 1
        line["open"] += 1
        line["urgent_open"] += bool(urgent)
        if status == Status.PENDING:
            line["undispatched"] += 1
            listed["undispatched"][order_id] = status
        if deadline_at is not None and deadline_at < moment and \
                (arrived_at is None or arrived_at >= moment):
            line["overdue"] += 1
            listed["overdue"][order_id] = status
    _list_orders(ctx, rows, listed)
    return [rows[b.id] for b in branches]


def _states_at(ctx, ids: list[int], moment: dt.datetime) -> list[tuple]:
    """``(branch_id, status, urgent, deadline_at, arrived_at, order id)`` at ``moment`` of
    the orders of branches ``ids`` that may have been open then, the status being each
    order's last history entry before ``moment``.

    Only orders reported before ``moment`` and open now, or closed or cancelled since, can
    have been open then (reopening an order clears both instants; a report time never lies
    after the registration): on a site with years of history that is the few thousand
    orders around ``moment``, not the whole history (indexes on the status, on
    ``(closed_at, reported_at)`` and on ``cancelled_at``, migration repair_0008).

    Each order's last entry is read by the order, newest first, through the history's
    ``(order_id, id)``: a correlated subquery leaves the database no other way. Grouping
    the candidates' history and joining it back gave PostgreSQL room to guess: it took
    ~6,500 candidates for 49,000 and merged the join against the whole history by id
    (0.9 s at a million orders)."""
    before = _unindexed(ctx, WorkOrder.reported_at) < moment
    status = (select(StatusChange.to_status)
              .where(StatusChange.order_id == WorkOrder.id, StatusChange.at < moment)
              .order_by(StatusChange.id.desc()).limit(1).correlate(WorkOrder)
              .scalar_subquery())
    rows = ctx.session.execute(
        select(WorkOrder.branch_id, status, WorkOrder.urgent, WorkOrder.deadline_at,
               WorkOrder.arrived_at, WorkOrder.id)
        .where((WorkOrder.branch_id + 0).in_(ids),  # never by branch: nearly every order
               or_(WorkOrder.status.in_(sorted(OPEN)),
                   and_(WorkOrder.closed_at >= moment, before),
                   and_(WorkOrder.cancelled_at >= moment, before)))).all()
    return [row for row in rows if row[1] is not None]  # no history yet: not registered


def _list_orders(ctx, rows: dict[int, dict], listed: dict[str, dict[int, Status]]) -> None:
    """Add to each branch's line the orders behind its overdue and undispatched figures."""
    for line in rows.values():
        line["overdue_orders"], line["undispatched_orders"] = [], []
    wanted = set(listed["overdue"]) | set(listed["undispatched"])
    if not wanted:
        return
    orders = ctx.session.scalars(
        select(WorkOrder).options(joinedload(WorkOrder.customer), joinedload(WorkOrder.engineer))
        .where(WorkOrder.id.in_(wanted))
        .order_by(WorkOrder.reported_at, WorkOrder.number)).unique().all()
    for order in orders:
        for kind, statuses in listed.items():
            if order.id in statuses:
                rows[order.branch_id][f"{kind}_orders"].append({
                    "number": order.number,
                    "customer": order.customer.name if order.customer else order.contact_name,
                    "urgent": order.urgent, "reported_at": order.reported_at,
                    "deadline_at": order.deadline_at,
                    "engineer": order.engineer.name if order.engineer else order.partner_outlet,
                    "status": statuses[order.id].value})


# ---------------------------------------------------------------------------
# the morning's dispatch queue (R7, R9)
# ---------------------------------------------------------------------------


QUEUE_COLUMNS = (
    Column("branch", N_("Branch")), Column("number", N_("Number")),
    Column("urgent", N_("Urgent"), "bool"),
    Column("reported_at", N_("Reported at"), "datetime"),
    Column("customer", N_("Customer")), Column("address", N_("Address")),
    Column("model", N_("Model")), Column("fault_description", N_("Fault description")),
    Column("category", N_("Category"), "enum"),
    Column("deadline_at", N_("Arrival deadline"), "datetime"),
)


def dispatch_queue_rows(ctx, branch=None) -> list[dict]:
    """The orders waiting for dispatch (R7) as a report: urgent first (R9), then the
    oldest report, so that yesterday's jobs head the supervisor's morning list."""
    from .dispatching import dispatch_queue

    rows = []
    for order in dispatch_queue(ctx, branch, limit=1000):
        rows.append({
            "branch": order.branch.name, "number": order.number, "urgent": order.urgent,
            "reported_at": order.reported_at,
            "customer": order.customer.name if order.customer else order.contact_name,
            "address": order.address, "model": order.model,
            "fault_description": order.fault_description, "category": order.category.value,
            "deadline_at": order.deadline_at})
    return rows


# ---------------------------------------------------------------------------
# engineers' monthly scores (R8, R17, R19)
# ---------------------------------------------------------------------------


SCORE_COLUMNS = (
    Column("branch", N_("Branch")), Column("engineer", N_("Engineer")),
    Column("closed", N_("Jobs closed"), "int", True),
    Column("on_time", N_("Arrived on time"), "int", True),
    Column("late", N_("Arrived late"), "int", True),
    Column("missed_minutes", N_("Missed by (working minutes)"), "int", True),
    Column("surveys", N_("Surveys answered"), "int", True),
    Column("attitude", N_("Service attitude"), "number"),
    Column("skill", N_("Technical skill"), "number"),
    Column("arrival", N_("Arrival time"), "number"),
    Column("promise", N_("Keeping promises"), "number"),
    Column("score", N_("Survey score"), "number"),
    Column("poor", N_("Poor ratings"), "int", True),
    Column("checks_passed", N_("Spot checks passed"), "int", True),
    Column("checks_failed", N_("Spot checks failed"), "int", True),
)


def _month(value: Any) -> tuple[dt.date, dt.date]:
    """The first and last day of a month given as ``YYYY-MM`` (or a date in it)."""
    first = parse_month(value)
    return first, month_end(first)


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def engineer_scores(ctx, month, branch=None) -> list[dict]:
    """Each engineer's figures for ``month`` (``YYYY-MM``), one line per engineer with any:
    jobs closed; arrivals on time and late with the working minutes missed (R8); the
    surveys answered that month with the mean of each of the four ratings and of all
    four, and how many had a rating at or below ``repair.poor_rating`` (R19); spot checks
    passed and failed (R17). Commission and appraisals start from these."""
    ctx.require(PERMISSION)
    first, last = _month(month)
    low, high = _bounds(ctx, first, last)
    places = _branches(ctx, branch)
    ids = [b.id for b in places]
    code_of = {b.id: b.code for b in places}
    lines: dict[int, dict] = {}
    branch_of = _unindexed(ctx, WorkOrder.branch_id)  # SQLite: the month's range instead

    def line(engineer_id: int) -> dict:
        return lines.setdefault(engineer_id, {
            "closed": 0, "on_time": 0, "late": 0, "missed_minutes": 0, "surveys": 0,
            "poor": 0, "checks_passed": 0, "checks_failed": 0, "_ratings": [[], [], [], []]})

    for engineer_id, count in ctx.session.execute(
            select(WorkOrder.engineer_id, func.count(WorkOrder.id))
            .where(WorkOrder.engineer_id.is_not(None), WorkOrder.closed_at >= low,
                   WorkOrder.closed_at < high, branch_of.in_(ids))
            .group_by(WorkOrder.engineer_id)):
        line(engineer_id)["closed"] = count
    for engineer_id, met, count, minutes in ctx.session.execute(
            select(WorkOrder.engineer_id, WorkOrder.deadline_met, func.count(),
                   func.sum(WorkOrder.missed_minutes))
            .where(WorkOrder.engineer_id.is_not(None), WorkOrder.deadline_met.is_not(None),
                   WorkOrder.arrived_at >= low, WorkOrder.arrived_at < high,
                   branch_of.in_(ids))
            .group_by(WorkOrder.engineer_id, WorkOrder.deadline_met)):
        figures = line(engineer_id)
        figures["on_time" if met else "late"] += count
        figures["missed_minutes"] += minutes or 0
    threshold = ctx.setting("repair.poor_rating")
    for callback in ctx.session.scalars(select(Callback).where(
            Callback.engineer_id.is_not(None), Callback.answered_at >= low,
            Callback.answered_at < high, _unindexed(ctx, Callback.branch_id).in_(ids))):
        figures = line(callback.engineer_id)
        figures["surveys"] += 1
        for bucket, rating in zip(figures["_ratings"], callback.ratings, strict=True):
            bucket.append(rating)
        figures["poor"] += any(r is not None and r <= threshold for r in callback.ratings)
    for engineer_id, status, count in ctx.session.execute(
            select(QualityCheck.engineer_id, QualityCheck.status, func.count(QualityCheck.id))
            .where(QualityCheck.engineer_id.is_not(None), QualityCheck.checked_at >= low,
                   QualityCheck.checked_at < high, QualityCheck.branch_id.in_(ids))
            .group_by(QualityCheck.engineer_id, QualityCheck.status)):
        key = "checks_passed" if status == CheckStatus.PASSED else "checks_failed"
        line(engineer_id)[key] += count
    people = {e.id: e for e in ctx.session.scalars(
        select(Employee).options(joinedload(Employee.branch))
        .where(Employee.id.in_(list(lines))))}
    rows = []
    for engineer_id, figures in lines.items():
        person = people[engineer_id]
        ratings = figures.pop("_ratings")
        means = [_mean(bucket) for bucket in ratings]
        rows.append({
            "month": first, "branch": person.branch.name,
            "branch_code": code_of.get(person.branch_id, person.branch.code),
            "engineer": f"{person.code} {person.name}", "engineer_code": person.code,
            **figures, "attitude": means[0], "skill": means[1], "arrival": means[2],
            "promise": means[3], "score": _mean([r for bucket in ratings for r in bucket])})
    rows.sort(key=lambda r: (r["branch_code"], r["engineer_code"]))
    return rows


# ---------------------------------------------------------------------------
# the catalogue: what fixdesk_reports registers
# ---------------------------------------------------------------------------


def _compliance_columns(rows: list[dict], by: str = "branch", **_params) -> tuple:
    """The compliance report by branch has no engineer column."""
    if by == "branch":
        return tuple(c for c in COMPLIANCE_COLUMNS if c.key != "engineer")
    return COMPLIANCE_COLUMNS


def _compliance_charts(ctx, rows: list[dict], start, end, by: str = "branch", branch=None,
                       **_params) -> list:
    """The deadline compliance report's chart: met and missed per week of its period, at
    its branches (the chart the supervisors' home page shows for 12 weeks)."""
    from .dashboard import compliance_by_week

    first, last = _period(start, end)
    return [compliance_by_week(ctx, first, last, [b.id for b in _branches(ctx, branch)])]


START = Param("start", "date", label=N_("Start"), required=True)
END = Param("end", "date", label=N_("End"), required=True)
BRANCH = Param("branch", "reference", reference="branch",
               help=N_("Empty: every branch you may see"))

REPORTS = {
    "register": Report(
        "repair.register", N_("Repair register"), REGISTER_COLUMNS, repair_register,
        params=(START, END, BRANCH), permission=PERMISSION, orientation="landscape"),
    "compliance": Report(
        "repair.compliance", N_("Deadline compliance"), COMPLIANCE_COLUMNS,
        deadline_compliance, permission=PERMISSION, columns_for=_compliance_columns,
        charts=_compliance_charts,
        params=(START, END, Param("by", "choice", label=N_("Group by"),
                                  choices=("branch", "engineer")), BRANCH)),
    "engineer_daily": Report(
        "repair.engineer_daily", N_("Engineer's daily work report"), ENGINEER_DAILY_COLUMNS,
        engineer_daily, permission=PERMISSION, template="repair/engineer_daily.html",
        params=(START, Param("end", "date", label=N_("End"),
                             help=N_("Empty: the start day only")),
                Param("engineer", "reference", label=N_("Engineer"), reference="employee"),
                BRANCH)),
    "dispatch_queue": Report(
        "repair.dispatch_queue", N_("Dispatch queue"), QUEUE_COLUMNS, dispatch_queue_rows,
        permission=PERMISSION, orientation="landscape",
        params=(Param("branch", "reference", reference="branch",
                      help=N_("Empty: your own branch")),)),
    "engineer_scores": Report(
        "repair.engineer_scores", N_("Engineers' monthly scores"), SCORE_COLUMNS,
        engineer_scores, permission=PERMISSION, orientation="landscape",
        params=(Param("month", label=N_("Month"), required=True,
                      help=N_("Like 2026-12")), BRANCH)),
    "supervisor_daily": Report(
        "repair.supervisor_daily", N_("Supervisor's daily report"), SUPERVISOR_DAILY_COLUMNS,
        supervisor_daily, permission=PERMISSION, template="repair/supervisor_daily.html",
        params=(Param("day", "date", label=N_("Date"), required=True), BRANCH)),
}
