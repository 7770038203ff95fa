"""One repair order through every step, over HTTP only (SQLite and PostgreSQL).

The story (SCENARIOS.md 2, told as staff live it): on Tuesday 1 December 2026 at 09:10
周志华 phones: his Canon iR 2206 (QXY20614, warranty ended) prints black lines. The
front desk looks up his history and registers the job (paid, on site, 6 working hours:
deadline 16:10). He wants the engineer tomorrow at 10:00, later than the deadline, so
the clock pauses until then. The supervisor takes the top suggestion, 张伟 (徐汇, copier
expert), who arrives at 09:55, finds a worn drum and quotes ¥557.00 (drum ¥380 + 15 %,
labour ¥120); the customer accepts by phone. The unit goes to the workshop with a
promised date; the drum is out of stock, arrives Thursday, the repair is finished and
reviewed, a spot check passes, the voucher is printed with the amount in capitals, the
customer collects the unit on Friday and the receipt is voided. His callback is due
Monday 10:00; he answers the survey through the link. The reports show the job.

Every request runs as the member of staff who would make it, with the site's clock set
to the story's moment (``App.clock``). Hand-checked values are noted where they appear.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pdf_tools import pdftotext
from sqlalchemy import select

from kernel.auth import add_user, get_user
from kernel.masterdata import get_branch
from kernel.models import Employee
from kernel.web.app import create_app

from .conftest import local


@pytest.fixture
def desk(repair_app):
    """HTTP client of the site, bearer tokens per user, and ``desk.at("…")`` to move the
    site's clock."""
    with repair_app.context() as ctx:  # 张伟 (E003, expert, 徐汇) gets an account
        add_user(ctx, "zhangwei", "张伟", "password-123", get_branch(ctx, "SH"),
                 roles=["engineer"])
    with repair_app.context() as ctx:
        get_user(ctx.session, "zhangwei").employee_id = ctx.session.scalar(
            select(Employee.id).where(Employee.code == "E003"))
    web = create_app(repair_app.site)
    app = web.state.fixdesk
    with app.context() as ctx:
        tokens = bearer_headers(ctx, "zhengli", "wufang", "zhangwei")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.tokens = tokens

        def at(when: str) -> None:
            moment = local(when).astimezone(dt.UTC)
            app.clock = lambda: moment

        client.at = at
        yield client



