"""Documents that are submitted, through the REST API (the ASGI app), on SQLite and
PostgreSQL; and entities that switch generic operations off, in the API and OpenAPI."""

from __future__ import annotations

import re

import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient

from kernel import records
from kernel.auth import add_user
from kernel.errors import Conflict
from kernel.masterdata import get_branch
from kernel.web.app import create_app


@pytest.fixture
def api(make_site):
    site = make_site(["fdt_ledger"], demo=True, branch_code="SH")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        sh = get_branch(ctx, "SH")
        for username, roles in [("keeper", ["front_desk"]), ("store", ["warehouse_keeper"]),
                                ("wangli", ["engineer"])]:
            add_user(ctx, username, username, None, sh, roles=roles)
        headers = bearer_headers(ctx, "keeper", "store", "wangli")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.as_user = headers
        yield client


def make_entry(api, user="keeper") -> dict:
    h = api.as_user[user]
    created = api.post("/api/v1/fdt_ledger_entry", headers=h, json={"purpose": "入库"})
    assert created.status_code == 201, created.text
    entry = created.json()
    for item, qty in (("A4 纸", 10), ("硒鼓", 2)):
        line = api.post("/api/v1/fdt_ledger_line", headers=h,
                        json={"entry_id": entry["id"], "item": item, "qty": qty})
        assert line.status_code == 201, line.text
    return entry


def lines_of(api, entry_id) -> list[dict]:
    return api.get("/api/v1/fdt_ledger_line", headers=api.as_user["keeper"],
                   params={"entry_id": entry_id, "sort": "id"}).json()["items"]


