"""Glue for complaints (the part ``repair.complaints``, registered only where complaints
runs): repair answers complaints' questions about jobs and work orders.

- ``complaints_job_counts``: the work orders each branch registered in a period, not
  cancelled — the denominator of the complaint rate (R26), one grouped query over the
  index ``ix_repair_work_order_branch_period`` (read from the index alone);
- ``complaints_describe_subject``: the customer and engineer of a work order a complaint
  is about.

Complaints is reached through its hooks only, never imported.
"""

from __future__ import annotations

from sqlalchemy import func, select

from kernel import hookimpl
from kernel.contributions import titled
from kernel.i18n import N_

ORDERS = "repair_work_order"


def job_counts(ctx, branch_ids, start, end) -> dict[int, int]:
    """``{branch id: work orders reported in [start, end) and not cancelled}`` for the
    branches asked (None: every branch the user sees), in one grouped query; branches
    without jobs are left out."""
    from .models import WorkOrder
    from .rules import Status

    query = (select(WorkOrder.branch_id, func.count(WorkOrder.id))
             .where(WorkOrder.reported_at >= start, WorkOrder.reported_at < end,
                    WorkOrder.status != Status.CANCELLED)
             .group_by(WorkOrder.branch_id))
    if branch_ids is not None:
        wanted = [int(branch_id) for branch_id in branch_ids]
        if not wanted:
            return {}
        query = query.where(WorkOrder.branch_id.in_(wanted))
    return {branch_id: count for branch_id, count in ctx.session.execute(query)}


@hookimpl
@titled(N_("Jobs per branch for the complaint rate"))
def complaints_job_counts(ctx, branch_ids, start, end):
    """Work orders reported per branch in ``[start, end)``, cancelled ones left out: the
    jobs the complaint rate divides by (R26)."""
    return job_counts(ctx, branch_ids, start, end)


@hookimpl
@titled(N_("The customer and engineer of a work order a complaint is about"))
def complaints_describe_subject(ctx, entity, record_id):
    """A work order's customer and engineer, for a complaint about it; None for records
    of other entities."""
    if entity != ORDERS:
        return None
    from .models import WorkOrder

    order = ctx.session.get(WorkOrder, record_id)
    if order is None:
        return None
    return {"customer_id": order.customer_id, "engineer_id": order.engineer_id}
