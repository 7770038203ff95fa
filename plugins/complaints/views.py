"""What the desk shows of complaints beside the records' own fields: two blocks on a
complaint's form, one on a customer's form and a column in the customer list.

* :data:`FORM_SECTIONS` — on a complaint, *Handling form* (the current round of the
  departments' approvals of the 客户投诉处理表: department, decision, who, when, the
  departments still to decide first and named in "Waiting for the approval of"; one
  query) and *Deadlines* (the first response and the resolution due, how much working
  time is left or how late, since when the complaint waits on the customer, the working
  time waited, the escalation level; the branch's calendar read once); on a customer,
  *Complaints* (the latest complaints, linked, with how many are open: one query).
* :data:`LIST_COLUMNS` — *Open complaints* in the customer list: one grouped query for
  the page.

Everything is read through the session's branch scope and the reader's rights: a user
who may not read complaints sees neither the block nor the column's values.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from kernel import FormSection, ListColumn, SectionContent
from kernel.auth import User
from kernel.branch_calendar import calendar_for
from kernel.i18n import N_, _
from kernel.settings import get_setting

from . import deadlines, rules
from .models import Approval, Complaint, Department
from .rules import DONE, OPEN, RESOLVED, ApprovalState, Status

COMPLAINTS = "complaints_complaint"
CUSTOMERS = "customer"
#: the complaints a customer's form lists at most (the complaint list shows them all)
RECENT = 10
#: how much of the customer's words a row shows
EXCERPT = 40
#: what marks a department that has not decided yet
PENDING_MARK = "⏳ "

# ---------------------------------------------------------------------------
# shown values
# ---------------------------------------------------------------------------


def _word(value) -> str:
    """A choice value (``human_factors``) in the reader's language."""
    return _(str(getattr(value, "value", value))) if value is not None else ""


def _moment(ctx, at: dt.datetime | None) -> str:
    return at.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if at else ""


