"""The complaint rate over a million jobs and 100,000 complaints, on PostgreSQL (and SQLite).

For each scale it creates a site with repair and complaints: three branches (SH, JD, PD),
2,000 customers, 10 engineers, five departments, and

* **work orders** (``--lines``, default 1,000,000) reported over the last two years and
  written in that order, as a site writes them: half of them in SH, 30 % in JD, 20 % in
  PD, 2 % cancelled, the rest closed — only the columns a work order cannot do without;
* **complaints** (``--complaints``, default a tenth of the orders) received over the same
  two years in the same proportions: 85 % complaints (the rest praise, inquiries and
  suggestions), every category, 15 % serious and 5 % critical, 1 % cancelled; those
  older than a month closed (most on time), a third of them with a responsible department
  and person.

The rows go in with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) in chunks, then
``VACUUM ANALYZE`` on PostgreSQL (as autovacuum would). Then it times, after one warm-up
run, the reports through the kernel's report runner (:func:`kernel.reports.service.run`,
as the system, all branches unless said) — the rate for one month (one grouped query over
the complaints and repair's answer to ``complaints_job_counts``), the 12-month trend (one
query and a job count per month), by category, department and person — and the dashboard's
cards and chart; it prints the warm-up's time and p50 / p99 of ``--runs`` runs with the
machine and its load. ``--small`` (default 10,000 orders) builds and times a second, small
site for comparison (0: none). Usage::

    .venv/bin/python bench/complaints_bench.py [--lines 1000000] [--complaints 100000]
                                               [--small 10000] [--runs 10] [--sqlite]
    .venv/bin/python bench/complaints_bench.py --keep          # keep the sites it built
    .venv/bin/python bench/complaints_bench.py --site DIR      # time a kept site again
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

import bench_sites  # this folder; it puts the repository on sys.path
from bench_sites import pick_branch

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HISTORY = dt.timedelta(days=730)
BRANCHES = bench_sites.BRANCHES
CHUNK = 100_000
ORDER_COLUMNS = ("id", "number", "company_id", "branch_id", "channel", "service_mode",
                 "fault_description", "reported_at", "category", "category_basis", "urgent",
                 "status", "paused_minutes", "quote_status", "reopen_count", "created_at",
                 "updated_at")
COMPLAINT_COLUMNS = ("id", "number", "company_id", "branch_id", "topic", "category",
                     "severity", "channel", "received_at", "phone", "description", "status",
                     "response_due_at", "responded_at", "resolution_due_at", "paused_minutes",
                     "escalation_level", "our_fault", "responsible_department_id",
                     "responsible_employee_id", "informed_at", "closed_at", "cancelled_at",
                     "reopen_count", "created_at", "updated_at")
TABLES = (("repair_work_order", ORDER_COLUMNS), ("complaints_complaint", COMPLAINT_COLUMNS))


# ---------------------------------------------------------------------------
# the site and its master data
# ---------------------------------------------------------------------------


def make_site(folder: Path, url: str | None):
    """A new site with repair and complaints, branches SH, JD and PD, 2,000 customers, 10
    engineers and five departments; returns the site, the started app and the ids."""

    from kernel.models import Employee, Grade
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig
    from plugins.complaints.models import Department

    site = create_site(folder, SiteConfig(database_url=url or DEFAULT_DB,
                                          plugins=["repair", "complaints"]),
                       company="压测服务公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    with app.context() as ctx:
        company, branches = bench_sites.branches_and_customers(ctx, NOW)
        engineers = [Employee(company_id=company, branch_id=branches[n % 3],
                              code=f"E{n + 1:03d}", name=f"工程师 {n + 1}",
                              grade=Grade.REGULAR) for n in range(10)]
        ctx.session.add_all(engineers)
        departments = [Department(company_id=company, code=code, name=name)
                       for code, name in (("SVC", "售后服务部"), ("HR", "人事部"),
                                          ("TECH", "技术部"), ("SALES", "业务部"),
                                          ("QA", "质管部"))]
        ctx.session.add_all(departments)
        ctx.session.flush()
        ids = {"company": company, "branches": branches,
               "engineers": [e.id for e in engineers],
               "departments": [d.id for d in departments]}
    return site, app, ids


# ---------------------------------------------------------------------------
# work orders and complaints: generated in chunks, inserted in bulk
# ---------------------------------------------------------------------------


def _times(rng: random.Random, count: int) -> list[dt.datetime]:
    """``count`` random instants of the last two years, oldest first: rows are written as
    they happen, so the table's order follows time as on a real site."""
    span = int(HISTORY.total_seconds())
    start = NOW - HISTORY
    return [start + dt.timedelta(seconds=offset)
            for offset in sorted(rng.randrange(span) for _ in range(count))]


def orders(ids: dict, count: int, seed: int = 1) -> Iterator[tuple]:
    """The work orders as tuples of :data:`ORDER_COLUMNS`."""
    rng = random.Random(seed)
    company, branches = ids["company"], ids["branches"]
    for n, at in enumerate(_times(rng, count), 1):
        status = "cancelled" if rng.random() < 0.02 else "closed"
        yield (n, f"WO-B-{n:07d}", company, pick_branch(rng, branches), "phone", "on_site",
               "卡纸", at, "A", "not_covered", False, status, 0, "none", 0, at, at)


