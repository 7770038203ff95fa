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

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from kernel import ScheduledJob
from kernel.branch_calendar import calendar_for
from kernel.settings import get_setting

from . import notices
from .models import Complaint, Escalation
from .rules import RESOLVED, DeadlineKind, Status

#: the complaints read (and locked) at a time; a run goes through all of them in batches
BATCH = 500


@dataclass
class BranchFacts:
    """What escalating a branch's complaints reads, once per run: its chain, the working
    hours between steps, its working calendar."""

    chain: list[str]
    step_hours: int
    calendar: object


def branch_facts(ctx, branch, cache: dict | None = None) -> BranchFacts:
    """The escalation facts of ``branch`` (kept in ``cache`` by branch id for the run)."""
    if cache is not None and branch.id in cache:
        return cache[branch.id]
    found = BranchFacts(chain(ctx, branch),
                        get_setting(ctx, "complaints.escalation_step_hours", branch) or 0,
                        calendar_for(ctx, branch))
    if cache is not None:
        cache[branch.id] = found
    return found


def chain(ctx, branch) -> list[str]:
    """The branch's escalation chain: role names, lowest level first."""
    text = get_setting(ctx, "complaints.escalation_chain", branch) or ""
    return [role.strip() for role in text.split(",") if role.strip()]


def due_steps(ctx, complaint, now, facts: BranchFacts | None = None) -> list[DeadlineKind]:
    """The deadline behind each level the complaint should have reached at ``now``,
    lowest level first: the first response (missed, or met late), the resolution, then
    the resolution again for every ``complaints.escalation_step_hours`` working hours it
    stays overdue. Nothing while it waits on the customer or once it is resolved."""
    if complaint.paused_at is not None or Status(complaint.status) in RESOLVED:
        return []
    steps = []
    if complaint.response_due_at is not None and complaint.response_due_at <= now and (
            complaint.responded_at is None or complaint.responded_at > complaint.response_due_at):
        steps.append(DeadlineKind.RESPONSE)
    if complaint.resolution_due_at is not None and complaint.resolution_due_at <= now:
        steps.append(DeadlineKind.RESOLUTION)
        facts = facts or branch_facts(ctx, complaint.branch)
        if facts.step_hours > 0:
            late = facts.calendar.working_hours_between(complaint.resolution_due_at, now)
            steps += [DeadlineKind.RESOLUTION] * int(
                late.total_seconds() // (facts.step_hours * 3600))
    return steps


def escalate(ctx, complaint, now, facts: BranchFacts | None = None) -> list[Escalation]:
    """Raise ``complaint`` to the level it is due, telling each level passed once; each
    level's row names the deadline that made that step."""
    facts = facts or branch_facts(ctx, complaint.branch)
    steps = due_steps(ctx, complaint, now, facts)
    roles = facts.chain
    target = min(len(steps), len(roles))
    made = []
    for level in range(complaint.escalation_level + 1, target + 1):
        role, kind = roles[level - 1], steps[level - 1]
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


def _candidates(now, chains: dict[int, int]):
    """Open, running complaints that may have a level to reach: below the end of their
    branch's chain, and past their first response (at level 0) or their resolution."""
    missed_response = and_(
        Complaint.escalation_level == 0, Complaint.response_due_at <= now,
        or_(Complaint.responded_at.is_(None),
            Complaint.responded_at > Complaint.response_due_at))
    below_end = or_(*(and_(Complaint.branch_id == branch_id,
                           Complaint.escalation_level < length)
                      for branch_id, length in chains.items() if length > 0))
    return select(Complaint).where(
        Complaint.status.in_([s.value for s in Status if s not in RESOLVED]),
        Complaint.paused_at.is_(None), below_end,
        or_(Complaint.resolution_due_at <= now, missed_response))


def escalate_due(ctx) -> int:
    """Scheduled job: escalate every open complaint past a deadline; returns how many
    levels were told. Goes through all of them by id in batches (a complaint at the end
    of its chain is not read again), each branch's chain, step and calendar read once;
    on PostgreSQL a complaint another run holds is skipped (it escalates it)."""
    from kernel.models import Branch

    now = ctx.now()
    cache: dict[int, BranchFacts] = {}
    branches = ctx.session.scalars(select(Branch)).all()
    chains = {b.id: len(branch_facts(ctx, b, cache).chain) for b in branches}
    if not any(chains.values()):
        return 0
    told, last = 0, 0
    while True:
        batch = ctx.session.scalars(
            _candidates(now, chains).where(Complaint.id > last)
            .order_by(Complaint.id).limit(BATCH).with_for_update(skip_locked=True)).all()
        for complaint in batch:
            told += len(escalate(ctx, complaint, now,
                                 branch_facts(ctx, complaint.branch, cache)))
        if len(batch) < BATCH:
            return told
        last = batch[-1].id


def _run(ctx, **_payload) -> int:
    return escalate_due(ctx)


SCHEDULED_JOBS = [ScheduledJob("complaints.escalate", _run, interval_seconds=300)]
