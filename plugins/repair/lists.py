"""How repair's lists open and what the kanban's cards may do.

The work order list opens with the open orders (not closed, not cancelled) of the
user's branch, urgent first (R9) and then the newest report, so today's work is on top
and no closed order is; an engineer who works only on his own jobs gets his own open jobs.
The appointment list opens with the appointments from today on. The kanban moves a
work order by the action :func:`target_of` names (:mod:`kernel.web.desk.kanban`).
"""

from __future__ import annotations

from kernel.errors import Conflict
from kernel.i18n import N_
from kernel.list_prefs import DefaultFilter

from . import own_jobs, rules
from .rules import OPEN, Status

#: the open statuses, in the workflow's order, as a list filter's value
OPEN_VALUES = ",".join(s.value for s in Status if s in OPEN)
#: urgent first (R9), then the newest report, so today's jobs are on top (index
#: repair_0004)
WORK_ORDER_SORT = "-urgent,-reported_at"
#: the appointments from today on, the earliest first
APPOINTMENTS = DefaultFilter(N_("From today"), (("starts_at", "gte", "{today}"),),
                             sort="starts_at")


def work_orders(ctx) -> DefaultFilter:
    """The work order list's default filter for the acting user: his own open jobs when
    he does field work only on his own (an engineer), else the open orders of his
    branch."""
    if ctx.user is not None and ctx.user.employee_id is not None and \
            ctx.can("repair_work_order.complete") and not own_jobs.works_on_others(ctx):
        return DefaultFilter(N_("My open jobs"), (("status", "in", OPEN_VALUES),
                                                   ("engineer_id", "eq", "{employee}")),
                             sort=WORK_ORDER_SORT)
    return DefaultFilter(N_("Open orders of my branch"),
                         (("status", "in", OPEN_VALUES), ("branch_id", "eq", "{branch}")),
                         sort=WORK_ORDER_SORT)


def target_of(order, action: str) -> str | None:
    """The status ``action`` would take ``order`` to now (None: not possible, or the
    action is not a step of the workflow)."""
    if action not in rules.ALLOWED:
        return None
    try:
        return rules.next_status(action, rules.OrderState.of(order)).value
    except Conflict:
        return None
