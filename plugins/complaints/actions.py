"""The complaint's steps as kernel Actions: ``POST /api/v1/complaints_complaint/{id}/<name>``
and a button on its desk form while the step is possible (:mod:`.rules`)."""

from __future__ import annotations

from sqlalchemy import select

from kernel import Action, Param
from kernel.auth import User, UserRole
from kernel.errors import ValidationError
from kernel.i18n import N_, _

from . import rules, services
from .models import Department
from .rules import ContactMethod, Status

PERMISSION = "complaints_complaint.handle"


def _can(action: str):
    def available(complaint) -> bool:
        return rules.can(action, complaint.status)

    return available


def _departments(ctx, record) -> list[tuple[str, str]]:
    return [(d.code, f"{d.code} {d.name}") for d in ctx.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code))]


def _pending(ctx, complaint) -> list[tuple[str, str]]:
    """The departments of the handling form still to decide that the user may decide for."""
    return [(d.code, d.name) for d in services.pending_departments(ctx, complaint)
            if services.may_approve_for(ctx, d)]


def _contact_people(ctx, complaint) -> list[tuple[str, str]]:
    """Who made the contact: the branch's supervisors and managers (a delegate records
    the call of the supervisor he stands in for)."""
    users = ctx.session.scalars(select(User).where(
        User.active.is_(True),
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(
            ("service_supervisor", "branch_manager")))),
        User.home_branch_id == complaint.branch_id).order_by(User.full_name))
    return [(u.username, u.full_name) for u in users]


def _has_approvals(complaint) -> bool:
    return Status(complaint.status) == Status.PROPOSED and any(
        a.state == rules.ApprovalState.PENDING for a in complaint.approvals)


def _approve(ctx, complaint, department, comment=None):
    return services.approve(ctx, complaint, department, True, comment)


def _reject(ctx, complaint, department, comment):
    return services.approve(ctx, complaint, department, False, comment)


def _record_contact(ctx, complaint, summary, method=ContactMethod.PHONE.value,
                    contacted_at=None, contacted_by=None):
    person = None
    if contacted_by:
        person = ctx.session.scalar(select(User).where(User.username == contacted_by))
        if person is None:
            raise ValidationError(_("no such user"), field="contacted_by")
    services.record_contact(ctx, complaint, summary, method, contacted_at, person)
    return complaint


def _paused(complaint) -> bool:
    return complaint.paused_at is not None and rules.can("resume", complaint.status)


def _running(complaint) -> bool:
    return complaint.paused_at is None and rules.can("wait", complaint.status)


def _passable(complaint) -> bool:
    return rules.can("pass_on", complaint.status) and rules.may_pass_on(
        complaint.severity, complaint.topic)


_DEPARTMENT = Param("department", "reference", N_("Department"),
                    reference="complaints_department", required=True)

ACTIONS = [
    Action("complaints_complaint", "investigate", N_("Start investigation"),
           services.investigate, PERMISSION, _can("investigate"),
           next_for=rules.NEXT["investigate"], order=10),
    Action("complaints_complaint", "record_contact", N_("Record customer contact"),
           _record_contact, "complaints_complaint.contact", _can("record_contact"),
           params=(Param("summary", "text", N_("What was said"), required=True),
                   Param("method", "choice", N_("How"),
                         choices=tuple(m.value for m in ContactMethod)),
                   Param("contacted_at", "datetime", N_("Contacted at")),
                   Param("contacted_by", "string", N_("Contacted by"),
                         choices_for=_contact_people)),
           next_for=lambda c: c.responded_at is None and rules.can("record_contact",
                                                                   c.status),
           order=5),
    Action("complaints_complaint", "determine", N_("Determine cause and responsibility"),
           services.determine, PERMISSION, _can("determine"),
           params=(Param("cause", "text", N_("Cause of the complaint"), required=True),
                   Param("our_fault", "boolean", N_("Our responsibility")),
                   Param("department", "reference", N_("Responsible department"),
                         reference="complaints_department"),
                   Param("person", "reference", N_("Responsible person"),
                         reference="employee"),
                   Param("evidence", "text", N_("Evidence shown to the customer"))),
           next_for=rules.NEXT["determine"], order=20),
    Action("complaints_complaint", "propose", N_("Propose resolution"), services.propose,
           PERMISSION, _can("propose"),
           params=(Param("resolution", "text", N_("Resolution"), required=True),
                   Param("departments", "string", N_("Departments that approve"),
                         help=N_("Codes separated by commas; needed for serious and "
                                 "critical complaints"), suggest=_departments)),
           next_for=rules.NEXT["propose"], order=30),
    Action("complaints_complaint", "approve", N_("Approve handling form"), _approve,
           "complaints_complaint.approve", _has_approvals,
           params=(Param("department", "string", N_("Department"), required=True,
                         choices_for=_pending),
                   Param("comment", "string", N_("Comment"))),
           next_for=_has_approvals, order=35),
    Action("complaints_complaint", "reject", N_("Reject handling form"), _reject,
           "complaints_complaint.approve", _has_approvals,
           params=(Param("department", "string", N_("Department"), required=True,
                         choices_for=_pending),
                   Param("comment", "string", N_("Reason"), required=True)),
           order=36),
    Action("complaints_complaint", "agree", N_("Customer agreed"), services.agree,
           PERMISSION, _can("agree"),
           params=(Param("note", "string", N_("Agreement")),),
           next_for=lambda c: rules.can("agree", c.status) and not _has_approvals(c),
           order=40),
    Action("complaints_complaint", "carry_out", N_("Carried out"), services.carry_out,
           PERMISSION, _can("carry_out"),
           params=(Param("note", "text", N_("What was done"), required=True),),
           next_for=rules.NEXT["carry_out"], order=50),
    Action("complaints_complaint", "inform", N_("Customer told the result"), services.inform,
           PERMISSION, _can("inform"),
           params=(Param("result", "text", N_("Result told"), required=True),
                   Param("satisfied", "boolean", N_("Customer satisfied"))),
           next_for=rules.NEXT["inform"], order=60),
    Action("complaints_complaint", "close", N_("Close"), services.close, PERMISSION,
           _can("close"), next_for=rules.NEXT["close"], order=70),
    Action("complaints_complaint", "pass_on", N_("Record and pass on"), services.pass_on,
           PERMISSION, _passable,
           params=(_DEPARTMENT, Param("note", "text", N_("Note"))), order=80),
    Action("complaints_complaint", "wait", N_("Wait for customer"), services.wait,
           PERMISSION, _running,
           params=(Param("reason", "string", N_("Waiting for"), required=True),), order=85),
    Action("complaints_complaint", "resume", N_("Customer answered"), services.resume,
           PERMISSION, _paused, next_for=_paused, order=86),
    Action("complaints_complaint", "reclassify", N_("Reclassify"), services.reclassify,
           PERMISSION, _can("reclassify"),
           params=("topic", "category", "severity"), order=90),
    Action("complaints_complaint", "reopen", N_("Reopen"), services.reopen, PERMISSION,
           _can("reopen"),
           params=(Param("reason", "string", N_("Reason"), required=True),), order=95),
    Action("complaints_complaint", "cancel", N_("Cancel"), services.cancel, PERMISSION,
           _can("cancel"),
           params=(Param("reason", "string", N_("Reason"), required=True),), order=99),
]
