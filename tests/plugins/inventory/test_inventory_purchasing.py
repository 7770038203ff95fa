"""Purchasing with inspection (R21) through the REST API: suppliers approved, a purchase
request from the reorder suggestions (plus a line by hand) approved and turned into one
order per supplier, a partial receipt with a rejected unit on a return note, an
over-receipt refused with nothing written, the rest received, a receipt whose stock was
used refused to cancel and then cancelled, an order closed; reorder suggestions with
stock on order and reserved. Numbers checked by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from stock_data import make_stock_data

from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.web.app import create_app


@pytest.fixture
def api(make_site):
    """The web app of a site with inventory alone and the test master data; a warehouse
    keeper ``store`` and a branch manager ``boss`` of SH with API tokens."""
    site = make_site(["inventory"], branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    ids = make_stock_data(app)
    with app.context() as ctx:
        sh = get_branch(ctx, "SH")
        add_user(ctx, "store", "孙琴", "demo1234", sh, roles=["warehouse_keeper"])
        add_user(ctx, "boss", "黄涛", None, sh, roles=["branch_manager"])
        headers = bearer_headers(ctx, "store", "boss")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state, client.ids, client.as_user, client.web = app, ids, headers, web
        yield client


class Clerk:
    """One user's calls: create records, run actions, list records."""

    def __init__(self, api, username):
        self.api, self.headers = api, api.as_user[username]

    def create(self, table, **values) -> dict:
        made = self.api.post(f"/api/v1/{table}", headers=self.headers, json=values)
        assert made.status_code == 201, made.text
        return made.json()

    def patch(self, table, record_id, **values) -> dict:
        changed = self.api.patch(f"/api/v1/{table}/{record_id}", headers=self.headers,
                                 json=values)
        assert changed.status_code == 200, changed.text
        return changed.json()

    def act(self, table, record_id, action, status=200, **params):
        """Run an action; answer the record, or the error when ``status`` is not 200."""
        done = self.api.post(f"/api/v1/{table}/{record_id}/{action}", headers=self.headers,
                             json=params)
        assert done.status_code == status, done.text
        return done.json() if status == 200 else done.json()["error"]

    def list(self, table, **filters) -> list[dict]:
        found = self.api.get(f"/api/v1/{table}", headers=self.headers,
                             params={"sort": "id", **filters})
        assert found.status_code == 200, found.text
        return found.json()["items"]


def counts(api) -> tuple[int, int]:
    """How many ledger entries and supplier return notes there are."""
    from plugins.inventory.models import LedgerEntry, SupplierReturn

    with api.app_state.context() as ctx:
        return tuple(ctx.session.scalar(select(func.count()).select_from(cls))
                     for cls in (LedgerEntry, SupplierReturn))


def stock(api, part) -> tuple[int, D]:
    from plugins.inventory import ledger

    with api.app_state.context() as ctx:
        row = ledger.stock_of(ctx, api.ids[part], api.ids["SH-P"])
        return (row.qty, row.value) if row else (0, D("0.00"))


