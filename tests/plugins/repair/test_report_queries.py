"""The repair reports run as many queries for 50 orders as for 5: none runs a query per
order, customer or engineer (issue #16). Each report is run on a site with 5 orders and
again after 45 more, and the SELECTs it sends are counted
(:mod:`tests.support.query_count`), never timed.

Every order has a customer of its own; a fifth of them wait for dispatch, the others are
dispatched to the SH engineers in turn, arrive (every third late), are completed with
hours on the repair card and, but every fourth, closed; one in ten is cancelled.
"""

from __future__ import annotations

import pytest
from query_count import counting
from sqlalchemy import select

from kernel.models import Customer, Tier
from kernel.reports.service import run
from plugins.repair import services

ENGINEERS = ("E001", "E002", "E003", "E004", "E005")
#: (report, its parameters as text) — the orders are made Monday 2026-11-16
REPORTS = (
    ("repair.register", {"start": "2026-11-16", "end": "2026-11-17"}),
    ("repair.compliance", {"start": "2026-11-16", "end": "2026-11-17"}),
    ("repair.compliance", {"start": "2026-11-16", "end": "2026-11-17", "by": "engineer"}),
    ("repair.engineer_daily", {"start": "2026-11-16", "end": "2026-11-17"}),
    ("repair.supervisor_daily", {"day": "2026-11-16"}),
    ("repair.supervisor_daily", {"day": "2026-11-17"}),
    ("repair.dispatch_queue", {"branch": "SH"}),
    ("repair.engineer_scores", {"month": "2026-11"}),
)


def _add_orders(as_user, first: int, count: int) -> None:
    """Orders ``first`` … ``first + count - 1``, each of a new SH customer, through the
    repair services, on Monday 2026-11-16 (late arrivals after the 8 h deadline)."""
    numbers = {}
    with as_user("admin", "2026-11-16 08:00") as ctx:
        company_id = ctx.session.scalar(select(Customer.company_id).limit(1))
        branch_id = ctx.user.home_branch_id
        for n in range(first, first + count):
            ctx.session.add(Customer(company_id=company_id, branch_id=branch_id,
                                     code=f"QC{n:03d}", name=f"查询客户 {n}",
                                     tier=Tier.CORPORATE))
    with as_user("zhengli", "2026-11-16 09:00") as ctx:
        for n in range(first, first + count):
            numbers[n] = services.register(ctx, customer=f"QC{n:03d}", channel="phone",
                                           fault_description="卡纸", urgent=n % 7 == 0,
                                           category="C", category_reason="客户关系维护").number
    working = [n for n in numbers if n % 5]
    with as_user("wufang", "2026-11-16 09:30") as ctx:
        for n in working:
            services.dispatch(ctx, numbers[n], engineer=ENGINEERS[n % len(ENGINEERS)])
    with as_user("wufang", "2026-11-16 11:00") as ctx:
        for n in working:
            if n % 10 == 1:
                services.cancel(ctx, numbers[n], "客户自行解决")
            elif n % 3:
                services.record_arrival(ctx, numbers[n])
    late = [n for n in working if n % 10 != 1 and not n % 3]
    with as_user("wufang", "2026-11-17 10:00") as ctx:
        for n in late:
            services.record_arrival(ctx, numbers[n])
    done = [n for n in working if n % 10 != 1]
    with as_user("wufang", "2026-11-17 11:00") as ctx:
        for n in done:
            services.start(ctx, numbers[n])
            services.complete(ctx, numbers[n], method="清洁纸路", cause="纸屑", hours="1")
    with as_user("zhengli", "2026-11-17 15:00") as ctx:
        for n in done:
            if n % 4:
                services.close(ctx, numbers[n])


def _queries(repair_app, as_user) -> dict[str, tuple[int, int]]:
    """(rows, SELECTs) of each report, read by the admin on Wednesday morning."""
    found = {}
    for name, params in REPORTS:
        with as_user("admin", "2026-11-18 09:00") as ctx:  # a new session: nothing cached
            with counting(repair_app.engine) as statements:
                rows = run(ctx, name, params).rows
            found[f"{name} {params}"] = (len(rows), len(statements))
    return found


def test_no_report_runs_a_query_per_row(repair_app, as_user):
    _add_orders(as_user, 1, 5)
    small = _queries(repair_app, as_user)
    _add_orders(as_user, 6, 45)
    large = _queries(repair_app, as_user)
    for report, (rows, queries) in large.items():
        assert rows >= small[report][0], report
        assert queries == small[report][1], (report, small[report], (rows, queries))
    # the larger set really is larger where rows are per order or per engineer
    assert large["repair.dispatch_queue {'branch': 'SH'}"][0] == 10
    assert large["repair.register {'start': '2026-11-16', 'end': '2026-11-17'}"][0] > \
        small["repair.register {'start': '2026-11-16', 'end': '2026-11-17'}"][0]


@pytest.mark.parametrize("day", ["2026-11-16", "2026-11-17"])
def test_supervisor_daily_counts_the_open_orders_of_the_day(repair_app, as_user, day):
    """The end-of-day figures come from the orders that may have been open then: the
    same as counting every order's last history entry before the end of the day."""
    from plugins.repair import reports
    from plugins.repair.models import StatusChange, WorkOrder
    from plugins.repair.rules import OPEN, Status

    _add_orders(as_user, 1, 20)
    with as_user("admin", "2026-11-18 09:00") as ctx:
        line = next(r for r in reports.supervisor_daily(ctx, day) if r["branch_code"] == "SH")
        moment = reports._bounds(ctx, *(2 * [reports.parse_date(day, "day")]))[1]
        last = {}
        for order_id, status in ctx.session.execute(
                select(StatusChange.order_id, StatusChange.to_status)
                .join(WorkOrder, WorkOrder.id == StatusChange.order_id)
                .where(StatusChange.at < moment, WorkOrder.branch_id == ctx.user.home_branch_id)
                .order_by(StatusChange.id)):
            last[order_id] = Status(status)
    open_now = [s for s in last.values() if s in OPEN]
    assert line["open"] == len(open_now) > 0
    assert line["undispatched"] == sum(s == Status.PENDING for s in open_now)
    for status in OPEN:
        assert line[f"open_{status.value}"] == sum(s == status for s in open_now)
