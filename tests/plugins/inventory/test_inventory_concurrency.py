"""Concurrency of the stock ledger on real databases (issue #12, "Concurrency and scale").

Threads with their own connections race for the last units of a part and reserved units
stay with their job: each thread submits a stock entry (an issue of one unit) through the
kernel's lifecycle, whose ``fixdesk_document_submitted`` hook posts it with
:func:`plugins.inventory.ledger.post` — the real document path. The drafts are made (and
numbered) beforehand, so the racing transactions meet only on the stock row.

Processes that each start the site decrement one part to exactly what is expected: each
posts one unit per transaction with :func:`~plugins.inventory.ledger.post` and a stock
entry voucher directly, as every document's submission does (512 submissions through the
whole document path would take some 20 s on PostgreSQL on a two-core machine, the stock
row being held from its lock to the commit; the posting alone keeps the test short).
"""

from __future__ import annotations

import multiprocessing
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import event, select
from stock_data import make_stock_data

#: seconds a thread or process may wait for the others before the test gives up
PATIENCE = 120


@pytest.fixture
def shop(inventory_app):
    """A site with inventory alone (no demo stock) and its master data."""
    return inventory_app.site, inventory_app, make_stock_data(inventory_app)


def _voucher(n: int, branch_id: int):
    from plugins.inventory.ledger import Voucher

    return Voucher("inventory_stock_entry", n, f"SE-C-{n}", branch_id)


def _entry(ids, purpose, part, qty, cost=None):
    from plugins.inventory.models import StockEntry, StockEntryLine

    receiving = purpose == "receipt"
    return StockEntry(branch_id=ids["branch"], purpose=purpose,
                      to_warehouse_id=ids["SH-P"] if receiving else None,
                      from_warehouse_id=None if receiving else ids["SH-P"],
                      lines=[StockEntryLine(part_id=part, qty=qty,
                                            unit_cost=D(cost) if cost else None)])


def _drafts(app, ids, part, count: int) -> list[int]:
    """``count`` numbered draft stock entries, each issuing one unit of ``part`` from SH-P."""
    from kernel.lifecycle import number_new_draft

    with app.context() as ctx:
        entries = [_entry(ids, "issue", part, 1) for _ in range(count)]
        for entry in entries:
            number_new_draft(ctx, entry)
        ctx.session.add_all(entries)
        ctx.session.flush()
        return [entry.id for entry in entries]


def _receive(app, ids, part, qty, cost="100.00"):
    """A receipt of ``qty`` units into SH-P, made and submitted."""
    from kernel.lifecycle import number_new_draft, submit

    with app.context() as ctx:
        entry = _entry(ids, "receipt", part, qty, cost)
        number_new_draft(ctx, entry)
        ctx.session.add(entry)
        ctx.session.flush()
        submit(ctx, entry)


def _submit(app, entry_id: int) -> None:
    """Submit a draft stock entry in a transaction of its own (posting its issue)."""
    from kernel.lifecycle import submit
    from plugins.inventory.models import StockEntry

    with app.context() as ctx:
        submit(ctx, ctx.session.get(StockEntry, entry_id))


def _race(app, entries: list[int]) -> tuple[int, list]:
    """A thread per draft entry, released together, each submitting its entry in its own
    transaction; returns how many succeeded and the exceptions of the others."""
    threads = len(entries)
    barrier = threading.Barrier(threads)
    done, failed, lock = [], [], threading.Lock()

    def run(n):
        barrier.wait(timeout=PATIENCE)
        try:
            _submit(app, entries[n])
        except Exception as exc:  # every outcome is counted below
            with lock:
                failed.append(exc)
        else:
            with lock:
                done.append(n)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=PATIENCE)
    assert not any(worker.is_alive() for worker in workers)
    return len(done), failed


def _balances_never_negative(session, part, house) -> bool:
    """Whether the running balance of the part's ledger, in posting order, stays ≥ 0."""
    from plugins.inventory.models import LedgerEntry

    balance = 0
    for qty in session.scalars(select(LedgerEntry.qty_change).where(
            LedgerEntry.part_id == part, LedgerEntry.warehouse_id == house)
            .order_by(LedgerEntry.posted_at, LedgerEntry.id)):
        balance += qty
        if balance < 0:
            return False
    return True