def test_purchasing_from_request_to_receipts_through_the_api(api):
    store, boss, ids = Clerk(api, "store"), Clerk(api, "boss"), api.ids
    house = ids["SH-P"]

    # a new supplier is pending until a branch manager approves it
    sup3 = store.create("inventory_supplier", code="SUP3", name="理光配件华东仓")
    assert sup3["status"] == "pending"
    assert store.act("inventory_supplier", sup3["id"], "approve", 403)["code"]
    assert boss.act("inventory_supplier", sup3["id"], "approve")["status"] == "approved"

    # an order to a supplier that is not approved is refused, naming supplier_id
    bad = store.create("inventory_purchase_order", supplier_id=ids["SUP2"], warehouse_id=house)
    store.create("inventory_purchase_order_line", order_id=bad["id"], part_id=ids["FU-2206"],
                 qty=1, unit_price="600.00")
    refused = store.act("inventory_purchase_order", bad["id"], "submit", 422)
    assert set(refused["fields"]) == {"supplier_id"} and "未审核供应商" in refused["message"]
    assert store.list("inventory_purchase_order", id=bad["id"])[0]["docstatus"] == "draft"

    # nothing in stock: DR-2206 (level 2, reorder 5) and TN-2206 (level 5, reorder 10)
    store.act("inventory_warehouse", house, "request_reorder", needed_by="2030-01-15")
    request = store.list("inventory_purchase_request")[-1]
    store.create("inventory_purchase_request_line", request_id=request["id"],
                 part_id=ids["FU-2206"], qty=1, supplier_id=sup3["id"])
    lines = store.list("inventory_purchase_request_line", request_id=request["id"])
    assert [(x["part_id"], x["qty"]) for x in lines] == [
        (ids["DR-2206"], 5), (ids["TN-2206"], 10), (ids["FU-2206"], 1)]
    rid = request["id"]
    assert store.act("inventory_purchase_request", rid, "submit")["status"] == "pending"
    assert store.act("inventory_purchase_request", rid, "approve", 403)["code"]
    assert boss.act("inventory_purchase_request", rid, "approve")["status"] == "approved"
    assert store.act("inventory_purchase_request", rid, "make_orders")["status"] == "ordered"
    orders = store.list("inventory_purchase_order", request_id=rid)
    assert [(o["supplier_id"], o["warehouse_id"], o["docstatus"], o["expected_on"])
            for o in orders] == [(ids["SUP1"], house, "draft", "2030-01-15"),
                                 (sup3["id"], house, "draft", "2030-01-15")]
    po, fu_po = orders[0]["id"], orders[1]["id"]
    assert [(x["part_id"], x["qty"], x["unit_price"], x["request_line_id"] is not None)
            for x in store.list("inventory_purchase_order_line", order_id=po)] == [
        (ids["DR-2206"], 5, "380.00", True), (ids["TN-2206"], 10, "95.00", True)]
    assert store.act("inventory_purchase_order", po, "submit")["status"] == "to_receive"
    # what is on order counts: nothing is below its level any more
    assert store.act("inventory_warehouse", house, "request_reorder", 409)["code"] == "conflict"

    # first delivery: 3 drums, one of them broken, and all the toner
    store.act("inventory_purchase_order", po, "receive")
    first = store.list("inventory_purchase_receipt", order_id=po)[-1]
    assert first["docstatus"] == "draft" and first["number"].startswith("GR-SH-")
    drum, toner = store.list("inventory_purchase_receipt_line", receipt_id=first["id"])
    assert [(x["accepted_qty"], x["rejected_qty"], x["unit_price"]) for x in (drum, toner)] == \
        [(5, 0, "380.00"), (10, 0, "95.00")]
    store.patch("inventory_purchase_receipt_line", drum["id"], accepted_qty=2, rejected_qty=1)
    no_reason = store.act("inventory_purchase_receipt", first["id"], "submit", 422)
    assert set(no_reason["fields"]) == {"reject_reason"} and "DR-2206" in no_reason["message"]
    store.patch("inventory_purchase_receipt_line", drum["id"], reject_reason="外壳破损")
    assert store.act("inventory_purchase_receipt", first["id"], "submit")["docstatus"] == \
        "submitted"
    assert store.list("inventory_purchase_order", id=po)[0]["status"] == "partly_received"
    assert (stock(api, "DR-2206"), stock(api, "TN-2206")) == ((2, D("760.00")),
                                                              (10, D("950.00")))
    (note,) = store.list("inventory_supplier_return", receipt_id=first["id"])
    assert (note["docstatus"], note["supplier_id"], note["number"][:6]) == \
        ("submitted", ids["SUP1"], "RT-SH-")
    assert [(x["part_id"], x["qty"], x["reason"]) for x in store.list(
        "inventory_supplier_return_line", return_id=note["id"])] == \
        [(ids["DR-2206"], 1, "外壳破损")]

    # second delivery: 2 drums are still to come; 3 are refused, and nothing is written
    store.act("inventory_purchase_order", po, "receive")
    second = store.list("inventory_purchase_receipt", order_id=po)[-1]
    (line,) = store.list("inventory_purchase_receipt_line", receipt_id=second["id"])
    assert (line["part_id"], line["accepted_qty"]) == (ids["DR-2206"], 2)
    store.patch("inventory_purchase_receipt_line", line["id"], accepted_qty=3)
    before = counts(api)
    over = store.act("inventory_purchase_receipt", second["id"], "submit", 409)
    assert "DR-2206" in over["message"] and "only 2 still to come" in over["message"]
    assert counts(api) == before
    assert store.list("inventory_purchase_receipt", id=second["id"])[0]["docstatus"] == "draft"
    store.patch("inventory_purchase_receipt_line", line["id"], accepted_qty=2)
    store.act("inventory_purchase_receipt", second["id"], "submit")
    assert store.list("inventory_purchase_order", id=po)[0]["status"] == "received"
    assert stock(api, "DR-2206") == (4, D("1520.00"))
    assert store.act("inventory_purchase_order", po, "receive", 409)["code"] == "conflict"

    # 5 toners are issued: the first receipt cannot be cancelled (10 would go out again)
    issue = store.create("inventory_stock_entry", purpose="issue", from_warehouse_id=house)
    store.create("inventory_stock_entry_line", entry_id=issue["id"], part_id=ids["TN-2206"],
                 qty=5)
    store.act("inventory_stock_entry", issue["id"], "submit")
    before = counts(api)
    short = store.act("inventory_purchase_receipt", first["id"], "cancel", 409, reason="退错")
    assert "TN-2206" in short["message"] and "short by 5" in short["message"]
    assert counts(api) == before
    store.act("inventory_stock_entry", issue["id"], "cancel", reason="领错")
    store.act("inventory_purchase_receipt", first["id"], "cancel", reason="供应商发错批次")
    assert store.list("inventory_supplier_return", id=note["id"])[0]["docstatus"] == \
        "cancelled"
    assert store.list("inventory_purchase_order", id=po)[0]["status"] == "partly_received"
    assert (stock(api, "DR-2206"), stock(api, "TN-2206")) == ((2, D("760.00")),
                                                              (0, D("0.00")))

    # the other supplier's order is closed: nothing more comes, nothing more is received
    store.act("inventory_purchase_order", fu_po, "submit")
    assert store.act("inventory_purchase_order", fu_po, "close")["status"] == "closed"
    assert store.act("inventory_purchase_order", fu_po, "receive", 409)["code"] == "conflict"

    _refused_requests(store, boss, ids)
    with TestClient(api.web, follow_redirects=False) as desk:  # the order's form
        assert desk.post("/login", data={"username": "store", "password": "demo1234"}
                         ).status_code == 303
        page = desk.get(f"/desk/inventory_purchase_order/{po}")
        assert page.status_code == 200
        assert first["number"] in page.text and note["number"] in page.text
    _check_form_and_suggestions(api, po, first["id"])


