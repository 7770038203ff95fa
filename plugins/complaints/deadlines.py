"""A complaint's two deadlines in its branch's working time: the first response (the
supervisor's personal contact) and the resolution (the customer told the result), each
so many working hours after the complaint was received, by severity and branch
(settings ``complaints.response_hours_<severity>`` and ``complaints.resolution_hours_
<severity>``). While the complaint waits on the customer the clock stops; resuming moves
the open deadlines on by the working time it waited.
"""

from __future__ import annotations

import datetime as dt

from kernel.branch_calendar import add_working_hours, working_hours_between

from .rules import RESOLVED, Severity, Status


def hours(ctx, kind: str, severity: Severity | str, branch) -> int:
    """The working hours the branch allows for ``kind`` (``response`` or ``resolution``)
    of a complaint of ``severity``."""
    from kernel.settings import get_setting

    return get_setting(ctx, f"complaints.{kind}_hours_{Severity(severity).value}", branch)


def set_deadlines(ctx, complaint, start: dt.datetime) -> None:
    """Both deadlines from ``start`` (the complaint's receipt, or its reopening for the
    resolution), plus the working time it waited on the customer so far."""
    branch = complaint.branch
    waited = complaint.paused_minutes or 0
    for kind in ("response", "resolution"):
        allowed = hours(ctx, kind, complaint.severity, branch) + waited / 60
        due = add_working_hours(ctx, start, allowed, branch)
        setattr(complaint, f"{kind}_due_at", due)


def pause(ctx, complaint, reason: str) -> None:
    """Stop the clock: the complaint waits on the customer."""
    complaint.paused_at = ctx.now()
    complaint.pause_reason = reason


def resume(ctx, complaint) -> int:
    """Start the clock again; the open deadlines move on by the working time waited.
    Returns the working minutes waited."""
    now = ctx.now()
    waited = working_hours_between(ctx, complaint.paused_at, now, complaint.branch)
    minutes = int(waited.total_seconds() // 60)
    if minutes:
        if complaint.responded_at is None and complaint.response_due_at is not None:
            complaint.response_due_at = add_working_hours(
                ctx, complaint.response_due_at, minutes / 60, complaint.branch)
        if Status(complaint.status) not in RESOLVED and complaint.resolution_due_at is not None:
            complaint.resolution_due_at = add_working_hours(
                ctx, complaint.resolution_due_at, minutes / 60, complaint.branch)
    complaint.paused_minutes = (complaint.paused_minutes or 0) + minutes
    complaint.paused_at = None
    complaint.pause_reason = None
    return minutes


def overdue(complaint, now: dt.datetime) -> str | None:
    """Which deadline the complaint has missed at ``now`` (``"resolution"`` before
    ``"response"``), or None; a complaint waiting on the customer misses none."""
    if complaint.paused_at is not None or Status(complaint.status) in RESOLVED:
        return None
    if complaint.resolution_due_at is not None and complaint.resolution_due_at <= now:
        return "resolution"
    if (complaint.responded_at is None and complaint.response_due_at is not None
            and complaint.response_due_at <= now):
        return "response"
    return None
