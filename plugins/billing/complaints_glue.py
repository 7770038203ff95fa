"""Glue for complaints (the part ``billing.complaints``, registered only where complaints
runs): a complaint the engineer answers for deducts from his commission (R26, R28).

When a complaint about a work order is attributed (``complaints_attributed``: our fault,
the responsible person the engineer whose commission the job earned), the job's latest
completion that earned gets a named deduction of the branch's
``billing.commission_complaint_deduction`` ("投诉 CP-SH-2026-00012 扣减"). A later
attribution that clears him — not our fault, or another person — takes the deduction
back with a line of the opposite amount; attributing it to him again deducts again.

The lines are commission lines like the others (:mod:`plugins.billing.commission`),
keyed by work order, completion and ``complaint:<complaint id>:<n>``: the complaint's
lines on the completion add up to what is deducted now, and an event received twice
finds that sum already right and writes nothing. The deductions are ``deduction`` lines
(a taking back a positive one), so a reversal of the job's commission (a failed spot
check, a reopening) takes them back with the rest. A job that earned nothing, or whose
earnings were reversed, is not deducted from. Complaints and work orders are read by
name only (the complaint handed over, ``repair_work_order`` by table), never imported.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kernel import hookimpl
from kernel.contributions import titled
from kernel.i18n import N_
from kernel.settings import get_setting

from . import commission
from .amounts import ZERO
from .models import CommissionEntry, CommissionKind

ORDERS = "repair_work_order"


def _order(ctx, complaint):
    """The work order the complaint is about, or None (about something else, repair off)."""
    about = getattr(complaint, "about", None)
    if about is None or about.entity != ORDERS:
        return None
    orders = ctx.app.entity_class(ORDERS)
    return None if orders is None else ctx.session.get(orders, about.id)


def complaint_lines(ctx, order_id: int, completion: int, complaint_id: int
                    ) -> list[CommissionEntry]:
    """The commission lines a complaint wrote on a job's completion, in order."""
    return list(ctx.session.scalars(select(CommissionEntry).where(
        CommissionEntry.order_id == order_id, CommissionEntry.completion == completion,
        CommissionEntry.code.startswith(f"{commission.COMPLAINT}{complaint_id}:",
                                        autoescape=True))
        .order_by(CommissionEntry.id)))


def answers_for(complaint, engineer_id: int) -> bool:
    """Whether the complaint was found our fault with ``engineer_id`` the responsible
    person."""
    return bool(complaint.our_fault) and complaint.responsible_employee_id == engineer_id


def attribute(ctx, complaint) -> CommissionEntry | None:
    """Bring the job's commission in line with the complaint's attribution: deduct the
    branch's amount when the engineer who earned it answers for the complaint, take the
    deduction back when he no longer does. Returns the line written, if any."""
    order = _order(ctx, complaint)
    if order is None:
        return None
    earned = commission.latest_earning(ctx, order.id)
    if earned is None:
        return None
    lines = complaint_lines(ctx, order.id, earned.completion, complaint.id)
    deducted = sum((line.amount for line in lines), ZERO)
    if answers_for(complaint, earned.engineer_id):
        if deducted != ZERO:
            return None
        amount = Decimal(get_setting(ctx, "billing.commission_complaint_deduction",
                                     order.branch))
        if amount <= 0:
            return None
        change, message = -amount, N_("complaint {number} deduction")
    else:
        if deducted == ZERO:
            return None
        change, message = -deducted, N_("complaint {number} deduction taken back")
    return commission._write(
        ctx, order, completion=earned.completion,
        code=f"{commission.COMPLAINT}{complaint.id}:{len(lines) + 1}",
        kind=CommissionKind.DEDUCTION, service_type=earned.service_type,
        engineer_id=earned.engineer_id, amount=change,
        reason=commission._site_text(ctx, message, number=complaint.number))


@hookimpl
@titled(N_("A complaint the engineer answers for deducts from his commission"))
def complaints_attributed(ctx, complaint):
    """A complaint about a work order found our fault, with its engineer the responsible
    person, deducts the branch's amount from what the job earned; an attribution that
    clears him takes it back (R26, R28). Once per complaint and attribution."""
    attribute(ctx, complaint)
