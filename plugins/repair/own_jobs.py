"""Whose job it is: an engineer works only on the orders dispatched to him.

The field work on an order — recording the arrival, diagnosing, quoting, repairing
(parts, labour, waiting) and completing — is done by the engineer it is dispatched to,
the employee linked to his account (``User.employee_id``). A role holding
``repair_work_order.others_jobs`` (service supervisors and branch managers by default;
an admin may grant it to another role) may do it on any order of its branches. The hours
an engineer logs are booked to himself.
"""

from __future__ import annotations

from kernel import ValidationError
from kernel.auth import PermissionDenied
from kernel.i18n import _
from kernel.models import Employee

#: the permissions of field work, done only on one's own jobs (see the module's text)
FIELD_WORK = frozenset({"arrive", "diagnose", "quote", "repair", "complete"})
#: who may do field work on jobs dispatched to others
OTHERS_JOBS = "repair_work_order.others_jobs"


def engineer_of(ctx) -> Employee | None:
    """The employee linked to the logged-in user's account, if any."""
    user = ctx.user
    if user is None or user.employee_id is None:
        return None
    return ctx.session.get(Employee, user.employee_id)


def works_on_others(ctx) -> bool:
    """Whether the user may work on jobs dispatched to others (also: the system)."""
    return ctx.user is None or ctx.can(OTHERS_JOBS)


def is_own_job(ctx, order) -> bool:
    """Whether ``order`` is dispatched to the logged-in user's employee."""
    return ctx.user is not None and ctx.user.employee_id is not None and \
        order.engineer_id == ctx.user.employee_id


def may_work_on(ctx, order) -> bool:
    """Whether the user may do field work on ``order``: his own, or his role allows others'."""
    return works_on_others(ctx) or is_own_job(ctx, order)


def check_own_job(ctx, order, permission: str) -> None:
    """Refuse (403) field work ``permission`` on an order dispatched to someone else."""
    if permission not in FIELD_WORK or may_work_on(ctx, order):
        return
    raise PermissionDenied(_("order {number} is not dispatched to you: only its engineer or "
                             "a supervisor may work on it").format(number=order.number))


def labour_engineer(ctx, order, person: Employee | None) -> Employee | None:
    """Who the hours are booked to: an engineer books his own (naming someone else is
    refused); a role that may work on others' jobs names anyone, else the order's
    engineer (None: the service asks for one)."""
    if works_on_others(ctx):
        return person if person is not None else order.engineer
    mine = engineer_of(ctx)
    if mine is None:
        raise ValidationError(_("your account is not linked to an employee: hours cannot be "
                                "booked to you"), field="engineer")
    if person is not None and person.id != mine.id:
        raise ValidationError(_("you book your own hours only"), field="engineer")
    return mine
