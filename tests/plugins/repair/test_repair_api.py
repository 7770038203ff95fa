"""The repair plugin through HTTP: registering, the order's actions, the generic API."""

from __future__ import annotations

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient

from kernel.web.app import create_app


@pytest.fixture
def api(make_site):
    """The web app of a demo site with the repair plugin; bearer tokens for demo users."""
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        headers = bearer_headers(ctx, "zhengli", "wufang", "wanggong", "hejuan", "admin")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.as_user = headers
        yield client


def _error(response) -> dict:
    return response.json()["error"]


def test_an_order_from_registration_to_closing(api):
    front, boss, engineer = (api.as_user[u] for u in ("zhengli", "wufang", "wanggong"))
    created = api.post("/api/repair/work_orders", headers=front, json={
        "channel": "phone", "equipment": "E335M820091", "urgent": True,
        "fault_description": "复印机显示 SC542，无法打印", "fault_code": "SC542"})
    assert created.status_code == 201, created.text
    order = created.json()
    oid = order["id"]
    assert order["number"].startswith("WO-SH-") and order["status"] == "pending"
    assert order["category"] == "A" and order["contact_name"] == "钱经理"  # no contract here
    assert order["deadline_at"] is not None and order["urgent"] is True

    def act(headers, action, **body):
        return api.post(f"/api/v1/repair_work_order/{oid}/{action}", headers=headers, json=body)

    assert act(engineer, "dispatch", engineer="E001").status_code == 403
    dispatched = act(boss, "dispatch", engineer="E001", reason="浦东片区")
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["status"] == "dispatched"
    assert act(engineer, "arrive").json()["deadline_met"] is True
    assert act(engineer, "diagnose", diagnosis="定影热敏电阻失效").status_code == 200
    refused = act(engineer, "start")  # paid job, no accepted quote yet
    assert refused.status_code == 409 and _error(refused)["code"] == "conflict"
    bad = act(engineer, "quote", labour="-5")
    assert bad.status_code == 422 and _error(bad)["fields"].keys() == {"labour"}
    quoted = act(engineer, "quote", labour="150.00", parts=95)
    assert quoted.json()["quote_total"] == "245.00" and quoted.json()["status"] == "quoted"
    assert act(front, "accept_quote", note="客户电话确认").json()["quote_status"] == "accepted"
    assert act(engineer, "start").json()["status"] == "in_repair"
    assert act(engineer, "add_part", description="定影热敏电阻", quantity=1,
               unit_cost="45.00").status_code == 200
    assert act(engineer, "add_part", description="x", quantity=0,
               unit_cost="45.00").status_code == 422
    done = act(engineer, "complete", method="更换热敏电阻", cause="老化", hours="1.5")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert act(front, "close").json()["status"] == "closed"
    closed_cancel = act(front, "cancel", reason="客户撤销")
    assert closed_cancel.status_code == 409
    assert act(front, "unknown_action").status_code in (404, 405)
    assert act(boss, "reopen", colour="red").status_code == 422  # unknown parameter
    assert act(boss, "reopen").status_code == 422  # the Reason is required
    assert act(boss, "reopen", reason="客户来电仍有故障").json()["status"] == "dispatched"

    # the generic API reads orders, their lines and history, but never writes them
    listed = api.get("/api/v1/repair_work_order?sort=-urgent,-reported_at", headers=front)
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == oid
    lines = api.get(f"/api/v1/repair_work_order_line?order_id={oid}", headers=front).json()
    assert [(line["description"], line["unit_cost"]) for line in lines["items"]] == \
        [("定影热敏电阻", "45.00")]
    history = api.get(f"/api/v1/repair_status_change?order_id={oid}&sort=id",
                      headers=boss).json()["items"]
    assert [h["event"] for h in history] == [
        "register", "dispatch", "arrive", "diagnose", "quote", "accept_quote", "start",
        "complete", "close", "reopen"]
    admin = api.as_user["admin"]
    patched = api.patch(f"/api/v1/repair_work_order/{oid}", headers=admin,
                        json={"status": "closed"})
    assert patched.status_code == 422
    raw = api.post("/api/v1/repair_work_order", headers=admin,
                   json={"channel": "phone", "fault_description": "x"})
    assert raw.status_code == 422
    assert api.delete(f"/api/v1/repair_work_order/{oid}", headers=admin).status_code in (404,
                                                                                        405)


def test_register_and_contracts_over_http(api):
    front, boss = api.as_user["zhengli"], api.as_user["wufang"]
    body = {"number": "BY-2026-018", "customer": "C0001", "equipment": ["E335M820091"],
            "start_date": "2026-01-01", "end_date": "2099-12-31", "fee": "4800.00"}
    assert api.post("/api/repair/contracts", headers=front, json=body).status_code == 403
    contract = api.post("/api/repair/contracts", headers=boss, json=body)
    assert contract.status_code == 201, contract.text
    assert api.post("/api/repair/contracts", headers=boss, json=body).status_code == 409
    order = api.post("/api/repair/work_orders", headers=front, json={
        "channel": "phone", "equipment": "E335M820091", "fault_description": "卡纸"}).json()
    assert (order["category"], order["contract_id"]) == ("B", contract.json()["id"])
    unknown = api.post("/api/repair/work_orders", headers=front, json={
        "channel": "phone", "equipment": "E335M820091", "fault_description": "卡纸",
        "colour": "red"})
    assert unknown.status_code == 422
    jd = api.post("/api/repair/work_orders", headers=api.as_user["hejuan"], json={
        "channel": "walk_in", "equipment": "LV93X10235", "fault_description": "卡纸"})
    assert jd.json()["number"].startswith("WO-JD-") and jd.json()["deadline_at"] is None
    assert api.get(f"/api/v1/repair_work_order/{jd.json()['id']}",
                   headers=front).status_code == 404  # SH cannot see JD's orders
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/repair_work_order/{record_id}/dispatch"]
    assert "post" in paths["/api/repair/work_orders"]