def test_a_paid_job_from_the_phone_call_to_the_survey(desk):
    front, boss, engineer = (desk.tokens[u] for u in ("zhengli", "wufang", "zhangwei"))

    def act(who, action, **body):
        answer = desk.post(f"/api/v1/repair_work_order/{oid}/{action}", headers=who,
                           json=body)
        assert answer.status_code == 200, (action, answer.text)
        return answer.json()

    # Tuesday 09:10: the call; a returning customer? (R2)
    desk.at("2026-12-01 09:10")
    history = desk.get("/api/repair/history?serial_no=QXY20614", headers=front).json()
    assert history["customer"]["name"] == "周志华" and history["orders"] == []
    assert [(m["serial_no"], m["in_warranty"]) for m in history["equipment"]] == \
        [("QXY20614", False)]
    created = desk.post("/api/repair/work_orders", headers=front, json={
        "channel": "phone", "equipment": "QXY20614", "fault_description": "复印件有黑线、底灰",
        "fault_code": "drum"})
    assert created.status_code == 201, created.text
    order = created.json()
    oid, number = order["id"], order["number"]
    assert number == "WO-SH-2026-00001"
    assert (order["category"], order["category_basis"], order["service_mode"]) == \
        ("A", "not_covered", "on_site")
    # SH is urban: 6 working hours from 09:10 = 2 h 50 before noon + 3 h 10 after 13:00
    assert order["deadline_at"] == "2026-12-01T08:10:00Z"  # 16:10 in Shanghai

    # the supervisor: the queue, the suggestions, the dispatch with tomorrow's appointment
    desk.at("2026-12-01 09:30")
    queue = desk.get("/api/repair/dispatch_queue?branch=SH", headers=boss).json()
    assert [o["number"] for o in queue] == [number]
    ranked = desk.get(f"/api/repair/work_orders/{oid}/suggestions", headers=boss).json()
    assert ranked[0]["code"] == "E003" and ranked[0]["region_match"] is True
    order = act(boss, "dispatch", engineer=ranked[0]["employee_id"],
                appointment_at="2026-12-02T10:00:00+08:00", reason="客户要求明天上午")
    # later than the deadline: the clock stops from 16:10 Tue to 10:00 Wed (110 + 60 min)
    assert (order["status"], order["deadline_at"], order["paused_minutes"]) == \
        ("dispatched", "2026-12-02T02:00:00Z", 170)
    assert desk.get("/api/repair/dispatch_queue?branch=SH", headers=boss).json() == []

    # Wednesday: arrival, diagnosis, quote, the customer accepts, the unit goes to the shop
    desk.at("2026-12-02 09:55")
    order = act(engineer, "arrive")
    assert (order["deadline_met"], order["missed_minutes"]) == (True, 0)
    desk.at("2026-12-02 10:10")
    act(engineer, "diagnose", diagnosis="感光鼓磨损，需更换感光鼓组件", fault_code="drum")
    refused = desk.post(f"/api/v1/repair_work_order/{oid}/start", headers=engineer, json={})
    assert refused.status_code == 409  # R11: no accepted quote yet
    order = act(engineer, "quote", labour="120.00", parts="437.00", travel="0")
    assert (order["status"], order["quote_total"]) == ("quoted", "557.00")
    desk.at("2026-12-02 10:30")
    assert act(front, "accept_quote", note="客户电话确认")["quote_status"] == "accepted"
    desk.at("2026-12-02 10:40")
    order = act(engineer, "receive_unit", condition="外观完好，无纸盒",
                counterpart="周志华", promised_at="2026-12-04T18:00:00+08:00")
    assert order["service_mode"] == "carry_in"
    receipt = desk.get(f"/api/v1/repair_work_order/{oid}/print/repair.product_receipt",
                       headers=front)
    assert receipt.status_code == 200 and "作废" not in pdftotext(receipt.content, layout=True)
    card = desk.get(f"/api/v1/repair_work_order/{oid}/print/repair.repair_card",
                    headers=engineer)
    assert number in pdftotext(card.content, layout=True)

    # the repair: the drum is out of stock, arrives Thursday
    desk.at("2026-12-02 14:00")
    act(engineer, "start")
    act(engineer, "add_part", description="感光鼓组件", quantity=1, unit_cost="380.00")
    assert act(engineer, "wait_for_parts", reason="感光鼓缺货，已订货")["status"] == \
        "waiting_parts"
    desk.at("2026-12-03 15:00")
    act(engineer, "start", note="备件已到")
    act(engineer, "add_labour", hours="1.5", note="更换感光鼓、清洁显影单元")
    desk.at("2026-12-03 16:00")
    order = act(engineer, "complete", method="更换感光鼓组件，调整浓度，试印正常",
                cause="感光鼓超寿命使用")
    assert order["status"] == "ready_for_pickup"

    # the supervisor reviews it and picks it for a spot check, which passes (R16, R17)
    desk.at("2026-12-03 16:30")
    assert act(boss, "audit", passed=True)["audit_result"] == "passed"
    act(boss, "spot_check", note="新工程师的付费维修")
    [check] = desk.get(f"/api/v1/repair_quality_check?order_id={oid}",
                       headers=boss).json()["items"]
    checked = desk.post(f"/api/v1/repair_quality_check/{check['id']}/record_check",
                        headers=boss, json={"passed": True, "findings": "试印清晰"})
    assert checked.status_code == 200 and checked.json()["status"] == "passed"

    # Friday: the voucher, the pickup, the voided receipt (R12, R13)
    desk.at("2026-12-04 10:00")
    voucher = pdftotext(desk.get(
        f"/api/v1/repair_work_order/{oid}/print/repair.service_voucher",
        headers=front).content, layout=True)
    assert number in voucher and "557.00" in voucher and "伍佰伍拾柒元整" in voucher
    assert "感光鼓组件" in voucher and "张伟" in voucher
    order = act(front, "return_unit", counterpart="周志华", note="客户取机，已转账付款")
    assert (order["status"], order["closed_at"]) == ("closed", "2026-12-04T02:00:00Z")
    receipt = desk.get(f"/api/v1/repair_work_order/{oid}/print/repair.product_receipt",
                       headers=front)
    assert "作废" in pdftotext(receipt.content, layout=True)

    # the callback, due 8 working hours later: Fri 10-12, 13-18 (7 h), Mon 09-10 (R19)
    [callback] = desk.get(f"/api/v1/repair_callback?order_id={oid}",
                          headers=front).json()["items"]
    assert (callback["status"], callback["due_at"]) == ("open", "2026-12-07T02:00:00Z")
    link = desk.get(f"/api/repair/work_orders/{oid}/survey_link", headers=front).json()
    assert link["expires_on"] == "2027-01-03"
    path = link["url"].removeprefix("http://127.0.0.1:8000")
    desk.at("2026-12-05 20:15")  # Saturday evening, on his phone, no login
    assert desk.get(path).status_code == 200
    answered = desk.post(path, data={"attitude": "4", "skill": "4", "arrival": "4",
                                     "promise": "3", "comments": "等备件时间稍长"})
    assert answered.status_code == 200
    callback = desk.get(f"/api/v1/repair_callback/{callback['id']}", headers=front).json()
    assert (callback["status"], callback["channel"], callback["rating_promise"]) == \
        ("done", "link", 3)

    # the history and the reports (R16, R18, R33)
    events = [h["event"] for h in desk.get(
        f"/api/v1/repair_status_change?order_id={oid}&sort=id", headers=boss).json()["items"]]
    assert events == ["register", "dispatch", "pause", "arrive", "diagnose", "quote",
                      "accept_quote", "receive_unit", "start", "wait_for_parts", "start",
                      "complete", "audit", "return_unit", "close"]
    register = desk.get("/api/repair/reports/register?start=2026-12-01&end=2026-12-01",
                        headers=boss).json()
    assert [(r["number"], r["status"]) for r in register["rows"]] == [(number, "closed")]
    compliance = desk.get("/api/repair/reports/compliance?start=2026-12-01&end=2026-12-01"
                          "&by=engineer", headers=boss).json()
    assert [(r["engineer"], r["on_time"]) for r in compliance["rows"]
            if r["engineer"] == "张伟"] == [("张伟", 1)]
    workbook = desk.get("/api/repair/reports/engineer_daily?start=2026-12-03&format=xlsx",
                        headers=boss)
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert number in cells and "张伟" in cells
