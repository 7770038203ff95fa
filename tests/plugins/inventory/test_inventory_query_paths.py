"""The ways the big-ledger queries take (``bench/inventory_bench.py`` times them on a
million lines): ``ledger.check`` naming each kind of difference from bare columns; the
movements summed forward (from the ledger's start) or backward (from now) giving the same
rows; the expiring report's first in, first out over every incoming entry of a stock with
a dated receipt, its reversed voucher lines left out, and its cap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from stock_data import make_stock_data

from kernel import ValidationError


def _post(ctx, n, part, house, qty, days_ago, cost=None, expires_in=None, line=None):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import Movement

    today = ctx.now().astimezone(ctx.settings.tz).date()
    voucher = Voucher("inventory_stock_entry", n, f"Q-{n:03d}", 0)
    kind = Movement.RECEIPT if qty > 0 else Movement.ISSUE
    expires = today + dt.timedelta(days=expires_in) if expires_in is not None else None
    ledger.post(ctx, voucher, [Move(part, house, qty, kind, D(cost) if cost else None,
                                    line_id=line, expires_on=expires)],
                posted_at=ctx.now() - dt.timedelta(days=days_ago) if days_ago else None)
    return voucher


def test_check_names_each_difference(inventory_app):
    from plugins.inventory import ledger

    ids = make_stock_data(inventory_app)
    dr, tn, fu, shp, shr = (ids[k] for k in ("DR-2206", "TN-2206", "FU-2206", "SH-P", "SH-R"))
    with inventory_app.context() as ctx:
        _post(ctx, 1, dr, shp, 5, 30, "380.00")
        _post(ctx, 2, tn, shp, 4, 20, "95.00")
        _post(ctx, 3, fu, shp, 2, 10, "620.00")
        _post(ctx, 4, dr, shr, 1, 5, "380.00")
        ledger.reserve(ctx, tn, shp, 1, job=None, source=None)
        assert ledger.check(ctx.session) == []
    with inventory_app.engine.begin() as conn:  # behind the ledger's back
        conn.execute(text("UPDATE inventory_stock SET value = value + 1 WHERE part_id = :p "
                          "AND warehouse_id = :w"), {"p": dr, "w": shp})
        conn.execute(text("UPDATE inventory_stock SET reserved = 0, qty = 3 "
                          "WHERE part_id = :p"), {"p": tn})
        conn.execute(text("DELETE FROM inventory_stock WHERE part_id = :p"), {"p": fu})
        conn.execute(text("UPDATE inventory_stock SET qty = 2 WHERE warehouse_id = :w"),
                     {"w": shr})
    with inventory_app.context() as ctx:
        differences = ledger.check(ctx.session)
    found = [(d.part, d.warehouse, d.what, d.book, d.ledger) for d in differences]
    drum, toner = "DR-2206 硒鼓 iR 2206", "TN-2206 墨粉 iR 2206"
    fuser = "FU-2206 定影组件 iR 2206"
    assert sorted(found) == sorted([
        (drum, "上海配件库", "value", D("1900.01"), D("1900.00")),
        (drum, "上海应急储备库", "on hand", 2, 1),
        (toner, "上海配件库", "on hand", 3, 4),
        (toner, "上海配件库", "reserved", 0, 1),
        (fuser, "上海配件库", "on hand", 0, 2),
        (fuser, "上海配件库", "value", D("0.00"), D("1240.00"))])
    assert [d.text() for d in differences if d.what == "value" and d.part == drum] == [
        "DR-2206 硒鼓 iR 2206 in 上海配件库: value is 1900.01 on the stock row but 1900.00 "
        "in the ledger"]


def test_movements_forward_and_backward_agree(inventory_app):
    from plugins.inventory import ledger
    from plugins.inventory.models import Part, Warehouse
    from plugins.inventory.reports import _balances, _bounds, branch_ids, reads_forward

    ids = make_stock_data(inventory_app)
    dr, tn, fu, shp, shr = (ids[k] for k in ("DR-2206", "TN-2206", "FU-2206", "SH-P", "SH-R"))
    with inventory_app.context() as ctx:  # 400 days of history, oldest first
        _post(ctx, 1, tn, shp, 10, 400, "90.00")
        _post(ctx, 2, dr, shp, 6, 380, "380.00")
        _post(ctx, 3, tn, shp, -4, 300)
        _post(ctx, 4, fu, shr, 2, 250, "620.00")
        _post(ctx, 5, dr, shp, -1, 200)
        _post(ctx, 6, tn, shp, 5, 120, "100.00")
        ledger.reverse(ctx, _post(ctx, 7, dr, shp, 3, 90, "400.00"))
        _post(ctx, 8, tn, shp, -6, 60)
        _post(ctx, 9, fu, shr, -1, 30)
        _post(ctx, 10, dr, shp, 2, 3, "390.00")
    with inventory_app.context() as ctx:
        today = ctx.now().astimezone(ctx.settings.tz).date()
        everywhere = branch_ids(ctx)
        part, house = ctx.session.get(Part, tn), ctx.session.get(Warehouse, shp)
        checked = 0
        for first, last in ((395, 370), (310, 200), (130, 85), (40, 0), (500, 401)):
            low, high = _bounds(ctx, today - dt.timedelta(days=first),
                                today - dt.timedelta(days=last))
            for narrow in ((None, None, None, None), (None, None, None, "issue"),
                           (house, None, part, None), (None, None, None, "receipt")):
                forward = _balances(ctx, low, high, everywhere, *narrow, forward=True)
                backward = _balances(ctx, low, high, everywhere, *narrow, forward=False)
                assert forward == backward, (first, last, narrow)
                checked += len(forward)
        assert checked > 20
        early = _bounds(ctx, today - dt.timedelta(days=395), today - dt.timedelta(days=370))
        late = _bounds(ctx, today - dt.timedelta(days=40), today)
        assert (reads_forward(ctx, *early), reads_forward(ctx, *late)) == (True, False)
        rows = _balances(ctx, *early, everywhere, None, None, None, None, forward=True)
        assert [(r["part_code"], r["opening_qty"], r["in_qty"], r["closing_value"])
                for r in rows] == [("DR-2206", 0, 6, D("2280.00")),
                                   ("TN-2206", 10, 0, D("900.00"))]


def test_expiring_counts_every_receipt_of_a_dated_stock(inventory_app, monkeypatch):
    from plugins.inventory import ledger, reports
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import Movement

    ids = make_stock_data(inventory_app)
    dr, fu, tn, shp, shr = (ids[k] for k in ("DR-2206", "FU-2206", "TN-2206", "SH-P", "SH-R"))
    with inventory_app.context() as ctx:
        # drums (no shelf life): a dated receipt, then an undated one fills what is left
        _post(ctx, 1, dr, shp, 2, 50, "380.00", expires_in=10)
        _post(ctx, 2, dr, shp, 3, 5, "380.00")
        _post(ctx, 3, dr, shp, -2, 1)
        # fusers (no shelf life): the dated receipt is still partly there
        _post(ctx, 4, fu, shr, 4, 40, "600.00", expires_in=12)
        _post(ctx, 5, fu, shr, 1, 4, "600.00")
        _post(ctx, 6, fu, shr, -2, 2)
        # toner: one voucher of two lines, the first reversed alone
        voucher = Voucher("inventory_stock_entry", 7, "Q-007", 0)
        ledger.post(ctx, voucher, [
            Move(tn, shp, 3, Movement.RECEIPT, D("90.00"), line_id=71,
                 expires_on=ctx.now().date() + dt.timedelta(days=8)),
            Move(tn, shp, 2, Movement.RECEIPT, D("90.00"), line_id=72,
                 expires_on=ctx.now().date() + dt.timedelta(days=9))],
            posted_at=ctx.now() - dt.timedelta(days=3))
        ledger.reverse(ctx, voucher, lines={71})
    with inventory_app.context() as ctx:
        rows = reports.expiring(ctx)
        assert [(r["part_code"], r["voucher_number"], r["remaining"], r["value"])
                for r in rows] == [("TN-2206", "Q-007", 2, D("180.00")),
                                   ("FU-2206", "Q-004", 2, D("1200.00"))]
        monkeypatch.setattr(reports, "MAX_EXPIRING", 1)
        with pytest.raises(ValidationError) as refused:
            reports.expiring(ctx)
        assert refused.value.field == "days" and "more than 1 receipts" in str(refused.value)
        assert len(reports.expiring(ctx, days=10)) == 1
