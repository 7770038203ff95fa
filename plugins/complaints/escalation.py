"""Escalation: a complaint past a deadline goes one level up its branch's chain
(setting ``complaints.escalation_chain``: roles, lowest first), once per level.

Each missed deadline is one step up: the first response, the resolution, then every
``complaints.escalation_step_hours`` working hours the resolution stays overdue. The
scheduled job ``complaints.escalate`` (every five minutes) finds the complaints whose
level is behind and, for each level due, inserts the escalation row first (unique per
complaint and level) and then queues the messages, so a job run twice, or two workers,
never tell a level twice.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from kernel import ScheduledJob
from kernel.branch_calendar import working_hours_between
from kernel.settings import get_setting

from . import notices
from .models import Complaint, Escalation
from .rules import RESOLVED, DeadlineKind, Status

#: at most this many complaints per run (the rest wait for the next run)
BATCH = 500


def chain(ctx, branch) -> list[str]:
    """The branch's escalation chain: role names, lowest level first."""
    text = get_setting(ctx, "complaints.escalation_chain", branch) or ""
    return [role.strip() for role in text.split(",") if role.strip()]


def due_level(ctx, complaint, now) -> tuple[int, DeadlineKind | None]:
    """How many levels up the complaint should be at ``now``, and the deadline that made
    the last step."""
    if complaint.paused_at is not None or Status(complaint.status) in RESOLVED:
        return 0, None
    level, kind = 0, None
    if complaint.response_due_at is not None and complaint.response_due_at <= now and (
            complaint.responded_at is None or complaint.responded_at > complaint.response_due_at):
        level, kind = 1, DeadlineKind.RESPONSE
    if complaint.resolution_due_at is not None and complaint.resolution_due_at <= now:
        level, kind = level + 1, DeadlineKind.RESOLUTION
        step = get_setting(ctx, "complaints.escalation_step_hours", complaint.branch)
        if step and step > 0:
            late = working_hours_between(ctx, complaint.resolution_due_at, now,
                                         complaint.branch)
            level += int(late.total_seconds() // (step * 3600))
    return level, kind


def escalate(ctx, complaint, now) -> list[Escalation]:
    """Raise ``complaint`` to the level it is due, telling each level passed once."""
    target, kind = due_level(ctx, complaint, now)
    roles = chain(ctx, complaint.branch)
    target = min(target, len(roles))
    made = []
    for level in range(complaint.escalation_level + 1, target + 1):
        role = roles[level - 1]
        try:
            with ctx.session.begin_nested():
                row = Escalation(complaint_id=complaint.id, level=level, role=role,
                                 deadline=kind, escalated_at=now)
                ctx.session.add(row)
        except IntegrityError:  # told already (another run got there first)
            continue
        row.notified = notices.escalate(ctx, complaint, role, kind.value, level)
        made.append(row)
    if target > complaint.escalation_level:
        complaint.escalation_level = target
    return made


def escalate_due(ctx) -> int:
    """Scheduled job: escalate every open complaint past a deadline; returns how many
    levels were told."""
    now = ctx.now()
    overdue = select(Complaint).where(
        Complaint.status.in_([s.value for s in Status if s not in RESOLVED]),
        Complaint.paused_at.is_(None),
        or_(Complaint.resolution_due_at <= now,
            and_(Complaint.response_due_at <= now, Complaint.responded_at.is_(None)),
            Complaint.responded_at > Complaint.response_due_at),
    ).order_by(Complaint.id).limit(BATCH).with_for_update(skip_locked=True)
    told = 0
    for complaint in ctx.session.scalars(overdue):
        told += len(escalate(ctx, complaint, now))
    return told


def _run(ctx, **_payload) -> int:
    return escalate_due(ctx)


SCHEDULED_JOBS = [ScheduledJob("complaints.escalate", _run, interval_seconds=300)]
