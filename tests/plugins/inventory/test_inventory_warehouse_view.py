"""The stock on the desk forms of warehouses, parts and ledger entries
(:mod:`plugins.inventory.warehouse_view`), read through the desk as keepers of two branches
and a manager of the whole company (in Chinese, as the site speaks), with the queries each
block costs.

The stock (hand-checked; SH unless said):

- SE1 receipt into SH-P: 5 drums DR-2206 at ¥380, 6 toner TN-2206 at ¥95;
- SE2 receipt into SH-P: 4 toner at ¥100 — 10 toner worth ¥970, average ¥97.00;
- SE3 issue from SH-P: 2 drums (¥760) — 3 drums, ¥1,140;
- SE4 transfer SH-P → SH-R: 1 drum — SH-P 2 drums ¥760, SH-R 1 drum ¥380;
- SE5 receipt of a fuser FU-2206 into SH-P, cancelled: nothing on hand, two ledger lines;
- a job wants 3 drums of SH-P: 2 held, 1 short (the drum's reorder level is 2);
- JD: 4 drums at ¥370 into JD-P (¥1,480).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from decimal import Decimal as D

from fastapi.testclient import TestClient
from sqlalchemy import event
from stock_data import make_stock_data

from kernel.auth import add_user
from kernel.lifecycle import cancel, number_new_draft, submit
from kernel.masterdata import add_branch, get_branch
from kernel.web.app import create_app

PASSWORD = "password-123"


def _site(make_site):
    """The web app, its app and the ids: the stock of the module's text, keepers of SH
    (``keeper``) and JD (``jdkeeper``), a manager of the whole company (``boss``)."""
    from plugins.inventory.models import Warehouse, WarehouseKind

    web = create_app(make_site(["inventory"], branch_code="SH", branch_name="上海服务中心"))
    app = web.state.fixdesk
    ids = make_stock_data(app)
    with app.context() as ctx:
        jd = add_branch(ctx, "JD", "嘉定服务中心")
        add_user(ctx, "keeper", "孙琴", PASSWORD, get_branch(ctx, "SH"),
                 roles=["warehouse_keeper"])
        add_user(ctx, "jdkeeper", "刘芸", PASSWORD, jd, roles=["warehouse_keeper"])
        add_user(ctx, "boss", "王总", PASSWORD, get_branch(ctx, "SH"),
                 roles=["branch_manager"], company_wide=True)
        house = Warehouse(company_id=jd.company_id, branch_id=jd.id, code="JD-P",
                          name="嘉定配件库", kind=WarehouseKind.PARTS)
        ctx.session.add(house)
        ctx.session.flush()
        ids |= {"JD-P": house.id, "JD": jd.id}
    _history(app, ids)
    return web, app, ids


def _entry(ctx, ids, purpose, lines, *, source=None, target=None, branch="branch"):
    from plugins.inventory.models import StockEntry, StockEntryLine

    entry = StockEntry(branch_id=ids[branch], purpose=purpose,
                       from_warehouse_id=ids.get(source), to_warehouse_id=ids.get(target),
                       lines=[StockEntryLine(part_id=ids[code], qty=qty,
                                             unit_cost=D(cost) if cost else None)
                              for code, qty, cost in lines])
    number_new_draft(ctx, entry)
    ctx.session.add(entry)
    ctx.session.flush()
    submit(ctx, entry)
    return entry


def _history(app, ids):
    from plugins.inventory import ledger
    from plugins.inventory.models import Movement

    with app.context() as ctx:
        _entry(ctx, ids, Movement.RECEIPT, [("DR-2206", 5, "380"), ("TN-2206", 6, "95")],
               target="SH-P")
        _entry(ctx, ids, Movement.RECEIPT, [("TN-2206", 4, "100")], target="SH-P")
        _entry(ctx, ids, Movement.ISSUE, [("DR-2206", 2, None)], source="SH-P")
        _entry(ctx, ids, Movement.TRANSFER, [("DR-2206", 1, None)], source="SH-P",
               target="SH-R")
        cancel(ctx, _entry(ctx, ids, Movement.RECEIPT, [("FU-2206", 1, "620")],
                           target="SH-P"), "录错了")
        _entry(ctx, ids, Movement.RECEIPT, [("DR-2206", 4, "370")], target="JD-P",
               branch="JD")
        ledger.reserve(ctx, ids["DR-2206"], ids["SH-P"], 3, job=None, source=None)


def _login(web, username):
    client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
    assert client.post("/login", data={"username": username, "password": PASSWORD}) \
        .status_code == 303
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _block(client, url, name) -> dict:
    """The block ``name`` of the form at ``url``: its summary, rows (cell texts) and links
    and its note, as the desk shows them."""
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    found = re.search(rf'<section class="record block" id="block-{re.escape(name)}".*?'
                      r"</section>", page.text, re.S)
    assert found, f"{name} not on {url}"
    html = found.group(0)
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    rows = [[_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S)]
    note = re.search(r'<p class="muted">(.*?)</p>', html, re.S)
    return {"summary": {_text(k): _text(v) for k, v in
                        re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S)},
            "rows": rows, "links": re.findall(r'<a href="([^"]+)"', html),
            "note": _text(note.group(1)) if note else None}


@contextmanager
def _counting(engine):
    """The SELECTs ``engine`` runs inside the block."""
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_stock_on_the_forms_of_warehouses_parts_and_ledger_entries(make_site):
    web, app, ids = _site(make_site)
    keeper, jdkeeper, boss = (_login(web, u) for u in ("keeper", "jdkeeper", "boss"))
    try:
        _check_warehouse(keeper, jdkeeper, ids)
        _check_part(keeper, jdkeeper, boss, ids)
        _check_movements_and_ledger_entries(keeper, app, ids)
        _check_queries(app, ids)
    finally:
        for client in (keeper, jdkeeper, boss):
            client.close()
        app.close()


def _check_warehouse(keeper, jdkeeper, ids):
    shp = f"/desk/inventory_warehouse/{ids['SH-P']}"
    block = _block(keeper, shp, "inventory.warehouse_stock")
    assert block["summary"] == {"有库存的配件数": "2", "现存量": "12", "已预留": "2",
                                "可用量": "10", "库存金额": "¥1,730.00"}
    # part, bin, on hand, reserved, available, average cost, value (the fuser is gone)
    assert block["rows"] == [["DR-2206 硒鼓", "", "2 支", "2", "0", "380.00", "760.00"],
                             ["TN-2206 墨粉", "", "10 瓶", "0", "10", "97.00", "970.00"]]
    assert block["links"] == [f"/desk/inventory_part/{ids['DR-2206']}",
                              f"/desk/inventory_part/{ids['TN-2206']}"]
    reserve = _block(keeper, f"/desk/inventory_warehouse/{ids['SH-R']}",
                     "inventory.warehouse_stock")
    assert reserve["rows"] == [["DR-2206 硒鼓", "", "1 支", "0", "1", "380.00", "380.00"]]
    assert jdkeeper.get(shp).status_code == 404  # another branch's store


def _check_part(keeper, jdkeeper, boss, ids):
    drum = f"/desk/inventory_part/{ids['DR-2206']}"
    block = _block(keeper, drum, "inventory.part_stock")
    assert block["summary"] == {"现存量": "3 支", "已预留": "2", "可用量": "1",
                                "库存金额": "¥1,140.00", "缺货数量": "1"}
    assert block["rows"] == [["SH-P 上海配件库", "", "2", "2", "0", "380.00", "760.00"],
                             ["SH-R 上海应急储备库", "", "1", "0", "1", "380.00", "380.00"]]
    assert block["note"] == "有工单在等待此配件 1 支。 可用量 1 支，已不高于再订货点（2）。"
    everywhere = _block(boss, drum, "inventory.part_stock")
    assert [row[0] for row in everywhere["rows"]] == [
        "JD-P 嘉定配件库", "SH-P 上海配件库", "SH-R 上海应急储备库"]
    assert everywhere["summary"]["库存金额"] == "¥2,620.00"
    theirs = _block(jdkeeper, drum, "inventory.part_stock")
    assert theirs["rows"] == [["JD-P 嘉定配件库", "", "4", "0", "4", "370.00", "1,480.00"]]
    assert "缺货数量" not in theirs["summary"] and theirs["note"] is None
    fuser = _block(keeper, f"/desk/inventory_part/{ids['FU-2206']}", "inventory.part_stock")
    assert fuser["rows"] == [["此配件暂无库存。"]] and fuser["summary"] == {}


def _check_movements_and_ledger_entries(keeper, app, ids):
    from sqlalchemy import select

    from plugins.inventory.models import LedgerEntry

    drum = _block(keeper, f"/desk/inventory_part/{ids['DR-2206']}",
                  "inventory.part_movements")
    # newest first: the transfer's two lines, the issue, the receipt (not JD's)
    assert [row[1:5] for row in drum["rows"]] == [
        ["调拨", "SH-R 上海应急储备库", "+1", "380.00"],
        ["调拨", "SH-P 上海配件库", "-1", "380.00"],
        ["出库", "SH-P 上海配件库", "-2", "380.00"],
        ["入库", "SH-P 上海配件库", "+5", "380.00"]]
    assert all(row[5].startswith("出入库单 SE-SH-") for row in drum["rows"])
    fuser = _block(keeper, f"/desk/inventory_part/{ids['FU-2206']}",
                   "inventory.part_movements")
    assert [row[1:4] for row in fuser["rows"]] == [
        ["入库 · 冲销", "SH-P 上海配件库", "-1"], ["入库", "SH-P 上海配件库", "+1"]]
    with app.context() as ctx:
        reversal = ctx.session.scalar(select(LedgerEntry).where(
            LedgerEntry.part_id == ids["FU-2206"], LedgerEntry.reversal.is_(True)))
        voucher = (reversal.id, reversal.voucher_id, reversal.voucher_number)
    entry = _block(keeper, f"/desk/inventory_ledger_entry/{voucher[0]}",
                   "inventory.ledger_document")
    assert entry["rows"] == [["出入库单", voucher[2]]]
    assert entry["links"] == [f"/desk/inventory_stock_entry/{voucher[1]}"]
    assert entry["note"].startswith("此条冲销")
    page = keeper.get(f"/desk/inventory_ledger_entry/{voucher[0]}").text
    assert "inventory_stock_entry</" not in page  # the table's name is never shown


def _check_queries(app, ids):
    """One query per block (two for the part's stock: the units short), however many
    parts, warehouses and movements."""
    from sqlalchemy import select

    from plugins.inventory import warehouse_view
    from plugins.inventory.models import LedgerEntry, Part, Warehouse

    with app.context(user="keeper") as ctx:
        ctx.can("inventory_stock.read")  # the user's permissions, read once per request
        house = ctx.session.get(Warehouse, ids["SH-P"])
        drum = ctx.session.get(Part, ids["DR-2206"])
        entry = ctx.session.scalar(select(LedgerEntry).limit(1))
        for build, record, queries in ((warehouse_view.warehouse_stock, house, 1),
                                       (warehouse_view.part_stock, drum, 2),
                                       (warehouse_view.part_movements, drum, 1),
                                       (warehouse_view.ledger_document, entry, 0)):
            with _counting(app.engine) as seen:
                build(ctx, record)
            assert len(seen) == queries, (build.__name__, seen)
