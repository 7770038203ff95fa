"""The repair reports (R1, R8, R18, R33): plain functions taking a context, returning rows.

* :func:`repair_register` — the repair register (报修登记簿) by day and branch: one line
  per order reported in a date range, with the register's columns (R1);
* :func:`deadline_compliance` — share of jobs that met their arrival deadline, by branch
  or by engineer, for jobs reported in a date range (R6, R8);
* :func:`engineer_daily` — the engineer's daily work report (技术员工作日报表): per
  engineer and day, the jobs worked on with their category and hours (R18);
* :func:`supervisor_daily` — the supervisor's daily report (服务主任日报表) per branch:
  what happened that day and, at the end of it, the open jobs by status, overdue and
  undispatched (R18).

Rows are dicts of plain Python values (dates, datetimes in UTC, Decimals, enum values);
each report's columns (:data:`REPORTS`) name the keys, headers and kinds, and
:func:`to_xlsx` writes any report to an Excel workbook (R33). The reader needs
``repair_work_order.read``; branch scoping is the session's (a user sees the branches
they may see), and ``branch`` narrows to one of them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kernel import NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.models import Branch, Employee
from kernel.spreadsheet import sheet_title

from .models import LabourEntry, StatusChange, WorkOrder
from .rules import OPEN, Status
from .services import parse_date

#: the longest date range one report covers
MAX_DAYS = 366
PERMISSION = "repair_work_order.read"


@dataclass(frozen=True)
class Column:
    """A report column: the row key, its header (an English msgid) and how to show it:
    ``text``, ``enum`` (translated value), ``date``, ``datetime``, ``int``, ``hours``,
    ``share`` (a fraction shown as percent), ``bool``."""

    key: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: tuple[Column, ...]
    build: Callable[..., list[dict]]


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
    now = ctx.now().astimezone(dt.UTC)
    orders = ctx.session.scalars(
        select(WorkOrder).options(joinedload(WorkOrder.engineer))
        .where(WorkOrder.reported_at >= low, WorkOrder.reported_at < high,
               WorkOrder.deadline_at.is_not(None),
               WorkOrder.branch_id.in_([b.id for b in branches]))).unique().all()
    name_of = {b.id: b.name for b in branches}
    code_of = {b.id: b.code for b in branches}
    groups: dict[tuple, dict] = {}

    def group(key: tuple, label: dict) -> dict:
        if key not in groups:
            groups[key] = {**label, "jobs": 0, "on_time": 0, "missed": 0, "not_arrived": 0,
                           "missed_minutes": 0}
        return groups[key]

    for order in orders:
        if order.arrived_at is None and (order.status == Status.CANCELLED or
                                         order.deadline_at >= now):
            continue
        if by == "branch":
            key = (code_of[order.branch_id],)
            label = {"branch": name_of[order.branch_id], "engineer": None}
        else:
            person = order.engineer
            who = person.name if person else order.partner_outlet or _("not dispatched")
            key = (code_of[order.branch_id], person.code if person else "~" + who)
            label = {"branch": name_of[order.branch_id], "engineer": who,
                     "engineer_code": person.code if person else None}
        line = group(key, label)
        line["jobs"] += 1
        if order.arrived_at is None:
            line["missed"] += 1
            line["not_arrived"] += 1
        elif order.deadline_met:
            line["on_time"] += 1
        else:
            line["missed"] += 1
            line["missed_minutes"] += order.missed_minutes or 0
    rows = [groups[key] for key in sorted(groups)]
    if by == "branch" and rows:
        total = {"branch": _("Total"), "engineer": None}
        for name in ("jobs", "on_time", "missed", "not_arrived", "missed_minutes"):
            total[name] = sum(r[name] for r in rows)
        rows.append(total)
    for row in rows:
        row["on_time_share"] = _share(row["on_time"], row["jobs"])
    return rows


# ---------------------------------------------------------------------------
# the engineer's daily work report (R18)
# ---------------------------------------------------------------------------


ENGINEER_DAILY_COLUMNS = (
    Column("day", N_("Date"), "date"), Column("branch", N_("Branch")),
    Column("engineer_code", N_("Engineer number")), Column("engineer", N_("Engineer")),
    Column("number", N_("Work order")), Column("customer", N_("Customer")),
    Column("model", N_("Model")), Column("category", N_("Category"), "enum"),
    Column("service_mode", N_("Service mode"), "enum"), Column("status", N_("Status"), "enum"),
    Column("hours", N_("Hours"), "hours"), Column("note", N_("Note")),
)


def engineer_daily(ctx, start, end, engineer=None, branch=None) -> list[dict]:
    """Per engineer and day from ``start`` to ``end``: each job they recorded working time
    on (the hours on the repair card, R13/R16), with its category and the hours that day;
    ordered by day, branch, engineer and order. ``engineer`` (code) narrows to one."""
    ctx.require(PERMISSION)
    first, last = _period(start, end)
    branches = _branches(ctx, branch)
    query = (select(LabourEntry.work_date, LabourEntry.employee_id, LabourEntry.order_id,
                    func.sum(LabourEntry.minutes), func.count(LabourEntry.id))
             .join(WorkOrder, WorkOrder.id == LabourEntry.order_id)
             .where(LabourEntry.work_date >= first, LabourEntry.work_date <= last,
                    WorkOrder.branch_id.in_([b.id for b in branches]))
             .group_by(LabourEntry.work_date, LabourEntry.employee_id, LabourEntry.order_id))
    if engineer not in (None, ""):
        person = ctx.session.scalar(select(Employee).where(Employee.code == str(engineer)))
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
    Column("reported", N_("Reported"), "int"), Column("dispatched", N_("Dispatched"), "int"),
    Column("arrived", N_("Arrived"), "int"),
    Column("arrived_late", N_("Arrived after the deadline"), "int"),
    Column("completed", N_("Completed"), "int"), Column("closed", N_("Closed"), "int"),
    Column("cancelled", N_("Cancelled"), "int"),
    *(Column(f"open_{s.value}", label, "int") for s, label in zip(OPEN_ORDER, (
        N_("Open: pending"), N_("Open: dispatched"), N_("Open: quoted"),
        N_("Open: in repair"), N_("Open: waiting for parts"), N_("Open: hard to repair"),
        N_("Open: completed, not closed"), N_("Open: ready for pickup")), strict=True)),
    Column("open", N_("Open in all"), "int"), Column("urgent_open", N_("Urgent open"), "int"),
    Column("overdue", N_("Overdue (deadline passed, not arrived)"), "int"),
    Column("undispatched", N_("Not dispatched"), "int"),
)


def supervisor_daily(ctx, day, branch=None) -> list[dict]:
    """One line per branch for ``day`` (site time): orders reported, dispatched (first
    dispatch), arrived (and of those late), completed, closed and cancelled that day;
    and at the end of the day (or now, for today) the open orders by status, the urgent
    ones, the overdue ones (deadline passed, engineer not arrived) and those not
    dispatched. Statuses at the end of the day come from the orders' history."""
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
               StatusChange.event.in_(list(DAY_EVENTS)), WorkOrder.branch_id.in_(ids))
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
    # the status of each order at the end of the day: its last history entry before then
    last = (select(func.max(StatusChange.id).label("id"))
            .join(WorkOrder, WorkOrder.id == StatusChange.order_id)
            .where(StatusChange.at < moment, WorkOrder.branch_id.in_(ids))
            .group_by(StatusChange.order_id).subquery())
    states = ctx.session.execute(
        select(WorkOrder.branch_id, StatusChange.to_status, WorkOrder.urgent,
               WorkOrder.deadline_at, WorkOrder.arrived_at)
        .join(last, last.c.id == StatusChange.id)
        .join(WorkOrder, WorkOrder.id == StatusChange.order_id)).all()
    for branch_id, status, urgent, deadline_at, arrived_at in states:
        status = Status(status)
        if status not in OPEN:
            continue
        line = rows[branch_id]
        line[f"open_{status.value}"] += 1
        line["open"] += 1
        line["urgent_open"] += bool(urgent)
        if status == Status.PENDING:
            line["undispatched"] += 1
        if deadline_at is not None and deadline_at < moment and \
                (arrived_at is None or arrived_at >= moment):
            line["overdue"] += 1
    return [rows[b.id] for b in branches]


