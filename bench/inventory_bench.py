"""Inventory reports over a stock ledger of a million lines, on PostgreSQL (and SQLite).

For each database it creates a site with the inventory plugin alone: two branches, 2,000
parts in eight categories, 20 warehouses and 1,000,000 ledger lines over the last two
years (receipts, issues, some scrapping and count adjustments; a share of the parts stops
moving months ago), valued at the moving weighted average exactly as
:func:`plugins.inventory.ledger.post` does. The lines go in with ``COPY`` (PostgreSQL) or
``executemany`` (SQLite) in a few transactions, the stock rows as their sums, so that
``ledger.check`` agrees (the script asserts it). Then it times, after one warm-up run,
each report through the kernel's report runner (:func:`kernel.reports.service.run`, as
the system), ``ledger.check`` and the dashboard's two counting cards, and prints the
warm-up's time and p50 / p99 of ``--runs`` runs (the machine's load average with it:
run it more than once on a shared machine). Usage::

    .venv/bin/python bench/inventory_bench.py [--lines 1000000] [--runs 10] [--sqlite]
    .venv/bin/python bench/inventory_bench.py --keep          # keep the site it built
    .venv/bin/python bench/inventory_bench.py --site DIR      # time a kept site again
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from pathlib import Path

import bench_sites  # this folder; it puts the repository on sys.path

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HISTORY_DAYS = 730
#: share of the parts that stopped moving 120 to 400 days ago (the slow movers)
SLOW_SHARE = 0.15
COLUMNS = ("branch_id", "posted_at", "created_at", "kind", "part_id", "warehouse_id",
           "qty_change", "value_change", "unit_cost", "voucher_entity", "voucher_id",
           "voucher_number", "reversal", "expires_on")
STOCK_INSERT = ("INSERT INTO inventory_stock (part_id, warehouse_id, branch_id, qty, reserved, "
                "value, last_receipt_at, last_issue_at, location) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)")
CATEGORIES = [("DRUM", "感光鼓/硒鼓"), ("TONER", "墨粉"), ("FUSER", "定影组件"),
              ("FEED", "搓纸进纸"), ("BOARD", "电路板"), ("SENSOR", "传感器"),
              ("MOTOR", "电机"), ("SUPPLY", "维修耗材")]


# ---------------------------------------------------------------------------
# the site and its master data
# ---------------------------------------------------------------------------


def make_site(folder: Path, url: str | None, parts: int, warehouses: int):
    """A new site with inventory alone, branches SH and JD, categories, suppliers, parts
    and warehouses (half per branch); returns the started app and the ids."""
    from sqlalchemy import select

    from kernel.masterdata import add_branch, the_company
    from kernel.models import Branch
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig
    from plugins.inventory.models import (
        Part,
        PartCategory,
        Supplier,
        SupplierStatus,
        Warehouse,
        WarehouseKind,
    )

    site = create_site(folder, SiteConfig(database_url=url or DEFAULT_DB,
                                          plugins=["inventory"]),
                       company="压测服务公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    rng = random.Random(7)
    with app.context() as ctx:
        company = the_company(ctx).id
        branches = list(ctx.session.scalars(select(Branch.id)))
        branches.append(add_branch(ctx, "JD", "嘉定服务中心").id)
        categories = [PartCategory(company_id=company, code=code, name=name)
                      for code, name in CATEGORIES]
        suppliers = [Supplier(company_id=company, code=f"SUP{n:02d}", name=f"供应商 {n}",
                              status=SupplierStatus.APPROVED) for n in range(1, 11)]
        ctx.session.add_all(categories + suppliers)
        ctx.session.flush()
        kinds = [WarehouseKind.PARTS] * 7 + [WarehouseKind.EMERGENCY_RESERVE,
                                             WarehouseKind.RETURNS, WarehouseKind.SAMPLES]
        houses = [Warehouse(company_id=company, branch_id=branches[n % 2],
                            code=f"W{n + 1:02d}", name=f"仓库 {n + 1:02d}",
                            kind=kinds[(n // 2) % len(kinds)]) for n in range(warehouses)]
        items = []
        for n in range(parts):
            category = categories[n % len(categories)]
            items.append(Part(
                company_id=company, code=f"P{n + 1:05d}", name=f"配件 {n + 1}",
                model=f"M-{rng.randint(100, 999)}", unit="个", category_id=category.id,
                standard_cost=Decimal(rng.randint(500, 80000)) / 100,
                default_supplier_id=suppliers[n % len(suppliers)].id,
                shelf_life_days=365 if category.code in ("TONER", "SUPPLY") else None,
                reorder_level=rng.choice((0, 2, 4, 6)), reorder_qty=rng.choice((5, 10, 20))))
        ctx.session.add_all(houses + items)
        ctx.session.flush()
        ids = {"parts": [(p.id, int(p.standard_cost * 100), p.shelf_life_days) for p in items],
               "houses": [(w.id, w.branch_id) for w in houses]}
    return site, app, ids


# ---------------------------------------------------------------------------
# the ledger: generated in memory, then inserted in bulk
# ---------------------------------------------------------------------------


def _share(value: int, qty: int, taken: int) -> int:
    """``value × taken ÷ qty`` rounded half up, in fen (as the ledger does)."""
    return (2 * value * taken + qty) // (2 * qty)


def generate(ids: dict, lines: int, per_part: int, seed: int = 1):
    """The ledger lines, oldest first, and the stock rows as their sums.

    Each part is stocked in ``per_part`` warehouses; busy parts get more lines (a Zipf-like
    weight); a slow part's lines all lie before the day it stopped moving. Returns
    ``(rows, stocks)``: rows as tuples of :data:`COLUMNS`, stocks as dicts."""
    rng = random.Random(seed)
    houses, parts = ids["houses"], ids["parts"]
    pairs, weights = [], []
    for rank, (part_id, cost, shelf) in enumerate(parts, 1):
        slow = rng.random() < SLOW_SHARE
        stop = NOW - dt.timedelta(days=rng.randint(120, 400)) if slow else NOW
        for house_id, branch_id in rng.sample(houses, per_part):
            pairs.append((part_id, house_id, branch_id, cost, shelf, stop))
            weights.append(rng.uniform(0.5, 1.5) / rank ** 0.7)
    scale = lines / sum(weights)
    counts = [max(2, int(w * scale)) for w in weights]
    counts[counts.index(max(counts))] += lines - sum(counts)
    start = NOW - dt.timedelta(days=HISTORY_DAYS)
    events = []  # (seconds since start, pair, kind, qty, value, unit cost)
    stocks = []
    for index, ((part_id, house_id, branch_id, cost, _shelf, stop), count) in enumerate(
            zip(pairs, counts, strict=True)):
        span = (stop - start).total_seconds()
        times = sorted(rng.random() * span for _ in range(count))
        qty = value = 0
        last_in = last_out = None
        for n, at in enumerate(times):
            roll = rng.random()
            if n == 0 or qty == 0 or roll < 0.3:
                kind, units = "receipt", rng.randint(5, 40)
                price = int(cost * rng.uniform(0.9, 1.1))
                change = price * units
                last_in = at
            elif roll < 0.31:
                kind, units = "adjustment", rng.choice((-1, 1))
                change = (value * units + qty // 2) // qty if units > 0 else 0
                if units > 0:
                    last_in = at
            else:
                kind, units = ("scrap" if roll < 0.32 else "issue"), -rng.randint(1, min(qty, 4))
                change = 0
            if units < 0:
                change = -value if -units >= qty else -_share(value, qty, -units)
                last_out = at
            qty += units
            value += change
            events.append((at, index, kind, units, change, (abs(change) * 2 + abs(units))
                           // (2 * abs(units))))
        stocks.append({"part_id": part_id, "warehouse_id": house_id, "branch_id": branch_id,
                       "qty": qty, "value": value,
                       "last_receipt_at": start + dt.timedelta(seconds=last_in)
                       if last_in is not None else None,
                       "last_issue_at": start + dt.timedelta(seconds=last_out)
                       if last_out is not None else None})
    events.sort()

    def rows():
        for number, (at, index, kind, units, change, unit_cost) in enumerate(events, 1):
            part_id, house_id, branch_id, _cost, shelf, _stop = pairs[index]
            posted = start + dt.timedelta(seconds=at)
            expires = (posted.date() + dt.timedelta(days=shelf)) \
                if shelf and units > 0 else None
            yield (branch_id, posted, posted, kind, part_id, house_id, units, change,
                   unit_cost, "inventory_stock_entry", number, f"SE-B-{number:07d}", False,
                   expires)

    return rows, len(events), stocks


def insert(app, rows, total: int, stocks: list[dict], chunk: int = 250_000) -> None:
    """The ledger lines in transactions of ``chunk`` lines (``COPY`` on PostgreSQL), then
    the stock rows, then (PostgreSQL) fresh planner statistics."""
    postgres = app.engine.dialect.name == "postgresql"
    produced = rows()
    done = 0
    while done < total:
        with app.engine.begin() as conn:
            part = [row for _n, row in zip(range(chunk), produced, strict=False)]
            bench_sites.put_rows(conn, "inventory_ledger_entry", COLUMNS, part, _sqlite)
        done += len(part)
        print(f"  {done:,} ledger lines", flush=True)
    with app.engine.begin() as conn:
        conn.exec_driver_sql(
            STOCK_INSERT if postgres else STOCK_INSERT.replace("%s", "?"),
            [(s["part_id"], s["warehouse_id"], s["branch_id"], s["qty"], 0, s["value"],
              *(_at(s[k], postgres) for k in ("last_receipt_at", "last_issue_at")), None)
             for s in stocks])
    bench_sites.analyze(app)


def _at(value, postgres: bool):
    if value is None or postgres:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite(row: tuple) -> tuple:
    """A row as SQLite stores it: UTC text without a zone, dates as text."""
    row = list(row)
    row[1] = row[2] = _at(row[1], False)
    row[13] = row[13].isoformat() if row[13] else None
    return tuple(row)


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


def _month_before(day: dt.date, months: int) -> tuple[str, str]:
    """The calendar month ``months`` before the one of ``day``: first and last day."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    first = dt.date(year, month + 1, 1)
    nxt = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return first.isoformat(), (nxt - dt.timedelta(days=1)).isoformat()


