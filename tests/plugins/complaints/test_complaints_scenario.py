"""Scenario 5 end to end through the REST API (the ASGI app over HTTP), on SQLite and
PostgreSQL, with repair beside complaints.

October 2025 at SH: 412 jobs (repair's work orders, inserted in bulk; 3 cancelled ones
and September's 40 do not count). 申达物流 writes on the survey card of 王工's job that
he was rude and left toner on the carpet: 郑丽 registers it about the work order (repair
names the customer and the engineer), human factors, serious. 吴芳 calls the customer
the same afternoon, the investigation attributes it to 王工, the handling form (free
cleaning, an apology, another engineer next time) goes to 售后服务部 and 人事部: the
customer's agreement is refused until 人事部's head 林慧 approved too; it is carried out,
the customer told, closed. Two more complaints (product quality, software) and a praise
come in that month.

The month's review, checked by hand: SH 3 complaints ÷ 412 jobs = 0.728 % → 0.73 %, one
of them human factors, one closed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from api_answers import ok
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.models import Customer, Employee
from kernel.web.app import create_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/complaints_complaint"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
NUMBERS = itertools.count(1)


def _at(text: str) -> dt.datetime:
    """A local time in Shanghai (``2025-10-08 10:20``) as an aware UTC instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def _orders(ctx, branch, first: str, count: int, step_minutes: int, **values) -> list[int]:
    """``count`` work orders of ``branch`` reported every ``step_minutes`` from ``first``,
    inserted in one statement (repair's services are not what this test is about)."""
    table = ctx.app.entity_class("repair_work_order").__table__
    start = _at(first)
    rows = [{"number": f"WO-T-{next(NUMBERS):06d}", "company_id": branch.company_id,
             "branch_id": branch.id, "channel": "phone", "service_mode": "on_site",
             "fault_description": "卡纸", "category": "A", "category_basis": "not_covered",
             "reported_at": start + dt.timedelta(minutes=step_minutes * n),
             "created_at": start, "updated_at": start, **values} for n in range(count)]
    return list(ctx.session.scalars(insert(table).returning(table.c.id), rows))


@pytest.fixture
def api(quiet_site):
    """A repair + complaints site of the demo staff with October's jobs, 人事部's head 林慧
    (``linhui``) and bearer headers (``api.as_user``); ``api.at("2025-10-08 10:20")`` sets
    the site's clock."""
    web = create_app(quiet_site(["repair", "complaints"]))
    app = web.state.fixdesk
    with app.context(user="admin", branch="SH") as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        staff = {e.code: e for e in ctx.session.scalars(select(Employee))}
        customer = ctx.session.scalar(select(Customer).where(Customer.code == "C0001"))
        hr_head = Employee(company_id=sh.company_id, branch_id=sh.id, code="M002", name="林慧")
        ctx.session.add(hr_head)
        ctx.session.flush()
        add_user(ctx, "linhui", "林慧", None, sh, roles=["department_head"],
                 company_wide=True).employee_id = hr_head.id
        # 王工's job at 申达物流 first, then the month's other jobs every 100 minutes
        job = _orders(ctx, sh, "2025-10-01 00:10", 1, 0, customer_id=customer.id,
                      engineer_id=staff["E001"].id, status="closed")[0]
        _orders(ctx, sh, "2025-10-01 01:50", 411, 100)
        _orders(ctx, sh, "2025-10-03 09:00", 3, 60, status="cancelled")
        _orders(ctx, sh, "2025-09-02 09:00", 40, 300)
        _orders(ctx, jd, "2025-10-02 09:00", 100, 300)
        headers = bearer_headers(ctx, "admin", "zhengli", "wufang", "linhui")
        ids = {"job": job, "customer": customer.id, "E001": staff["E001"].id,
               "S001": staff["S001"].id, "M002": hr_head.id}
    with TestClient(web, raise_server_exceptions=False) as client:
        client.as_user, client.ids = headers, ids
        client.at = lambda text: setattr(app, "clock", lambda: _at(text))
        yield client


def act(api, complaint_id: int, action: str, user: str = "wufang", **params) -> dict:
    return ok(api.post(f"{URL}/{complaint_id}/{action}", headers=api.as_user[user],
                       json=params))


def register(api, **values) -> dict:
    return ok(api.post(URL, headers=api.as_user["zhengli"], json={
        "topic": "complaint", "channel": "phone", "customer_id": api.ids["customer"],
        "phone": "021-6888 1234", **values}), 201)


