"""Glue for repair (the part ``billing.commission``, registered only where repair runs):
engineer commission (R28) from repair's events, each implementation switchable per
branch apart from invoicing (``fixdesk hooks disable billing.commission
repair_order_audited --branch JD`` stops JD's jobs from earning).

- a passed audit earns the job's commission, less the named deductions (missed arrival
  deadline, poor survey ratings);
- an answered survey with a poor rating deducts from what the job earned;
- a failed spot check, a failed audit and a reopened job reverse what the job's latest
  completion earned.

Every event may arrive twice: the lines are keyed by job, completion and code, so the
second delivery writes nothing (:mod:`plugins.billing.commission`). Repair is reached
through its hooks and its tables by name only, never imported.
"""

from __future__ import annotations

from kernel import hookimpl
from kernel.contributions import titled
from kernel.i18n import N_


@hookimpl
@titled(N_("Engineers earn commission when a job passes audit"))
def repair_order_audited(ctx, order, passed):
    """A passed audit earns the engineer the job's commission by its service type, with
    a named deduction for a missed arrival deadline or poor survey ratings; a failed
    audit of a job that had earned reverses it (R28)."""
    from . import commission

    if passed:
        commission.earn(ctx, order)
    else:
        commission.reverse_for_audit(ctx, order)


@hookimpl
@titled(N_("Poor survey ratings deduct from the engineer's commission"))
def repair_survey_answered(ctx, order, callback):
    """A survey rating at or below the branch's poor threshold deducts the branch's
    amount from what the job earned, naming the poor ratings (R28)."""
    from . import commission

    commission.rate_survey(ctx, order, callback)


@hookimpl
@titled(N_("A failed spot check reverses the job's commission"))
def repair_quality_checked(ctx, order, check, passed):
    """A failed spot check sends the job back for rework: what it earned is reversed,
    naming the check; the reworked job earns again when its next audit passes (R17,
    R28)."""
    from . import commission

    if not passed:
        commission.reverse_for_check(ctx, order, check)


@hookimpl
@titled(N_("A reopened job's commission is reversed"))
def repair_order_status_changed(ctx, order, event, reason):
    """A reopened job gives back what its latest completion earned, naming the
    reopening; it earns again when it is completed and passes audit once more (R28)."""
    if event != "reopen":
        return
    from . import commission

    commission.reverse_for_reopening(ctx, order, reason)