# ---------------------------------------------------------------------------
# the catalogue and Excel (R33)
# ---------------------------------------------------------------------------


REPORTS = {
    "register": Report("register", N_("Repair register"), REGISTER_COLUMNS, repair_register),
    "compliance": Report("compliance", N_("Deadline compliance"), COMPLIANCE_COLUMNS,
                         deadline_compliance),
    "engineer_daily": Report("engineer_daily", N_("Engineer's daily work report"),
                             ENGINEER_DAILY_COLUMNS, engineer_daily),
    "supervisor_daily": Report("supervisor_daily", N_("Supervisor's daily report"),
                               SUPERVISOR_DAILY_COLUMNS, supervisor_daily),
}


def columns_for(report: Report, rows: list[dict] | None = None, **options) -> tuple[Column, ...]:
    """The columns shown: the compliance report by branch has no engineer column."""
    if report.name == "compliance" and options.get("by", "branch") == "branch":
        return tuple(c for c in report.columns if c.key != "engineer")
    return report.columns


def cell(ctx, column: Column, value: Any) -> Any:
    """A row value as a spreadsheet cell: dates and numbers stay dates and numbers, enum
    values and yes/no are translated, datetimes shown in site time."""
    if value is None:
        return None
    if column.kind == "enum":
        return _(str(value))
    if column.kind == "bool":
        return _("yes") if value else _("no")
    if column.kind == "datetime":
        return value.astimezone(ctx.settings.tz).replace(tzinfo=None)
    if column.kind in ("hours", "share"):
        return float(value)
    return value


FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "hours": "0.00",
           "share": "0.0%"}
WIDTHS = {"date": 12, "datetime": 17, "int": 10, "hours": 8, "share": 10, "bool": 8,
          "enum": 12}


def to_xlsx(ctx, title: str, columns: tuple[Column, ...], rows: list[dict],
            subtitle: str | None = None) -> bytes:
    """An Excel workbook of one report: a title line, a bold frozen header (translated),
    real dates and numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    sheet.freeze_panes = "A3"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.kind, 20)
    heading = WriteOnlyCell(sheet, value=title + (f"  {subtitle}" if subtitle else ""))
    heading.font = Font(bold=True, size=13)
    sheet.append([heading])
    bold = Font(bold=True)
    header = []
    for column in columns:
        label = WriteOnlyCell(sheet, value=_(column.label))
        label.font = bold
        header.append(label)
    sheet.append(header)
    for row in rows:
        line = []
        for column in columns:
            value = WriteOnlyCell(sheet, value=cell(ctx, column, row.get(column.key)))
            if column.kind in FORMATS:
                value.number_format = FORMATS[column.kind]
            line.append(value)
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