def working(span: dt.timedelta) -> str:
    """A stretch of working time in hours and minutes (a working day is not 24 hours, so
    no days): ``3 h 15 min``, ``26 h``, ``40 min``."""
    minutes = max(int(span.total_seconds() // 60), 0)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("{minutes} min").format(minutes=rest)
    if not rest:
        return _("{hours} h").format(hours=hours)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)


def _linked(ctx, entity: str, record_id: int | None, text: str):
    """``text``, linked to the record's form when the reader may open it."""
    info = ctx.app.exposed.get(entity)
    if record_id is None or info is None or not ctx.can(info.perm("read")):
        return text
    return (text, f"/desk/{entity}/{record_id}")


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


# ---------------------------------------------------------------------------
# a complaint: the handling form
# ---------------------------------------------------------------------------


def approval_rows(ctx, complaint: Complaint) -> list:
    """The current round of the handling form's approvals, the departments still to
    decide first (one query): ``(round, code, name, state, decided by, decided at,
    comment)``."""
    earlier = aliased(Approval)
    latest = select(func.max(earlier.round)).where(
        earlier.complaint_id == complaint.id).scalar_subquery()
    return ctx.session.execute(
        select(Approval.round, Department.code, Department.name, Approval.state,
               User.full_name, Approval.decided_at, Approval.comment)
        .join(Department, Department.id == Approval.department_id)
        .outerjoin(User, User.id == Approval.decided_by_id)
        .where(Approval.complaint_id == complaint.id, Approval.round == latest)
        .order_by(case((Approval.state == ApprovalState.PENDING, 0), else_=1),
                  Approval.id)).all()


def handling_form(ctx, complaint: Complaint) -> SectionContent | None:
    """The handling form (客户投诉处理表) of a serious or critical complaint: each
    department of the current round with its decision, who decided and when, the
    departments not yet decided first and marked, and what the next step waits for.
    Nothing for a complaint that needs no approvals and has none."""
    needs = rules.needs_approval(complaint.severity, complaint.topic)
    rows = approval_rows(ctx, complaint) if complaint.id is not None else []
    columns = (_("Department"), _("Decision"), _("Decided by"), _("Decided at"),
               _("Comment"))
    if not rows:
        if not needs:
            return None
        return SectionContent(
            columns=columns, empty=_("No handling form yet."),
            note=_("A serious or critical complaint's handling form goes to each department "
                   "involved when the resolution is proposed; the customer's agreement is "
                   "recorded only after every one of them approved."))
    round_ = rows[0][0]
    pending = [name for _r, _code, name, state, *_rest in rows
               if ApprovalState(state) == ApprovalState.PENDING]
    rejected = [name for _r, _code, name, state, *_rest in rows
                if ApprovalState(state) == ApprovalState.REJECTED]
    approved = len(rows) - len(pending) - len(rejected)
    summary = [(_("Resolution"), _excerpt(complaint.resolution)),
               (_("Approved"), _("{approved} of {total} departments").format(
                   approved=approved, total=len(rows)))]
    if rejected:
        summary.append((_("Rejected by"), "、".join(rejected)))
    elif pending:
        summary.append((_("Waiting for the approval of"), "、".join(pending)))
    if round_ > 1:
        summary.append((_("Round"), str(round_)))
    shown = tuple(
        (name,
         (PENDING_MARK + _word(state)) if ApprovalState(state) == ApprovalState.PENDING
         else _word(state),
         who or "", _moment(ctx, at), comment or "")
        for _r, _code, name, state, who, at, comment in rows)
    if rejected:
        note = _("Rejected: the resolution goes back to be proposed again, with a new "
                 "handling form.")
    elif pending:
        note = _("The customer's agreement can be recorded once every department has "
                 "approved.")
    else:
        note = _("Every department approved: the resolution may be agreed with the "
                 "customer.") if Status(complaint.status) == Status.PROPOSED else None
    if round_ > 1:
        earlier = _("Earlier rounds were rejected; every decision stays in the department "
                    "approvals.")
        note = f"{note} {earlier}" if note else earlier
    return SectionContent(summary=tuple(summary), columns=columns, rows=shown, note=note)


# ---------------------------------------------------------------------------
# a complaint: its deadlines
# ---------------------------------------------------------------------------


def _deadline(ctx, calendar, complaint: Complaint, due: dt.datetime | None,
              met: dt.datetime | None, now: dt.datetime) -> str:
    """A deadline as the supervisor reads it: the local time, then met (or how late in
    working time), stopped, overdue by, or the working time left."""
    if due is None:
        return ""
    when = _moment(ctx, due)
    if met is not None:
        if met <= due:
            return _("{when}, met").format(when=when)
        late = calendar.working_hours_between(due, met)
        return _("{when}, met {time} late").format(when=when, time=working(late))
    if Status(complaint.status) in DONE:
        return _("{when}, no longer counted").format(when=when)
    if complaint.paused_at is not None:
        return _("{when}, stopped while waiting on the customer").format(when=when)
    if due <= now:
        late = calendar.working_hours_between(due, now)
        return _("{when}, overdue by {time}").format(when=when, time=working(late))
    left = calendar.working_hours_between(now, due)
    return _("{when}, {time} left").format(when=when, time=working(left))


def deadline_summary(ctx, complaint: Complaint) -> SectionContent | None:
    """The complaint's two deadlines in its branch's working time: when each is due and
    whether it was met, how much is left or how late it is; which one is missed and by
    how much; since when it waits on the customer (the clock stopped) and the working
    time waited so far; how far it was escalated; the working hours the branch allows
    for its severity."""
    if complaint.id is None or complaint.branch is None:
        return None
    now = ctx.now()
    calendar = calendar_for(ctx, complaint.branch)
    status = Status(complaint.status)
    resolved = complaint.informed_at or (complaint.closed_at if status in RESOLVED else None)
    summary = [(_("First response due"),
                _deadline(ctx, calendar, complaint, complaint.response_due_at,
                          complaint.responded_at, now)),
               (_("Resolution due"),
                _deadline(ctx, calendar, complaint, complaint.resolution_due_at, resolved,
                          now))]
    if complaint.responded_at is not None:
        summary.append((_("First contact at"), _moment(ctx, complaint.responded_at)))
    missed = deadlines.overdue(complaint, now)
    if missed is not None:
        due = complaint.resolution_due_at if missed == "resolution" else \
            complaint.response_due_at
        summary.append((_("Overdue by"), _("{time} ({deadline})").format(
            time=working(calendar.working_hours_between(due, now)),
            deadline=_("First response due") if missed == "response" else
            _("Resolution due"))))
    if complaint.paused_at is not None:
        summary.append((_("Waiting on customer since"), " — ".join(
            part for part in (_moment(ctx, complaint.paused_at), complaint.pause_reason)
            if part)))
        summary.append((_("Working time waited so far"),
                        working(calendar.working_hours_between(complaint.paused_at, now))))
    if complaint.paused_minutes:
        summary.append((_("Deadlines moved by waiting"),
                        working(dt.timedelta(minutes=complaint.paused_minutes))))
    if complaint.escalation_level:
        from .escalation import chain

        roles = chain(ctx, complaint.branch)
        level = complaint.escalation_level
        role = roles[level - 1] if 0 < level <= len(roles) else ""
        summary.append((_("Escalated to"), _("level {level}: {role}").format(
            level=level, role=_(role) if role else "—")))
    if status in OPEN:
        allowed = {kind: get_setting(ctx, f"complaints.{kind}_hours_{_value(complaint.severity)}",
                                     complaint.branch) for kind in ("response", "resolution")}
        summary.append((_("Working hours allowed"),
                        _("first response {response} h, resolution {resolution} h "
                          "({severity})").format(severity=_word(complaint.severity),
                                                 **allowed)))
    return SectionContent(summary=tuple(summary), note=_(
        "Time left and late is counted in the branch's working hours; while the complaint "
        "waits on the customer the clock stops, and the deadlines move on by the working "
        "time waited."))


def _value(choice) -> str:
    return str(getattr(choice, "value", choice))


# ---------------------------------------------------------------------------
# a customer
# ---------------------------------------------------------------------------

_OPEN_VALUES = tuple(s.value for s in OPEN)


def customer_complaints(ctx, customer) -> SectionContent:
    """The customer's latest complaints (linked), newest first, with how many there are
    and how many are still being handled (one query however many there are)."""
    is_open = Complaint.status.in_(_OPEN_VALUES)
    rows = ctx.session.execute(
        select(Complaint.id, Complaint.number, Complaint.received_at, Complaint.topic,
               Complaint.severity, Complaint.status, Complaint.resolution_due_at,
               Complaint.description, func.count().over(),
               func.sum(case((is_open, 1), else_=0)).over())
        .where(Complaint.customer_id == customer.id)
        .order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(RECENT)).all()
    columns = (_("Complaint"), _("Complaint received at"), _("Topic"), _("Severity"),
               _("Status"), _("Resolution due"), _("The customer's words"))
    if not rows:
        return SectionContent(summary=((_("Open complaints"), "0"),), columns=columns,
                              empty=_("No complaints from this customer."))
    count, still_open = rows[0][8], int(rows[0][9] or 0)
    shown = tuple(
        (_linked(ctx, COMPLAINTS, complaint_id, number or f"#{complaint_id}"),
         _moment(ctx, received), _word(topic), _word(severity), _word(status),
         _moment(ctx, due) if Status(status) in OPEN else "", _excerpt(words))
        for complaint_id, number, received, topic, severity, status, due, words, *_n in rows)
    note = None
    if count > len(rows):
        note = _("The latest {shown} of {count}; the complaint list shows them all.").format(
            shown=len(rows), count=count)
    return SectionContent(summary=((_("Open complaints"), str(still_open)),
                                   (_("Complaints in all"), str(count))),
                          columns=columns, rows=shown, note=note)


def customers_open(ctx, customers: list) -> dict[int, int]:
    """``{customer id: open complaints}`` of a page of customers (one grouped query);
    nothing for a reader who may not see complaints."""
    if not customers or not ctx.can("complaints_complaint.read"):
        return {}
    rows = ctx.session.execute(
        select(Complaint.customer_id, func.count())
        .where(Complaint.customer_id.in_([c.id for c in customers]),
               Complaint.status.in_(_OPEN_VALUES))
        .group_by(Complaint.customer_id))
    return {customer_id: count for customer_id, count in rows}


FORM_SECTIONS = [
    FormSection(COMPLAINTS, "complaints.handling_form", N_("Handling form"),
                build=handling_form, order=10),
    FormSection(COMPLAINTS, "complaints.deadlines", N_("Deadlines"), build=deadline_summary,
                order=20),
    FormSection(CUSTOMERS, "complaints.customer_complaints", N_("Complaints"),
                build=customer_complaints, order=60, permission="complaints_complaint.read"),
]

LIST_COLUMNS = [
    ListColumn(CUSTOMERS, "complaints.open", N_("Open complaints"), compute=customers_open,
               kind="integer"),
]
