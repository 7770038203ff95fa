"""The REST API through real HTTP (the ASGI app), on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess

import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel.auth import add_user, get_user
from kernel.masterdata import get_branch
from kernel.models import Customer, CustomerEquipment
from kernel.web.app import create_app


@pytest.fixture
def api(make_site):
    """A demo site's web app, and bearer-token headers for users of several roles."""
    site = make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        for username, roles, branch in [("root", ["admin"], sh), ("lily", ["front_desk"], sh),
                                        ("wangli", ["engineer"], sh),
                                        ("jdfront", ["front_desk"], jd)]:
            add_user(ctx, username, username, "password-123", branch, roles=roles)
        headers = bearer_headers(ctx, "root", "lily", "wangli", "jdfront")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.as_user = headers
        yield client


def _id(app, cls, **where):
    with app.sessions() as session:
        return session.scalar(select(cls.id).filter_by(**where))


def test_crud_round_trip_in_chinese(api):
    h = api.as_user["lily"]
    created = api.post("/api/v1/customer", headers=h, json={
        "code": "C9001", "name": "浦东新区图书馆", "tier": "corporate", "phone": "021-5888 0000"})
    assert created.status_code == 201, created.text
    customer = created.json()
    from kernel.models import Branch

    assert customer["name"] == "浦东新区图书馆"
    assert customer["branch_id"] == _id(api.app_state, Branch, code="SH")  # the user's branch
    equipment = api.post("/api/v1/customer_equipment", headers=h, json={
        "customer_id": customer["id"], "brand": "Ricoh", "model": "MP 2555",
        "serial_no": "E9990001", "warranty_end": "2027-06-30"}).json()
    assert equipment["warranty_end"] == "2027-06-30"
    fetched = api.get(f"/api/v1/customer/{customer['id']}", headers=h).json()
    assert fetched == customer
    changed = api.patch(f"/api/v1/customer/{customer['id']}", headers=h,
                        json={"phone": "021-5888 1111"})
    assert changed.status_code == 200 and changed.json()["phone"] == "021-5888 1111"
    history = api.get(f"/api/v1/customer/{customer['id']}/history",
                      headers=api.as_user["root"]).json()
    assert [e["action"] for e in history] == ["insert", "update"]
    assert history[1]["actor"] == "lily"
    assert history[1]["changes"] == {"phone": ["021-5888 0000", "021-5888 1111"]}
    gone = api.delete(f"/api/v1/customer_equipment/{equipment['id']}",
                      headers=api.as_user["root"])
    assert gone.status_code == 204
    assert api.get(f"/api/v1/customer_equipment/{equipment['id']}", headers=h).status_code == 404


def test_list_filters_sorting_and_paging(api):
    h = api.as_user["root"]
    page = api.get("/api/v1/customer", headers=h, params={"tier": "corporate", "limit": 3,
                                                          "sort": "code", "count": "true"}).json()
    assert page["limit"] == 3 and len(page["items"]) == 3 and page["total"] >= 3
    assert all(c["tier"] == "corporate" for c in page["items"])
    assert [c["code"] for c in page["items"]] == sorted(c["code"] for c in page["items"])
    second = api.get("/api/v1/customer", headers=h, params={
        "tier": "corporate", "limit": 3, "offset": 3, "sort": "code"}).json()
    assert second["items"][0]["code"] > page["items"][-1]["code"]
    contains = api.get("/api/v1/customer", headers=h, params={"name__contains": "物流"}).json()
    assert [c["name"] for c in contains["items"]] == ["申达物流有限公司"]
    tiers = api.get("/api/v1/customer", headers=h,
                    params={"tier__in": "dealer,retail_chain", "limit": 100}).json()
    assert {c["tier"] for c in tiers["items"]} <= {"dealer", "retail_chain"}
    recent = api.get("/api/v1/customer_equipment", headers=h, params={
        "warranty_end__gte": "2026-01-01", "warranty_end__lte": "2030-12-31",
        "sort": "-warranty_end", "limit": 500}).json()
    ends = [e["warranty_end"] for e in recent["items"]]
    assert ends == sorted(ends, reverse=True) and all("2026" <= e <= "2030-12-31" for e in ends)
    searched = api.get("/api/v1/customer_equipment", headers=h, params={"q": "E335M8"}).json()
    assert [e["serial_no"] for e in searched["items"]] == ["E335M820091"]


@pytest.mark.parametrize("params, field", [
    ({"colour": "red"}, "colour"),
    ({"tier": "royalty"}, "tier"),
    ({"created_at__gte": "yesterday"}, "created_at__gte"),
    ({"sort": "colour"}, "sort"),
    ({"id__regex": "x"}, "id__regex"),
])
def test_bad_filters_are_422_naming_the_field(api, params, field):
    response = api.get("/api/v1/customer", headers=api.as_user["root"], params=params)
    assert response.status_code == 422 and field in error_of(response)["fields"]


