"""Links to any record through the REST API (the ASGI app), on SQLite and PostgreSQL:
written and read as ``{"entity": ..., "id": ...}``, refused with a 422 naming the field,
filtered, documented in OpenAPI, and a linked record kept from deletion (409)."""

from __future__ import annotations

import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.models import Customer
from kernel.web.app import create_app

MEMOS = "/api/v1/fdt_links_memo"


@pytest.fixture
def api(make_site):
    site = make_site(["fdt_notes", "fdt_links"], demo=True, branch_code="SH",
                     branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        for username, roles, branch in [("root", ["admin"], sh), ("lily", ["front_desk"], sh),
                                        ("boss", ["branch_manager"], sh),
                                        ("jdfront", ["front_desk"], jd)]:
            add_user(ctx, username, username, "password-123", branch, roles=roles)
        headers = bearer_headers(ctx, "root", "lily", "boss", "jdfront")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.as_user = headers
        yield client
    app.close()


def _id(api, cls, **where):
    with api.app_state.sessions() as session:
        return session.scalar(select(cls.id).filter_by(**where))


def _memos(api) -> int:
    with api.app_state.sessions() as session:
        return session.scalar(select(func.count()).select_from(
            api.app_state.entity_class("fdt_links_memo")))


def _note(api) -> int:
    note = api.app_state.entity_class("fdt_notes_note")
    with api.app_state.sessions() as session:
        return session.scalar(select(note.id).order_by(note.id))


def test_create_read_change_and_clear_a_link(api):
    h = api.as_user["lily"]
    c0001, note = _id(api, Customer, code="C0001"), _note(api)
    created = api.post(MEMOS, headers=h, json={
        "title": "回访申达", "about": {"entity": "customer", "id": c0001}})
    assert created.status_code == 201, created.text
    memo = created.json()
    assert memo["about"] == {"entity": "customer", "id": c0001}
    assert memo["see_also"] is None
    assert not {"about_entity", "about_id"} & set(memo)
    assert api.get(f"{MEMOS}/{memo['id']}", headers=h).json() == memo
    changed = api.patch(f"{MEMOS}/{memo['id']}", headers=h, json={
        "about": {"entity": "fdt_notes_note", "id": note},
        "see_also": {"entity": "customer", "id": c0001}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["about"] == {"entity": "fdt_notes_note", "id": note}
    cleared = api.patch(f"{MEMOS}/{memo['id']}", headers=h, json={"about": None})
    assert cleared.status_code == 200 and cleared.json()["about"] is None
    assert cleared.json()["see_also"] == {"entity": "customer", "id": c0001}


@pytest.mark.parametrize("about, message", [
    ({"entity": "branch", "id": 1},
     "cannot link to branch: this link goes to customer, fdt_notes_note"),
    ({"entity": "repair_work_order", "id": 1}, "no entity 'repair_work_order' on this site"),
    ({"entity": "customer", "id": 999999}, "no Customer 999999"),
])
def test_refused_links_are_422_naming_the_field(api, about, message):
    before = _memos(api)
    response = api.post(MEMOS, headers=api.as_user["lily"], json={"title": "x", "about": about})
    assert response.status_code == 422, response.text
    assert error_of(response)["fields"] == {"about": message}
    assert _memos(api) == before


def test_a_record_of_another_branch_reads_as_missing(api):
    jd_customer = _id(api, Customer, code="C0003")
    response = api.post(MEMOS, headers=api.as_user["lily"], json={
        "title": "x", "see_also": {"entity": "customer", "id": jd_customer}})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"see_also": f"no Customer {jd_customer}"}
    unknown = api.post(MEMOS, headers=api.as_user["lily"], json={
        "title": "x", "see_also": {"entity": "nothing_here", "id": 1}})
    assert error_of(unknown)["fields"] == {"see_also": "no entity 'nothing_here' on this site"}
    # the JD front desk links it
    made = api.post(MEMOS, headers=api.as_user["jdfront"], json={
        "title": "嘉定", "see_also": {"entity": "customer", "id": jd_customer}})
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("about, field", [
    ({"entity": "customer"}, "about.id"),
    ({"entity": "customer", "id": 0}, "about.id"),
    ({"entity": "customer", "id": 1, "more": 1}, "about.more"),
    ("customer:1", "about"),
])
def test_malformed_link_bodies_are_422(api, about, field):
    response = api.post(MEMOS, headers=api.as_user["lily"], json={"title": "x", "about": about})
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_filters_on_a_link(api):
    h = api.as_user["lily"]
    c0001, c0002 = _id(api, Customer, code="C0001"), _id(api, Customer, code="C0002")
    note = _note(api)
    ids = {}
    for title, about in (("a", {"entity": "customer", "id": c0001}),
                         ("b", {"entity": "customer", "id": c0002}),
                         ("c", {"entity": "fdt_notes_note", "id": note}), ("d", None)):
        response = api.post(MEMOS, headers=h, json={"title": title, "about": about})
        assert response.status_code == 201, response.text
        ids[title] = response.json()["id"]

    def titles(**params):
        response = api.get(MEMOS, headers=h, params={**params, "sort": "title", "limit": 500})
        assert response.status_code == 200, response.text
        return [m["title"] for m in response.json()["items"] if m["id"] in ids.values()]

    assert titles(about=f"customer:{c0001}") == ["a"]
    assert titles(about__ne=f"customer:{c0001}") == ["b", "c"]
    assert titles(about__in=f"customer:{c0001},fdt_notes_note:{note}") == ["a", "c"]
    assert titles(about__entity="customer") == ["a", "b"]
    assert titles(about="") == ["d"]


@pytest.mark.parametrize("params, field", [
    ({"about": "customer"}, "about"),
    ({"about": "customer:x"}, "about"),
    ({"about__in": "customer:1,nonsense"}, "about__in"),
    ({"about__entity": "Not A Table"}, "about__entity"),
    ({"about__gte": "customer:1"}, "about__gte"),
    ({"about__contains": "cust"}, "about__contains"),
])
def test_malformed_link_filters_are_422_naming_the_filter(api, params, field):
    response = api.get(MEMOS, headers=api.as_user["lily"], params=params)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert field in error["fields"] and error["message"].startswith(f"{field}: ")


def test_deleting_a_linked_customer_is_409_naming_the_referrer(api):
    created = api.post("/api/v1/customer", headers=api.as_user["lily"], json={
        "code": "C9100", "name": "浦东图书馆", "tier": "corporate"}).json()
    memo = api.post(MEMOS, headers=api.as_user["lily"], json={
        "title": "投诉跟进", "about": {"entity": "customer", "id": created["id"]}}).json()
    refused = api.delete(f"/api/v1/customer/{created['id']}", headers=api.as_user["boss"])
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "conflict"
    assert error["message"] == \
        f"cannot delete customer {created['id']}: Memo {memo['id']} (投诉跟进) refers to it"
    assert api.get(f"/api/v1/customer/{created['id']}",
                   headers=api.as_user["lily"]).status_code == 200
    api.patch(f"{MEMOS}/{memo['id']}", headers=api.as_user["lily"], json={"about": None})
    gone = api.delete(f"/api/v1/customer/{created['id']}", headers=api.as_user["boss"])
    assert gone.status_code == 204


def test_openapi_documents_the_link_object_and_its_filters(api):
    spec = api.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    link = schemas["RecordLink"]
    assert set(link["properties"]) == {"entity", "id"} and set(link["required"]) == \
        {"entity", "id"}
    assert link["properties"]["id"]["minimum"] == 1
    create = schemas["FdtLinksMemoCreate"]["properties"]["about"]
    assert {"$ref": "#/components/schemas/RecordLink"} in create["anyOf"]
    assert "customer, fdt_notes_note" in create["description"]
    read = schemas["FdtLinksMemo"]["properties"]["about"]
    assert {"$ref": "#/components/schemas/RecordLink"} in read["anyOf"]
    listing = spec["paths"][MEMOS]["get"]
    params = {p["name"] for p in listing["parameters"]}
    assert {"about", "about__entity", "see_also", "see_also__entity"} <= params
    assert "about__entity=customer" in listing["description"]
