"""The complaints plugin's printed papers, registered through ``fixdesk_documents``.

Each paper is a :class:`kernel.Document`: a template in ``templates/complaints/`` (each
extends ``complaints/_paper.html``: the kernel's paper layout — letterhead, title, date
and number, the 已作废 / CANCELLED mark — with the styles of a ruled form) and a
``gather(ctx, record)`` function that reads what the template prints in a few queries:
the people named on a paper in one query, never one query per line; the monthly figures
are those of the reports (:mod:`plugins.complaints.reports`), each one grouped query.

* 客户投诉登记表 ``complaints.register`` for any complaint: how and when it arrived, who
  complained and about what, the customer's words, the two deadlines and the personal
  contacts recorded so far; signed by whoever took it (受理人) and the supervisor.
* 客户投诉处理表 ``complaints.handling`` for a serious or critical complaint once its
  resolution went to the departments (it has approvals): the cause and responsibility,
  the evidence shown to the customer, the resolution, one signature line per approving
  department of the current round (its decision, who decided and when; empty while
  pending), then the agreement, what was carried out and the result told.
* 致客户函 ``complaints.letter`` once the customer was told the result (informed or
  closed): the result of the investigation, what was done, an apology where the fault
  was ours, whom to call, the company's seal and the date.
* 月度客户投诉分析报告 ``complaints.monthly`` for a branch and
  ``complaints.monthly_company`` for the company (every branch the user sees): the
  previous month's complaints per branch with the jobs (asked through
  ``complaints_job_counts``; without an answer the rate shows "—") and the complaint
  rate, by category, by responsible department and person, and the rate over the last
  12 months as a chart (the kernel's SVG charts, drawn in the paper's language). A kernel
  document takes no parameters, so the month is fixed: the one before today.

Only complaints count in the monthly figures (not praise, inquiries or suggestions),
those cancelled as registered by mistake left out; a complaint counts in the month it
was received, in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select

from kernel.contributions import ChartData, Document
from kernel.i18n import N_
from kernel.linked import link_labels
from kernel.months import add_months, month_end, month_start

from .models import Complaint, Department
from .rules import (
    ApprovalState,
    Category,
    Channel,
    ContactMethod,
    Severity,
    Status,
    Topic,
)

#: the monthly trend covers this many months, the report's month last
TREND_MONTHS = 12
#: at most this many responsible people are listed (the most complaints first)
TOP_PEOPLE = 15
#: the statuses the letter to the customer may be printed in
TOLD = frozenset({Status.INFORMED, Status.CLOSED})
READ = "complaints_complaint.read"


# ---------------------------------------------------------------------------
# shared
# ---------------------------------------------------------------------------


def _local_date(ctx, moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(ctx.settings.tz).date() if moment else None


def _marks(complaint: Complaint) -> dict:
    """A complaint registered by mistake prints as cancelled (已作废), with the reason."""
    cancelled = Status(complaint.status) == Status.CANCELLED
    return {"draft": False, "cancelled": cancelled, "cancelled_at": complaint.cancelled_at,
            "cancel_reason": complaint.cancel_reason}


def _people(ctx, user_ids) -> dict[int, str]:
    """Users' names by id, in one query."""
    from kernel.auth import User

    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    return dict(ctx.session.execute(
        select(User.id, User.full_name).where(User.id.in_(wanted))).all())


def _about(ctx, complaint: Complaint) -> dict | None:
    """What the complaint is about: the kind of record (a msgid) and its label."""
    link = complaint.about
    if link is None:
        return None
    info = ctx.app.exposed.get(link.entity)
    label = link_labels(ctx, [link]).get(link)
    return {"title": info.title if info is not None else link.entity,
            "label": label or f"#{link.id}"}


def _complainant(complaint: Complaint) -> str:
    """Who complained, as the letter addresses them: the customer, else the company or
    contact as given."""
    if complaint.customer is not None:
        return complaint.customer.name
    return complaint.company_name or complaint.contact_name or ""


def _contacts(complaint: Complaint, names: dict[int, str]) -> list[dict]:
    return [{"at": contact.contacted_at, "method": ContactMethod(contact.method).value,
             "by": names.get(contact.contacted_by_id, ""), "summary": contact.summary}
            for contact in complaint.contacts]


def _values(complaint: Complaint) -> dict:
    """The complaint's vocabulary values as plain strings (msgids)."""
    return {"topic": Topic(complaint.topic).value, "category": Category(complaint.category).value,
            "severity": Severity(complaint.severity).value,
            "channel": Channel(complaint.channel).value, "status": Status(complaint.status).value}


