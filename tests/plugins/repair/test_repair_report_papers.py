"""The two daily reports (R18) as printed papers, through the kernel's report machinery.

Monday 2026-11-16 (working hours 09:00–12:00, 13:00–18:00; SH urban 6 h, JD 7 h):

SH A  09:00 申达 E335M820091 (category C): E001 王建国 arrives 11:00, completes 12:00 with
      1.5 h; he logs another 0.5 h on it (the report adds them up: 2.00 h that day).
SH B  10:00 周志华 QXY20614, urgent, deadline 17:00: dispatched to E002 李明, nobody
      arrives — overdue at the end of the day.
SH C  14:00 仁济 G176R400123: never dispatched.
JD D  09:00 嘉定实验学校 XQH30112: E006 赵磊 arrives 10:00, completes 11:00 with 1 h.

The papers are printed on Tuesday 09:00. PDFs are read with poppler's ``pdftotext
-layout`` and ``pdffonts``.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pdf_tools import pdffonts, pdftotext
from sqlalchemy import select

from kernel.auth import create_token, get_user
from kernel.documents.registry import PrintLog
from kernel.reports.service import render
from plugins.repair import services

C = {"category": "C", "category_reason": "客户关系维护"}
TUESDAY = "2026-11-17 09:00"




@pytest.fixture
def monday(repair_app, as_user):
    """The four orders of the module docstring; their numbers by letter."""
    n = {}

    def step(user, when, fn, *args, **kwargs):
        with as_user(user, f"2026-11-16 {when}") as ctx:
            return fn(ctx, *args, **kwargs)

    n["A"] = step("zhengli", "09:00", services.register, channel="phone",
                  equipment="E335M820091", fault_description="SC542", **C).number
    n["D"] = step("hejuan", "09:00", services.register, channel="phone", equipment="XQH30112",
                  fault_description="卡纸").number
    n["B"] = step("zhengli", "10:00", services.register, channel="phone", equipment="QXY20614",
                  fault_description="底灰", urgent=True, **C).number
    n["C"] = step("zhengli", "14:00", services.register, channel="email",
                  equipment="G176R400123", fault_description="异响", **C).number
    step("wufang", "09:30", services.dispatch, n["A"], engineer="E001")
    step("wanggong", "11:00", services.record_arrival, n["A"])
    step("wanggong", "11:05", services.start, n["A"])
    step("wanggong", "12:00", services.complete, n["A"], method="换热敏电阻", cause="老化",
         hours="1.5")
    step("wanggong", "12:10", services.add_labour, n["A"], "0.5", note="回访调试")
    step("wufang", "10:30", services.dispatch, n["B"], engineer="E002")
    step("huangtao", "09:10", services.dispatch, n["D"], engineer="E006")
    step("zhaolei", "10:00", services.record_arrival, n["D"])
    step("zhaolei", "10:05", services.start, n["D"])
    step("zhaolei", "11:00", services.complete, n["D"], method="清洁纸路", cause="纸屑",
         hours="1")
    return n


def _paper(as_user, name: str, raw: dict, lang: str, user: str = "admin") -> bytes:
    with as_user(user, TUESDAY) as ctx:
        return render(ctx, name, raw, "pdf", lang).content


def test_engineer_daily_work_report_in_chinese_and_english(monday, as_user, tmp_path):
    data = _paper(as_user, "repair.engineer_daily", {"start": "2026-11-16"}, "zh_CN")
    text = pdftotext(data, layout=True)
    assert "技术员工作日报表" in text  # the title, from the translated msgid
    for expected in ("王建国", "E001", monday["A"], "申达物流有限公司", "上海服务中心",
                     "赵磊", "E006", monday["D"], "嘉定实验学校", "嘉定分公司",
                     "技术员签字", "2026年11月16日", "C类", "已完工", "回访调试"):
        assert expected in "".join(text.split()), expected
    assert monday["B"] not in text and monday["C"] not in text  # nobody worked on them
    # one sheet per engineer and day, each with its total: 赵磊's starts a new page
    pages = text.split("\f")
    assert "王建国" in pages[0] and "赵磊" not in pages[0] and "赵磊" in pages[1]
    assert pages[0].count("2.00") == 2 and pages[1].count("1.00") == 2
    fonts = pdffonts(data)
    assert "Fixdesk-Print-Sans" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded

    english = pdftotext(_paper(as_user, "repair.engineer_daily",
                               {"start": "2026-11-16", "engineer": "E001"}, "en"), layout=True)
    assert "Engineer's daily work report" in english and "Engineer signature" in english
    assert "Total hours (Jobs: 1)" in english  # one job, two entries
    assert monday["A"] in english and "王建国" in english and "赵磊" not in english
    assert "Engineer：E001 王建国" in " ".join(english.split())  # the parameters used


def test_supervisor_daily_report_in_chinese_and_english(monday, as_user, tmp_path):
    data = _paper(as_user, "repair.supervisor_daily", {"day": "2026-11-16", "branch": "SH"},
                  "zh_CN")
    text = pdftotext(data, layout=True)
    assert "服务主任日报表" in text and "上海服务中心" in text and "嘉定分公司" not in text
    for expected in ("未结：待派工", "未结加急", monday["B"], "周志华", "李明",
                     monday["C"], "仁济"):
        assert expected in text, expected
    assert "Fixdesk-Print-Sans" in pdffonts(data)

    english = pdftotext(_paper(as_user, "repair.supervisor_daily", {"day": "2026-11-16"},
                               "en"), layout=True)
    assert "Supervisor's daily report" in english
    assert "Service supervisor" in english and "Reviewed by branch manager" in english
    jd, sh = english.split("\f")[:2]  # one sheet per branch, by branch code
    assert "Branch：嘉定分公司" in jd and "Branch：上海服务中心" in sh
    assert "Overdue: deadline passed, nobody arrived (0)" in jd and "None." in jd
    overdue = sh[sh.index("Overdue: deadline passed"):sh.index("Not dispatched (")]
    assert "nobody arrived (1)" in overdue and monday["B"] in overdue and "李明" in overdue
    assert monday["C"] not in overdue
    undispatched = sh[sh.index("Not dispatched ("):]
    assert "Not dispatched (1)" in undispatched and monday["C"] in undispatched


def test_a_supervisor_prints_only_their_branch_and_reprints_are_copies(monday, repair_app,
                                                                       tmp_path):
    from kernel.web.app import create_app

    web = create_app(repair_app.site)
    with web.state.fixdesk.context() as ctx:
        _row, token = create_token(ctx, get_user(ctx.session, "huangtao"), "test")
    headers = {"Authorization": f"Bearer {token}"}
    params = {"day": "2026-11-16", "format": "pdf", "lang": "zh_CN"}
    with TestClient(web, raise_server_exceptions=False) as client:
        first = client.get("/api/v1/reports/repair.supervisor_daily", headers=headers,
                           params=params)
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/pdf"
        text = pdftotext(first.content, layout=True)
        assert "嘉定分公司" in text and "上海服务中心" not in text and monday["B"] not in text
        again = client.get("/api/v1/reports/repair.supervisor_daily", headers=headers,
                           params=params)
        assert "副本 2" in pdftotext(again.content, layout=True)
        hidden = client.get("/api/v1/reports/repair.supervisor_daily", headers=headers,
                            params={**params, "branch": "SH"})
        assert hidden.status_code == 422 and set(hidden.json()["error"]["fields"]) == {"branch"}
    with repair_app.sessions() as session:
        logged = session.scalars(select(PrintLog).where(
            PrintLog.document == "repair.supervisor_daily")).all()
    assert [(p.entity, p.record_id, p.copy_number, p.actor) for p in logged] == [
        ("report", "day=2026-11-16", 1, "huangtao"), ("report", "day=2026-11-16", 2, "huangtao")]


def test_a_site_template_overrides_a_report_paper(monday, repair_app, as_user, tmp_path):
    folder = repair_app.site.path / "templates" / "repair"
    folder.mkdir(parents=True)
    (folder / "engineer_daily.html").write_text(
        '{% extends "print/report.html" %}{% block content %}'
        "<p>本站日报：{{ rows|length }} 行，{{ sums.hours }} 小时</p>{% endblock %}")
    text = pdftotext(_paper(as_user, "repair.engineer_daily", {"start": "2026-11-16"},
                            "zh_CN"), layout=True)
    assert "本站日报：2 行，3.00 小时" in text and "技术员工作日报表" in text


@pytest.mark.parametrize("name, raw", [
    ("repair.register", {"start": "2026-11-16", "end": "2026-11-16", "branch": "SH"}),
    ("repair.compliance", {"start": "2026-11-16", "end": "2026-11-16", "by": "engineer"}),
    ("repair.engineer_daily", {"start": "2026-11-16", "engineer": "E001"}),
    ("repair.supervisor_daily", {"day": "2026-11-16"}),
])
def test_every_repair_report_runs_in_every_format(monday, repair_app, as_user, tmp_path, name,
                                                  raw):
    report = repair_app.reports[name]
    assert report.permission == "repair_work_order.read"
    with as_user("wufang", TUESDAY) as ctx:
        body = render(ctx, name, raw, "json", "en").content
        files = {fmt: render(ctx, name, raw, fmt, "en").content for fmt in ("xlsx", "csv")}
    assert body["rows"] and files["xlsx"].startswith(b"PK") and files["csv"]
    if name == "repair.compliance":  # by engineer: the engineer column is shown
        assert "engineer" in [c["key"] for c in body["columns"]]
    text = pdftotext(_paper(as_user, name, raw, "en", user="wufang"), layout=True)
    assert report.title in text
    if name == "repair.register":  # the generic paper: the table and its parameters
        assert monday["A"] in text and "Branch：SH 上海服务中心" in " ".join(text.split())
