"""Parts on repair jobs, over HTTP as staff act (SQLite and PostgreSQL): scenario 2 — a
paid carry-in job whose drum is out of stock waits for parts; the purchase receipt
arrives; the worker's job restarts the order, issues the parts and e-mails the
supervisor. Reserved stock is never issued to another job; returning a line puts the
stock back at its cost; cancelling an order lets its parts go; the ledger equals the
stock throughout. Numbers checked by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from api_tokens import bearer_headers
from desk_sessions import demo_sessions
from fastapi.testclient import TestClient
from sqlalchemy import select
from stock_data import make_stock_data

from kernel.auth import add_user, get_user
from kernel.jobs import Job, Worker
from kernel.masterdata import get_branch
from kernel.web.app import create_app


@pytest.fixture
def shop(staff_site):
    """Repair and inventory at SH: the test parts and warehouses, a keeper ``store``, the
    supervisor 吴芳 with an e-mail address, and API tokens of the staff."""
    web = create_app(staff_site(["repair", "inventory"]))
    app = web.state.fixdesk
    ids = make_stock_data(app)
    with app.context() as ctx:
        add_user(ctx, "store", "孙琴", None, get_branch(ctx, "SH"), roles=["warehouse_keeper"])
        get_user(ctx.session, "wufang").email = "wufang@example.com"
    with app.context() as ctx:
        tokens = bearer_headers(ctx, "zhengli", "wufang", "wanggong", "store")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app, client.web, client.ids, client.tokens = app, web, ids, tokens
        yield client


class Staff:
    """One member of staff's requests."""

    def __init__(self, shop, username):
        self.shop, self.headers = shop, shop.tokens[username]

    def create(self, table, **values) -> dict:
        made = self.shop.post(f"/api/v1/{table}", headers=self.headers, json=values)
        assert made.status_code == 201, made.text
        return made.json()

    def act(self, table, record_id, action, status=200, **params) -> dict:
        done = self.shop.post(f"/api/v1/{table}/{record_id}/{action}", headers=self.headers,
                              json=params)
        assert done.status_code == status, (action, done.text)
        return done.json() if status == 200 else done.json()["error"]

    def order(self, oid, action, status=200, **params) -> dict:
        return self.act("repair_work_order", oid, action, status, **params)

    def list(self, table, **filters) -> list[dict]:
        found = self.shop.get(f"/api/v1/{table}", headers=self.headers,
                              params={"sort": "id", **filters})
        assert found.status_code == 200, found.text
        return found.json()["items"]


def stock(shop, code, house="SH-P") -> tuple[int, int, D]:
    """(on hand, reserved, value) of a part in a warehouse (by code)."""
    from plugins.inventory import ledger
    from plugins.inventory.models import Warehouse

    with shop.app.context() as ctx:
        house_id = ctx.session.scalar(select(Warehouse.id).where(Warehouse.code == house))
        row = ledger.stock_of(ctx, shop.ids[code], house_id)
        return (row.qty, row.reserved, row.value) if row else (0, 0, D("0.00"))


def books_agree(shop) -> bool:
    from plugins.inventory import ledger

    with shop.app.sessions() as session:
        return ledger.check(session) == []


def jobs(shop, name) -> list[Job]:
    with shop.app.sessions() as session:
        return list(session.scalars(select(Job).where(Job.name == name).order_by(Job.id)))


def mails(shop, template) -> list[tuple[str, str]]:
    """(to, order number) of the queued e-mails from ``template``."""
    return [(j.payload["to"], j.payload["context"]["number"]) for j in jobs(shop, "kernel.notify")
            if j.payload["template"] == template]


