"""Stock counts (R23) and the emergency reserve check, on a site without demo data: SH and
JD, the master data of ``make_stock_data``, a keeper, a supervisor and managers.

Numbers are checked by hand: drums 5 at ¥380 and 3 at ¥400 make 8 worth ¥3,100 (¥387.50
each); toner 10 at ¥95 (¥950); fusers 2 at ¥620 (¥1,240).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from query_count import counting
from sqlalchemy import select
from stock_data import make_stock_data

from kernel import Conflict, ValidationError
from kernel.auth import PermissionDenied, add_user
from kernel.masterdata import add_branch, get_branch

DRUM_BARCODE = "6901234567892"


@pytest.fixture
def shop(make_site, app_of):
    """A started site with inventory alone, branches SH and JD, the stock data and users:
    ``keeper`` (SH keeper), ``sup`` (SH supervisor), ``boss`` (SH manager), ``jdboss``
    (JD manager), ``quiet`` (SH keeper without an e-mail address)."""
    app = app_of(make_site(["inventory"], branch_code="SH", branch_name="上海服务中心"))
    with app.context() as ctx:
        jd = add_branch(ctx, "JD", "嘉定服务中心")
        sh = get_branch(ctx, "SH")
        for name, role, branch, email in (
                ("keeper", "warehouse_keeper", sh, "keeper@example.com"),
                ("sup", "service_supervisor", sh, "sup@example.com"),
                ("boss", "branch_manager", sh, "boss@example.com"),
                ("jdboss", "branch_manager", jd, "jdboss@example.com"),
                ("quiet", "warehouse_keeper", sh, None)):
            add_user(ctx, name, name.title(), "password-123", branch, roles=[role], email=email)
    ids = make_stock_data(app)
    _receive(app, ids, [("DR-2206", "SH-P", 5, "380.00"), ("DR-2206", "SH-P", 3, "400.00"),
                        ("TN-2206", "SH-P", 10, "95.00"), ("FU-2206", "SH-P", 2, "620.00")])
    from plugins.inventory.models import Stock

    with app.context() as ctx:
        for stock in ctx.session.scalars(select(Stock)):
            stock.location = {ids["DR-2206"]: "A-01", ids["TN-2206"]: "A-02"}.get(
                stock.part_id, "B-01")
    return app, ids


def _receive(app, ids, receipts, first_voucher=1):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import Movement

    with app.context() as ctx:
        for n, (part, house, qty, cost) in enumerate(receipts, first_voucher):
            ledger.post(ctx, Voucher("inventory_stock_entry", n, f"SE-{n}", ids["branch"]),
                        [Move(ids[part], ids[house], qty, Movement.RECEIPT, D(cost))])


def _stock(app, ids, part, house="SH-P"):
    from plugins.inventory import ledger

    with app.context() as ctx:
        stock = ledger.stock_of(ctx, ids[part], ids[house])
        return (stock.qty, stock.value) if stock else (0, D("0.00"))


def _lines(ctx, sheet_id):
    from plugins.inventory.models import StockCountLine

    return {line.part.code: line for line in ctx.session.scalars(
        select(StockCountLine).where(StockCountLine.count_id == sheet_id))}


def test_a_count_with_a_gain_and_a_loss_posts_adjustments_and_cancelling_reverses(shop):
    from kernel.records import update_record
    from plugins.inventory import counts, ledger
    from plugins.inventory.models import LedgerEntry, Movement

    app, ids = shop
    with app.context(user="keeper") as ctx:
        sheet = ctx.run_action("inventory_warehouse", ids["SH-P"], "start_count")
        sheet_id, number = sheet.id, sheet.number
        lines = _lines(ctx, sheet_id)
        # the book is frozen as it is now, in the order of the bins
        assert [(code, line.location, line.book_qty, line.book_value, line.counted_qty)
                for code, line in sorted(lines.items(), key=lambda kv: kv[1].id)] == [
            ("DR-2206", "A-01", 8, D("3100.00"), None),
            ("TN-2206", "A-02", 10, D("950.00"), None),
            ("FU-2206", "B-01", 2, D("1240.00"), None)]
        assert number.startswith("SC-SH-")
        # a second sheet over the same parts is refused, naming them
        with pytest.raises(Conflict) as busy:
            ctx.run_action("inventory_warehouse", ids["SH-P"], "start_count", bin_prefix="A-")
        assert "DR-2206" in busy.value.message and number in busy.value.message
        # a scanner types the barcode: each scan adds one; a quantity adds that many
        for barcode, qty in ((DRUM_BARCODE, None), (DRUM_BARCODE, None), (DRUM_BARCODE, "4"),
                             ("TN-2206", "13"), ("TN-2206", "-1")):
            ctx.run_action("inventory_stock_count", sheet_id, "count", barcode=barcode, qty=qty)
        with pytest.raises(ValidationError) as unknown:
            ctx.run_action("inventory_stock_count", sheet_id, "count", barcode="NOPE")
        assert unknown.value.field == "barcode"
        with pytest.raises(ValidationError):
            ctx.run_action("inventory_stock_count", sheet_id, "count", barcode="TN-2206",
                           qty="-20")
        lines = _lines(ctx, sheet_id)
        assert (lines["DR-2206"].counted_qty, lines["TN-2206"].counted_qty) == (6, 12)
    line_info = app.exposed["inventory_stock_count_line"]

    def submit(user):
        with app.context(user=user) as ctx:
            ctx.run_action("inventory_stock_count", sheet_id, "submit")

    with pytest.raises(PermissionDenied):  # approving is the supervisor's
        submit("keeper")
    with pytest.raises(ValidationError) as uncounted:
        submit("sup")
    assert "not counted yet" in uncounted.value.message and "FU-2206" in uncounted.value.message
    with app.context(user="keeper") as ctx:  # the lines' counted quantity is edited generically
        update_record(ctx, line_info, _lines(ctx, sheet_id)["FU-2206"].id, {"counted_qty": 2})
        update_record(ctx, line_info, _lines(ctx, sheet_id)["DR-2206"].id,
                      {"reason": "两支破损报废未登记"})
    with pytest.raises(ValidationError) as unexplained:
        submit("sup")
    assert "TN-2206" in unexplained.value.message and "DR-2206" not in unexplained.value.message
    with app.context(user="keeper") as ctx:
        update_record(ctx, line_info, _lines(ctx, sheet_id)["TN-2206"].id,
                      {"reason": "上次调拨少记"})
        draft = ctx.session.get(ctx.app.entity_class("inventory_stock_count"), sheet_id)
        section = counts.differences_section(ctx, draft)
        assert dict(section.summary) == {"Lines counted": "3 / 3", "Gains": "+2 · ¥190.00",
                                         "Losses": "-2 · ¥775.00", "Net value": "-¥585.00"}
        assert [row[0].split()[0] for row in section.rows] == ["DR-2206", "TN-2206"]
        assert section.note  # estimates until submitted
    submit("sup")
    # part, difference, value posted, cost per unit, stock after (qty, value)
    expected = [("DR-2206", -2, D("-775.00"), D("387.50"), (6, D("2325.00"))),
                ("TN-2206", 2, D("190.00"), D("95.00"), (12, D("1140.00"))),
                ("FU-2206", None, None, None, (2, D("1240.00")))]
    with app.context(user="sup") as ctx:
        entries = {e.part_id: e for e in ctx.session.scalars(select(LedgerEntry).where(
            LedgerEntry.voucher_entity == "inventory_stock_count",
            LedgerEntry.voucher_id == sheet_id))}
        for code, diff, value, cost, _after in expected:
            entry = entries.get(ids[code])
            if diff is None:
                assert entry is None
                continue
            assert (entry.kind, entry.qty_change, entry.value_change, entry.unit_cost,
                    entry.voucher_number) == (Movement.ADJUSTMENT, diff, value, cost, number)
        sheet = ctx.session.get(ctx.app.entity_class("inventory_stock_count"), sheet_id)
        posted = counts.differences_section(ctx, sheet)
        assert dict(posted.summary)["Net value"] == "-¥585.00" and posted.note is None
    for code, *_rest, after in expected:
        assert _stock(app, ids, code) == after
    with app.context(user="sup") as ctx:
        ctx.run_action("inventory_stock_count", sheet_id, "cancel", reason="盘点有误，重盘")
        assert ledger.check(ctx.session) == []
    assert _stock(app, ids, "DR-2206") == (8, D("3100.00"))
    assert _stock(app, ids, "TN-2206") == (10, D("950.00"))


def test_filters_new_lines_and_gains_at_the_purchase_price(shop):
    from plugins.inventory.models import PartCategory

    app, ids = shop
    with app.context(user="keeper") as ctx:
        drums = ctx.session.scalar(select(PartCategory).where(PartCategory.code == "DRUM"))
        sheet = ctx.run_action("inventory_warehouse", ids["SH-P"], "start_count",
                               category=drums.id)
        assert set(_lines(ctx, sheet.id)) == {"DR-2206"}
        bins = ctx.run_action("inventory_warehouse", ids["SH-P"], "start_count",
                              bin_prefix="B-")
        assert set(_lines(ctx, bins.id)) == {"FU-2206"}
        with pytest.raises(ValidationError) as nothing:
            ctx.run_action("inventory_warehouse", ids["SH-P"], "start_count", bin_prefix="Z-")
        assert nothing.value.field == "bin_prefix"
        # toner is not on the drums' sheet: scanning it adds a line frozen at today's stock
        ctx.run_action("inventory_stock_count", sheet.id, "count", barcode="TN-2206", qty=9)
        toner = _lines(ctx, sheet.id)["TN-2206"]
        assert (toner.book_qty, toner.book_value, toner.counted_qty, toner.location) == (
            10, D("950.00"), 9, "A-02")
        # ... but a part on another draft of the warehouse is not
        with pytest.raises(Conflict):
            ctx.run_action("inventory_stock_count", sheet.id, "count", barcode="FU-2206")
        # the emergency reserve is empty: a count there finds a fuser (book 0)
        reserve = ctx.run_action("inventory_warehouse", ids["SH-R"], "start_count")
        assert _lines(ctx, reserve.id) == {}
        ctx.run_action("inventory_stock_count", reserve.id, "count", barcode="FU-2206")
        _lines(ctx, reserve.id)["FU-2206"].reason = "储备库发现未入账定影组件"
        reserve_id = reserve.id
    with app.context(user="sup") as ctx:
        ctx.run_action("inventory_stock_count", reserve_id, "submit")
    with app.context(user="keeper") as ctx:
        with pytest.raises(Conflict):  # counted no more once submitted
            ctx.run_action("inventory_stock_count", reserve_id, "count", barcode="FU-2206")
    # found stock of an empty stock is valued at the part's purchase price
    assert _stock(app, ids, "FU-2206", "SH-R") == (1, D("620.00"))


def test_an_empty_sheet_is_not_submitted(shop):
    app, ids = shop
    with app.context(user="keeper") as ctx:
        sheet_id = ctx.run_action("inventory_warehouse", ids["SH-R"], "start_count").id
    with app.context(user="sup") as ctx, pytest.raises(ValidationError) as empty:
        ctx.run_action("inventory_stock_count", sheet_id, "submit")
    assert empty.value.field == "lines"


def _notify_jobs(app):
    from kernel.jobs import Job

    with app.sessions() as session:
        return [(j.payload["to"], j.payload["context"]) for j in session.scalars(
            select(Job).where(Job.name == "kernel.notify").order_by(Job.id))]


def test_the_reserve_check_tells_each_branch_once_and_nothing_when_levels_are_met(shop):
    from kernel.notify import render_message
    from plugins.inventory import reserve
    from plugins.inventory.models import ReserveLevel, Warehouse, WarehouseKind

    app, ids = shop
    assert [(s.name, s.daily_at) for s in app.schedules
            if s.name.startswith("inventory.")] == [("inventory.check_reserve", "07:00")]
    with app.context() as ctx:
        jd = get_branch(ctx, "JD")
        house = Warehouse(company_id=jd.company_id, branch_id=jd.id, code="JD-R",
                          name="嘉定应急储备库", kind=WarehouseKind.EMERGENCY_RESERVE)
        ctx.session.add(house)
        ctx.session.flush()
        ids["JD-R"] = house.id
        # warehouse, part, minimum (SH-R holds one drum: short 1; toner: short 2)
        for where, part, least in (("SH-R", "DR-2206", 2), ("SH-R", "TN-2206", 2),
                                   ("SH-R", "FU-2206", 0), ("JD-R", "FU-2206", 1)):
            ctx.session.add(ReserveLevel(warehouse_id=ids[where], part_id=ids[part],
                                         min_qty=least))
    _receive(app, ids, [("DR-2206", "SH-R", 1, "380.00")], first_voucher=50)
    with app.context() as ctx, counting(app.engine) as statements:
        found = reserve.shortfalls(ctx)
    assert len(statements) == 1
    assert [(r["warehouse_code"], r["part_code"], r["min_qty"], r["available"], r["short"])
            for r in found] == [("JD-R", "FU-2206", 1, 0, 1), ("SH-R", "DR-2206", 2, 1, 1),
                                ("SH-R", "TN-2206", 2, 0, 2)]
    with app.context() as ctx:
        assert reserve.check_reserve(ctx) == {"shortfalls": 3, "branches": 2, "messages": 3}
    sent = _notify_jobs(app)
    assert sorted(to for to, _context in sent) == ["boss@example.com", "jdboss@example.com",
                                                   "keeper@example.com"]
    sh = next(context for to, context in sent if to == "keeper@example.com")
    assert [(i["part"].split()[0], i["short"]) for i in sh["items"]] == [("DR-2206", 1),
                                                                         ("TN-2206", 2)]
    subject, body = render_message("inventory_reserve_short", "zh_CN", sh,
                                   extra_dirs=app.template_override_dirs())
    assert subject == "上海服务中心应急储备库缺货：2 种配件", subject
    assert "DR-2206" in body and "定额 2，可用 1，缺 1" in body and "TN-2206" in body
    # filled up: the next morning's check sends nothing
    _receive(app, ids, [("DR-2206", "SH-R", 1, "380.00"), ("TN-2206", "SH-R", 2, "95.00"),
                        ("FU-2206", "JD-R", 1, "620.00")], first_voucher=60)
    with app.context() as ctx:
        assert reserve.check_reserve(ctx) == {"shortfalls": 0, "branches": 0, "messages": 0}
    assert len(_notify_jobs(app)) == 3
