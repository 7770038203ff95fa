"""Billing with repair (parts ``billing.repair`` and ``billing.invoicing``, and inventory's
``inventory.billing``): quotes priced by the rules, job charges, invoices on completion,
on-site collection — over HTTP, on SQLite and PostgreSQL.

Scenario 2 (SCENARIOS.md), hand-checked: 周志华 walks in with his Canon iR 2206 (QXY20614,
two years old: out of warranty, category A, carry-in). 李明 (E002, regular grade)
diagnoses a worn drum; the drum (inventory's part DRUM-2206, category DRUM, purchase
price ¥380.00) is marked up by the company's markup for every part, 15 %:
380.00 × 1.15 = ¥437.00; labour for a medium repair by a regular engineer ¥120.00; no
travel (carry-in): ¥557.00 (人民币伍佰伍拾柒元整). Completed, the job is invoiced at once
(SH invoices each job): labour 120.00 + drum 1 × 437.00 = 557.00, VAT 13 % included
(64.08).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_tokens import bearer_headers
from desk_sessions import demo_sessions
from fastapi.testclient import TestClient
from pdf_tools import pdftotext
from query_count import counting
from sqlalchemy import func, select

from kernel.auth import add_user, get_user
from kernel.masterdata import get_branch
from kernel.models import Employee
from kernel.settings import set_setting
from kernel.web.app import create_app

PLUGINS = ["repair", "inventory", "billing"]
ORDERS = "/api/v1/repair_work_order"


@pytest.fixture
def site(quiet_site):
    return quiet_site(PLUGINS)


@pytest.fixture
def desk(site):
    """HTTP client of a repair + inventory + billing site; ``desk.tokens[user]`` bearer
    headers of admin, the SH front desk, supervisor and engineers 李明 (E002, regular) and
    王工 (E001, senior), JD's supervisor and engineer; ``desk.app`` the started app,
    ``desk.app_web`` the ASGI app."""
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        add_user(ctx, "liming", "李明", "password-123", get_branch(ctx, "SH"),
                 roles=["engineer"])
    with app.context() as ctx:
        get_user(ctx.session, "liming").employee_id = ctx.session.scalar(
            select(Employee.id).where(Employee.code == "E002"))
    with app.context() as ctx:
        tokens = bearer_headers(ctx, "admin", "zhengli", "wufang", "liming", "wanggong",
                                "huangtao", "zhaolei")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.tokens, client.app, client.site, client.app_web = tokens, app, site, web
        yield client


def _ok(answer, status=200):
    assert answer.status_code == status, answer.text
    return answer.json()


def _rules(desk) -> None:
    """The company's price rules, through the API as an accountant would type them: labour
    for a medium repair by a regular engineer ¥120, by a senior one ¥150; 15 % on every
    part; a travel zone."""
    admin = desk.tokens["admin"]
    for grade, amount in (("regular", "120.00"), ("senior", "150.00")):
        _ok(desk.post("/api/v1/billing_labour_rate", headers=admin, json={
            "grade": grade, "difficulty": "medium", "amount": amount}), 201)
    _ok(desk.post("/api/v1/billing_markup_rule", headers=admin,
                  json={"markup_percent": "15"}), 201)
    _ok(desk.post("/api/v1/billing_travel_zone", headers=admin, json={
        "code": "PD", "name": "浦东", "fee": "50.00"}), 201)


def _drum(desk) -> None:
    """Inventory's drum unit for the Canon iR 2206: category DRUM, purchase price ¥380."""
    admin = desk.tokens["admin"]
    category = _ok(desk.post("/api/v1/inventory_category", headers=admin, json={
        "code": "DRUM", "name": "感光鼓"}), 201)
    _ok(desk.post("/api/v1/inventory_part", headers=admin, json={
        "code": "DRUM-2206", "name": "感光鼓组件", "model": "iR 2206",
        "category_id": category["id"], "standard_cost": "380.00"}), 201)


