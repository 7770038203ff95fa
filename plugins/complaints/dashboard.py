"""Complaints on the desk's home page (``fixdesk_dashboard``): each card one SQL ``COUNT`` as
the user who looks (the branches they see), the chart the trend report's query.

* *Open complaints* — complaints, praise, inquiries and suggestions still being handled
  → the list of them;
* *Complaints past a deadline* (danger) — open ones past their first-response deadline
  without a contact, or past their resolution deadline before the customer was told,
  not waiting on the customer (what escalation acts on);
* *Critical complaints open* (danger, for management: the vice general manager and
  branch managers) — every critical complaint until it is closed (R26) → the list;
* *Handling forms waiting for my department* (warning) — departments the user heads or
  belongs to that have not decided on a proposed handling form yet;
* the chart *Complaint rate, last 12 months* — a line per branch
  (:func:`plugins.complaints.reports.trend`) → the trend report.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from kernel import PERIOD_CHART_KEEP, DashboardCard, DashboardChart
from kernel.i18n import N_, _
from kernel.list_links import labels, list_url

from .models import Approval, Complaint, Department, DepartmentMember
from .reports import READ, trend, trend_chart
from .rules import OPEN, RESOLVED, ApprovalState, Severity, Status, Topic

APPROVE = "complaints_complaint.approve"
MANAGEMENT = ("vice_general_manager", "branch_manager")
HANDLERS = ("service_supervisor", "branch_manager", "vice_general_manager")
DESK = (*HANDLERS, "front_desk")
#: the open statuses in the process's order (for the list's filter)
OPEN_STATUSES = tuple(s for s in Status if s in OPEN)


def _count(ctx, *conditions) -> int:
    return ctx.session.scalar(select(func.count(Complaint.id)).where(*conditions)) or 0


def open_complaints(ctx) -> int:
    """Complaints (every topic) still being handled (one COUNT)."""
    return _count(ctx, Complaint.status.in_(OPEN_STATUSES))


def past_deadline(ctx) -> int:
    """Open complaints past a deadline: the first response without a contact by then, or
    the resolution before the customer was told; not those waiting on the customer (one
    COUNT)."""
    now = ctx.now()
    c = Complaint
    return _count(ctx, c.status.in_([s for s in OPEN_STATUSES if s not in RESOLVED]),
                  c.paused_at.is_(None),
                  or_(c.resolution_due_at <= now,
                      and_(c.responded_at.is_(None), c.response_due_at <= now)))


def _critical():
    c = Complaint
    return (c.topic == Topic.COMPLAINT, c.severity == Severity.CRITICAL,
            c.status.in_(OPEN_STATUSES))


def critical_open(ctx) -> int:
    """Critical complaints not closed yet: management sees them until they are (one
    COUNT)."""
    return _count(ctx, *_critical())


def forms_waiting(ctx) -> int:
    """Handling forms (the latest round of a proposed complaint) a department the user
    heads or belongs to has not decided on (one COUNT; none for a user who is no
    employee)."""
    employee = ctx.user.employee_id if ctx.user is not None else None
    if employee is None:
        return 0
    member = select(DepartmentMember.department_id).where(
        DepartmentMember.employee_id == employee)
    mine = select(Department.id).where(or_(Department.head_id == employee,
                                           Department.id.in_(member)))
    rounds = Approval.__table__.alias("rounds")
    latest = (select(func.max(rounds.c.round))
              .where(rounds.c.complaint_id == Approval.complaint_id).scalar_subquery())
    return ctx.session.scalar(
        select(func.count(Approval.id)).join(Complaint, Complaint.id == Approval.complaint_id)
        .where(Approval.state == ApprovalState.PENDING, Complaint.status == Status.PROPOSED,
               Approval.department_id.in_(mine), Approval.round == latest)) or 0


def rate_chart(ctx):
    """The chart *Complaint rate, last 12 months*: a line per branch the user sees (bars
    of complaints where no plugin counts jobs); None when there is nothing to show."""
    return trend_chart(ctx, trend(ctx))


def _open_list(ctx) -> str:
    return list_url("complaints_complaint", ("status", "in", labels(OPEN_STATUSES)))


def _critical_list(ctx) -> str:
    return list_url("complaints_complaint", ("topic", "eq", _(Topic.COMPLAINT.value)),
                    ("severity", "eq", _(Severity.CRITICAL.value)),
                    ("status", "in", labels(OPEN_STATUSES)))


DASHBOARD = [
    DashboardCard("complaints.open", N_("Open complaints"), open_complaints, url=_open_list,
                  permission=READ, roles=DESK, order=60,
                  help=N_("Complaints, praise, inquiries and suggestions still being "
                          "handled in your branches")),
    DashboardCard("complaints.past_deadline", N_("Complaints past a deadline"), past_deadline,
                  permission=READ, roles=HANDLERS, order=61, tone="danger",
                  help=N_("No first contact by the response deadline, or the customer not "
                          "told the result by the resolution deadline")),
    DashboardCard("complaints.critical_open", N_("Critical complaints open"), critical_open,
                  url=_critical_list, permission=READ, roles=MANAGEMENT, order=62,
                  tone="danger",
                  help=N_("Every critical complaint, until it is closed")),
    DashboardCard("complaints.forms_waiting", N_("Handling forms waiting for my department"),
                  forms_waiting, permission=APPROVE, order=63, tone="warning",
                  help=N_("Proposed resolutions a department you head or belong to has not "
                          "approved yet")),
    DashboardChart("complaints.rate_by_month", N_("Complaint rate, last 12 months"),
                   rate_chart, permission=READ, roles=MANAGEMENT, order=60,
                   url=lambda ctx: "/desk/reports/complaints.trend?run=1", keep=PERIOD_CHART_KEEP),
]
