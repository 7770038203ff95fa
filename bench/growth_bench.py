"""Growth: the repair desk and API with 10,000 and with 1,000,000 work orders.

For each size (``--size``, default 10,000 and 1,000,000) it creates a site with the
repair plugin alone — three branches (SH half of everything, JD 30 %, PD 20 %), 2,000
customers, 10 engineers per branch, a service supervisor of SH (user ``supervisor``) —
and writes the work orders reported over the last two years in the order they came,
each with its history as a site writes it: registered, dispatched, arrived (on time or
late against its 4 h / 8 h deadline), started, 30 % waiting for parts and started again,
completed, audited, closed (2 % cancelled instead), about 7.6 status changes an order;
orders of the last days are still open wherever their history has got to. Every
status change also has its audit row (the order's insert and each change of status,
as the audit trail writes them). 5 % of the faults mention 卡纸 (paper jam).

Rows go in with ``COPY`` on PostgreSQL and ``executemany`` on SQLite, in transactions of
:data:`CHUNK` orders with their history and audit rows, then ``VACUUM ANALYZE`` on
PostgreSQL (as autovacuum would; SQLite sites never get statistics). A child table that
carries its order's branch (``branch_id``) gets it filled, and the work orders' search
index is rebuilt as ``fixdesk migrate`` would (:func:`reindex`).

Then it times, through real HTTP on the site's ASGI app in this process (the FastAPI
test client), as the SH supervisor with a bearer token (the desk form with a session
cookie), after one warm-up run, p50 and p99 of ``--runs`` runs of:

* the default list ``GET /api/v1/repair_work_order?limit=50``, a filtered list (closed
  orders of one engineer), sorted by deadline, a page deep in the list (the newest
  first; 90 % of the orders the supervisor sees lie before it: with ``offset`` — or,
  when the answer offers a ``next`` cursor, with ``after`` set to the cursor of that
  position), a search ``q=卡纸``, an order's status changes (``?order_id=``);
* an order's form on the desk (``GET /desk/repair_work_order/{id}``) and in the API;
* the desk's home page (its dashboard cards and charts; the twelve weeks' compliance
  chart is kept five minutes once drawn, so the page is also timed drawing it again:
  ``?refresh=repair.compliance_weeks``), the work orders' list on the desk (the first
  page, and a search ``q=卡纸``) and the dispatch board;

and, through the kernel's report runner as the system, each repair report. It prints a
table ``figure | 10k | 1M | target | holds``: lists, search and forms want p99 ≤ 100 ms
at the large size and ≤ 1.5× the small size's; reports p99 ≤ 1 s (on PostgreSQL).

Usage::

    .venv/bin/python bench/growth_bench.py [--pg] [--sqlite] [--size 10000 --size 1000000]
                                           [--runs 20] [--keep]
    .venv/bin/python bench/growth_bench.py --site DIR    # time a kept site again
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
import uuid
from pathlib import Path

import bench_sites  # this folder; it puts the repository on sys.path
import verdicts  # this folder

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HISTORY = dt.timedelta(days=730)
BRANCHES = bench_sites.BRANCHES
CHUNK = 50_000
PASSWORD = "growth-bench-password"
FAULTS = ("复印有黑线", "无法开机", "显示错误代码 SC542", "打印模糊", "网络打印失败",
          "定影器异响", "进纸异常", "扫描仪不工作", "缺粉提示不消失", "双面打印错位")
MODELS = ("Ricoh MP 3054", "Canon iR-ADV 4525", "Kyocera TASKalfa 3253ci", "HP LaserJet M607",
          "Konica bizhub C300i", "Sharp MX-3071")
ORDER_COLUMNS = ("id", "number", "company_id", "branch_id", "customer_id", "model",
                 "serial_no", "contact_name", "phone", "address", "channel", "service_mode",
                 "fault_description", "reported_at", "category", "category_basis", "urgent",
                 "status", "deadline_at", "paused_minutes", "arrived_at", "deadline_met",
                 "missed_minutes", "engineer_id", "dispatched_at", "quote_status",
                 "started_at", "completed_at", "closed_at", "cancelled_at", "reopen_count",
                 "created_at", "updated_at")
CHANGE_COLUMNS = ("id", "order_id", "at", "event", "from_status", "to_status", "actor",
                  "detail")
AUDIT_COLUMNS = ("id", "at", "actor", "entity", "record_id", "action", "changes", "branch_id")
#: a list, search or form: p99 at most this at the large size
PAGE_TARGET = 0.100
#: ... and at most this many times the small size's p99
GROWTH_TARGET = 1.5
#: a report: p99 at most this at every size
REPORT_TARGET = bench_sites.REPORT_TARGET


# ---------------------------------------------------------------------------
# the site and its master data
# ---------------------------------------------------------------------------


def make_site(folder: Path, url: str | None):
    """A new site with repair, branches SH, JD and PD, 2,000 customers, 10 engineers per
    branch and the SH service supervisor; returns the site, the started app and the ids."""
    from sqlalchemy import select

    from kernel.auth import add_user
    from kernel.models import Branch, Customer, Employee, Grade
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    site = create_site(folder, SiteConfig(database_url=url or DEFAULT_DB, plugins=["repair"]),
                       company="压测服务公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    with app.context() as ctx:
        company, branches = bench_sites.branches_and_customers(ctx, NOW)
        home = ctx.session.get(Branch, branches[0])
        engineers = [Employee(company_id=company, branch_id=branches[n % 3],
                              code=f"E{n + 1:03d}", name=f"工程师 {n + 1}",
                              grade=Grade.REGULAR, skills=["copier"]) for n in range(30)]
        ctx.session.add_all(engineers)
        ctx.session.flush()
        add_user(ctx, "supervisor", "服务主任", PASSWORD, home, roles=["service_supervisor"])
        customers = list(ctx.session.scalars(select(Customer.id).order_by(Customer.id)))
        ids = {"company": company, "branches": branches, "customers": customers,
               "engineers": {b: [e.id for e in engineers if e.branch_id == b]
                             for b in branches}}
    return site, app, ids


# ---------------------------------------------------------------------------
# work orders, their history and audit rows: generated a chunk at a time
# ---------------------------------------------------------------------------


def _hours(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(seconds=int(rng.uniform(low, high) * 3600))


def _history(rng: random.Random, at: dt.datetime, urgent: bool) -> tuple[list, dict]:
    """The status changes ``(event, from, to, at, detail)`` of an order reported ``at``,
    up to now, and the order's columns they set."""
    deadline = at + dt.timedelta(hours=4 if urgent else 8)
    steps = [("register", None, "pending", at, {})]
    fields = {"deadline_at": deadline}

    def step(event, to, hours, detail=None):
        moment = steps[-1][3] + _hours(rng, *hours)
        steps.append((event, steps[-1][2], to, moment, detail or {}))
        return moment

    if rng.random() < 0.02:
        if rng.random() < 0.5:
            fields["dispatched_at"] = step("dispatch", "dispatched", (0.2, 2))
        fields["cancelled_at"] = step("cancel", "cancelled", (0.5, 24))
    else:
        fields["dispatched_at"] = step("dispatch", "dispatched", (0.2, 3))
        arrived = steps[-1][3] + _hours(rng, 0.5, 7)
        met = arrived <= deadline
        fields.update(arrived_at=arrived, deadline_met=met,
                      missed_minutes=0 if met else int((arrived - deadline).seconds // 60))
        steps.append(("arrive", "dispatched", "dispatched", arrived, {"deadline_met": met}))
        fields["started_at"] = step("start", "in_repair", (0.1, 1))
        if rng.random() < 0.3:
            step("wait_for_parts", "waiting_parts", (0.5, 3))
            step("start", "in_repair", (24, 120))
        fields["completed_at"] = step("complete", "completed", (0.5, 30))
        step("audit", "completed", (1, 48), {"passed": True})
        fields["closed_at"] = step("close", "closed", (0.2, 72))
    done = [s for s in steps if s[3] <= NOW]
    for name, moment in list(fields.items()):
        if isinstance(moment, dt.datetime) and name != "deadline_at" and moment > NOW:
            fields[name] = None
    if fields.get("arrived_at") is None:
        fields.update(deadline_met=None, missed_minutes=None)
    return done, fields


def chunks(ids: dict, count: int, child_branch: set[str], seed: int = 1):
    """Per :data:`CHUNK` orders, the rows ``{table: [tuple, ...]}`` of the orders, their
    status changes and audit rows (ids in time order within the chunk). ``child_branch``:
    the child tables that carry ``branch_id`` (added last to their rows)."""
    rng = random.Random(seed)
    span, start = int(HISTORY.total_seconds()), NOW - HISTORY
    times = sorted(rng.randrange(span) for _ in range(count))
    company, branches, customers = ids["company"], ids["branches"], ids["customers"]
    change_id = audit_id = 0
    for first in range(0, count, CHUNK):
        orders, changes, audits = [], [], []
        for n in range(first + 1, min(count, first + CHUNK) + 1):
            at = start + dt.timedelta(seconds=times[n - 1])
            branch = bench_sites.pick_branch(rng, branches)
            urgent = rng.random() < 0.1
            steps, fields = _history(rng, at, urgent)
            status = steps[-1][2]
            engineer = rng.choice(ids["engineers"][branch]) \
                if fields.get("dispatched_at") else None
            fault = ("卡纸，" if rng.random() < 0.05 else "") + rng.choice(FAULTS)
            orders.append((
                n, f"WO-G-{n:07d}", company, branch, rng.choice(customers),
                rng.choice(MODELS), f"SN{n:08d}", "联系人", "139 0000 0000", "上海市某路 1 号",
                "phone", "on_site", fault, at, "A", "not_covered", urgent, status,
                fields["deadline_at"], 0, fields.get("arrived_at"), fields.get("deadline_met"),
                fields.get("missed_minutes"), engineer, fields.get("dispatched_at"), "none",
                fields.get("started_at"), fields.get("completed_at"), fields.get("closed_at"),
                fields.get("cancelled_at"), 0, at, steps[-1][3]))
            audits.append((at, "supervisor", "repair_work_order", str(n), "insert",
                           json.dumps({"number": [None, f"WO-G-{n:07d}"],
                                       "status": [None, "pending"]}), branch))
            for event, before, after, moment, detail in steps:
                changes.append((n, moment, event, before, after, "supervisor",
                                json.dumps(detail), branch))
                if before is not None and before != after:
                    audits.append((moment, "supervisor", "repair_work_order", str(n),
                                   "update", json.dumps({"status": [before, after]}), branch))
        changes.sort(key=lambda row: row[1])
        audits.sort(key=lambda row: row[0])
        change_rows = []
        for row in changes:
            change_id += 1
            change_rows.append((change_id, *row) if "repair_status_change" in child_branch
                               else (change_id, *row[:-1]))
        audit_rows = []
        for row in audits:
            audit_id += 1
            audit_rows.append((audit_id, *row))
        yield {"repair_work_order": orders, "repair_status_change": change_rows,
               "audit_log": audit_rows}


def fill(app, ids: dict, count: int) -> dict:
    """Write ``count`` orders with their history and audit rows; returns the row counts."""
    from sqlalchemy import inspect

    carried = {table for table in ("repair_status_change",)
               if "branch_id" in {c["name"] for c in inspect(app.engine).get_columns(table)}}
    columns = {"repair_work_order": ORDER_COLUMNS,
               "repair_status_change": CHANGE_COLUMNS + ("branch_id",) * bool(carried),
               "audit_log": AUDIT_COLUMNS}
    with app.engine.begin() as conn:  # the site's own audit rows, before ours
        first_audit = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM audit_log").scalar()
    totals = dict.fromkeys(columns, 0)
    for part in chunks(ids, count, carried):
        part["audit_log"] = [(row[0] + first_audit, *row[1:]) for row in part["audit_log"]]
        with app.engine.begin() as conn:
            for table, rows in part.items():
                bench_sites.put_rows(conn, table, columns[table], rows,
                                     lambda row: tuple(bench_sites.sqlite_value(v)
                                                       for v in row))
                totals[table] += len(rows)
        if totals["repair_work_order"] % 250_000 == 0 or totals["repair_work_order"] == count:
            print(f"  {totals['repair_work_order']:,} orders, "
                  f"{totals['repair_status_change']:,} status changes, "
                  f"{totals['audit_log']:,} audit rows", flush=True)
    bench_sites.move_sequences(app, list(columns))
    reindex(app, ["repair_work_order"])
    bench_sites.analyze(app)
    return totals


def reindex(app, entities: list[str]) -> None:
    """Rebuild the search index of ``entities`` (written above with plain SQL, which the
    kernel's index does not see) as ``fixdesk migrate`` rebuilds a stale one, when the
    kernel has one (:mod:`kernel.search_index`). The history's index is left empty: the
    benchmark never searches it."""
    try:
        from kernel.search_index import SearchIndex, build_indexes
    except ImportError:  # a kernel without a search index: nothing to do
        return
    began, registry = time.perf_counter(), SearchIndex.__table__
    with app.engine.begin() as conn:
        conn.execute(registry.delete().where(registry.c.entity.in_(entities)))
        built = build_indexes(app, conn)
    print(f"  search index rebuilt ({', '.join(f'{e}: {n:,}' for e, n in built)}) in "
          f"{time.perf_counter() - began:.0f} s", flush=True)


def facts(app, ids: dict, count: int) -> dict:
    """What the timing needs to know of the site, kept beside it (``bench.json``): an SH
    order in the middle of the history, an SH engineer, the orders the supervisor sees
    and the report time of the order 90 % down the list (newest first)."""
    from sqlalchemy import func, select

    from plugins.repair.models import WorkOrder

    home = ids["branches"][0]
    with app.context() as ctx:
        visible = ctx.session.scalar(select(func.count()).where(WorkOrder.branch_id == home))
        middle = ctx.session.scalar(select(WorkOrder.id).where(
            WorkOrder.branch_id == home, WorkOrder.id >= count // 2,
            WorkOrder.status == "closed").order_by(WorkOrder.id).limit(1))
        deep = int(visible * 0.9)
        deep_at = ctx.session.scalar(
            select(WorkOrder.reported_at).where(WorkOrder.branch_id == home)
            .order_by(WorkOrder.reported_at.desc()).offset(deep).limit(1))
    return {"size": count, "visible": visible, "deep": deep,
            "deep_at": deep_at.astimezone(dt.UTC).isoformat(), "order": middle,
            "engineer": ids["engineers"][home][0]}


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


class Clients:
    """An API client with the supervisor's bearer token and a desk client logged in as
    the supervisor, on the site's ASGI app in this process."""

    def __init__(self, site):
        from fastapi.testclient import TestClient

        from kernel.auth import create_token, get_user
        from kernel.web.app import create_app, freeze_startup_heap

        self.web = create_app(site)
        freeze_startup_heap()  # as `fixdesk serve` does once it has started
        app = self.web.state.fixdesk
        with app.context() as ctx:
            _row, token = create_token(ctx, get_user(ctx.session, "supervisor"), "growth",
                                       never=True)
        self.api = TestClient(self.web, raise_server_exceptions=True,
                              headers={"Authorization": f"Bearer {token}"})
        self.desk = TestClient(self.web, raise_server_exceptions=True, follow_redirects=False)
        answer = self.desk.post("/login", data={"username": "supervisor",
                                                "password": PASSWORD})
        assert answer.status_code == 303, answer.text

    def close(self) -> None:
        import gc

        gc.unfreeze()
        self.api.close()
        self.desk.close()
        self.web.state.fixdesk.close()


def _get(client, url: str, **params):
    """A timed GET: (how many items or bytes it answered, seconds)."""
    start = time.perf_counter()
    answer = client.get(url, params=params)
    took = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"{url} {params}: {answer.status_code} {answer.text[:300]}")
    if answer.headers.get("content-type", "").startswith("application/json"):
        body = answer.json()
        return (len(body["items"]) if isinstance(body, dict) and "items" in body else 1), took
    return len(answer.content), took


def _deep_page(clients: Clients, info: dict):
    """The call for a page deep in the list, newest first: by ``after`` when the API pages
    by key (its answer has ``next``), else by ``offset``; and how it pages."""
    url = "/api/v1/repair_work_order"
    first = clients.api.get(url, params={"limit": 50, "sort": "-reported_at"}).json()
    if not first.get("next"):
        return (lambda: _get(clients.api, url, limit=50, sort="-reported_at",
                             offset=info["deep"])), f"offset={info['deep']:,}"
    # a cursor at that depth: the next page of the orders reported before it
    landing = clients.api.get(url, params={"limit": 50, "sort": "-reported_at",
                                           "reported_at__lt": info["deep_at"]}).json()
    cursor = landing.get("next")
    return (lambda: _get(clients.api, url, limit=50, sort="-reported_at", after=cursor)), \
        "after=cursor"


DESK_LIST = "/desk/repair_work_order"


def page_cases(clients: Clients, info: dict) -> list[tuple[str, object]]:
    """(label, call) for the lists, search and forms, as the SH supervisor."""
    url = "/api/v1/repair_work_order"
    order = info["order"]
    deep, how = _deep_page(clients, info)
    print(f"  deep page: {how}", flush=True)
    how = "after" if how.startswith("after") else "offset"
    return [
        ("list: default (limit=50)", lambda: _get(clients.api, url, limit=50)),
        ("list: closed, one engineer", lambda: _get(clients.api, url, limit=50,
                                                    status="closed",
                                                    engineer_id=info["engineer"])),
        ("list: sorted by deadline", lambda: _get(clients.api, url, limit=50,
                                                  sort="deadline_at")),
        (f"list: deep page, 90 % down ({how})", deep),
        ("search: q=卡纸", lambda: _get(clients.api, url, limit=50, q="卡纸")),
        ("list: an order's status changes",
         lambda: _get(clients.api, "/api/v1/repair_status_change", order_id=order)),
        ("form: an order on the desk",
         lambda: _get(clients.desk, f"/desk/repair_work_order/{order}")),
        ("form: an order in the API", lambda: _get(clients.api, f"{url}/{order}")),
        # what the supervisor opens on the desk many times a day
        ("desk: home page (dashboard)", lambda: _get(clients.desk, "/")),
        ("desk: home page, its kept chart drawn again",
         lambda: _get(clients.desk, "/", refresh="repair.compliance_weeks")),
        ("desk: work orders, default list", lambda: _get(clients.desk, DESK_LIST)),
        ("desk: work orders, search 卡纸", lambda: _get(clients.desk, DESK_LIST, q="卡纸")),
        ("desk: dispatch board", lambda: _get(clients.desk, f"{DESK_LIST}/board")),
    ]


def report_cases(app) -> list[tuple[str, object]]:
    """(label, function of a context) for each repair report, as the system."""
    from kernel.reports.service import run

    def report(name, **raw):
        return lambda ctx: len(run(ctx, name, raw).rows)

    with app.context() as ctx:
        today = NOW.astimezone(ctx.settings.tz).date()
    yesterday, year_ago = today - dt.timedelta(days=1), today - dt.timedelta(days=365)
    month_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    month = f"{month_start:%Y-%m}"
    return [
        ("report: register, yesterday", report("repair.register", start=str(yesterday),
                                               end=str(yesterday))),
        ("report: compliance, last month", report("repair.compliance", start=str(month_start),
                                                  end=str(month_end))),
        ("report: compliance by engineer, last month",
         report("repair.compliance", start=str(month_start), end=str(month_end),
                by="engineer")),
        ("report: engineer's daily, yesterday", report("repair.engineer_daily",
                                                       start=str(yesterday))),
        ("report: supervisor's daily, yesterday", report("repair.supervisor_daily",
                                                         day=str(yesterday))),
        ("report: supervisor's daily, a year ago", report("repair.supervisor_daily",
                                                          day=str(year_ago))),
        ("report: dispatch queue", report("repair.dispatch_queue")),
        ("report: engineers' scores, last month", report("repair.engineer_scores",
                                                         month=month)),
    ]


def time_site(site, info: dict, runs: int) -> dict[str, tuple[float, float, str]]:
    """Every figure of a site: {label: (p50, p99, kind)}."""
    clients = Clients(site)
    figures = {}
    try:
        app = clients.web.state.fixdesk
        print(f"  {app.engine.dialect.name}: {bench_sites.machine(app)}", flush=True)
        for label, call in page_cases(clients, info):
            _found, p50, p99 = bench_sites.timed(label, call, runs)
            figures[label] = (p50, p99, "page")
        for label, _found, p50, p99 in bench_sites.measure(app, report_cases(app), runs):
            figures[label] = (p50, p99, "report")
    finally:
        clients.close()
    return figures


def build_and_time(label: str, url: str | None, count: int, args) -> dict:
    began = time.perf_counter()
    with bench_sites.scratch_site("fixdesk-growthbench-", url, args.keep,
                                  lambda path: make_site(path, url)) as (site, app, ids):
        print(f"{label}: {count:,} work orders, {len(BRANCHES)} branches", flush=True)
        fill(app, ids, count)
        info = facts(app, ids, count)
        (Path(site.path) / "bench.json").write_text(json.dumps(info), encoding="utf-8")
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        app.close()
        return time_site(site, info, args.runs)


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 \
        else f"{seconds * 1000:.1f} ms"


def table(database: str, sizes: list[int], results: dict[int, dict]) -> None:
    """``figure | small | large | target | holds`` (p50 / p99)."""
    small, large = sizes[0], sizes[-1]
    names = {n: f"{n // 1000:,}k" if n < 1_000_000 else f"{n / 1_000_000:g}M" for n in sizes}
    print(f"\n{database}: p50 / p99")
    kept = []
    print(f"| figure | {' | '.join(names[n] for n in sizes)} | target | holds |")
    print(f"| --- | {' | '.join('---' for _ in sizes)} | --- | --- |")
    for label, (_p50, _p99, kind) in results[large].items():
        cells = []
        for n in sizes:
            p50, p99, _kind = results[n].get(label, (None, None, kind))
            cells.append(f"{_ms(p50)} / {_ms(p99)}")
        big = results[large][label][1]
        if kind == "page":
            base = results[small].get(label, (None, None))[1]
            limit = PAGE_TARGET if small == large or base is None \
                else min(PAGE_TARGET, max(base * GROWTH_TARGET, 0))
            target = f"p99 ≤ 100 ms and ≤ {GROWTH_TARGET}× {names[small]}"
        else:
            limit, target = REPORT_TARGET, "p99 ≤ 1 s"
        holds = "yes" if big <= limit else "no"
        print(f"| {label} | {' | '.join(cells)} | {target} | {holds} |")
        kept.append((f"{database}: {label}", f"p99 {_ms(big)} at {names[large]}", target,
                     big <= limit))
    verdicts.keep("growth", kept)


def retime(path: str, runs: int) -> None:
    from kernel.site import Site

    site = Site.load(path)
    info = json.loads((Path(path) / "bench.json").read_text(encoding="utf-8"))
    figures = time_site(site, info, runs)
    table(f"site {path}", [info["size"]], {info["size"]: figures})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, action="append",
                        help="work orders (repeat for several; default 10,000 and 1,000,000)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL (the default)")
    parser.add_argument("--sqlite", action="store_true", help="on SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the sites")
    parser.add_argument("--site", help="time this (kept) site again, build nothing")
    args = parser.parse_args()
    if args.site:
        retime(args.site, args.runs)
        return
    sizes = sorted(args.size or [10_000, 1_000_000])
    databases = (["PostgreSQL"] if args.pg or not args.sqlite else []) + \
        (["SQLite"] if args.sqlite else [])
    for database in databases:
        results = {}
        for count in sizes:
            url = f"{bench_sites.PG_SERVER}fixdesk_growthbench_{uuid.uuid4().hex[:8]}" \
                if database == "PostgreSQL" else None
            results[count] = build_and_time(f"{database}, {count:,}", url, count, args)
        table(database, sizes, results)


if __name__ == "__main__":
    main()
