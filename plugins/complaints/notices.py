"""Who hears of a complaint, by e-mail through the kernel's durable notifications: the
vice general manager of a critical one at once, the departments on a handling form, the
department a complaint is passed on to, each level of the branch's escalation chain,
and the customer (an acknowledgement with the complaint's number)."""

from __future__ import annotations

from sqlalchemy import or_, select

from kernel.auth import User, UserRole
from kernel.notifications import branch_recipients, notify

from .models import DepartmentMember

#: the role told of critical complaints at once (R26: 副总经理), company-wide
MANAGEMENT_ROLE = "vice_general_manager"


def local_text(ctx, instant) -> str:
    """An instant as the site's local ``YYYY-MM-DD HH:MM``."""
    return instant.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if instant else ""


def facts(ctx, complaint) -> dict:
    """What every message about a complaint says."""
    customer = complaint.customer.name if complaint.customer is not None else (
        complaint.company_name or complaint.contact_name or "")
    return {"number": complaint.number, "branch": complaint.branch.name,
            "customer": customer, "contact": complaint.contact_name or "",
            "phone": complaint.phone or "", "topic": str(complaint.topic),
            "category": str(complaint.category), "severity": str(complaint.severity),
            "description": complaint.description[:1000],
            "received_at": local_text(ctx, complaint.received_at),
            "response_due_at": local_text(ctx, complaint.response_due_at),
            "resolution_due_at": local_text(ctx, complaint.resolution_due_at),
            "url": f"/desk/complaints_complaint/{complaint.id}"}


def _send(ctx, users, template: str, context: dict) -> int:
    sent = 0
    for user in users:
        if not user.active or not user.email:
            continue
        notify(ctx, channel="email", to=user.email, template=template,
               context={**context, "recipient": user.full_name}, locale=user.locale)
        sent += 1
    return sent


def role_holders(ctx, role: str, branch_id: int) -> list[User]:
    """Active users with an e-mail address holding ``role``: those of the branch, and
    those who see every branch (a vice general manager)."""
    local = branch_recipients(ctx, branch_id, (role,))
    company = list(ctx.session.scalars(select(User).where(
        User.active.is_(True), User.email.is_not(None), User.email != "",
        User.company_wide.is_(True),
        User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
        .order_by(User.id)))
    seen = {u.id for u in local}
    return local + [u for u in company if u.id not in seen]


def department_people(ctx, department) -> list[User]:
    """The accounts of the department's head and members."""
    employees = select(DepartmentMember.employee_id).where(
        DepartmentMember.department_id == department.id)
    return list(ctx.session.scalars(select(User).where(or_(
        User.employee_id == department.head_id, User.employee_id.in_(employees)))
        .order_by(User.id)))


def tell_management(ctx, complaint) -> int:
    """A critical complaint: the vice general manager (and the branch manager) at once."""
    users = role_holders(ctx, MANAGEMENT_ROLE, complaint.branch_id)
    users += [u for u in role_holders(ctx, "branch_manager", complaint.branch_id)
              if u.id not in {x.id for x in users}]
    return _send(ctx, users, "complaints_critical", facts(ctx, complaint))


def ask_approval(ctx, complaint, department) -> int:
    """The handling form waits for ``department``'s decision."""
    return _send(ctx, department_people(ctx, department), "complaints_approval",
                 {**facts(ctx, complaint), "department": department.name,
                  "resolution": complaint.resolution or ""})


def pass_on(ctx, complaint, department) -> int:
    """An ordinary complaint recorded and passed on to ``department``."""
    return _send(ctx, department_people(ctx, department), "complaints_passed_on",
                 {**facts(ctx, complaint), "department": department.name,
                  "note": complaint.result_note or ""})


def escalate(ctx, complaint, role: str, deadline: str, level: int) -> int:
    """A missed deadline told to one level of the branch's chain."""
    return _send(ctx, role_holders(ctx, role, complaint.branch_id), "complaints_escalated",
                 {**facts(ctx, complaint), "deadline": deadline, "level": level})


def acknowledge(ctx, complaint) -> bool:
    """Tell the customer who wrote in (e-mail or the public form) the complaint's number,
    in the site's language."""
    if not complaint.email:
        return False
    notify(ctx, channel="email", to=complaint.email, template="complaints_received",
           context={**facts(ctx, complaint), "recipient": complaint.contact_name or ""})
    return True
