"""The repair reports on a small hand-made set of orders (not the random demo history).

Working hours 09:00–12:00, 13:00–18:00 Monday to Friday; SH urban (6 h), JD suburban
(7 h). The orders, week of Monday 2026-11-16:

SH O1 (WO-SH-2026-00001) Mon 09:00 申达 E335M820091, deadline 16:00; E001 arrives 11:00
   (met), completes 12:00 with 1.5 h, closed 17:00.
SH O2 (00002) Mon 10:00 周志华 QXY20614, urgent, deadline 17:00; E002 arrives 17:30
   (missed by 30 working minutes), starts 17:40, completes Tue 10:00 with 2 h.
SH O4 (00003) Mon 11:00 联华 walk-in carry-in (no deadline); E001, completes 14:00 with
   1 h: ready for pickup.
SH O3 (00004) Tue 09:00 仁济 G176R400123, deadline Tue 16:00: never dispatched.
JD O5 (WO-JD-2026-00001) Mon 09:00 嘉定实验学校 XQH30112, deadline Mon 17:00; E006
   arrives Tue 09:30 (missed by 90 working minutes: 17–18 and 9–9:30), completes 11:00
   with 1 h, closed 15:00.
JD O6 (00002) Tue 10:00 the dealer's LV93X10235, dispatched to E007, cancelled 11:00.

Reports are read Wednesday 2026-11-18 09:00.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from kernel import NotFound, ValidationError
from kernel.auth import create_token, get_user
from kernel.reports.export import to_xlsx
from plugins.repair import reports, services

C = {"category": "C", "category_reason": "客户关系维护"}


@pytest.fixture
def orders(repair_app, as_user):
    """Make the six orders; returns their numbers by name."""
    n = {}

    def step(user, when, fn, *args, **kwargs):
        with as_user(user, when) as ctx:
            return fn(ctx, *args, **kwargs)

    def reg(name, user, when, **kwargs):
        n[name] = step(user, when, services.register, **kwargs).number

    reg("O1", "zhengli", "2026-11-16 09:00", channel="phone", equipment="E335M820091",
        fault_description="SC542", **C)
    reg("O5", "hejuan", "2026-11-16 09:00", channel="phone", equipment="XQH30112",
        fault_description="卡纸")
    reg("O2", "zhengli", "2026-11-16 10:00", channel="phone", equipment="QXY20614",
        fault_description="底灰", urgent=True, **C)
    reg("O4", "zhengli", "2026-11-16 11:00", channel="walk_in", equipment="E71835K5N",
        fault_description="不进纸", **C)
    reg("O3", "zhengli", "2026-11-17 09:00", channel="email", equipment="G176R400123",
        fault_description="异响", **C)
    reg("O6", "hejuan", "2026-11-17 10:00", channel="web", equipment="LV93X10235",
        fault_description="卡纸", **C)
    # O1: met, closed
    step("wufang", "2026-11-16 09:30", services.dispatch, n["O1"], engineer="E001")
    step("wanggong", "2026-11-16 11:00", services.record_arrival, n["O1"])
    step("wanggong", "2026-11-16 11:10", services.start, n["O1"])
    step("wanggong", "2026-11-16 12:00", services.complete, n["O1"], method="换热敏电阻",
         cause="老化", hours="1.5")
    step("zhengli", "2026-11-16 17:00", services.close, n["O1"])
    # O2: missed by 30 minutes, completed Tuesday
    step("wufang", "2026-11-16 10:30", services.dispatch, n["O2"], engineer="E002")
    step("wufang", "2026-11-16 17:30", services.record_arrival, n["O2"])
    step("wufang", "2026-11-16 17:40", services.start, n["O2"])
    step("wufang", "2026-11-17 10:00", services.complete, n["O2"], method="换鼓", cause="磨损",
         hours="2")
    # O4: carry-in, ready for pickup
    step("wufang", "2026-11-16 11:30", services.dispatch, n["O4"], engineer="E001")
    step("wanggong", "2026-11-16 13:00", services.start, n["O4"])
    step("wanggong", "2026-11-16 14:00", services.complete, n["O4"], method="换搓纸轮",
         cause="老化", hours="1")
    # O5: JD, missed by 90 minutes, closed Tuesday
    step("huangtao", "2026-11-16 09:10", services.dispatch, n["O5"], engineer="E006")
    step("zhaolei", "2026-11-17 09:30", services.record_arrival, n["O5"])
    step("zhaolei", "2026-11-17 09:40", services.start, n["O5"])
    step("zhaolei", "2026-11-17 11:00", services.complete, n["O5"], method="清洁纸路",
         cause="纸屑", hours="1")
    step("hejuan", "2026-11-17 15:00", services.close, n["O5"])
    # O6: JD, cancelled before anyone arrived
    step("huangtao", "2026-11-17 10:10", services.dispatch, n["O6"], engineer="E007")
    step("hejuan", "2026-11-17 11:00", services.cancel, n["O6"], "客户自行解决")
    return n


@pytest.fixture
def read(as_user, orders):
    """``read(report, user="admin", **options)``: run a report on Wednesday 09:00."""

    from kernel.i18n import use_locale

    def run(fn, user="admin", **options):
        with as_user(user, "2026-11-18 09:00") as ctx, use_locale("en"):
            return fn(ctx, **options)

    return run


def test_the_hand_made_orders_are_what_the_docstring_says(orders, repair_app, read):
    rows = read(reports.repair_register, start="2026-11-16", end="2026-11-17")
    got = {r["number"]: (r["status"], r["deadline_met"]) for r in rows}
    assert orders == {"O1": "WO-SH-2026-00001", "O5": "WO-JD-2026-00001",
                      "O2": "WO-SH-2026-00002", "O4": "WO-SH-2026-00003",
                      "O3": "WO-SH-2026-00004", "O6": "WO-JD-2026-00002"}
    assert got == {orders["O1"]: ("closed", True), orders["O2"]: ("completed", False),
                   orders["O4"]: ("ready_for_pickup", None), orders["O3"]: ("pending", None),
                   orders["O5"]: ("closed", False), orders["O6"]: ("cancelled", None)}


# ---------------------------------------------------------------------------
# the repair register (R1)
# ---------------------------------------------------------------------------


def test_register_lists_orders_by_day_then_branch_then_report_time(orders, read):
    rows = read(reports.repair_register, start="2026-11-16", end="2026-11-17")
    assert [r["number"] for r in rows] == [orders[k] for k in ("O5", "O1", "O2", "O4",
                                                               "O6", "O3")]
    first = rows[1]
    assert first["day"] == dt.date(2026, 11, 16) and first["branch"] == "上海服务中心"
    assert (first["customer"], first["contact_name"], first["serial_no"], first["channel"],
            first["category"], first["engineer"]) == \
        ("申达物流有限公司", "钱经理", "E335M820091", "phone", "C", "王建国")
    assert [r["number"] for r in read(reports.repair_register, start="2026-11-17",
                                      end="2026-11-17")] == [orders["O6"], orders["O3"]]


def test_register_is_scoped_to_the_users_branches(orders, read):
    rows = read(reports.repair_register, user="wufang", start="2026-11-16", end="2026-11-17")
    assert [r["number"] for r in rows] == [orders[k] for k in ("O1", "O2", "O4", "O3")]
    assert [r["number"] for r in read(reports.repair_register, start="2026-11-16",
                                      end="2026-11-17", branch="JD")] == \
        [orders["O5"], orders["O6"]]
    with pytest.raises(NotFound):
        read(reports.repair_register, user="wufang", start="2026-11-16", end="2026-11-17",
             branch="JD")


def test_report_periods_are_checked(orders, read):
    with pytest.raises(ValidationError):
        read(reports.repair_register, start="2026-11-17", end="2026-11-16")
    with pytest.raises(ValidationError):
        read(reports.repair_register, start="2025-01-01", end="2026-11-16")
    with pytest.raises(ValidationError):
        read(reports.repair_register, start="16.11.2026", end="2026-11-16")


# ---------------------------------------------------------------------------
# deadline compliance (R8)
# ---------------------------------------------------------------------------


def _figures(row):
    return (row["jobs"], row["on_time"], row["missed"], row["not_arrived"],
            row["on_time_share"], row["missed_minutes"])


def test_compliance_by_branch(orders, read):
    rows = read(reports.deadline_compliance, start="2026-11-16", end="2026-11-17")
    assert [(r["branch"], *_figures(r)) for r in rows] == [
        ("嘉定分公司", 1, 0, 1, 0, Decimal("0"), 90),  # O5; O6 cancelled: not counted
        ("上海服务中心", 3, 1, 2, 1, Decimal("0.3333"), 30),  # O1 met, O2 late, O3 overdue
        ("Total", 4, 1, 3, 1, Decimal("0.25"), 120),
    ]


def test_compliance_by_engineer(orders, read):
    rows = read(reports.deadline_compliance, start="2026-11-16", end="2026-11-17",
                by="engineer")
    assert [(r["branch"], r["engineer"], *_figures(r)) for r in rows] == [
        ("嘉定分公司", "赵磊", 1, 0, 1, 0, Decimal("0"), 90),
        ("上海服务中心", "王建国", 1, 1, 0, 0, Decimal("1"), 0),
        ("上海服务中心", "李明", 1, 0, 1, 0, Decimal("0"), 30),
        ("上海服务中心", "not dispatched", 1, 0, 1, 1, Decimal("0"), 0),
    ]


def test_compliance_does_not_count_deadlines_still_ahead(orders, as_user):
    with as_user("admin", "2026-11-17 12:00") as ctx:  # O3's deadline is 16:00 that day
        rows = reports.deadline_compliance(ctx, "2026-11-16", "2026-11-17", branch="SH")
    assert [_figures(r) for r in rows] == [(2, 1, 1, 0, Decimal("0.5"), 30),
                                           (2, 1, 1, 0, Decimal("0.5"), 30)]


# ---------------------------------------------------------------------------
# daily reports (R18)
# ---------------------------------------------------------------------------


def test_engineer_daily_report(orders, read):
    rows = read(reports.engineer_daily, start="2026-11-16", end="2026-11-17")
    assert [(r["day"].isoformat(), r["engineer_code"], r["number"], r["category"],
             r["hours"]) for r in rows] == [
        ("2026-11-16", "E001", orders["O1"], "C", Decimal("1.50")),
        ("2026-11-16", "E001", orders["O4"], "C", Decimal("1.00")),
        ("2026-11-17", "E006", orders["O5"], "C", Decimal("1.00")),
        ("2026-11-17", "E002", orders["O2"], "C", Decimal("2.00")),
    ]
    one = read(reports.engineer_daily, start="2026-11-16", end="2026-11-16", engineer="E001")
    assert sum(r["hours"] for r in one) == Decimal("2.50")
    assert read(reports.engineer_daily, user="wufang", start="2026-11-17",
                end="2026-11-17")[0]["engineer"] == "李明"  # SH only


def _daily(row):
    keys = ("reported", "dispatched", "arrived", "arrived_late", "completed", "closed",
            "cancelled", "open", "open_pending", "open_in_repair", "open_completed",
            "open_ready_for_pickup", "open_dispatched", "urgent_open", "overdue",
            "undispatched")
    return {k: row[k] for k in keys if row[k]}


def test_supervisor_daily_report(orders, read):
    monday = read(reports.supervisor_daily, day="2026-11-16")
    assert [r["branch_code"] for r in monday] == ["JD", "SH"]
    assert _daily(monday[0]) == {"reported": 1, "dispatched": 1, "open": 1,
                                 "open_dispatched": 1, "overdue": 1}
    assert _daily(monday[1]) == {"reported": 3, "dispatched": 3, "arrived": 2,
                                 "arrived_late": 1, "completed": 2, "closed": 1, "open": 2,
                                 "open_in_repair": 1, "open_ready_for_pickup": 1,
                                 "urgent_open": 1}
    tuesday = read(reports.supervisor_daily, day="2026-11-17")
    assert _daily(tuesday[0]) == {"reported": 1, "dispatched": 1, "arrived": 1,
                                  "arrived_late": 1, "completed": 1, "closed": 1,
                                  "cancelled": 1}
    assert _daily(tuesday[1]) == {"reported": 1, "completed": 1, "open": 3, "open_pending": 1,
                                  "open_completed": 1, "open_ready_for_pickup": 1,
                                  "urgent_open": 1, "overdue": 1, "undispatched": 1}
    assert [r["branch_code"] for r in read(reports.supervisor_daily, user="huangtao",
                                           day="2026-11-17")] == ["JD"]


# ---------------------------------------------------------------------------
# Excel (R33) and the API
# ---------------------------------------------------------------------------


def _sheet(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    return list(book.active.iter_rows(values_only=True))


def test_xlsx_holds_dates_numbers_and_chinese(orders, as_user):
    from kernel.i18n import use_locale

    report = reports.REPORTS["register"]
    with as_user("admin", "2026-11-18 09:00") as ctx, use_locale("zh_CN"):
        rows = report.build(ctx, start="2026-11-16", end="2026-11-16")
        data = to_xlsx(ctx, "报修登记簿", report.columns, rows)
    lines = _sheet(data)
    assert lines[0][0] == "报修登记簿"
    header = lines[1]
    assert "编号" in header and "状态" in header  # Number, Status
    body = lines[2:]
    assert len(body) == 4 and body[1][header.index("编号")] == orders["O1"]
    assert body[1][header.index("日期")] == dt.datetime(2026, 11, 16)
    assert "申达物流有限公司" in body[1] and "上海服务中心" in body[1]


def test_reports_through_the_api(orders, repair_app):
    from kernel.web.app import create_app

    web = create_app(repair_app.site)
    with web.state.fixdesk.context() as ctx:
        _row, token = create_token(ctx, get_user(ctx.session, "wufang"), "test")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(web, raise_server_exceptions=False) as client:
        got = client.get("/api/repair/reports/compliance", headers=headers,
                         params={"start": "2026-11-16", "end": "2026-11-16", "lang": "en"})
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["title"] == "Deadline compliance"
        assert [c["key"] for c in body["columns"]][:2] == ["branch", "jobs"]
        assert body["rows"][0]["branch"] == "上海服务中心"  # wufang sees SH only
        assert body["rows"][0]["on_time_share"] == "0.50"  # O1 met, O2 missed (O3: Tue)

        sheet = client.get("/api/repair/reports/register", headers=headers,
                           params={"start": "2026-11-16", "end": "2026-11-17",
                                   "format": "xlsx", "lang": "zh_CN"})
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        lines = _sheet(sheet.content)
        assert "编号" in lines[1] and len(lines) == 2 + 4
        assert any("申达物流有限公司" in line for line in lines[2:])

        for path, params in [("engineer_daily", {"start": "2026-11-16"}),
                             ("supervisor_daily", {"day": "2026-11-17"})]:
            answer = client.get(f"/api/repair/reports/{path}", headers=headers, params=params)
            assert answer.status_code == 200, answer.text
            assert answer.json()["rows"]
        bad = client.get("/api/repair/reports/register", headers=headers,
                         params={"start": "2026-11-17", "end": "2026-11-16"})
        assert bad.status_code in (400, 422)
        hidden = client.get("/api/repair/reports/register", headers=headers,
                            params={"start": "2026-11-16", "end": "2026-11-16",
                                    "branch": "JD"})
        assert hidden.status_code == 404
        anonymous = client.get("/api/repair/reports/register",
                               params={"start": "2026-11-16", "end": "2026-11-16"})
        assert anonymous.status_code == 401