class Job:
    """One work order driven over HTTP by the staff who would do each step."""

    def __init__(self, desk, front="zhengli", boss="wufang", engineer="liming"):
        self.desk = desk
        self.front, self.boss, self.engineer = (desk.tokens[u] for u in (front, boss, engineer))

    def register(self, equipment: str, **extra) -> dict:
        order = _ok(self.desk.post("/api/repair/work_orders", headers=self.front, json={
            "channel": "walk_in", "equipment": equipment,
            "fault_description": "复印件有黑线、底灰", **extra}), 201)
        self.id, self.number = order["id"], order["number"]
        return order

    def act(self, who, action: str, status=200, **body) -> dict:
        answer = self.desk.post(f"{ORDERS}/{self.id}/{action}", headers=who, json=body)
        assert answer.status_code == status, (action, answer.text)
        return answer.json()

    def get(self) -> dict:
        return _ok(self.desk.get(f"{ORDERS}/{self.id}", headers=self.boss))

    def to_quote(self, engineer_code="E002", part=True) -> None:
        self.act(self.boss, "dispatch", engineer=engineer_code)
        self.act(self.engineer, "diagnose", diagnosis="感光鼓磨损，需更换感光鼓组件")
        if part:
            self.act(self.engineer, "add_part", part_code="DRUM-2206", quantity=1)

    def repair(self) -> dict:
        self.act(self.engineer, "start")
        return self.act(self.engineer, "complete", method="更换感光鼓组件，试印正常",
                        cause="感光鼓超寿命使用")

    def charge(self) -> dict | None:
        items = _ok(self.desk.get(f"/api/v1/billing_job_charge?order_id={self.id}",
                                  headers=self.desk.tokens["admin"]))["items"]
        return items[0] if items else None


def _invoice(desk, invoice_id: int) -> tuple[dict, list[dict]]:
    admin = desk.tokens["admin"]
    invoice = _ok(desk.get(f"/api/v1/billing_invoice/{invoice_id}", headers=admin))
    lines = _ok(desk.get(f"/api/v1/billing_invoice_line?invoice_id={invoice_id}&sort=id",
                         headers=admin))["items"]
    return invoice, lines