def cases(app) -> list[tuple[str, object]]:
    """(label, function of a context returning a row count) for each measured call."""
    from kernel.reports.service import run
    from plugins.inventory import dashboard, ledger

    with app.context() as ctx:
        today = ctx.now().astimezone(ctx.settings.tz).date()
    last, old, older = (dict(zip(("start", "end"), _month_before(today, n), strict=True))
                        for n in (1, 12, 20))

    def report(name, **raw):
        return lambda ctx: len(run(ctx, name, raw).rows)

    return [
        ("inventory.stock_on_hand", report("inventory.stock_on_hand")),
        ("inventory.stock_value", report("inventory.stock_value")),
        (f"inventory.movements {last['start'][:7]} (last month)",
         report("inventory.movements", **last)),
        (f"inventory.movements {old['start'][:7]} (a year ago)",
         report("inventory.movements", **old)),
        (f"inventory.movements {older['start'][:7]} (20 months ago)",
         report("inventory.movements", **older)),
        (f"inventory.movements {last['start'][:7]} by=line",
         report("inventory.movements", by="line", **last)),
        ("inventory.slow_movers", report("inventory.slow_movers")),
        ("inventory.expiring", report("inventory.expiring")),
        ("inventory.reorder_suggestions", report("inventory.reorder_suggestions")),
        ("ledger.check", lambda ctx: len(ledger.check(ctx.session)) or "agrees"),
        ("dashboard: below reorder level (count)", dashboard.below_reorder_level),
        ("dashboard: expiring within 30 days (count)", dashboard.expiring_soon),
    ]