def _basics(ctx, complaint: Complaint) -> dict:
    """What every complaint paper shows: the complaint, the customer, what it is about,
    the engineer concerned, the contacts recorded (with who made them), who answers for
    it."""
    names = _people(ctx, [c.contacted_by_id for c in complaint.contacts])
    return {**_marks(complaint), "complaint": complaint, "customer": complaint.customer,
            "complainant": _complainant(complaint), "about": _about(ctx, complaint),
            "engineer": complaint.engineer, "contacts": _contacts(complaint, names),
            **_values(complaint),
            "responsible_department": complaint.responsible_department,
            "responsible_person": complaint.responsible_employee}


# ---------------------------------------------------------------------------
# 客户投诉登记表
# ---------------------------------------------------------------------------


def gather_register(ctx, complaint: Complaint) -> dict:
    """The register form: the intake, the deadlines and the contacts recorded."""
    return {**_basics(ctx, complaint), "doc_date": _local_date(ctx, complaint.received_at)}


# ---------------------------------------------------------------------------
# 客户投诉处理表
# ---------------------------------------------------------------------------


def has_approvals(complaint: Complaint) -> bool:
    """Whether the complaint's handling form went to departments for approval."""
    return bool(complaint.approvals)


def gather_handling(ctx, complaint: Complaint) -> dict:
    """The handling form: the cause and responsibility, the resolution, and one line per
    department of the current round with its decision, who decided and when."""
    latest = max(a.round for a in complaint.approvals)
    approvals = [a for a in complaint.approvals if a.round == latest]
    names = _people(ctx, [a.decided_by_id for a in approvals])
    departments = dict(ctx.session.execute(select(Department.id, Department.name).where(
        Department.id.in_([a.department_id for a in approvals]))).all())
    lines = [{"department": departments.get(a.department_id, ""),
              "state": ApprovalState(a.state).value,
              "decided": ApprovalState(a.state) != ApprovalState.PENDING,
              "by": names.get(a.decided_by_id, ""), "at": a.decided_at,
              "comment": a.comment}
             for a in approvals]
    return {**_basics(ctx, complaint), "approvals": lines, "round": latest,
            "doc_date": _local_date(ctx, complaint.proposed_at or complaint.received_at)}


# ---------------------------------------------------------------------------
# 致客户函
# ---------------------------------------------------------------------------


def is_told(complaint: Complaint) -> bool:
    """Whether the customer was told the result (the letter confirms it in writing)."""
    return Status(complaint.status) in TOLD and complaint.informed_at is not None


def gather_letter(ctx, complaint: Complaint) -> dict:
    """The letter: whom it is addressed to, the result of the investigation, what was
    done, whether we apologise, and whom to call (the last person who contacted the
    customer personally)."""
    data = _basics(ctx, complaint)
    last = data["contacts"][-1]["by"] if data["contacts"] else ""
    return {**data, "doc_date": _local_date(ctx, complaint.informed_at),
            "received_on": _local_date(ctx, complaint.received_at),
            "apology": bool(complaint.our_fault), "contact_person": last}


# ---------------------------------------------------------------------------
# 月度客户投诉分析报告
# ---------------------------------------------------------------------------


def report_month(ctx) -> dt.date:
    """The month the monthly report covers: the previous local month (its first day)."""
    from . import reports

    return month_start(add_months(reports.today(ctx), -1))


def _percent(part: int, whole: int | None) -> Decimal | None:
    """``part`` per hundred of ``whole``, two decimals (None when there is no whole)."""
    from .reports import rate

    return rate(part, whole)


def _trend_by_month(rows: list[dict]) -> list[dict]:
    """:func:`plugins.complaints.reports.trend`'s rows (a month and a branch each) summed
    per month over the branches (at most 12 × branches rows, already counted in SQL)."""
    months: dict[str, dict] = {}
    for row in rows:
        month = months.setdefault(row["month"], {"label": row["month"], "complaints": 0,
                                                 "jobs": None})
        month["complaints"] += row["complaints"]
        if row["jobs"] is not None:
            month["jobs"] = (month["jobs"] or 0) + row["jobs"]
    for month in months.values():
        month["rate"] = _percent(month["complaints"], month["jobs"])
    return list(months.values())