def test_submit_freeze_cancel_with_reversal_and_amend(api):
    h = api.as_user["keeper"]
    entry = make_entry(api)
    assert re.fullmatch(r"SE-SH-\d{4}-0001", entry["number"])  # the entity's series
    assert entry["docstatus"] == "draft" and entry["amendment_no"] == 0
    url = f"/api/v1/fdt_ledger_entry/{entry['id']}"
    assert api.patch(url, headers=h, json={"purpose": "调拨入库"}).status_code == 200
    first_line = lines_of(api, entry["id"])[0]["id"]
    assert api.patch(f"/api/v1/fdt_ledger_line/{first_line}", headers=h,
                     json={"qty": 12}).status_code == 200

    submitted = api.post(f"{url}/submit", headers=h)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["docstatus"] == "submitted" and submitted.json()["submitted_at"]
    number = entry["number"]
    for refused in (api.patch(url, headers=h, json={"purpose": "改"}),
                    api.delete(url, headers=h),
                    api.patch(f"/api/v1/fdt_ledger_line/{first_line}", headers=h,
                              json={"qty": 1}),
                    api.delete(f"/api/v1/fdt_ledger_line/{first_line}", headers=h),
                    api.post("/api/v1/fdt_ledger_line", headers=h,
                             json={"entry_id": entry["id"], "item": "x", "qty": 1})):
        assert refused.status_code == 409, refused.text
        error = error_of(refused)
        assert error["code"] == "conflict" and number in error["message"]
    assert api.post(f"{url}/submit", headers=h).status_code == 409
    assert api.get(url, headers=h).json()["purpose"] == "调拨入库"

    no_reason = api.post(f"{url}/cancel", headers=h, json={})
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]
    cancelled = api.post(f"{url}/cancel", headers=h, json={"reason": "数量录错"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["docstatus"], cancelled.json()["cancel_reason"]) == \
        ("cancelled", "数量录错")
    ledger = api.get("/api/v1/fdt_ledger_move", headers=h,
                     params={"entry_id": entry["id"], "sort": "id"}).json()["items"]
    assert [(m["item"], m["qty"], m["reversal"]) for m in ledger] == [
        ("A4 纸", 12, False), ("硒鼓", 2, False), ("A4 纸", -12, True), ("硒鼓", -2, True)]

    amended = api.post(f"{url}/amend", headers=h)
    assert amended.status_code == 200, amended.text
    draft = amended.json()
    assert (draft["number"], draft["docstatus"], draft["amended_from_id"]) == \
        (f"{number}-1", "draft", entry["id"])
    assert [(x["item"], x["qty"]) for x in lines_of(api, draft["id"])] == \
        [("A4 纸", 12), ("硒鼓", 2)]
    again = api.post(f"{url}/amend", headers=h)
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"  # amended once
    draft_url = f"/api/v1/fdt_ledger_entry/{draft['id']}"
    assert api.patch(draft_url, headers=h, json={"purpose": "更正"}).status_code == 200
    api.post(f"{draft_url}/submit", headers=h)
    api.post(f"{draft_url}/cancel", headers=h, json={"reason": "再次更正"})
    second = api.post(f"{draft_url}/amend", headers=h).json()
    assert (second["number"], second["amended_from_id"], second["purpose"]) == \
        (f"{number}-2", draft["id"], "更正")


def test_lifecycle_fields_are_not_written_through_the_api(api):
    h = api.as_user["keeper"]
    forged = api.post("/api/v1/fdt_ledger_entry", headers=h,
                      json={"purpose": "入库", "docstatus": "submitted"})
    assert forged.status_code == 422
    entry = make_entry(api)
    for field, value in (("docstatus", "cancelled"), ("amended_from_id", entry["id"]),
                         ("number", "SE-FAKE")):
        changed = api.patch(f"/api/v1/fdt_ledger_entry/{entry['id']}", headers=h,
                            json={field: value})
        assert changed.status_code == 422, (field, changed.text)


def test_lifecycle_permissions(api):
    entry = make_entry(api, user="store")  # a warehouse keeper writes drafts ...
    url = f"/api/v1/fdt_ledger_entry/{entry['id']}"
    refused = api.post(f"{url}/submit", headers=api.as_user["store"])  # ... not submits
    assert refused.status_code == 403 and "fdt_ledger_entry.submit" in error_of(refused)[
        "message"]
    assert api.post(f"{url}/submit", headers=api.as_user["wangli"]).status_code == 403
    assert api.get(url, headers=api.as_user["keeper"]).json()["docstatus"] == "draft"
    assert api.post(f"{url}/submit", headers=api.as_user["keeper"]).status_code == 200
    assert api.post(f"{url}/cancel", headers=api.as_user["store"],
                    json={"reason": "x"}).status_code == 403


def test_switched_off_operations_are_left_out_of_the_api_and_openapi(api):
    spec = api.get("/api/v1/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    # the ledger is made, never changed or deleted (__operations__ = ("create",))
    assert set(paths["/api/v1/fdt_ledger_move"]) == {"get", "post"}
    assert set(paths["/api/v1/fdt_ledger_move/{record_id}"]) == {"get"}
    # a submittable entity offers every generic operation (for its drafts) and its actions
    assert set(paths["/api/v1/fdt_ledger_entry/{record_id}"]) == {"get", "patch", "delete"}
    for action in ("submit", "cancel", "amend"):
        assert set(paths[f"/api/v1/fdt_ledger_entry/{{record_id}}/{action}"]) == {"post"}
    create = schemas["FdtLedgerEntryCreate"]["properties"]
    assert set(create) == {"purpose", "branch_id"}  # state and number are the kernel's
    assert schemas["FdtLedgerEntryCancelParams"]["required"] == ["reason"]
    assert "FdtLedgerMoveUpdate" not in schemas

    h = api.as_user["store"]
    move = api.post("/api/v1/fdt_ledger_move", headers=h,
                    json={"item": "盘点调整", "qty": 1})
    assert move.status_code == 201, move.text
    url = f"/api/v1/fdt_ledger_move/{move.json()['id']}"
    assert api.patch(url, headers=h, json={"qty": 2}).status_code == 405
    assert api.delete(url, headers=h).status_code == 405
    app = api.app_state
    info = app.exposed["fdt_ledger_move"]
    with app.context() as ctx:  # the services refuse as well, even the system
        with pytest.raises(Conflict, match="not changed this way"):
            records.update_record(ctx, info, move.json()["id"], {"qty": 2})
        with pytest.raises(Conflict, match="cannot be deleted"):
            records.delete_record(ctx, info, move.json()["id"])