def _check_form_and_suggestions(api, po, first):
    """The order's form section and received_by_line agree with the receipts; the reorder
    suggestions count stock, reservations and what is still to come."""
    from plugins.inventory import ledger, purchasing
    from plugins.inventory.models import PurchaseOrder

    ids = api.ids
    with api.app_state.context("store") as ctx:
        order = ctx.session.get(PurchaseOrder, po)
        section = purchasing.FORM_SECTIONS[0].build(ctx, order)
        assert [row[1:] for row in section.rows] == [("5", "2", "0", "3"),
                                                     ("10", "0", "0", "10")]
        assert section.rows[0][0].startswith("DR-2206") and section.summary[0][1] == "13"
        receipts = purchasing.FORM_SECTIONS[1].build(ctx, order)
        assert [(row[0][1], row[2:4]) for row in receipts.rows] == [
            (f"/desk/inventory_purchase_receipt/{first}", ("12", "1")),
            (f"/desk/inventory_purchase_receipt/{first + 1}", ("2", "0"))]
        assert receipts.rows[0][4][1].startswith("/desk/inventory_supplier_return/")
        assert {r.still_to_come for r in purchasing.received_by_line(ctx, [po]).values()} == \
            {3, 10}
        # DR: 2 on hand + 3 to come ≥ 2; TN: 0 + 10 to come ≥ 5
        assert purchasing.reorder_suggestions(ctx, ids["branch"]) == []
        purchasing.close_order(ctx, order)
        ledger.reserve(ctx, ids["DR-2206"], ids["SH-P"], 1, job=None, source=None)
        found = purchasing.reorder_suggestions(ctx, ids["branch"])
        # DR: 2 − 1 reserved = 1 < 2 → the reorder quantity 5; TN: 0 < 5 → 10
        assert [(s.code, s.on_hand, s.reserved, s.on_order, s.qty) for s in found] == [
            ("DR-2206", 2, 1, 0, 5), ("TN-2206", 0, 0, 0, 10)]
        toner = ledger.entries_of(ctx, "inventory_purchase_receipt", first)[1]
        posted = toner.posted_at.astimezone(ctx.settings.tz).date()
        assert (toner.qty_change, toner.expires_on) == (10, posted + dt.timedelta(days=365))
        assert ledger.check(ctx.session) == []


def _refused_requests(store, boss, ids) -> None:
    """A part whose supplier is not approved stops make_orders (naming the part, making
    no order); a rejection needs a note; a rejected request is not ordered."""
    requests = []
    for supplier in (ids["SUP2"], None):
        request = store.create("inventory_purchase_request", reason="手工请购")
        store.create("inventory_purchase_request_line", request_id=request["id"],
                     part_id=ids["FU-2206"], qty=1, supplier_id=supplier)
        store.act("inventory_purchase_request", request["id"], "submit")
        requests.append(request["id"])
    orders = len(store.list("inventory_purchase_order"))
    boss.act("inventory_purchase_request", requests[0], "approve", note="同意")
    refused = store.act("inventory_purchase_request", requests[0], "make_orders", 422)
    assert set(refused["fields"]) == {"supplier_id"} and "FU-2206" in refused["message"]
    assert len(store.list("inventory_purchase_order")) == orders
    assert store.list("inventory_purchase_request", id=requests[0])[0]["status"] == "approved"
    assert set(boss.act("inventory_purchase_request", requests[1], "reject", 422)["fields"]) \
        == {"note"}
    rejected = boss.act("inventory_purchase_request", requests[1], "reject", note="库存够用")
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "库存够用")
    assert store.act("inventory_purchase_request", requests[1], "make_orders", 409)["code"]