def paid_carry_in(front, boss, engineer, serial) -> int:
    """A walk-in job for the machine ``serial``, dispatched to 王建国, diagnosed, quoted and
    accepted: ready to start. Its id."""
    made = front.shop.post("/api/repair/work_orders", headers=front.headers, json={
        "channel": "walk_in", "equipment": serial, "fault_description": "复印件有黑线"})
    assert made.status_code == 201, made.text
    oid = made.json()["id"]
    assert made.json()["service_mode"] == "carry_in" and made.json()["category"] == "A"
    boss.order(oid, "dispatch", engineer="E001")
    engineer.order(oid, "diagnose", diagnosis="感光鼓磨损，需更换")
    engineer.order(oid, "quote", labour="120.00", parts="437.00", travel="0")
    front.order(oid, "accept_quote", note="客户同意")
    return oid


def receive_stock(store, ids, code, qty, cost):
    """A keeper's stock entry receiving ``qty`` of a part into SH-P."""
    entry = store.create("inventory_stock_entry", purpose="receipt", to_warehouse_id=ids["SH-P"])
    store.create("inventory_stock_entry_line", entry_id=entry["id"], part_id=ids[code],
                 qty=qty, unit_cost=cost)
    store.act("inventory_stock_entry", entry["id"], "submit")