def test_branch_scoping_makes_other_branches_invisible(api):
    jd_customer = _id(api.app_state, Customer, code="C0003")  # the JD dealer
    sh_front = api.as_user["lily"]
    assert api.get(f"/api/v1/customer/{jd_customer}", headers=sh_front).status_code == 404
    assert api.patch(f"/api/v1/customer/{jd_customer}", headers=sh_front,
                     json={"phone": "x"}).status_code == 404
    listing = api.get("/api/v1/customer", headers=sh_front, params={"limit": 500}).json()
    assert jd_customer not in [c["id"] for c in listing["items"]]
    assert api.get(f"/api/v1/customer/{jd_customer}",
                   headers=api.as_user["jdfront"]).status_code == 200
    moved = api.post("/api/v1/customer", headers=sh_front, json={
        "code": "C9100", "name": "越权", "tier": "individual",
        "branch_id": api.get(f"/api/v1/customer/{jd_customer}",
                             headers=api.as_user["root"]).json()["branch_id"]})
    assert moved.status_code == 422 and "branch_id" in error_of(moved)["fields"]


def test_errors_have_one_shape_and_the_right_status(api):
    h = api.as_user["lily"]
    assert error_of(api.get("/api/v1/customer"))["code"] == "unauthenticated"
    bad_token = api.get("/api/v1/customer", headers={"Authorization": "Bearer fdk_x_y"})
    assert bad_token.status_code == 401
    forbidden = api.post("/api/v1/customer", headers=api.as_user["wangli"],
                         json={"code": "C1", "name": "x", "tier": "individual"})
    assert forbidden.status_code == 403 and error_of(forbidden)["code"] == "forbidden"
    missing = api.get("/api/v1/customer/424242", headers=h)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    invalid = api.post("/api/v1/customer", headers=h, json={"name": "", "tier": "royal",
                                                            "colour": "red"})
    fields = error_of(invalid)["fields"]
    assert invalid.status_code == 422 and {"code", "name", "tier", "colour"} <= set(fields)
    duplicate = api.post("/api/v1/customer", headers=h,
                         json={"code": "C0001", "name": "重复", "tier": "individual"})
    assert duplicate.status_code == 409 and "code" in error_of(duplicate)["fields"]
    cannot = api.delete("/api/v1/company/1", headers=api.as_user["root"])
    assert cannot.status_code == 405
    referenced = api.delete(f"/api/v1/customer/{_id(api.app_state, Customer, code='C0001')}",
                            headers=api.as_user["root"])
    assert referenced.status_code == 409
    assert "Traceback" not in referenced.text


def test_printing_through_the_api(api, tmp_path):
    h = api.as_user["lily"]
    equipment = _id(api.app_state, CustomerEquipment, serial_no="E335M820091")
    pdf = api.get(f"/api/v1/customer_equipment/{equipment}/print/kernel.equipment_record",
                  headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "one.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "one.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "申达物流有限公司" in text
    other = _id(api.app_state, CustomerEquipment, serial_no="QXY20614")
    batch = api.post("/api/v1/print/kernel.equipment_record", headers=h,
                     json={"ids": [equipment, other], "lang": "en"})
    assert batch.status_code == 200 and batch.content.startswith(b"%PDF")
    jd_machine = _id(api.app_state, CustomerEquipment, serial_no="LV93X10235")
    assert api.post("/api/v1/print/kernel.equipment_record", headers=h,
                    json={"ids": [jd_machine]}).status_code == 404
    assert api.get("/api/v1/customer/1/print/kernel.equipment_record",
                   headers=h).status_code == 404


def test_plugin_actions(api):
    h = api.as_user["lily"]
    note = api.post("/api/v1/fdt_notes_note", headers=h,
                    json={"title": "复印机卡纸", "amount": "35.50"})
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]
    done = api.post(f"/api/v1/fdt_notes_note/{note_id}/mark_urgent", headers=h,
                    json={"reason": "医院"})
    assert done.status_code == 200 and done.json()["title"] == "[加急] 复印机卡纸 医院"
    again = api.post(f"/api/v1/fdt_notes_note/{note_id}/mark_urgent", headers=h, json={})
    assert again.status_code == 409
    unknown = api.post(f"/api/v1/fdt_notes_note/{note_id}/mark_urgent", headers=h,
                       json={"colour": "red"})
    assert unknown.status_code in (409, 422)
    engineer = api.post(f"/api/v1/fdt_notes_note/{note_id}/mark_urgent",
                        headers=api.as_user["wangli"], json={})
    assert engineer.status_code == 403