def complaints(ids: dict, count: int, seed: int = 2) -> Iterator[tuple]:
    """The complaints as tuples of :data:`COMPLAINT_COLUMNS`."""
    rng = random.Random(seed)
    company, branches = ids["company"], ids["branches"]
    topics = ("complaint",) * 17 + ("praise", "inquiry", "suggestion")
    categories = ("product_quality", "product_quality", "human_factors", "human_factors",
                  "human_factors", "software", "other")
    month_ago = NOW - dt.timedelta(days=30)
    for n, at in enumerate(_times(rng, count), 1):
        roll = rng.random()
        severity = "critical" if roll < 0.05 else "serious" if roll < 0.2 else "ordinary"
        response_due = at + dt.timedelta(hours=rng.choice((4, 8, 24)))
        resolution_due = at + dt.timedelta(days=rng.choice((2, 3, 5)))
        status, responded, informed, closed, cancelled = "registered", None, None, None, None
        fault = department = person = None
        if rng.random() < 0.01:
            status, cancelled = "cancelled", at + dt.timedelta(hours=2)
        elif at < month_ago or rng.random() < 0.4:
            responded = at + dt.timedelta(hours=rng.randint(1, 10))
            informed = at + dt.timedelta(hours=rng.randint(12, 24 * 7))
            closed = informed + dt.timedelta(hours=1)
            status = "closed"
            if rng.random() < 0.35:
                fault = rng.random() < 0.7
                department = rng.choice(ids["departments"])
                person = rng.choice(ids["engineers"]) if fault else None
        elif rng.random() < 0.5:
            status, responded = "investigating", at + dt.timedelta(hours=3)
        yield (n, f"CP-B-{n:07d}", company, pick_branch(rng, branches), rng.choice(topics),
               rng.choice(categories), severity, "phone", at, "139 0000 0000", "投诉内容",
               status, response_due, responded, resolution_due, 0, 0, fault, department,
               person, informed, closed, cancelled, 0, at, at)


def insert(app, ids: dict, order_count: int, complaint_count: int) -> None:
    """Both tables' rows in transactions of :data:`CHUNK` rows
    (:func:`bench_sites.load_tables`)."""
    bench_sites.load_tables(app, TABLES, {
        "repair_work_order": orders(ids, order_count),
        "complaints_complaint": complaints(ids, complaint_count)}, CHUNK)


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


def _month(months_ago: int) -> str:
    today = NOW.date()
    year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
    return f"{year:04d}-{month + 1:02d}"


def cases(app) -> list[tuple[str, object]]:
    """(label, function of a context returning a row count) for each measured call."""
    from kernel.reports.service import run
    from plugins.complaints import dashboard

    def report(name, **raw):
        return lambda ctx: len(run(ctx, name, raw).rows)

    last = _month(1)
    return [
        (f"complaints.rate, one month ({last})", report("complaints.rate", month=last)),
        ("complaints.rate, one month, SH", report("complaints.rate", month=last,
                                                   branch="SH")),
        ("complaints.rate, 12 months", report("complaints.rate",
                                              from_date=f"{_month(12)}-01",
                                              to_date=f"{last}-01")),
        ("complaints.trend, 12 months", report("complaints.trend")),
        ("complaints.trend, 12 months, SH", report("complaints.trend", branch="SH")),
        ("complaints.by_category, one month", report("complaints.by_category", month=last)),
        ("complaints.by_department, one month",
         report("complaints.by_department", month=last)),
        ("complaints.by_person, one month", report("complaints.by_person", month=last)),
        ("dashboard: open complaints", dashboard.open_complaints),
        ("dashboard: past a deadline", dashboard.past_deadline),
        ("dashboard: critical open", dashboard.critical_open),
        ("dashboard: rate, last 12 months (chart)",
         lambda ctx: len(dashboard.rate_chart(ctx).labels)),
    ]


def measure(app, runs: int) -> list[tuple[str, object, float, float]]:
    """The cases timed by :func:`bench_sites.measure`."""
    return bench_sites.measure(app, cases(app), runs, bench="complaints")


def build_and_time(label: str, url: str | None, order_count: int, complaint_count: int,
                   args) -> None:
    began = time.perf_counter()
    with bench_sites.scratch_site(
            "fixdesk-complaintbench-", url, args.keep,
            lambda path: make_site(path, url)) as (_site, app, ids):
        print(f"{label}: {bench_sites.machine(app)}\n  {order_count:,} work orders, "
              f"{complaint_count:,} complaints, {len(BRANCHES)} branches", flush=True)
        insert(app, ids, order_count, complaint_count)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        measure(app, args.runs)


def bench(label: str, url: str | None, args) -> None:
    complaint_count = args.complaints or args.lines // 10
    build_and_time(label, url, args.lines, complaint_count, args)
    if args.small:
        small_url = f"{url}_small" if url else None
        build_and_time(f"{label} (small)", small_url, args.small,
                       max(1, args.small // 10), args)


def sizes(parser) -> None:
    """The options of the site's size besides ``--lines`` (the work orders)."""
    parser.add_argument("--complaints", type=int, default=0,
                        help="complaints (default: a tenth of --lines)")
    parser.add_argument("--small", type=int, default=10_000,
                        help="work orders of a second, small site to compare (0: none)")


def main() -> None:
    bench_sites.main(__doc__, sizes, bench, measure, "fixdesk_complaintbench")


if __name__ == "__main__":
    main()