def test_scenario_5_from_the_survey_card_to_the_month_review(api):
    admin = api.as_user["admin"]
    api.at("2025-10-01 09:00")
    for code, name, head in (("SVC", "售后服务部", "S001"), ("HR", "人事部", "M002")):
        ok(api.post("/api/v1/complaints_department", headers=admin,
                    json={"code": code, "name": name, "head_id": api.ids[head]}), 201)

    # the survey card: registered about 王工's job, human factors, serious
    api.at("2025-10-08 10:20")
    card = ok(api.post(URL, headers=api.as_user["zhengli"], json={
        "about": {"entity": "repair_work_order", "id": api.ids["job"]}, "topic": "complaint",
        "category": "human_factors", "severity": "serious", "channel": "survey",
        "contact_name": "钱经理", "phone": "021-6888 1234",
        "description": "回访卡：工程师态度粗鲁，更换碳粉时碳粉洒在地毯上，没有清理就走了"}), 201)
    cid = card["id"]
    assert card["number"] == "CP-SH-2025-00001" and card["status"] == "registered"
    assert (card["customer_id"], card["engineer_id"]) == (api.ids["customer"], api.ids["E001"])
    assert card["response_due_at"] < card["resolution_due_at"]

    api.at("2025-10-08 10:45")
    assert act(api, cid, "investigate")["status"] == "investigating"
    api.at("2025-10-08 14:30")  # the supervisor calls the same afternoon
    act(api, cid, "record_contact", summary="吴芳致电钱经理致歉，了解经过", method="phone")
    api.at("2025-10-09 11:30")
    found = act(api, cid, "determine", cause="王工服务态度生硬，更换碳粉未铺防护布",
                our_fault=True, department="SVC", person="E001")
    assert found["status"] == "determined" and found["responsible_employee_id"] == \
        api.ids["E001"]
    api.at("2025-10-09 14:00")
    act(api, cid, "propose", resolution="免费清洗地毯，主管上门致歉，今后改派其他工程师",
        departments="SVC,HR")
    api.at("2025-10-09 14:20")
    act(api, cid, "approve", department="SVC", comment="同意")
    # the customer's agreement waits for the second department
    api.at("2025-10-09 14:30")
    refused = api.post(f"{URL}/{cid}/agree", headers={**api.as_user["wufang"], **ZH},
                       json={"note": "客户同意"})
    assert refused.status_code == 409 and "人事部" in refused.json()["error"]["message"]
    api.at("2025-10-10 10:05")
    act(api, cid, "approve", user="linhui", department="HR", comment="同意，王工考核扣分")
    api.at("2025-10-10 11:00")
    assert act(api, cid, "agree", note="钱经理电话同意")["status"] == "agreed"
    api.at("2025-10-13 16:30")
    act(api, cid, "carry_out", note="保洁公司已清洗地毯，主管上门致歉，客户档案注明改派")
    api.at("2025-10-13 17:00")
    act(api, cid, "inform", result="电话告知处理结果，客户满意", satisfied=True)
    api.at("2025-10-13 17:10")
    closed = act(api, cid, "close")
    assert closed["status"] == "closed" and closed["closed_at"]

    approvals = ok(api.get("/api/v1/complaints_approval", headers=admin,
                           params={"complaint_id": cid}))["items"]
    assert sorted((a["state"], a["decided_at"][:10]) for a in approvals) == [
        ("approved", "2025-10-09"), ("approved", "2025-10-10")]
    contacts = ok(api.get("/api/v1/complaints_contact", headers=admin,
                          params={"complaint_id": cid}))["items"]
    assert len(contacts) == 1 and contacts[0]["method"] == "phone"

    # the month's other complaints and a praise (not a complaint: not counted)
    api.at("2025-10-14 09:30")
    register(api, category="product_quality", severity="ordinary",
             description="新换的感光鼓复印有底灰")
    api.at("2025-10-17 15:00")
    register(api, topic="praise", category="other", severity="ordinary",
             description="前台接待热情")
    api.at("2025-10-22 11:00")
    register(api, category="software", severity="ordinary", channel="email",
             description="扫描到邮箱升级后无法使用")

    # the month's review: SH 3 ÷ 412 = 0.73 %, one human factors
    api.at("2025-11-03 09:00")
    report = ok(api.get("/api/v1/reports/complaints.rate", headers=api.as_user["wufang"],
                        params={"month": "2025-10"}))
    rows = {row["branch_code"]: row for row in report["rows"]}
    assert set(rows) == {"SH"}  # the supervisor sees his branch
    sh = rows["SH"]
    assert (sh["jobs"], sh["complaints"], Decimal(str(sh["rate"]))) == (412, 3, Decimal("0.73"))
    assert (sh["human_factors"], sh["product_quality"], sh["software"], sh["closed"]) == \
        (1, 1, 1, 1)
    excel = api.get("/api/v1/reports/complaints.rate", headers=api.as_user["wufang"],
                    params={"month": "2025-10", "format": "xlsx"})
    assert excel.status_code == 200 and excel.content[:2] == b"PK"
