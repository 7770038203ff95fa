"""The complaint's process (R26) as services: plain functions taking a Context.

A complaint is registered through the kernel's generic create (:func:`register` is the
same path for the CLI, the public form, mail intake and the survey glue): the kernel's
``fixdesk_record_new`` lets :func:`prepare` check the intake and set the deadlines, and
``fixdesk_record_created`` lets :func:`started` tell the vice general manager of a
critical complaint at once. Afterwards each step is one service, offered as an action
(:mod:`plugins.complaints.actions`); each checks the complaint's status through
:func:`plugins.complaints.rules.next_status`, writes, and tells other plugins through
the hooks in :mod:`plugins.complaints.hookspecs`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from kernel.auth import User
from kernel.errors import Conflict, ValidationError
from kernel.i18n import _
from kernel.values import check_email, forbidden, has_forbidden  # noqa: F401 (the intake's)

from . import deadlines, notices, rules
from .models import Approval, Complaint, Contact, Department, DepartmentMember
from .rules import ApprovalState, ContactMethod, Severity, Status, Topic

ENTITY = "complaints_complaint"
#: how far ahead of now a receipt time may lie (clocks differ a little)
CLOCK_SKEW = dt.timedelta(minutes=10)
#: the earliest receipt date taken (older ones are typing mistakes)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: the intake's texts, and whether each may hold several lines
INTAKE_TEXTS = (("company_name", False), ("contact_name", False), ("phone", False),
                ("email", False), ("description", True))


def is_email(text: str) -> bool:
    """Whether ``text`` is an e-mail address, by the kernel's rule (the syntax and a domain
    that could receive mail; nobody is asked)."""
    try:
        check_email(text)
    except ValueError:
        return False
    return True

def check_characters(value, field: str, *, lines: bool = False) -> None:
    """Refuse a text holding a :func:`forbidden` character, naming ``field``."""
    if isinstance(value, str) and has_forbidden(value, lines=lines):
        raise ValidationError(_("must not contain control characters"), field=field)


# ---------------------------------------------------------------------------
# registering
# ---------------------------------------------------------------------------


def register(ctx, **values) -> Complaint:
    """Register a complaint with the intake fields of :data:`models.INTAKE` (``about``
    as ``"repair_work_order:12"`` or a mapping; ``origin_key`` makes it idempotent: a
    second registration with the same key answers the first complaint).

    Goes through the kernel's generic create, so it is checked, numbered, audited and
    started exactly as one typed in the desk or posted to the API.
    """
    from kernel.records import create_record

    origin = values.pop("origin_key", None)
    address = values.pop("source_address", None)
    if origin is not None:
        found = ctx.session.scalar(select(Complaint).where(Complaint.origin_key == origin))
        if found is not None:
            return found
    ctx.session.info["complaints.origin"] = (origin, address)
    try:
        return create_record(ctx, ctx.app.exposed[ENTITY], values)
    finally:
        ctx.session.info.pop("complaints.origin", None)


def prepare(ctx, complaint: Complaint) -> None:
    """Check a new complaint's intake and set what follows from it (``fixdesk_record_new``):
    the receipt time (now unless given), who it is about, the two deadlines."""
    origin, address = ctx.session.info.get("complaints.origin", (None, None))
    complaint.origin_key, complaint.source_address = origin, address
    now = ctx.now()
    for field, lines in INTAKE_TEXTS:
        check_characters(getattr(complaint, field), field, lines=lines)
    complaint.received_at = complaint.received_at or now
    if complaint.received_at > now + CLOCK_SKEW or complaint.received_at < EARLIEST:
        raise ValidationError(_("must be between 2000 and now"), field="received_at")
    complaint.description = (complaint.description or "").strip()
    if not complaint.description:
        raise ValidationError(_("is required"), field="description")
    if complaint.email:
        complaint.email = complaint.email.strip()
        if not is_email(complaint.email):
            raise ValidationError(_("is not an e-mail address"), field="email")
    _fill_from_subject(ctx, complaint)
    if not (complaint.customer_id or complaint.phone or complaint.email):
        raise ValidationError(_("give the customer, a phone number or an e-mail address "
                                "to reach them"), field="customer_id")
    complaint.status = Status.REGISTERED
    complaint.topic = complaint.topic or Topic.COMPLAINT
    complaint.severity = complaint.severity or Severity.ORDINARY
    if complaint.branch is None and complaint.branch_id is not None:
        from kernel.models import Branch

        complaint.branch = ctx.session.get(Branch, complaint.branch_id)
    deadlines.set_deadlines(ctx, complaint, complaint.received_at)


def _fill_from_subject(ctx, complaint: Complaint) -> None:
    """The customer and the engineer of what the complaint is about, when its owner
    answers ``complaints_describe_subject`` (repair knows a work order's)."""
    if complaint.about is None:
        return
    facts = ctx.hook.complaints_describe_subject(ctx=ctx, entity=complaint.about.entity,
                                                 record_id=complaint.about.id) or {}
    if complaint.customer_id is None:
        complaint.customer_id = facts.get("customer_id")
    if complaint.engineer_id is None:
        complaint.engineer_id = facts.get("engineer_id")


def started(ctx, complaint: Complaint) -> None:
    """A complaint was registered (``fixdesk_record_created``): a critical one goes to the
    vice general manager at once; other plugins hear of it."""
    if _is_critical(complaint):
        notices.tell_management(ctx, complaint)
    ctx.hook.complaints_registered(ctx=ctx, complaint=complaint)


def _is_critical(complaint: Complaint) -> bool:
    return (Topic(complaint.topic) == Topic.COMPLAINT
            and Severity(complaint.severity) == Severity.CRITICAL)


# ---------------------------------------------------------------------------
# the steps
# ---------------------------------------------------------------------------


def _step(complaint: Complaint, action: str) -> None:
    complaint.status = rules.next_status(action, complaint.status)


def _text(value, field: str, *, required: bool = True, limit: int = 10000) -> str | None:
    text = (value or "").strip() if isinstance(value, str | type(None)) else None
    if text is None:
        raise ValidationError(_("must be text"), field=field)
    check_characters(text, field, lines=True)
    if required and not text:
        raise ValidationError(_("is required"), field=field)
    if len(text) > limit:
        raise ValidationError(_("at most {n} characters").format(n=limit), field=field)
    return text or None


def investigate(ctx, complaint: Complaint, note: str | None = None) -> Complaint:
    """Start the investigation: the user who starts it investigates."""
    _step(complaint, "investigate")
    complaint.investigated_by_id = ctx.user.id if ctx.user is not None else None
    complaint.investigation_started_at = ctx.now()
    return complaint


def determine(ctx, complaint: Complaint, cause: str, our_fault: bool,
              department=None, person=None, evidence: str | None = None) -> Complaint:
    """Record the cause and who answers for it (R26): the responsible department and/or
    person when it is our fault; when it is not, the evidence shown to the customer.
    Other plugins hear of the attribution (``complaints_attributed``)."""
    if our_fault is None:
        raise ValidationError(_("is required"), field="our_fault")
    cause = _text(cause, "cause")
    evidence = _text(evidence, "evidence", required=not our_fault)
    if our_fault and department is None and person is None:
        raise ValidationError(_("name the responsible department or person"),
                              field="department")
    _step(complaint, "determine")
    complaint.cause, complaint.our_fault, complaint.evidence = cause, bool(our_fault), evidence
    complaint.responsible_department_id = department.id if department is not None else None
    complaint.responsible_employee_id = person.id if person is not None else None
    complaint.determined_at = ctx.now()
    ctx.hook.complaints_attributed(ctx=ctx, complaint=complaint)
    return complaint


def propose(ctx, complaint: Complaint, resolution: str, departments=None) -> Complaint:
    """Propose the resolution. A serious or critical complaint's handling form
    (客户投诉处理表) goes to each department involved (``departments``: codes separated by
    commas, or Department records) for approval; the resolution cannot be agreed before
    all of them approved."""
    resolution = _text(resolution, "resolution")
    chosen = _departments(ctx, departments)
    if rules.needs_approval(complaint.severity, complaint.topic) and not chosen:
        raise ValidationError(_("a serious complaint's handling form needs the departments "
                                "that approve it"), field="departments")
    _step(complaint, "propose")
    complaint.resolution = resolution
    complaint.proposed_at = ctx.now()
    round_ = (ctx.session.scalar(select(func.max(Approval.round)).where(
        Approval.complaint_id == complaint.id)) or 0) + 1
    for department in chosen:
        ctx.session.add(Approval(complaint_id=complaint.id, round=round_,
                                 department_id=department.id))
    ctx.session.flush()
    ctx.session.expire(complaint, ["approvals"])
    for department in chosen:
        notices.ask_approval(ctx, complaint, department)
    return complaint


def _departments(ctx, value) -> list[Department]:
    if value in (None, "", []):
        return []
    if isinstance(value, Department):
        return [value]
    codes = value if isinstance(value, list | tuple) else str(value).replace("，", ",").split(",")
    found, missing = [], []
    for code in codes:
        if isinstance(code, Department):
            found.append(code)
            continue
        code = str(code).strip()
        if not code:
            continue
        department = ctx.session.scalar(select(Department).where(
            Department.code == code, Department.active.is_(True)))
        (found if department is not None else missing).append(department or code)
    if missing:
        raise ValidationError(_("no such department: {codes}").format(
            codes=", ".join(missing)), field="departments")
    unique = {d.id: d for d in found}
    return list(unique.values())


def current_approvals(ctx, complaint: Complaint) -> list[Approval]:
    """The approvals of the latest handling form (earlier rounds were rejected)."""
    latest = max((a.round for a in complaint.approvals), default=0)
    return [a for a in complaint.approvals if a.round == latest]


def pending_departments(ctx, complaint: Complaint) -> list[Department]:
    """Departments that have not approved the current handling form yet."""
    return [a.department for a in current_approvals(ctx, complaint)
            if ApprovalState(a.state) != ApprovalState.APPROVED]


def may_approve_for(ctx, department: Department) -> bool:
    """Whether the user may decide for ``department``: his account belongs to its head or
    one of its members (admins decide for any)."""
    user = ctx.user
    if user is None or "admin" in user.roles:
        return True
    employee_id = user.employee_id
    if employee_id is None:
        return False
    if department.head_id == employee_id:
        return True
    return ctx.session.scalar(select(DepartmentMember.id).where(
        DepartmentMember.department_id == department.id,
        DepartmentMember.employee_id == employee_id)) is not None


def approve(ctx, complaint: Complaint, department, approved: bool = True,
            comment: str | None = None) -> Complaint:
    """A department's decision on the handling form, with who and when. A rejection
    sends the resolution back to be proposed again (a new form, a new round)."""
    _step(complaint, "approve")
    department = _departments(ctx, department)
    if not department:
        raise ValidationError(_("is required"), field="department")
    department = department[0]
    approval = next((a for a in current_approvals(ctx, complaint)
                     if a.department_id == department.id), None)
    if approval is None:
        raise ValidationError(_("this department is not on the handling form"),
                              field="department")
    if ApprovalState(approval.state) != ApprovalState.PENDING:
        raise Conflict(_("{department} has decided already").format(
            department=department.name))
    if not may_approve_for(ctx, department):
        raise Conflict(_("only the head or a member of {department} may decide for it")
                       .format(department=department.name))
    comment = _text(comment, "comment", required=not approved, limit=500)
    approval.state = ApprovalState.APPROVED if approved else ApprovalState.REJECTED
    approval.decided_by_id = ctx.user.id if ctx.user is not None else None
    approval.decided_at = ctx.now()
    approval.comment = comment
    if not approved:
        complaint.status = Status.DETERMINED
    return complaint


def agree(ctx, complaint: Complaint, note: str | None = None) -> Complaint:
    """The customer agreed to the resolution. Refused while a department of the handling
    form has not approved it."""
    rules.next_status("agree", complaint.status)
    waiting = pending_departments(ctx, complaint)
    if waiting:
        raise Conflict(_("waiting for the approval of: {departments}").format(
            departments="、".join(d.name for d in waiting)))
    _step(complaint, "agree")
    complaint.agreed_at = ctx.now()
    complaint.agreement_note = _text(note, "note", required=False, limit=500)
    return complaint


def carry_out(ctx, complaint: Complaint, note: str) -> Complaint:
    """The agreed resolution was carried out."""
    note = _text(note, "note")
    _step(complaint, "carry_out")
    complaint.carried_out_at = ctx.now()
    complaint.carried_out_note = note
    return complaint


def inform(ctx, complaint: Complaint, result: str, satisfied: bool | None = None
           ) -> Complaint:
    """The customer was told the result (R26); whether they are satisfied."""
    result = _text(result, "result")
    _step(complaint, "inform")
    complaint.informed_at = ctx.now()
    complaint.result_note = result
    complaint.customer_satisfied = satisfied
    return complaint


def _require_contact(complaint: Complaint) -> None:
    if rules.needs_contact(complaint.topic) and not complaint.contacts:
        raise Conflict(_("record the supervisor's personal contact with the customer "
                         "first"))


def close(ctx, complaint: Complaint) -> Complaint:
    """Close the complaint: refused without the personal contact on record (R26)."""
    rules.next_status("close", complaint.status)
    _require_contact(complaint)
    _step(complaint, "close")
    _finish(ctx, complaint)
    return complaint


def pass_on(ctx, complaint: Complaint, department, note: str | None = None) -> Complaint:
    """Record an ordinary complaint (or a praise, inquiry, suggestion) and pass it on to
    the department concerned, which is told; this ends it."""
    rules.next_status("pass_on", complaint.status)
    if not rules.may_pass_on(complaint.severity, complaint.topic):
        raise Conflict(_("only ordinary complaints are recorded and passed on; a serious "
                         "one goes through the handling form"))
    chosen = _departments(ctx, department)
    if not chosen:
        raise ValidationError(_("is required"), field="department")
    _require_contact(complaint)
    _step(complaint, "pass_on")
    complaint.passed_on_to_id = chosen[0].id
    complaint.result_note = _text(note, "note", required=False)
    _finish(ctx, complaint)
    notices.pass_on(ctx, complaint, chosen[0])
    return complaint


def _finish(ctx, complaint: Complaint) -> None:
    complaint.closed_at = ctx.now()
    complaint.closed_by_id = ctx.user.id if ctx.user is not None else None
    complaint.paused_at = complaint.pause_reason = None
    ctx.hook.complaints_closed(ctx=ctx, complaint=complaint)


def reopen(ctx, complaint: Complaint, reason: str) -> Complaint:
    """Reopen a finished complaint with a reason: investigated again, with a new
    resolution deadline from now."""
    reason = _text(reason, "reason", limit=500)
    _step(complaint, "reopen")
    complaint.reopen_count = (complaint.reopen_count or 0) + 1
    complaint.reopen_reason = reason
    complaint.closed_at = complaint.closed_by_id = None
    complaint.informed_at = complaint.carried_out_at = complaint.agreed_at = None
    branch = complaint.branch
    complaint.resolution_due_at = deadlines.add_working_hours(
        ctx, ctx.now(), deadlines.hours(ctx, "resolution", complaint.severity, branch), branch)
    return complaint


def cancel(ctx, complaint: Complaint, reason: str) -> Complaint:
    """Cancel a complaint registered by mistake (a duplicate, not a complaint)."""
    reason = _text(reason, "reason", limit=300)
    _step(complaint, "cancel")
    complaint.cancelled_at = ctx.now()
    complaint.cancel_reason = reason
    return complaint


def record_contact(ctx, complaint: Complaint, summary: str,
                   method: ContactMethod | str = ContactMethod.PHONE,
                   contacted_at: dt.datetime | None = None, contacted_by=None) -> Contact:
    """Record the personal contact with the customer: by the user, or by the supervisor
    the user records it for (a delegate recording their call). The first one is the
    complaint's first response."""
    rules.next_status("record_contact", complaint.status)
    summary = _text(summary, "summary", limit=4000)
    try:
        method = ContactMethod(method)
    except ValueError:
        raise ValidationError(_("must be one of: {choices}").format(
            choices=", ".join(m.value for m in ContactMethod)), field="method") from None
    now = ctx.now()
    when = contacted_at or now
    if when > now + CLOCK_SKEW or when < complaint.received_at - CLOCK_SKEW:
        raise ValidationError(_("must be between the complaint's receipt and now"),
                              field="contacted_at")
    by = contacted_by if isinstance(contacted_by, User) else ctx.user
    if by is None:
        raise ValidationError(_("is required"), field="contacted_by")
    contact = Contact(complaint_id=complaint.id, contacted_at=when, method=method,
                      contacted_by_id=by.id,
                      recorded_by_id=ctx.user.id if ctx.user is not None else None,
                      summary=summary)
    ctx.session.add(contact)
    if complaint.responded_at is None or when < complaint.responded_at:
        complaint.responded_at = when
    ctx.session.flush()
    ctx.session.expire(complaint, ["contacts"])
    return contact


def wait(ctx, complaint: Complaint, reason: str) -> Complaint:
    """The complaint waits on the customer: its deadlines stop."""
    rules.next_status("wait", complaint.status)
    if complaint.paused_at is not None:
        raise Conflict(_("already waiting on the customer"))
    deadlines.pause(ctx, complaint, _text(reason, "reason", limit=300))
    return complaint


def resume(ctx, complaint: Complaint) -> Complaint:
    """The customer answered: the deadlines run again, moved on by the time waited."""
    rules.next_status("resume", complaint.status)
    if complaint.paused_at is None:
        raise Conflict(_("not waiting on the customer"))
    deadlines.resume(ctx, complaint)
    return complaint


def reclassify(ctx, complaint: Complaint, topic=None, category=None, severity=None,
               reason: str | None = None) -> Complaint:
    """Change the topic, category or severity of an open complaint; the deadlines follow
    the new severity, and one that becomes critical goes to management at once."""
    rules.next_status("reclassify", complaint.status)
    was_critical = _is_critical(complaint)
    for field, enum_class, value in (("topic", rules.Topic, topic),
                                     ("category", rules.Category, category),
                                     ("severity", rules.Severity, severity)):
        if value in (None, ""):
            continue
        try:
            setattr(complaint, field, enum_class(value))
        except ValueError:
            raise ValidationError(_("must be one of: {choices}").format(
                choices=", ".join(m.value for m in enum_class)), field=field) from None
    deadlines.set_deadlines(ctx, complaint, complaint.received_at)
    if _is_critical(complaint) and not was_critical:
        notices.tell_management(ctx, complaint)
    return complaint


# ---------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------


def open_for_customer(ctx, customer_id: int, limit: int = 20) -> list[Complaint]:
    """The customer's complaints still being handled, newest first."""
    return list(ctx.session.scalars(select(Complaint).where(
        Complaint.customer_id == customer_id,
        Complaint.status.in_([s.value for s in rules.OPEN]))
        .order_by(Complaint.received_at.desc()).limit(limit)))


def about_record(ctx, entity: str, record_id: int, limit: int = 50) -> list[Complaint]:
    """Complaints about one record (a work order), newest first."""
    return list(ctx.session.scalars(select(Complaint).where(
        Complaint.about_entity == entity, Complaint.about_id == record_id)
        .order_by(Complaint.received_at.desc()).limit(limit)))