def test_a_job_waits_for_its_drum_and_resumes_when_the_receipt_arrives(shop):
    front, boss, engineer, store = (Staff(shop, u) for u in
                                    ("zhengli", "wufang", "wanggong", "store"))
    ids = shop.ids
    receive_stock(store, ids, "TN-2206", 3, "95.00")
    # the drum is on order, nothing in stock
    po = store.create("inventory_purchase_order", supplier_id=ids["SUP1"],
                      warehouse_id=ids["SH-P"])
    store.create("inventory_purchase_order_line", order_id=po["id"], part_id=ids["DR-2206"],
                 qty=2, unit_price="370.00")
    store.act("inventory_purchase_order", po["id"], "submit")

    # 周志华's Canon comes in; the repair starts, the drum is added by its code alone
    oid = paid_carry_in(front, boss, engineer, "QXY20614")
    assert engineer.order(oid, "start")["status"] == "in_repair"
    order = engineer.order(oid, "add_part", part_code="DR-2206", quantity=1)
    assert order["status"] == "waiting_parts"  # short while repairing: it waits
    (drum,) = engineer.list("repair_work_order_line", order_id=oid)
    assert (drum["description"], drum["unit_cost"]) == ("硒鼓 iR 2206", "380.00")
    [history] = [h for h in engineer.list("repair_status_change", order_id=oid)
                 if h["event"] == "wait_for_parts"]
    assert "DR-2206" in history["reason"] and "1" in history["reason"]
    assert mails(shop, "inventory_parts_short") == [("wufang@example.com",
                                                     order["number"])]
    # the toner is there: held for the job (not issued while it waits)
    engineer.order(oid, "add_part", part_code="TN-2206", quantity=1)
    assert stock(shop, "TN-2206") == (3, 1, D("285.00"))
    (held,) = [r for r in store.list("inventory_reservation", job=f"repair_work_order:{oid}")
               if r["part_id"] == ids["DR-2206"]]
    assert (held["reserved"], held["short"], held["status"]) == (0, 1, "short")
    # an unknown code stays free text: nothing reserved
    engineer.order(oid, "add_part", part_code="XX-1", description="定影灯管", quantity=1,
                   unit_cost="30.00")
    assert len(store.list("inventory_reservation", job=f"repair_work_order:{oid}")) == 2

    # the list shows what the job waits for, computed for the whole page
    from plugins.inventory.repair_glue import awaiting_parts

    with shop.app.context() as ctx:
        orders = ctx.app.entity_class("repair_work_order")
        assert awaiting_parts(ctx, list(ctx.session.scalars(select(orders)))) == {oid: 1}

    # reserved stock is never issued to another job: 2 toner free, 3 asked for another job
    other = engineer.create("inventory_requisition", engineer_id=_employee(shop, "E001"),
                            warehouse_id=ids["SH-P"],
                            job={"entity": "customer", "id": _customer(shop, "C0001")})
    engineer.create("inventory_requisition_line", requisition_id=other["id"],
                    part_id=ids["TN-2206"], qty=3)
    engineer.act("inventory_requisition", other["id"], "submit")
    boss.act("inventory_requisition", other["id"], "approve")
    refused = store.act("inventory_requisition", other["id"], "issue", 409)
    assert "TN-2206" in refused["message"] and "2" in refused["message"]
    assert stock(shop, "TN-2206") == (3, 3, D("285.00"))  # nothing issued
    boss.act("inventory_requisition", other["id"], "reject", reason="客户改用原装墨粉")
    assert stock(shop, "TN-2206") == (3, 1, D("285.00"))

    # Thursday: the drums arrive on the purchase receipt (2 at ¥370)
    store.act("inventory_purchase_order", po["id"], "receive")
    receipt = store.list("inventory_purchase_receipt", order_id=po["id"])[-1]
    store.act("inventory_purchase_receipt", receipt["id"], "submit")
    assert stock(shop, "DR-2206") == (2, 1, D("740.00"))  # one held for the job
    (resume,) = jobs(shop, "inventory.resume_repair_job")
    assert resume.payload == {"order_id": oid}
    assert Worker(shop.app).run_one(resume.id) is True
    order = engineer.list("repair_work_order", id=oid)[0]
    assert order["status"] == "in_repair"
    events = [h["event"] for h in engineer.list("repair_status_change", order_id=oid)]
    assert events[-3:] == ["start", "wait_for_parts", "start"]
    assert mails(shop, "inventory_parts_arrived") == [("wufang@example.com",
                                                       order["number"])]
    # the start issued drum and toner on a system stock entry of the job
    assert stock(shop, "DR-2206") == (1, 0, D("370.00"))
    assert stock(shop, "TN-2206") == (2, 0, D("190.00"))
    (issue,) = store.list("inventory_stock_entry", job=f"repair_work_order:{oid}")
    assert (issue["purpose"], issue["docstatus"]) == ("issue", "submitted")
    entries = store.list("inventory_ledger_entry", voucher_id=issue["id"],
                         voucher_entity="inventory_stock_entry")
    lines = {x["id"] for x in store.list("inventory_stock_entry_line", entry_id=issue["id"])}
    assert sorted((e["part_id"], e["qty_change"], e["unit_cost"]) for e in entries) == sorted(
        [(ids["DR-2206"], -1, "370.00"), (ids["TN-2206"], -1, "95.00")])
    assert {e["voucher_line_id"] for e in entries} == lines
    # the job runs again: nothing more happens
    with shop.app.context() as ctx:
        ctx.enqueue("inventory.resume_repair_job", {"order_id": oid})
    Worker(shop.app).run_one(jobs(shop, "inventory.resume_repair_job")[-1].id)
    assert len(mails(shop, "inventory_parts_arrived")) == 1
    assert len(store.list("inventory_stock_entry", job=f"repair_work_order:{oid}")) == 1
    # the system's entry is not cancelled by hand: the line is returned on the order
    refused = store.act("inventory_stock_entry", issue["id"], "cancel", 409,
                        reason="录错")
    assert issue["number"] in refused["message"]

    # a toner line added while repairing is issued at once; given back, it returns at ¥95
    engineer.order(oid, "add_part", part_code="TN-2206", quantity=1)
    assert stock(shop, "TN-2206") == (1, 0, D("95.00"))
    extra = engineer.list("repair_work_order_line", order_id=oid)[-1]
    engineer.order(oid, "return_part", line_id=extra["id"], reason="没用上")
    assert stock(shop, "TN-2206") == (2, 0, D("190.00"))
    back = store.list("inventory_stock_entry", job=f"repair_work_order:{oid}",
                      purpose="return")
    assert len(back) == 1 and back[0]["docstatus"] == "submitted"

    # the form's block: per line reserved / short / issued / returned and the warehouse
    from plugins.inventory.repair_glue import parts_section

    with shop.app.context(user="wufang") as ctx:
        section = parts_section(ctx, ctx.session.get(
            ctx.app.entity_class("repair_work_order"), oid))
    assert section.rows == (
        ("硒鼓 iR 2206 (DR-2206)", 1, "上海配件库", 0, 0, 1, 0),
        ("墨粉 iR 2206 (TN-2206)", 1, "上海配件库", 0, 0, 1, 0),
        ("定影灯管 (XX-1)", 1, "free text", "", "", "", ""),
        ("墨粉 iR 2206 (TN-2206) (given back)", 1, "上海配件库", 0, 0, 1, 1))
    with demo_sessions(shop.web) as open_session:
        desk = open_session("wufang")
        form, listed = desk.get(f"/desk/repair_work_order/{oid}"), desk.get(
            "/desk/repair_work_order?all=1")
    assert form.status_code == 200 and "配件与库存" in form.text and "上海配件库" in form.text
    assert listed.status_code == 200 and "待料" in listed.text
    engineer.order(oid, "complete", method="更换感光鼓", cause="感光鼓超寿命")

    # 王建国's van carries one toner: his next job takes a toner from the van, two from
    # the parts warehouse, and two drums of which one is there. Starting it issues what is
    # held and it waits for the other drum; cancelled, everything goes back
    van = store.create("inventory_warehouse", code="VAN-E001", name="王建国车载库",
                       kind="van", engineer_id=_employee(shop, "E001"))
    entry = store.create("inventory_stock_entry", purpose="receipt", to_warehouse_id=van["id"])
    store.create("inventory_stock_entry_line", entry_id=entry["id"], part_id=ids["TN-2206"],
                 qty=1, unit_cost="95.00")
    store.act("inventory_stock_entry", entry["id"], "submit")
    second = paid_carry_in(front, boss, engineer, "E335M820091")
    for code, qty in (("TN-2206", 1), ("TN-2206", 2), ("DR-2206", 2)):
        engineer.order(second, "add_part", part_code=code, quantity=qty)
    job = f"repair_work_order:{second}"
    assert [(r["warehouse_id"], r["qty"], r["reserved"], r["short"]) for r in store.list(
        "inventory_reservation", job=job)] == [
        (van["id"], 1, 1, 0), (ids["SH-P"], 2, 2, 0), (ids["SH-P"], 2, 1, 1)]
    assert engineer.order(second, "start")["status"] == "waiting_parts"
    assert [h["event"] for h in engineer.list("repair_status_change", order_id=second)][-2:] \
        == ["start", "wait_for_parts"]
    assert len(mails(shop, "inventory_parts_short")) == 2
    assert (stock(shop, "TN-2206", "VAN-E001"), stock(shop, "TN-2206"),
            stock(shop, "DR-2206")) == ((0, 0, D("0.00")), (0, 0, D("0.00")),
                                        (0, 0, D("0.00")))
    boss.order(second, "cancel", reason="客户不修了")
    assert (stock(shop, "TN-2206", "VAN-E001"), stock(shop, "TN-2206"),
            stock(shop, "DR-2206")) == ((1, 0, D("95.00")), (2, 0, D("190.00")),
                                        (1, 0, D("370.00")))
    assert {r["status"] for r in store.list("inventory_reservation", job=job)} == {"released"}
    assert len(store.list("inventory_stock_entry", job=job, purpose="return")) == 3  # a line each
    assert books_agree(shop)


def _employee(shop, code) -> int:
    from kernel.models import Employee

    with shop.app.sessions() as session:
        return session.scalar(select(Employee.id).where(Employee.code == code))


def _customer(shop, code) -> int:
    from kernel.models import Customer

    with shop.app.sessions() as session:
        return session.scalar(select(Customer.id).where(Customer.code == code))
