"""The inventory reports, the dashboard and Excel export through the API, on a small stock
with hand-checked numbers, and the number of queries of each report (3 parts vs 30).

The stock of 上海配件库 (SH-P), days before now:

- drums DR-2206: 5 at ¥380 (40 days), 2 issued (20 days): 3 left, ¥1,140; 2 reserved;
- fusers FU-2206: 2 at ¥620 (100 days), never issued: ¥1,240;
- toner TN-2206 (shelf life 365 days): R1 4 at ¥90 (340 days, no expiry date: 365 days
  after), R2 6 at ¥95 (60 days, expires in 20 days), R3 5 at ¥100 (10 days, expires in
  200 days) — 15 worth ¥1,430; 3 issued (5 days) at ¥286.00: 12 worth ¥1,144; R4 3 at
  ¥100 (2 days, expires in 5 days) received and cancelled again.

First in, first out, the 12 toner left are R3's 5, R2's 6 and one of R1. 嘉定 (JD) has a
parts warehouse with one fuser (¥600); the emergency reserve SH-R should hold a drum.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from query_count import counting
from stock_data import make_stock_data

from kernel.auth import add_user
from kernel.masterdata import add_branch, get_branch
from kernel.web.app import create_app

REPORT_PARAMS = {
    "inventory.stock_on_hand": {}, "inventory.stock_value": {},
    "inventory.movements": {"start": "{d30}", "end": "{today}"},
    "inventory.reorder_suggestions": {}, "inventory.slow_movers": {},
    "inventory.expiring": {}, "inventory.reserve_shortfalls": {},
}


def _site(make_site):
    """A web app of a site with inventory alone, SH and JD, the stock data, a JD parts
    warehouse, keepers of SH (``keeper``) and JD (``jdkeeper``)."""
    from plugins.inventory.models import Warehouse, WarehouseKind

    web = create_app(make_site(["inventory"], branch_code="SH", branch_name="上海服务中心"))
    app = web.state.fixdesk
    with app.context() as ctx:
        jd = add_branch(ctx, "JD", "嘉定服务中心")
        add_user(ctx, "keeper", "孙琴", "password-123", get_branch(ctx, "SH"),
                 roles=["warehouse_keeper"])
        add_user(ctx, "jdkeeper", "刘芸", "password-123", jd, roles=["warehouse_keeper"])
    ids = make_stock_data(app)
    with app.context() as ctx:
        jd = get_branch(ctx, "JD")
        house = Warehouse(company_id=jd.company_id, branch_id=jd.id, code="JD-P",
                          name="嘉定配件库", kind=WarehouseKind.PARTS)
        ctx.session.add(house)
        ctx.session.flush()
        ids["JD-P"] = house.id
    return web, app, ids


def _post(ctx, n, part, house, qty, days_ago, cost=None, expires_in=None):
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import Movement

    now = ctx.now()
    expires = _today(ctx) + dt.timedelta(days=expires_in) if expires_in is not None else None
    voucher = Voucher("inventory_stock_entry", n, f"SE-{n:03d}", 0)
    kind = Movement.RECEIPT if qty > 0 else Movement.ISSUE
    ledger.post(ctx, voucher, [Move(part, house, qty, kind, D(cost) if cost else None,
                                    expires_on=expires)],
                posted_at=now - dt.timedelta(days=days_ago) if days_ago else None)
    return voucher


def _today(ctx):
    return ctx.now().astimezone(ctx.settings.tz).date()


def _stock_history(app, ids):
    from plugins.inventory import ledger
    from plugins.inventory.models import ReserveLevel

    dr, tn, fu, shp = ids["DR-2206"], ids["TN-2206"], ids["FU-2206"], ids["SH-P"]
    with app.context() as ctx:  # in the order they happened
        _post(ctx, 1, tn, shp, 4, 340, "90.00")
        _post(ctx, 2, fu, shp, 2, 100, "620.00")
        _post(ctx, 3, tn, shp, 6, 60, "95.00", expires_in=20)
        _post(ctx, 4, dr, shp, 5, 40, "380.00")
        _post(ctx, 5, fu, ids["JD-P"], 1, 35, "600.00")
        _post(ctx, 6, dr, shp, -2, 20)
        _post(ctx, 7, tn, shp, 5, 10, "100.00", expires_in=200)
        _post(ctx, 8, tn, shp, -3, 5)
        cancelled = _post(ctx, 9, tn, shp, 3, 2, "100.00", expires_in=5)
        ledger.reverse(ctx, cancelled)
        ledger.reserve(ctx, dr, shp, 2, job=None, source=None)
        ctx.session.add(ReserveLevel(warehouse_id=ids["SH-R"], part_id=dr, min_qty=1))


@pytest.fixture
def shop(make_site):
    web, app, ids = _site(make_site)
    _stock_history(app, ids)
    with app.context() as ctx:
        headers = bearer_headers(ctx, "keeper", "jdkeeper")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.as_user = headers
        yield app, client, ids


def _run(app, user, name, **params):
    from kernel.reports.service import run

    with app.context(user=user) as ctx:
        outcome = run(ctx, name, params)
        return outcome.rows, outcome.columns


def _pick(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


def _sums(rows, columns):
    from kernel.reports.formatting import totals

    return totals(columns, rows)


def test_report_rows_and_the_dashboard(shop):
    """Each report's rows and totals, and the dashboard, on the stock of the module's
    text (one site for all)."""
    app, _client, _ids = shop
    _check_stock_on_hand_and_value(app)
    for period, by, kind, expected in MOVEMENTS:
        _check_movements(app, period, by, kind, expected)
    _check_reorder_slow_movers_expiring_and_reserve(app)
    _check_dashboard(app)


def _check_stock_on_hand_and_value(app):
    rows, columns = _run(app, "keeper", "inventory.stock_on_hand")
    assert _pick(rows, "warehouse_code", "part_code", "qty", "reserved", "available",
                 "average_cost", "value") == [
        ("SH-P", "DR-2206", 3, 2, 1, D("380.00"), D("1140.00")),
        ("SH-P", "FU-2206", 2, 0, 2, D("620.00"), D("1240.00")),
        ("SH-P", "TN-2206", 12, 0, 12, D("95.33"), D("1144.00"))]
    assert _sums(rows, columns) == {"qty": 17, "reserved": 2, "available": 15,
                                    "value": D("3524.00")}
    toner, _c = _run(app, "keeper", "inventory.stock_on_hand", category="TONER")
    assert _pick(toner, "part_code") == [("TN-2206",)]
    everywhere, _c = _run(app, None, "inventory.stock_on_hand")
    assert ("JD-P", "FU-2206") in _pick(everywhere, "warehouse_code", "part_code")
    theirs, _c = _run(app, "jdkeeper", "inventory.stock_on_hand")
    assert _pick(theirs, "warehouse_code", "value") == [("JD-P", D("600.00"))]

    rows, columns = _run(app, "keeper", "inventory.stock_value")
    assert _pick(rows, "warehouse_code", "kind", "category", "parts", "qty", "value") == [
        ("SH-P", "parts", "硒鼓", 1, 3, D("1140.00")),
        ("SH-P", "parts", "墨粉", 1, 12, D("1144.00")),
        ("SH-P", "parts", "(no category)", 1, 2, D("1240.00"))]
    assert _sums(rows, columns) == {"qty": 17, "value": D("3524.00")}


#: (first and last day as days before today, by, kind, rows): per part the opening, in,
#: out and closing quantity and value; per line the kind, quantity, value, reversal
MOVEMENTS = [
    ((30, 0), "part", None, [
        ("DR-2206", 5, D("1900.00"), 0, D("0.00"), 2, D("760.00"), 3, D("1140.00")),
        ("FU-2206", 2, D("1240.00"), 0, D("0.00"), 0, D("0.00"), 2, D("1240.00")),
        ("TN-2206", 10, D("930.00"), 8, D("800.00"), 6, D("586.00"), 12, D("1144.00"))]),
    ((30, 0), "part", "issue", [
        ("DR-2206", 5, D("1900.00"), 0, D("0.00"), 2, D("760.00"), 3, D("1140.00")),
        ("FU-2206", 2, D("1240.00"), 0, D("0.00"), 0, D("0.00"), 2, D("1240.00")),
        ("TN-2206", 10, D("930.00"), 0, D("0.00"), 3, D("286.00"), 12, D("1144.00"))]),
    ((70, 30), "part", None, [
        ("DR-2206", 0, D("0.00"), 5, D("1900.00"), 0, D("0.00"), 5, D("1900.00")),
        ("FU-2206", 2, D("1240.00"), 0, D("0.00"), 0, D("0.00"), 2, D("1240.00")),
        ("TN-2206", 4, D("360.00"), 6, D("570.00"), 0, D("0.00"), 10, D("930.00"))]),
    ((30, 0), "line", None, [
        ("DR-2206", "issue", -2, D("-760.00"), False),
        ("TN-2206", "receipt", 5, D("500.00"), False),
        ("TN-2206", "issue", -3, D("-286.00"), False),
        ("TN-2206", "receipt", 3, D("300.00"), False),
        ("TN-2206", "receipt", -3, D("-300.00"), True)]),
]


def _check_movements(app, period, by, kind, expected):
    with app.context() as ctx:
        today = _today(ctx)
    params = {"start": (today - dt.timedelta(days=period[0])).isoformat(),
              "end": (today - dt.timedelta(days=period[1])).isoformat(), "by": by}
    if kind:
        params["kind"] = kind
    rows, columns = _run(app, "keeper", "inventory.movements", **params)
    if by == "line":
        assert _pick(rows, "part_code", "kind", "qty_change", "value_change", "reversal") \
            == expected
        assert columns[0].key == "posted_at"
        return
    assert _pick(rows, "part_code", "opening_qty", "opening_value", "in_qty", "in_value",
                 "out_qty", "out_value", "closing_qty", "closing_value") == expected
    sums = _sums(rows, columns)
    assert sums["closing_qty"] == sum(r[7] for r in expected) and \
        sums["opening_value"] == sum(r[2] for r in expected)


def _check_reorder_slow_movers_expiring_and_reserve(app):
    import zoneinfo

    rows, columns = _run(app, "keeper", "inventory.reorder_suggestions")
    assert _pick(rows, "branch_code", "part_code", "on_hand", "reserved", "on_order",
                 "projected", "suggested", "estimated_cost") == [
        ("SH", "DR-2206", 3, 2, 0, 1, 5, D("1900.00"))]
    every, _c = _run(app, None, "inventory.reorder_suggestions")
    assert _pick(every, "branch_code", "part_code", "suggested") == [
        ("JD", "DR-2206", 5), ("JD", "TN-2206", 10), ("SH", "DR-2206", 5)]

    # days without an issue → the parts listed, most valuable first
    for days, expected in ((None, [("FU-2206", 2, 100)]),
                           ("15", [("FU-2206", 2, 100), ("DR-2206", 3, 20)])):
        rows, columns = _run(app, "keeper", "inventory.slow_movers",
                             **({"days": days} if days else {}))
        assert _pick(rows, "part_code", "qty", "idle_days") == expected

    with app.context() as ctx:
        today, now = _today(ctx), ctx.now()
        tz = zoneinfo.ZoneInfo(ctx.settings.tz.key)
    r1_expiry = (now - dt.timedelta(days=340)).astimezone(tz).date() + dt.timedelta(days=365)
    for days, expected in (
            (None, [("SE-003", today + dt.timedelta(days=20), False, 20, 6, D("572.00")),
                    ("SE-001", r1_expiry, True, (r1_expiry - today).days, 1, D("95.33"))]),
            ("22", [("SE-003", today + dt.timedelta(days=20), False, 20, 6, D("572.00"))]),
            ("3", [])):
        rows, columns = _run(app, "keeper", "inventory.expiring",
                             **({"days": days} if days else {}))
        assert _pick(rows, "voucher_number", "expires_on", "estimated", "days_left",
                     "remaining", "value") == expected

    rows, _c = _run(app, "keeper", "inventory.reserve_shortfalls")
    assert _pick(rows, "warehouse_code", "part_code", "min_qty", "available", "short") == [
        ("SH-R", "DR-2206", 1, 0, 1)]
    assert _run(app, "jdkeeper", "inventory.reserve_shortfalls")[0] == []


def _check_dashboard(app):
    from plugins.inventory import dashboard

    with app.context(user="keeper") as ctx:
        assert (dashboard.stock_value(ctx), dashboard.below_reorder_level(ctx),
                dashboard.expiring_soon(ctx)) == (3524, 1, 2)
        chart = dashboard.value_by_warehouse(ctx)
        assert chart.labels == ("上海配件库",) and chart.series[0][1] == (3524.0,)
        cards = {item.name: item for item in dashboard.dashboard()}
        assert cards["inventory.below_reorder"].tone == "warning"
        assert cards["inventory.expiring"].url(ctx) == \
            "/desk/reports/inventory.expiring?days=30&run=1"
    with app.context(user="jdkeeper") as ctx:
        assert (dashboard.stock_value(ctx), dashboard.expiring_soon(ctx)) == (600, 0)


def test_json_and_excel_through_the_api(shop):
    app, client, _ids = shop
    headers = client.as_user["keeper"]
    with app.context() as ctx:
        today = _today(ctx)
    dates = {"d30": (today - dt.timedelta(days=30)).isoformat(), "today": today.isoformat()}
    answer = client.get("/api/v1/reports/inventory.stock_on_hand", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"] == {"qty": 17, "reserved": 2, "available": 15,
                                       "value": "3524.00"}
    for name, params in REPORT_PARAMS.items():
        query = {k: v.format(**dates) for k, v in params.items()}
        sheet = client.get(f"/api/v1/reports/{name}", headers=headers,
                           params={**query, "format": "xlsx", "lang": "zh_CN"})
        assert sheet.status_code == 200, (name, sheet.text)
        lines = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(
            values_only=True))
        assert len(lines) >= 2, name
    sheet = client.get("/api/v1/reports/inventory.stock_on_hand", headers=headers,
                       params={"format": "xlsx", "lang": "zh_CN"})
    lines = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert "现存量" in lines[1] and "库存金额" in lines[1]
    first = dict(zip(lines[1], lines[2], strict=True))
    assert (first["配件编码"], first["现存量"], first["库存金额"]) == ("DR-2206", 3, 1140)
    refused = client.get("/api/v1/reports/inventory.movements", headers=headers,
                         params={"start": dates["today"], "end": dates["d30"]})
    assert refused.status_code == 422 and "end" in refused.json()["error"]["fields"]


def test_the_desk_shows_cards_chart_and_the_count_sheets_differences(shop):
    import re

    from sqlalchemy import select

    from plugins.inventory.models import StockCount

    app, client, ids = shop
    desk = TestClient(client.app, raise_server_exceptions=False, follow_redirects=False)
    assert desk.post("/login", data={"username": "keeper", "password": "password-123"}
                     ).status_code == 303
    home = desk.get("/")
    assert home.status_code == 200, home.text
    assert "库存金额（元）" in home.text and "低于再订货点的配件" in home.text
    assert "/desk/reports/inventory.expiring?days=30&amp;run=1" in home.text
    page = desk.get("/desk/reports/inventory.stock_value?run=1")
    assert page.status_code == 200 and "各仓库库存金额（元）" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
    started = desk.post(f"/desk/inventory_warehouse/{ids['SH-P']}/action/start_count",
                        data={"csrf": csrf, "bin_prefix": ""})
    assert started.status_code == 303, started.text
    with app.sessions() as session:
        sheet = session.scalar(select(StockCount.id).where(
            StockCount.warehouse_id == ids["SH-P"]))
    counted = desk.post(f"/desk/inventory_stock_count/{sheet}/action/count",
                        data={"csrf": csrf, "barcode": "TN-2206", "qty": "13"})
    assert counted.status_code == 303, counted.text
    form = desk.get(f"/desk/inventory_stock_count/{sheet}")
    assert form.status_code == 200 and "盘点差异" in form.text and "+1 · ¥95.33" in form.text
    desk.close()


def _more_parts(app, ids, first: int, last: int):
    """Parts P<first>..P<last> of the toner category with stock in SH-P: a receipt with an
    expiry date (40 days ago), an issue (10 days ago), a reserve level in SH-R."""
    from kernel.masterdata import the_company
    from plugins.inventory.models import Part, ReserveLevel

    with app.context() as ctx:
        company = the_company(ctx)
        made = [Part(company_id=company.id, code=f"P{n:03d}", name=f"配件{n}",
                     standard_cost=D("10.00"), reorder_level=50, reorder_qty=10,
                     shelf_life_days=90) for n in range(first, last + 1)]
        ctx.session.add_all(made)
        ctx.session.flush()
        for part in made:
            _post(ctx, 1000 + part.id, part.id, ids["SH-P"], 20, 40, "10.00", expires_in=15)
            _post(ctx, 2000 + part.id, part.id, ids["SH-P"], -5, 10)
            ctx.session.add(ReserveLevel(warehouse_id=ids["SH-R"], part_id=part.id, min_qty=3))


def test_queries_do_not_grow_with_the_rows(make_site):
    from kernel.reports.service import run
    from plugins.inventory import dashboard

    _web, app, ids = _site(make_site)
    with app.context() as ctx:
        today = _today(ctx)
    params = {name: {k: v.format(d30=(today - dt.timedelta(days=30)).isoformat(),
                                 today=today.isoformat()) for k, v in given.items()}
              for name, given in REPORT_PARAMS.items()}
    params["inventory.movements_lines"] = {**params["inventory.movements"], "by": "line"}
    cards = (dashboard.stock_value, dashboard.below_reorder_level, dashboard.expiring_soon,
             dashboard.value_by_warehouse)

    def measure() -> dict[str, tuple[int, int]]:
        found = {}
        for key, given in params.items():
            name = key.removesuffix("_lines")
            with app.context(user="keeper") as ctx:
                ctx.can("inventory_stock.read")  # the permission table, read once per context
                with counting(app.engine) as statements:
                    rows = run(ctx, name, given).rows
                found[key] = (len(statements), len(rows))
        with app.context(user="keeper") as ctx:
            ctx.can("inventory_stock.read")
            for card in cards:
                with counting(app.engine) as statements:
                    card(ctx)
                found[card.__name__] = (len(statements), 0)
        return found

    _more_parts(app, ids, 1, 3)
    few = measure()
    _more_parts(app, ids, 4, 30)
    many = measure()
    for key in few:
        assert few[key][0] == many[key][0], (key, few[key], many[key])
    # the rows did grow: 3 → 30 parts in each list
    assert (few["inventory.stock_on_hand"][1], many["inventory.stock_on_hand"][1]) == (3, 30)
    assert (few["inventory.expiring"][1], many["inventory.expiring"][1]) == (3, 30)
    assert (few["inventory.movements_lines"][1], many["inventory.movements_lines"][1]) == (3, 30)
    assert many["inventory.reorder_suggestions"][1] == 32  # and DR-2206, TN-2206
    assert many["inventory.reserve_shortfalls"][1] == 30