def _count(app, model) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_scenario_2_quote_invoice_voucher_rework_and_collection(desk):
    from plugins.billing.models import Invoice, Payment

    _rules(desk)
    _drum(desk)
    job = Job(desk)
    order = job.register("QXY20614")
    assert (order["category"], order["service_mode"]) == ("A", "carry_in")
    # billing's fields on the order: empty until set, the branch's default difficulty
    assert order["billing"] == {"difficulty": None, "travel_zone_id": None,
                                "agreed_travel": None}
    job.to_quote()

    # the quote, no amount typed: priced by the rules (R11, R27)
    order = job.act(job.engineer, "quote")
    assert (order["quote_labour"], order["quote_parts"], order["quote_travel"],
            order["quote_total"]) == ("120.00", "437.00", "0.00", "557.00")
    [line] = _ok(desk.get(f"/api/v1/repair_work_order_line?order_id={job.id}",
                          headers=job.boss))["items"]
    assert (line["unit_cost"], line["unit_price"]) == ("380.00", "437.00")
    history = _ok(desk.get(f"/api/v1/repair_status_change?order_id={job.id}&event=quote",
                           headers=job.boss))["items"]
    assert history[0]["detail"]["priced_by"] == "hook"

    job.act(job.front, "accept_quote", note="客户电话确认")
    order = job.repair()
    assert order["status"] == "ready_for_pickup"

    # the job charge and the invoice issued on completion (SH invoices each job)
    charge = job.charge()
    assert (charge["category"], charge["service_type"], charge["labour"], charge["parts"],
            charge["travel"], charge["total"], charge["billable"]) == \
        ("A", "repair", "120.00", "437.00", "0.00", "557.00", True)
    # internal: labour value 120.00 + the drum at cost 380.00
    assert (charge["labour_value"], charge["internal_cost"]) == ("120.00", "500.00")
    invoice, lines = _invoice(desk, charge["invoice_id"])
    assert invoice["number"].startswith("INV-SH-")
    assert (invoice["docstatus"], invoice["grand_total"], invoice["outstanding"],
            invoice["tax_total"]) == ("submitted", "557.00", "557.00", "64.08")
    assert invoice["source"]["entity"] == "repair_work_order"
    assert invoice["source"]["id"] == job.id
    assert [(x["item"], x["quantity"], x["unit_price"], x["amount"], x["internal_cost"])
            for x in lines] == [("labour_fee", "1.00", "120.00", "120.00", "120.00"),
                                ("parts_fee", "1.00", "437.00", "437.00", "380.00")]
    assert sum(Decimal(x["amount"]) for x in lines) == Decimal("557.00")
    assert {x["service_type"] for x in lines} == {"repair"}

    # the voucher prints the drum at the customer's price; the lines add up to the total
    voucher = pdftotext(desk.get(f"{ORDERS}/{job.id}/print/repair.service_voucher",
                                 headers=job.front).content, layout=True)
    drum = next(row for row in voucher.splitlines() if "DRUM-2206" in row)
    assert drum.split()[-3:] == ["1", "¥437.00", "¥437.00"]
    assert "557.00" in voucher and "伍佰伍拾柒元整" in voucher
    assert "380.00" not in voucher  # the company's cost is not the customer's business

    # a failed review sends it back; completed again, nothing is billed twice
    job.act(job.boss, "audit", passed=False, note="试印仍有底灰")
    job.act(job.engineer, "complete", method="清洁电晕丝", cause="电晕丝脏污")
    assert _count(desk.app, Invoice) == 1
    assert job.charge()["invoice_id"] == invoice["id"]

    # on-site collection: above the branch's limit refused, nothing written (R27)
    with desk.app.context(user="admin") as ctx:
        set_setting(ctx, "billing.on_site_limit", "200", branch=get_branch(ctx, "SH"))
    refused = desk.post(f"{ORDERS}/{job.id}/billing_collect", headers=job.engineer,
                        json={"amount": "300.00"})
    assert refused.status_code == 422 and "amount" in refused.text, refused.text
    assert _count(desk.app, Payment) == 0
    job.act(job.engineer, "billing_collect", amount="150.00")
    [payment] = _ok(desk.get("/api/v1/billing_payment", headers=desk.tokens["admin"]))["items"]
    assert (payment["on_site"], payment["method"], payment["amount"], payment["docstatus"]) \
        == (True, "cash", "150.00", "submitted")
    payment = _ok(desk.get(f"/api/v1/billing_payment/{payment['id']}",
                           headers=desk.tokens["admin"]))
    assert payment["job"]["id"] == job.id and payment["number"].startswith("PAY-SH-")
    with desk.app.context() as ctx:
        assert ctx.session.get(Employee, payment["collected_by_id"]).code == "E002"
    invoice, _lines = _invoice(desk, invoice["id"])
    assert (invoice["paid_total"], invoice["outstanding"], invoice["payment_state"]) == \
        ("150.00", "407.00", "partly_paid")
    # more than the invoice still owes (within the limit): refused, nothing written
    with desk.app.context(user="admin") as ctx:
        set_setting(ctx, "billing.on_site_limit", "1000", branch=get_branch(ctx, "SH"))
    refused = desk.post(f"{ORDERS}/{job.id}/billing_collect", headers=job.engineer,
                        json={"amount": "500.00"})
    assert refused.status_code == 409 and "407.00" in refused.text, refused.text
    assert _count(desk.app, Payment) == 1

    # the form's block and the list's column (one query for the page)
    from plugins.billing.repair_glue import charges_section, invoice_column

    with desk.app.context(user="wufang") as ctx:
        found = ctx.session.get(ctx.app.entity_class("repair_work_order"), job.id)
        content = charges_section(ctx, found)
        summary = dict(content.summary)
        assert summary["Internal cost"] == "500.00" and summary["Outstanding"] == "407.00"
        assert [row[0] for row in content.rows] == [
            (invoice["number"], f"/desk/billing_invoice/{invoice['id']}"),
            (payment["number"], f"/desk/billing_payment/{payment['id']}")]
        assert ctx.can("billing_job_charge.read")  # the user's rights, read once
        with counting(desk.app.engine) as seen:
            assert invoice_column(ctx, [found]) == {
                job.id: f"{invoice['number']} (owes 407.00)"}
        assert len(seen) == 1
    with demo_sessions(desk.app_web) as open_session:
        boss = open_session("wufang")
        form = boss.get(f"/desk/repair_work_order/{job.id}")
        assert form.status_code == 200
        assert f'href="/desk/billing_invoice/{invoice["id"]}"' in form.text
        assert "收费与发票" in form.text and "407.00" in form.text
        listed = boss.get("/desk/repair_work_order")
        assert listed.status_code == 200 and invoice["number"] in listed.text


def _free_jobs(desk) -> None:
    """Warranty (C) and contract (B) jobs cost the customer nothing; their charge keeps
    what they cost internally, for reports."""
    from plugins.billing.models import Invoice

    # a warranty job (category C, typed by the front desk) with the drum
    job = Job(desk)
    job.register("QXY20614", category="C", category_reason="保修期内（厂家延保）")
    job.to_quote()
    assert job.repair()["status"] == "ready_for_pickup"
    charge = job.charge()
    assert (charge["category"], charge["total"], charge["billable"], charge["invoice_id"]) \
        == ("C", "0.00", False, None)
    assert (charge["labour_value"], charge["internal_cost"]) == ("120.00", "500.00")

    # a contract job (category B) by 王工 (senior, ¥150 for a medium job), no parts
    _ok(desk.post("/api/repair/contracts", headers=desk.tokens["admin"], json={
        "number": "MC-2026-001", "customer": "C0001", "equipment": ["E335M820091"],
        "start_date": "2026-01-01", "end_date": "2027-12-31", "fee": "3600"}), 201)
    job = Job(desk, engineer="wanggong")
    assert job.register("E335M820091", channel="phone")["category"] == "B"
    job.to_quote(engineer_code="E001", part=False)
    job.repair()
    charge = job.charge()
    assert (charge["category"], charge["total"], charge["billable"], charge["labour_value"],
            charge["internal_cost"]) == ("B", "0.00", False, "150.00", "150.00")
    assert _count(desk.app, Invoice) == 0


