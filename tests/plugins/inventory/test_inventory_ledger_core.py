"""The ledger's core: moving weighted average, availability, reversal, backdating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from stock_data import make_stock_data

from kernel import Conflict


def _voucher(n):
    from plugins.inventory.ledger import Voucher

    return Voucher("inventory_stock_entry", n, f"T-{n}", 1)


def test_moving_average_and_check(inventory_app):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Shortage
    from plugins.inventory.models import Movement

    ids = make_stock_data(inventory_app)
    part, house = ids["DR-2206"], ids["SH-P"]
    with inventory_app.context() as ctx:
        ledger.post(ctx, _voucher(1), [Move(part, house, 3, Movement.RECEIPT, D("100.00"))])
        ledger.post(ctx, _voucher(2), [Move(part, house, 2, Movement.RECEIPT, D("110.00"))])
        stock = ledger.stock_of(ctx, part, house)
        assert (stock.qty, stock.value, ledger.average_cost(stock)) == (5, D("520.00"),
                                                                         D("104.00"))
        out = ledger.post(ctx, _voucher(3), [Move(part, house, -3, Movement.ISSUE)])
        assert (out[0].value_change, out[0].unit_cost) == (D("-312.00"), D("104.00"))
        with pytest.raises(Shortage) as refused:
            ledger.post(ctx, _voucher(4), [Move(part, house, -3, Movement.ISSUE)])
        assert "2 available, 3 needed, short by 1" in str(refused.value)
        ledger.reverse(ctx, _voucher(3))
        assert (stock.qty, stock.value) == (5, D("520.00"))
        assert ledger.check(ctx.session) == []
        ledger.post(ctx, _voucher(5), [Move(part, house, -5, Movement.ISSUE)])
        assert (stock.qty, stock.value) == (0, D("0.00"))


def test_reservation_holds_stock_for_its_job(inventory_app):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Shortage
    from plugins.inventory.models import Movement, ReservationStatus

    ids = make_stock_data(inventory_app)
    part, house = ids["TN-2206"], ids["SH-P"]
    with inventory_app.context() as ctx:
        ledger.post(ctx, _voucher(1), [Move(part, house, 4, Movement.RECEIPT, D("95.00"))])
        held = ledger.reserve(ctx, part, house, 3, job=None, source=None)
        other = ledger.reserve(ctx, part, house, 2, job=None, source=None)
        assert (held.reserved, other.reserved, other.short, other.status) == (
            3, 1, 1, ReservationStatus.SHORT)
        with pytest.raises(Shortage):
            ledger.post(ctx, _voucher(2), [Move(part, house, -1, Movement.ISSUE)])
        ledger.issue_reserved(ctx, _voucher(3), held)
        assert held.status == ReservationStatus.ISSUED
        ledger.post(ctx, _voucher(4), [Move(part, house, 5, Movement.RECEIPT, D("95.00"))])
        assert ledger.fill_short(ctx, part, house) == [other]
        assert ledger.check(ctx.session) == []


def test_backdated_issue_refused_when_later_history_would_go_negative(inventory_app):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move
    from plugins.inventory.models import Movement

    ids = make_stock_data(inventory_app)
    part, house = ids["FU-2206"], ids["SH-P"]
    with inventory_app.context() as ctx:
        now = ctx.now()
        ledger.post(ctx, _voucher(1), [Move(part, house, 2, Movement.RECEIPT, D("600.00"))],
                    posted_at=now - dt.timedelta(days=10))
        ledger.post(ctx, _voucher(2), [Move(part, house, -2, Movement.ISSUE)],
                    posted_at=now - dt.timedelta(days=2))
        ledger.post(ctx, _voucher(3), [Move(part, house, 1, Movement.RECEIPT, D("600.00"))])
        with pytest.raises(Conflict) as refused:
            ledger.post(ctx, _voucher(4), [Move(part, house, -1, Movement.ISSUE)],
                        posted_at=now - dt.timedelta(days=5))
        assert refused.value.field == "posted_at"