def _chart(months: list[dict], jobs_counted: bool):
    """A function the template calls with its translated texts (the paper's language,
    which ``gather`` does not know) to draw the trend with the kernel's charts: the rate
    as a line where jobs are counted, else the complaints as bars."""
    from kernel.charts import render_svg

    labels = tuple(month["label"] for month in months)

    def draw(title: str, series: str) -> Markup:
        if jobs_counted:
            values = tuple(float(m["rate"]) if m["rate"] is not None else None
                           for m in months)
            chart = ChartData(kind="line", title=title, labels=labels,
                              series=((series, values),), unit="%", decimals=2)
        else:
            chart = ChartData(kind="bar", title=title, labels=labels,
                              series=((series, tuple(m["complaints"] for m in months)),))
        return Markup(render_svg(chart, width=760, height=260))

    return draw


def monthly(ctx, month: dt.date, branch_ids: list[int] | None) -> dict:
    """The monthly complaint report of ``month`` over ``branch_ids`` (None: every branch
    the reader sees), from the report queries of :mod:`plugins.complaints.reports` (each
    one grouped query; the jobs asked once per month)."""
    from . import reports

    start = reports.midnight(ctx, month)
    end = reports.midnight(ctx, add_months(month, 1))
    branches = reports.rate_rows(ctx, start, end, branch_ids)
    total = reports.overall(branches)
    jobs_counted = any(row["jobs"] is not None for row in branches)
    whole = total["complaints"]
    categories = [{**row, "category": row["category"].value,
                   "share": _percent(row["complaints"], whole)}
                  for row in reports.category_rows(ctx, start, end, branch_ids)]
    departments = [{**row, "share": _percent(row["complaints"], whole)}
                   for row in reports.department_rows(ctx, start, end, branch_ids)
                   if row["complaints"]]
    people = sorted(reports.person_rows(ctx, start, end, branch_ids),
                    key=lambda row: (-row["complaints"], row["employee_code"]))
    months = _trend_by_month(reports.trend(ctx, TREND_MONTHS, month, branch_ids))
    return {
        "month": month, "month_end": month_end(month), "branches": branches,
        "total": total, "jobs_counted": jobs_counted, "categories": categories,
        "departments": departments, "people": people[:TOP_PEOPLE],
        "more_people": max(0, len(people) - TOP_PEOPLE), "trend": months,
        "trend_chart": _chart(months, jobs_counted),
        "doc_date": reports.today(ctx),
        # drawn from the complaints each time: never a draft, cancelled or a copy
        "draft": False, "cancelled": False, "is_copy": False,
    }


def gather_monthly(ctx, branch) -> dict:
    """The previous month's complaint report of one branch, numbered
    ``<branch code>-<YYYYMM>``."""
    month = report_month(ctx)
    return {**monthly(ctx, month, [branch.id]), "scope": branch.name, "branch": branch,
            "number": f"{branch.code}-{month:%Y%m}"}


def gather_monthly_company(ctx, company) -> dict:
    """The previous month's complaint report of every branch the user sees, numbered
    ``<YYYYMM>``."""
    month = report_month(ctx)
    return {**monthly(ctx, month, None), "scope": company.name, "branch": None,
            "number": f"{month:%Y%m}"}


REGISTER = Document(
    name="complaints.register", title=N_("Complaint register form"),
    entity="complaints_complaint", template="complaints/register.html",
    gather=gather_register, paper="A4")
HANDLING = Document(
    name="complaints.handling", title=N_("Complaint handling form"),
    entity="complaints_complaint", template="complaints/handling.html",
    gather=gather_handling, paper="A4", available=has_approvals,
    unavailable=N_("only for a serious complaint whose resolution went to the departments "
                   "for approval"))
LETTER = Document(
    name="complaints.letter", title=N_("Letter to the customer"),
    entity="complaints_complaint", template="complaints/letter.html",
    gather=gather_letter, paper="A4", available=is_told,
    unavailable=N_("only once the customer was told the result"))
MONTHLY = Document(
    name="complaints.monthly", title=N_("Monthly complaint report"), entity="branch",
    template="complaints/monthly.html", gather=gather_monthly, paper="A4",
    options={"permission": READ})
MONTHLY_COMPANY = Document(
    name="complaints.monthly_company", title=N_("Monthly complaint report"),
    entity="company", template="complaints/monthly.html", gather=gather_monthly_company,
    paper="A4", options={"permission": READ})

DOCUMENTS = [REGISTER, HANDLING, LETTER, MONTHLY, MONTHLY_COMPANY]