def _category_markup_and_missing_labour_rate(desk) -> None:
    """A markup for the drum's own category (inventory says DRUM) wins over the one for
    every part: 380.00 × 1.20 = 456.00; travel by zone (浦东 ¥50). Without a labour rate
    for the engineer's grade and the job's difficulty the quote asks staff for the labour,
    naming it, and writes nothing."""
    _ok(desk.post("/api/v1/billing_markup_rule", headers=desk.tokens["admin"], json={
        "part_category": "DRUM", "markup_percent": "20"}), 201)
    job = Job(desk)
    job.register("QXY20614", service_mode="on_site", channel="phone")
    job.to_quote()
    zone = _ok(desk.get("/api/v1/billing_travel_zone?code=PD",
                        headers=desk.tokens["admin"]))["items"][0]
    patched = desk.patch(f"{ORDERS}/{job.id}", headers=job.engineer,
                         json={"billing": {"difficulty": "major"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["billing"]["difficulty"] == "major"
    refused = desk.post(f"{ORDERS}/{job.id}/quote", headers=job.engineer, json={})
    assert refused.status_code == 422, refused.text
    assert list(refused.json()["error"]["fields"]) == ["labour"]
    assert (job.get()["status"], job.get()["quote_total"]) == ("dispatched", None)

    _ok(desk.patch(f"{ORDERS}/{job.id}", headers=job.engineer, json={
        "billing": {"difficulty": "medium", "travel_zone_id": zone["id"]}}))
    order = job.act(job.engineer, "quote")
    assert (order["quote_labour"], order["quote_parts"], order["quote_travel"],
            order["quote_total"]) == ("120.00", "456.00", "50.00", "626.00")
    # filtered by billing's field like any other
    found = _ok(desk.get(f"{ORDERS}?billing.travel_zone_id={zone['id']}",
                         headers=job.boss))["items"]
    assert [o["id"] for o in found] == [job.id]


def _branch_without_invoice_on_completion(desk, fixdesk) -> None:
    """Scenario 8: JD switched billing's "invoice on completion" off; its jobs get their
    charge (billed by the month's statement) and no invoice, SH's still do."""
    from plugins.billing.models import Invoice

    result = fixdesk("--site", desk.site.path, "hooks", "disable", "billing.invoicing",
                     "repair_order_completed", "--branch", "JD")
    assert result.code == 0, result
    job = Job(desk, front="huangtao", boss="huangtao", engineer="zhaolei")
    assert job.register("LV93X10235")["category"] == "A"
    job.to_quote(engineer_code="E006")
    # staff typed the labour: billing prices only the rest (the drum at 20 %, no travel)
    order = job.act(job.engineer, "quote", labour="200.00")
    assert (order["quote_labour"], order["quote_parts"], order["quote_total"]) == \
        ("200.00", "456.00", "656.00")
    job.act(job.front, "accept_quote")
    job.repair()
    charge = job.charge()
    assert (charge["total"], charge["billable"], charge["invoice_id"]) == \
        ("656.00", True, None)
    assert _count(desk.app, Invoice) == 0

    # SH still invoices on completion
    job = Job(desk)
    job.register("QXY20614")
    job.to_quote()
    job.act(job.engineer, "quote")
    job.act(job.front, "accept_quote")
    job.repair()
    invoice_id = job.charge()["invoice_id"]
    assert invoice_id is not None and _count(desk.app, Invoice) == 1
    assert _invoice(desk, invoice_id)[0]["grand_total"] == "576.00"  # 120.00 + 456.00


def test_free_jobs_category_markup_and_a_branch_billing_by_statement(desk, fixdesk):
    """One site: free jobs, a category's own markup, JD without invoice on completion."""
    _rules(desk)
    _drum(desk)
    _free_jobs(desk)
    _category_markup_and_missing_labour_rate(desk)
    _branch_without_invoice_on_completion(desk, fixdesk)


def test_billing_alone_starts_without_the_glue(billing_app, fixdesk):
    result = fixdesk("--site", billing_app.site.path, "plugins", "list")
    assert result.code == 0
    assert "billing.repair: inactive (needs repair)" in result.out
    assert "billing.invoicing: inactive (needs repair)" in result.out
    assert "repair_work_order" not in billing_app.exposed
