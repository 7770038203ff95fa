"""Stock entries submitted and cancelled through the kernel's lifecycle: moving weighted
average over receipts at different prices, transfers keeping the value, returns,
adjustments, scrapping, reversal; refusals (each naming its field) that write nothing;
backdating. Numbers checked by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from stock_data import make_stock_data

from kernel import Conflict, DocStatus, ValidationError
from kernel.lifecycle import cancel, number_new_draft, submit


@pytest.fixture
def shop(make_site, app_of):
    """A site with inventory alone (no demo stock) and the test master data."""
    app = app_of(make_site(["inventory"], branch_code="SH", branch_name="上海服务中心"))
    return app, make_stock_data(app)


def draft(app, ids, purpose, lines, *, source=None, target=None, reason=None,
          posted_at=None) -> int:
    """A draft stock entry of SH with ``lines`` ``[(part code, qty, cost or None)]``."""
    from plugins.inventory.models import StockEntry, StockEntryLine

    with app.context() as ctx:
        entry = StockEntry(branch_id=ids["branch"], purpose=purpose,
                           from_warehouse_id=ids.get(source), to_warehouse_id=ids.get(target),
                           reason=reason, posted_at=posted_at,
                           lines=[StockEntryLine(part_id=ids[code], qty=qty,
                                                 unit_cost=D(cost) if cost else None)
                                  for code, qty, cost in lines])
        number_new_draft(ctx, entry)
        ctx.session.add(entry)
        ctx.session.flush()
        return entry.id


def act(app, entry_id, what="submit"):
    from plugins.inventory.models import StockEntry

    with app.context() as ctx:
        entry = ctx.session.get(StockEntry, entry_id)
        if what == "submit":
            submit(ctx, entry)
        else:
            cancel(ctx, entry, "录错了")


def stock(app, ids):
    """``{(part code, warehouse code): (qty, value)}`` of every stock row."""
    from plugins.inventory.models import Stock

    parts = {ids[code]: code for code in ("DR-2206", "TN-2206", "FU-2206")}
    houses = {ids[code]: code for code in ("SH-P", "SH-R")}
    with app.context() as ctx:
        return {(parts[s.part_id], houses[s.warehouse_id]): (s.qty, s.value)
                for s in ctx.session.scalars(select(Stock))}


def test_average_transfer_return_adjust_scrap_and_cancel(shop):
    from plugins.inventory import ledger
    from plugins.inventory.models import LedgerEntry, StockEntry

    app, ids = shop
    dr = ("DR-2206", "SH-P")
    # (purpose, from, to, reason, lines, expected stock rows after it)
    steps = [
        ("receipt", None, "SH-P", None, [("DR-2206", 3, "100.00")],
         {dr: (3, D("300.00"))}),
        ("receipt", None, "SH-P", None, [("DR-2206", 2, "110.00")],  # average 520 / 5 = 104
         {dr: (5, D("520.00"))}),
        ("issue", "SH-P", None, None, [("DR-2206", 3, None)],  # 3 × 104 = 312 out
         {dr: (2, D("208.00"))}),
        ("transfer", "SH-P", "SH-R", None, [("DR-2206", 1, None)],  # 104 moves, 208 in all
         {dr: (1, D("104.00")), ("DR-2206", "SH-R"): (1, D("104.00"))}),
        ("return", None, "SH-P", None, [("DR-2206", 1, None)],  # back at the average 104
         {dr: (2, D("208.00"))}),
        ("adjustment", None, "SH-P", "盘盈", [("DR-2206", 1, "98.00")],  # found at 98
         {dr: (3, D("306.00"))}),
        ("scrap", "SH-P", None, "受潮", [("DR-2206", 1, None)],  # 306 / 3 = 102 out
         {dr: (2, D("204.00"))}),
        ("adjustment", "SH-P", None, "盘亏", [("DR-2206", -1, None)],  # 204 / 2 = 102 out
         {dr: (1, D("102.00"))}),
        # no cost given: the purchase price (95), expiring after the shelf life (365 days)
        ("receipt", None, "SH-P", None, [("TN-2206", 4, None)],
         {("TN-2206", "SH-P"): (4, D("380.00"))}),
    ]
    made = []
    for purpose, source, target, reason, lines, expected in steps:
        made.append(draft(app, ids, purpose, lines, source=source, target=target,
                          reason=reason))
        act(app, made[-1])
        rows = stock(app, ids)
        assert {k: rows[k] for k in expected} == expected, (purpose, rows)

    with app.context() as ctx:
        transfer = ledger.entries_of(ctx, "inventory_stock_entry", made[3])
        assert [(e.qty_change, e.value_change, e.unit_cost) for e in transfer] == [
            (-1, D("-104.00"), D("104.00")), (1, D("104.00"), D("104.00"))]
        toner = ledger.entries_of(ctx, "inventory_stock_entry", made[-1])[0]
        posted = toner.posted_at.astimezone(ctx.settings.tz).date()
        assert toner.expires_on == posted + dt.timedelta(days=365)
        assert ctx.session.get(StockEntry, made[0]).number.startswith("SE-SH-")

    # cancelling reverses at the original values, newest first
    act(app, made[6], "cancel")  # the scrapped drum comes back: 1 + 1, 102 + 102
    assert stock(app, ids)[dr] == (2, D("204.00"))
    act(app, made[3], "cancel")  # the transfer: SH-R gives its drum back at 104
    rows = stock(app, ids)
    assert (rows[dr], rows[("DR-2206", "SH-R")]) == ((3, D("308.00")), (0, D("0.00")))
    with app.context() as ctx:
        reversals = ctx.session.scalar(select(func.count()).select_from(LedgerEntry)
                                       .where(LedgerEntry.reversal.is_(True)))
        assert reversals == 3  # one scrap line, both transfer lines
        assert ctx.session.get(StockEntry, made[3]).docstatus == DocStatus.CANCELLED
        assert ledger.check(ctx.session) == []


def test_refusals_name_the_field_and_write_nothing(shop):
    from plugins.inventory.models import LedgerEntry, StockEntry

    app, ids = shop
    act(app, draft(app, ids, "receipt", [("FU-2206", 2, "600.00")], target="SH-P"))
    with app.context() as ctx:
        now = ctx.now()
    cases = [  # (purpose, from, to, reason, lines, posted at, error, field)
        ("receipt", None, None, None, [("FU-2206", 1, None)], None,
         ValidationError, "to_warehouse_id"),
        ("receipt", "SH-R", "SH-P", None, [("FU-2206", 1, None)], None,
         ValidationError, "from_warehouse_id"),
        ("issue", None, None, None, [("FU-2206", 1, None)], None,
         ValidationError, "from_warehouse_id"),
        ("transfer", "SH-P", "SH-P", None, [("FU-2206", 1, None)], None,
         ValidationError, "to_warehouse_id"),
        ("scrap", "SH-P", None, " ", [("FU-2206", 1, None)], None, ValidationError, "reason"),
        ("adjustment", "SH-P", None, None, [("FU-2206", -1, None)], None,
         ValidationError, "reason"),
        ("adjustment", "SH-P", None, "盘亏", [("FU-2206", 0, None)], None,
         ValidationError, "lines"),
        ("adjustment", "SH-P", "SH-R", "盘亏", [("FU-2206", 1, None)], None,
         ValidationError, "to_warehouse_id"),
        ("issue", "SH-P", None, None, [], None, ValidationError, "lines"),
        ("receipt", None, "SH-P", None, [("FU-2206", -1, None)], None,
         ValidationError, "lines"),
        ("receipt", None, "SH-P", None, [("FU-2206", 1, None)], now + dt.timedelta(hours=1),
         ValidationError, "posted_at"),
        # two issued now, the transfer's second line finds none left: nothing of it stays
        ("transfer", "SH-P", "SH-R", None, [("FU-2206", 2, None), ("FU-2206", 1, None)], None,
         Conflict, "lines"),
    ]
    for purpose, source, target, reason, lines, at, error, field in cases:
        entry_id = draft(app, ids, purpose, lines, source=source, target=target,
                         reason=reason, posted_at=at)
        with pytest.raises(error) as refused:
            act(app, entry_id)
        assert refused.value.field == field, (purpose, field, refused.value.message)
        with app.context() as ctx:
            assert ctx.session.get(StockEntry, entry_id).docstatus == DocStatus.DRAFT
            assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert "FU-2206" in str(refused.value) and "short by 1" in str(refused.value)
    assert stock(app, ids) == {("FU-2206", "SH-P"): (2, D("1200.00"))}


def test_backdating_refused_only_when_later_history_would_go_negative(shop):
    from plugins.inventory.models import StockEntry

    app, ids = shop
    with app.context() as ctx:
        now = ctx.now()
    days = [now - dt.timedelta(days=d) for d in range(11)]
    # 10 days ago 2 arrive; 2 days ago both go out; 5 days ago there were 2 on hand, but
    # taking 1 then leaves −1 after the issue two days ago
    act(app, draft(app, ids, "receipt", [("FU-2206", 2, "600.00")], target="SH-P",
                   posted_at=days[10]))
    act(app, draft(app, ids, "issue", [("FU-2206", 2, None)], source="SH-P", posted_at=days[2]))
    act(app, draft(app, ids, "receipt", [("FU-2206", 1, "600.00")], target="SH-P"))
    late_issue = draft(app, ids, "issue", [("FU-2206", 1, None)], source="SH-P",
                       posted_at=days[5])
    with pytest.raises(Conflict) as refused:
        act(app, late_issue)
    assert refused.value.field == "posted_at" and "FU-2206" in refused.value.message
    # a receipt dated back is fine, and then the same backdated issue is too
    act(app, draft(app, ids, "receipt", [("FU-2206", 1, "600.00")], target="SH-P",
                   posted_at=days[7]))
    act(app, late_issue)
    with app.context() as ctx:
        assert ctx.session.get(StockEntry, late_issue).docstatus == DocStatus.SUBMITTED
    assert stock(app, ids) == {("FU-2206", "SH-P"): (1, D("600.00"))}