def test_cookie_sessions_need_the_csrf_token_for_writes(api):
    from kernel.db import utcnow
    from kernel.web.deps import CSRF_HEADER, SESSION_COOKIE
    from kernel.web.sessions import open_session

    with api.app_state.sessions.begin() as session:
        user_id = get_user(session, "lily").id
        token, csrf = open_session(session, user_id, utcnow(), "127.0.0.1")
    api.cookies.set(SESSION_COOKIE, token)
    assert api.get("/api/v1/me").json()["username"] == "lily"
    body = {"code": "C9200", "name": "跨站", "tier": "individual"}
    refused = api.post("/api/v1/customer", json=body)
    assert refused.status_code == 403 and "CSRF" in error_of(refused)["message"]
    accepted = api.post("/api/v1/customer", json=body, headers={CSRF_HEADER: csrf})
    assert accepted.status_code == 201
    api.cookies.clear()


def test_openapi_document(api):
    spec = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/customer" in spec["paths"]
    assert "/api/v1/fdt_notes_note/{record_id}/mark_urgent" in spec["paths"]
    assert "/api/v1/audit_log" not in spec["paths"]  # internal tables stay internal
    create = spec["components"]["schemas"]["CustomerCreate"]
    assert set(create["required"]) == {"code", "name", "tier"}
    listing = spec["paths"]["/api/v1/customer"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["created_at"]["schema"]["format"] == "date-time"
    assert "individual" in params["tier"]["schema"]["enum"]
    assert {"code", "tier", "q", "sort", "limit", "after"} <= set(params)
    refused = listing["responses"]["422"]["content"]["application/json"]["schema"]
    assert refused == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "error" in spec["components"]["schemas"]["ErrorResponse"]["properties"]
    assert api.get("/api/docs").status_code == 200


def test_apps_of_one_process_share_their_analysed_routes(api, make_site):
    """Routes are built and analysed once per process for each shape (kernel.web.
    shared_routes) and shared by every app; each app still answers for its own site."""
    first = create_app(api.app_state.site)
    second = create_app(api.app_state.site)
    other = create_app(make_site([], company="另一家公司"))

    def included(web, prefix):
        return next(r for r in web.router.routes
                    if getattr(getattr(r, "original_router", None), "prefix", None) == prefix)

    assert included(first, "/api/v1/customer") is included(second, "/api/v1/customer")
    assert included(first, "/api/v1/customer") is included(other, "/api/v1/customer")
    mine = [r for r in first.router.routes if "fdt_notes" in str(getattr(
        getattr(r, "original_router", None), "prefix", ""))]
    assert mine and not any(r in other.router.routes for r in mine)
    with other.state.fixdesk.context() as ctx:
        add_user(ctx, "other", "other", "password-123", get_branch(ctx, "HQ"), roles=["admin"])
        theirs = bearer_headers(ctx, "other")["other"]
    with TestClient(first) as client, TestClient(other) as elsewhere:
        ours = api.as_user["root"]
        assert client.get("/api/v1/fdt_notes_note", headers=ours).status_code == 200
        assert elsewhere.get("/api/v1/fdt_notes_note", headers=theirs).status_code == 404
        # one shared route, each app's own site: demo customers here, none there
        assert client.get("/api/v1/customer", headers=ours).json()["items"]
        assert elsewhere.get("/api/v1/customer", headers=theirs).json()["items"] == []
        assert elsewhere.get("/api/v1/customer", headers=ours).status_code == 401


def test_contacts_and_addresses_follow_their_customers_branch(api):
    sh_front = api.as_user["lily"]
    jd_customer = _id(api.app_state, Customer, code="C0003")
    contacts = api.get("/api/v1/customer_contact", headers=sh_front,
                       params={"customer_id": jd_customer, "count": "true"}).json()
    assert contacts["total"] == 0
    every = api.get("/api/v1/customer_address", headers=sh_front, params={"limit": 500}).json()
    assert jd_customer not in {a["customer_id"] for a in every["items"]}
    admin = api.get("/api/v1/customer_contact", headers=api.as_user["root"],
                    params={"customer_id": jd_customer, "count": "true"}).json()
    assert admin["total"] == 1
    contact_id = admin["items"][0]["id"]
    assert api.get(f"/api/v1/customer_contact/{contact_id}", headers=sh_front).status_code == 404
    assert api.get(f"/api/v1/customer_contact/{contact_id}",
                   headers=api.as_user["jdfront"]).status_code == 200


def test_empty_filter_values(api):
    h = api.as_user["root"]
    assert api.get("/api/v1/customer", headers=h, params={"email": ""}).status_code == 200
    bad = api.get("/api/v1/customer", headers=h, params={"created_at__gte": ""})
    assert bad.status_code == 422
