"""Customers' pre-orders (R25) over HTTP on a parts shop (SQLite and PostgreSQL): the front
desk takes two pre-orders of drums; a receipt of 3 serves the first fully (arrived, the
customer told by SMS by the worker's job, once) and the second partly; the first is
collected (issued on a system stock entry), the second arrives with the next receipt and
is told by e-mail, then cancelled, letting its drums go. The ledger equals the stock."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import select
from stock_data import make_stock_data

from kernel import hookimpl
from kernel.auth import add_user
from kernel.jobs import Job, Worker
from kernel.masterdata import get_branch
from kernel.web.app import create_app

PRE = "inventory_customer_order"


class SmsGateway:
    """A plugin delivering SMS (so the customer is told by SMS when there is a phone)."""

    @hookimpl
    def fixdesk_send_notification(self, message):
        return None


@pytest.fixture
def shop(staff_site):
    web = create_app(staff_site(["inventory"]))
    app = web.state.fixdesk
    ids = make_stock_data(app)
    with app.context() as ctx:
        add_user(ctx, "store", "孙琴", None, get_branch(ctx, "SH"), roles=["warehouse_keeper"])
    with app.context() as ctx:
        tokens = bearer_headers(ctx, "zhengli", "store")
    app.pm.register(SmsGateway(), name="sms_gateway")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app, client.ids, client.tokens = app, ids, tokens
        yield client
    app.pm.unregister(name="sms_gateway")


def call(shop, user, method, url, status=200, **body):
    answer = shop.request(method, url, headers=shop.tokens[user], json=body or None)
    assert answer.status_code == status, (url, answer.text)
    return answer.json() if status < 300 else answer.json()["error"]


def receive(shop, qty):
    entry = call(shop, "store", "POST", "/api/v1/inventory_stock_entry", 201,
                 purpose="receipt", to_warehouse_id=shop.ids["SH-P"])
    call(shop, "store", "POST", "/api/v1/inventory_stock_entry_line", 201,
         entry_id=entry["id"], part_id=shop.ids["DR-2206"], qty=qty, unit_cost="380.00")
    call(shop, "store", "POST", f"/api/v1/inventory_stock_entry/{entry['id']}/submit")


def pre_order(shop, record_id) -> dict:
    return call(shop, "zhengli", "GET", f"/api/v1/{PRE}/{record_id}")


def run_tell_jobs(shop) -> list[dict]:
    """Run the queued ``inventory.tell_customer`` jobs; the messages they queued."""
    with shop.app.sessions() as session:
        queued = session.scalars(select(Job.id).where(Job.name == "inventory.tell_customer",
                                                      Job.status == "queued")).all()
    for job_id in queued:
        Worker(shop.app).run_one(job_id)
    with shop.app.sessions() as session:
        return [j.payload for j in session.scalars(select(Job).where(
            Job.name == "kernel.notify").order_by(Job.id))]


def drums(shop) -> tuple[int, int, D]:
    from plugins.inventory import ledger

    with shop.app.context() as ctx:
        row = ledger.stock_of(ctx, shop.ids["DR-2206"], shop.ids["SH-P"])
        return row.qty, row.reserved, row.value


def test_pre_orders_arrive_are_told_collected_and_cancelled(shop):
    from kernel.models import Customer

    with shop.app.sessions() as session:
        customers = {c.code: c.id for c in session.scalars(select(Customer))}
    first = call(shop, "zhengli", "POST", f"/api/v1/{PRE}", 201, customer_id=customers["C0002"],
                 part_id=shop.ids["DR-2206"], qty=2, warehouse_id=shop.ids["SH-P"],
                 contact_name="周志华", phone="138 0013 5678")
    second = call(shop, "zhengli", "POST", f"/api/v1/{PRE}", 201,
                  customer_id=customers["C0001"], part_id=shop.ids["DR-2206"], qty=2,
                  warehouse_id=shop.ids["SH-P"], contact_name="钱经理",
                  email="qian@example.com")
    assert (first["status"], first["number"][:6]) == ("waiting", "CO-SH-")
    refused = call(shop, "zhengli", "POST", f"/api/v1/{PRE}/{first['id']}/collect", 409)
    assert refused["code"] == "conflict"

    # 3 drums arrive: the first pre-order is served, the second gets 1 of its 2
    receive(shop, 3)
    first, second = pre_order(shop, first["id"]), pre_order(shop, second["id"])
    assert (first["status"], bool(first["arrived_at"]), first["notified_at"]) == (
        "arrived", True, None)
    assert second["status"] == "waiting"
    assert drums(shop) == (3, 3, D("1140.00"))
    sent = run_tell_jobs(shop)
    assert [(m["channel"], m["to"], m["template"]) for m in sent] == [
        ("sms", "138 0013 5678", "inventory_preorder_arrived")]
    assert sent[0]["context"]["number"] == first["number"]
    assert pre_order(shop, first["id"])["notified_at"]
    # the job runs again: the customer is not told twice
    with shop.app.context() as ctx:
        ctx.enqueue("inventory.tell_customer", {"order_id": first["id"]})
    assert len(run_tell_jobs(shop)) == 1

    # the customer collects: the drums are issued on a system stock entry of the pre-order
    done = call(shop, "zhengli", "POST", f"/api/v1/{PRE}/{first['id']}/collect")
    assert (done["status"], bool(done["collected_at"])) == ("collected", True)
    assert drums(shop) == (1, 1, D("380.00"))
    (entry,) = call(shop, "store", "GET", f"/api/v1/inventory_stock_entry?job={PRE}:"
                    f"{first['id']}")["items"]
    assert (entry["purpose"], entry["docstatus"]) == ("issue", "submitted")
    call(shop, "zhengli", "POST", f"/api/v1/{PRE}/{first['id']}/cancel", 409)

    # the next drum completes the second pre-order: told by e-mail (no phone)
    receive(shop, 1)
    assert pre_order(shop, second["id"])["status"] == "arrived"
    sent = run_tell_jobs(shop)
    assert [(m["channel"], m["to"]) for m in sent][-1] == ("email", "qian@example.com")
    # cancelled: its drums are free again
    assert call(shop, "zhengli", "POST", f"/api/v1/{PRE}/{second['id']}/cancel")[
        "status"] == "cancelled"
    assert drums(shop) == (2, 0, D("760.00"))

    from plugins.inventory import ledger

    with shop.app.sessions() as session:
        assert ledger.check(session) == []