def measure(app, runs: int) -> list[tuple[str, object, float, float]]:
    """The cases timed by :func:`bench_sites.measure` (row counts)."""
    return bench_sites.measure(app, cases(app), runs, unit=" rows", bench="inventory")


def bench(label: str, url: str | None, args) -> None:
    from plugins.inventory import ledger

    began = time.perf_counter()
    with bench_sites.scratch_site(
            "fixdesk-invbench-", url, args.keep,
            lambda path: make_site(path, url, args.parts, args.warehouses)) as (_site, app, ids):
        rows, total, stocks = generate(ids, args.lines, args.per_part)
        print(f"{label}: {bench_sites.machine(app)}\n  {args.parts:,} parts, "
              f"{args.warehouses} warehouses, {len(stocks):,} stock rows, "
              f"{total:,} ledger lines", flush=True)
        insert(app, rows, total, stocks)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        with app.sessions.begin() as session:
            assert ledger.check(session) == [], "the stock rows disagree with the ledger"
        measure(app, args.runs)


def sizes(parser) -> None:
    """The options of the site's size besides ``--lines``."""
    parser.add_argument("--parts", type=int, default=2000)
    parser.add_argument("--warehouses", type=int, default=20)
    parser.add_argument("--per-part", type=int, default=8,
                        help="warehouses each part is stocked in")


def main() -> None:
    bench_sites.main(__doc__, sizes, bench, measure, "fixdesk_invbench")


if __name__ == "__main__":
    main()