def test_fifty_clerks_issue_the_last_ten_units(shop):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Shortage
    from plugins.inventory.models import StockEntry

    site, app, ids = shop
    part, house = ids["DR-2206"], ids["SH-P"]
    _receive(app, ids, part, 10)
    entries = _drafts(app, ids, part, 50)
    racing = site.start(pool_size=50, max_overflow=0)  # a connection for every thread
    try:
        succeeded, failed = _race(racing, entries)
    finally:
        racing.close()
    assert succeeded == 10
    assert len(failed) == 40 and all(isinstance(exc, Shortage) for exc in failed), failed
    for exc in failed:
        (shortfall,) = exc.shortfalls
        assert (shortfall.available, shortfall.needed, shortfall.short) == (0, 1, 1)
        assert "DR-2206" in exc.message and "short by 1" in exc.message
    with app.sessions.begin() as session:
        stock = session.scalars(select(ledger.Stock).where(
            ledger.Stock.part_id == part, ledger.Stock.warehouse_id == house)).one()
        assert (stock.qty, stock.value) == (0, D("0.00"))
        assert _balances_never_negative(session, part, house)
        assert ledger.check(session) == []
        # the refused entries are still drafts with nothing posted
        states = session.scalars(select(StockEntry.docstatus).where(StockEntry.id.in_(entries)))
        assert sorted(str(state) for state in states) == ["draft"] * 40 + ["submitted"] * 10


def test_reserved_units_are_never_issued_to_another_job(shop):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Shortage
    from plugins.inventory.models import ReservationStatus

    site, app, ids = shop
    part, house = ids["TN-2206"], ids["SH-P"]
    _receive(app, ids, part, 5, "95.00")
    with app.context() as ctx:
        held = ledger.reserve(ctx, part, house, 3, job=None, source=None)
        held_id = held.id
    entries = _drafts(app, ids, part, 20)
    racing = site.start(pool_size=20, max_overflow=0)
    try:
        succeeded, failed = _race(racing, entries)
    finally:
        racing.close()
    assert succeeded == 2
    assert len(failed) == 18 and all(isinstance(exc, Shortage) for exc in failed), failed
    with app.context() as ctx:
        stock = ledger.stock_of(ctx, part, house)
        assert (stock.qty, stock.reserved) == (3, 3)
        # job A still gets all three of its units
        held = ctx.session.get(ledger.Reservation, held_id)
        ledger.issue_reserved(ctx, _voucher(900, ids["branch"]), held)
        assert (stock.qty, stock.reserved, held.status) == (0, 0, ReservationStatus.ISSUED)
        assert ledger.check(ctx.session) == []


def _decrement(path: str, ids: dict, part: int, worker: int, count: int, results) -> None:
    """One process: start the site, issue ``count`` units one per transaction, report the
    errors (none expected)."""
    from kernel.site import Site
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move
    from plugins.inventory.models import Movement

    app = Site.load(path).start()
    if app.engine.dialect.name == "sqlite":
        # eight processes queue on SQLite's single write lock: let each wait long enough
        event.listen(app.engine, "connect",
                     lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=60000"))
    errors = []
    try:
        for n in range(count):
            try:
                with app.context() as ctx:
                    ledger.post(ctx, _voucher(10_000 * (worker + 1) + n, ids["branch"]),
                                [Move(part, ids["SH-P"], -1, Movement.ISSUE)])
            except Exception as exc:  # reported to the test, which expects none
                errors.append(repr(exc))
    finally:
        app.close()
    results.put((worker, errors))


def test_eight_processes_decrement_one_part_exactly(shop):
    from plugins.inventory import ledger
    from plugins.inventory.models import LedgerEntry

    site, app, ids = shop
    part, house = ids["FU-2206"], ids["SH-P"]
    _receive(app, ids, part, 600, "620.00")
    processes, issues = 8, 64
    app.engine.dispose()  # no connection of this process is inherited by the children
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    workers = [fork.Process(target=_decrement,
                            args=(str(site.path), ids, part, n, issues, results))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    reported = dict(results.get(timeout=PATIENCE) for _ in workers)
    for worker in workers:
        worker.join(timeout=PATIENCE)
    assert [worker.exitcode for worker in workers] == [0] * processes
    assert reported == {n: [] for n in range(processes)}
    with app.sessions.begin() as session:
        stock = session.scalars(select(ledger.Stock).where(
            ledger.Stock.part_id == part, ledger.Stock.warehouse_id == house)).one()
        assert stock.qty == 600 - processes * issues == 88
        assert stock.value == D("620.00") * 88
        assert session.scalar(select(ledger.func.count()).select_from(LedgerEntry).where(
            LedgerEntry.part_id == part)) == 1 + processes * issues
        assert ledger.check(session) == []
