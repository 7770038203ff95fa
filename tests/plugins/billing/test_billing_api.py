"""Invoices, credit notes and payments through the REST API (the ASGI app over real HTTP),
on SQLite and PostgreSQL, with billing alone.

An accountant of SH (``kuaiji``, made here: the demo has none) writes a draft invoice
and its lines through the generic API and watches the totals follow every change; the
front desk (``zhengli``) takes the payment at the counter; credit notes take money back.
Bad input is refused with a 4xx JSON error naming the field, writing nothing; rights
and branches are kept (JD sees none of SH's invoices). Amounts checked by hand:

- labour ¥120.00 incl. 13 % VAT: VAT 120 × 13 / 113 = 13.805… → ¥13.81, net ¥106.19;
- the drum ¥437.00: VAT 50.274… → ¥50.27; together ¥557.00 = net ¥492.92 + VAT ¥64.08;
- the drum at 10 % off: ¥393.30, VAT 45.246… → ¥45.25; the invoice ¥513.30.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_answers import error_of, ok
from api_tokens import bearer_headers
from fastapi.testclient import TestClient

from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.web.app import create_app

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture
def api(quiet_site):
    """A client of a billing site with the users' bearer headers (``api.as_user``) and
    the ids of customers C0001 (SH) and C0003 (JD) (``api.customer``)."""
    from sqlalchemy import select

    from kernel.models import Customer

    web = create_app(quiet_site(["billing"]))
    app = web.state.fixdesk
    with app.context() as ctx:
        add_user(ctx, "kuaiji", "钱会计", None, get_branch(ctx, "SH"), roles=["accountant"])
        headers = bearer_headers(ctx, "kuaiji", "zhengli", "huangtao", "hejuan")
        customers = {c.code: c.id for c in ctx.session.scalars(
            select(Customer).where(Customer.code.in_(("C0001", "C0003"))))}
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.as_user = headers
        client.customer = customers
        yield client


def new_invoice(api, user="kuaiji", **values) -> dict:
    body = {"customer_id": api.customer["C0001"], "invoice_date": "2026-05-04",
            "due_date": "2026-06-03", "tax_rate": "13.00", "tax_inclusive": True, **values}
    return ok(api.post("/api/v1/billing_invoice", headers=api.as_user[user], json=body), 201)


def add_line(api, invoice_id, user="kuaiji", **values) -> dict:
    body = {"invoice_id": invoice_id, "description": "维修", "unit_price": "100.00", **values}
    return ok(api.post("/api/v1/billing_invoice_line", headers=api.as_user[user], json=body),
              201)


def invoice(api, invoice_id, user="kuaiji") -> dict:
    return ok(api.get(f"/api/v1/billing_invoice/{invoice_id}", headers=api.as_user[user]))


def totals(api, invoice_id) -> tuple[str, str, str]:
    found = invoice(api, invoice_id)
    return found["net_total"], found["tax_total"], found["grand_total"]


def settled(found: dict) -> tuple[str, str, str, str]:
    return (found["paid_total"], found["credited_total"], found["outstanding"],
            found["payment_state"])


def pay(api, amount, references=(), user="zhengli", customer="C0001", submit=True) -> dict:
    """A payment by transfer, naming ``references`` ``[(invoice id, amount)]``, submitted
    (the response of the submit, or of the creation)."""
    h = api.as_user[user]
    payment = ok(api.post("/api/v1/billing_payment", headers=h, json={
        "customer_id": api.customer[customer], "paid_on": "2026-05-10", "method": "bank_transfer",
        "amount": amount, "reference": "网银 20260510-01"}), 201)
    for invoice_id, part in references:
        ok(api.post("/api/v1/billing_payment_reference", headers=h, json={
            "payment_id": payment["id"], "invoice_id": invoice_id, "amount": part}), 201)
    if not submit:
        return payment
    return api.post(f"/api/v1/billing_payment/{payment['id']}/submit", headers=h)


def test_draft_totals_follow_every_line_then_submit_pay_and_credit(api):
    h = api.as_user["kuaiji"]
    draft = new_invoice(api)
    assert re.fullmatch(r"INV-SH-\d{4}-00001", draft["number"])
    assert (draft["docstatus"], draft["kind"], draft["grand_total"]) == ("draft", "invoice",
                                                                         "0.00")
    labour = add_line(api, draft["id"], item="labour_fee", description="人工费",
                      unit_price="120.00")
    assert (labour["net"], labour["tax"], labour["amount"]) == ("106.19", "13.81", "120.00")
    assert totals(api, draft["id"]) == ("106.19", "13.81", "120.00")
    drum = add_line(api, draft["id"], item="parts_fee", description="硒鼓 DR-2206",
                    unit_price="437.00")
    assert totals(api, draft["id"]) == ("492.92", "64.08", "557.00")
    line_url = f"/api/v1/billing_invoice_line/{drum['id']}"
    ok(api.patch(line_url, headers=h, json={"discount_percent": "10.00"}))
    assert totals(api, draft["id"]) == ("454.24", "59.06", "513.30")  # 106.19 + 348.05
    ok(api.patch(line_url, headers=h, json={"discount_percent": "0.00"}))
    extra = add_line(api, draft["id"], description="加急", quantity="3", unit_price="33.33")
    assert totals(api, draft["id"])[2] == "656.99"  # 557.00 + 99.99
    assert api.delete(f"/api/v1/billing_invoice_line/{extra['id']}",
                      headers=h).status_code in (200, 204)
    assert totals(api, draft["id"]) == ("492.92", "64.08", "557.00")
    ok(api.patch(f"/api/v1/billing_invoice/{draft['id']}", headers=h,
                 json={"tax_rate": "6.00"}))  # the rate changes every line
    assert totals(api, draft["id"]) == ("525.47", "31.53", "557.00")
    ok(api.patch(f"/api/v1/billing_invoice/{draft['id']}", headers=h,
                 json={"tax_rate": "13.00"}))

    url = f"/api/v1/billing_invoice/{draft['id']}"
    submitted = ok(api.post(f"{url}/submit", headers=h))
    assert submitted["docstatus"] == "submitted"
    assert settled(submitted) == ("0.00", "0.00", "557.00", "unpaid")
    number = submitted["number"]
    for refused in (api.patch(url, headers=h, json={"note": "改"}),
                    api.delete(url, headers=h),
                    api.patch(line_url, headers=h, json={"unit_price": "1.00"}),
                    api.delete(line_url, headers=h),
                    api.post("/api/v1/billing_invoice_line", headers=h, json={
                        "invoice_id": draft["id"], "description": "x", "unit_price": "1.00"})):
        assert refused.status_code == 409, refused.text
        error = error_of(refused)
        assert error["code"] == "conflict" and number in error["message"]
    assert api.post(f"{url}/submit", headers=h).status_code == 409
    assert totals(api, draft["id"]) == ("492.92", "64.08", "557.00")

    # the front desk takes ¥600 by transfer for it: ¥43 stays as the customer's credit
    payment = ok(pay(api, "600.00", [(draft["id"], "557.00")]))
    assert (payment["docstatus"], payment["allocated"], payment["unallocated"]) == \
        ("submitted", "557.00", "43.00")
    assert re.fullmatch(r"PAY-SH-\d{4}-00001", payment["number"])
    assert settled(invoice(api, draft["id"])) == ("557.00", "0.00", "0.00", "settled")
    allocations = ok(api.get("/api/v1/billing_allocation", headers=h,
                             params={"invoice_id": draft["id"]}))["items"]
    assert [(a["payment_id"], a["kind"], a["amount"]) for a in allocations] == \
        [(payment["id"], "payment", "557.00")]

    # a partial credit of ¥57 takes it off the settled invoice: the money is credit again
    note = ok(api.post(f"{url}/credit", headers=h, json={"amount": "57.00",
                                                          "reason": "折让"}))
    assert (note["kind"], note["credit_of_id"], note["docstatus"], note["grand_total"]) == \
        ("credit_note", draft["id"], "draft", "57.00")
    assert re.fullmatch(r"CN-SH-\d{4}-0001", note["number"])
    ok(api.post(f"/api/v1/billing_invoice/{note['id']}/submit", headers=h))
    after = invoice(api, draft["id"])
    assert settled(after) == ("500.00", "57.00", "0.00", "settled")
    assert ok(api.get(f"/api/v1/billing_payment/{payment['id']}", headers=h))[
        "unallocated"] == "100.00"
    too_much = api.post(f"{url}/credit", headers=h, json={"amount": "500.01", "reason": "再退"})
    assert too_much.status_code == 422 and "amount" in error_of(too_much)["fields"]

    # a second invoice, unpaid, credited in full: nothing left to pay or credit
    second = new_invoice(api)
    add_line(api, second["id"], description="培训", unit_price="200.00")
    second_url = f"/api/v1/billing_invoice/{second['id']}"
    ok(api.post(f"{second_url}/submit", headers=h))
    full = ok(api.post(f"{second_url}/credit", headers=h, json={"reason": "开错客户"}))
    assert full["grand_total"] == "200.00"
    ok(api.post(f"/api/v1/billing_invoice/{full['id']}/submit", headers=h))
    assert settled(invoice(api, second["id"])) == ("0.00", "200.00", "0.00", "credited")
    again = api.post(f"{second_url}/credit", headers=h, json={"reason": "再退"})
    assert again.status_code in (404, 409), again.text  # the action is no longer offered
    for found in (invoice(api, draft["id"]), invoice(api, second["id"])):
        paid, credited, owed = (float(found[k]) for k in ("paid_total", "credited_total",
                                                           "outstanding"))
        assert round(paid + credited + owed, 2) == float(found["grand_total"])


def test_a_payment_never_pays_more_than_is_outstanding(api):
    h = api.as_user["kuaiji"]
    draft = new_invoice(api)
    add_line(api, draft["id"], unit_price="300.00")
    ok(api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=h))
    ok(pay(api, "100.00", [(draft["id"], "100.00")]))
    over = pay(api, "250.00", [(draft["id"], "250.00")])
    assert over.status_code == 409, over.text
    error = error_of(over)
    assert draft["number"] in error["message"] and "references" in error["fields"]
    assert settled(invoice(api, draft["id"])) == ("100.00", "0.00", "200.00", "partly_paid")
    payments = ok(api.get("/api/v1/billing_payment", headers=h, params={"sort": "id"}))
    assert [p["docstatus"] for p in payments["items"]] == ["submitted", "draft"]
    # naming no invoice, a payment pays the oldest open ones and keeps the rest
    auto = ok(pay(api, "250.00"))
    assert (auto["allocated"], auto["unallocated"]) == ("200.00", "50.00")
    assert settled(invoice(api, draft["id"])) == ("300.00", "0.00", "0.00", "settled")


def test_front_desk_takes_payments_but_makes_no_invoices(api):
    desk, h = api.as_user["zhengli"], api.as_user["kuaiji"]
    refused = api.post("/api/v1/billing_invoice", headers=desk, json={
        "customer_id": api.customer["C0001"], "invoice_date": "2026-05-04"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    draft = new_invoice(api)
    for attempt in (api.post("/api/v1/billing_invoice_line", headers=desk, json={
                        "invoice_id": draft["id"], "description": "x", "unit_price": "1.00"}),
                    api.patch(f"/api/v1/billing_invoice/{draft['id']}", headers=desk,
                              json={"note": "改"}),
                    api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=desk)):
        assert attempt.status_code == 403, attempt.text
    add_line(api, draft["id"])
    ok(api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=h))
    credit = api.post(f"/api/v1/billing_invoice/{draft['id']}/credit", headers=desk,
                      json={"reason": "退"})
    assert credit.status_code == 403, credit.text
    payment = ok(pay(api, "100.00", [(draft["id"], "100.00")], user="zhengli"))
    assert payment["docstatus"] == "submitted"
    cancel = api.post(f"/api/v1/billing_payment/{payment['id']}/cancel", headers=desk,
                      json={"reason": "录错"})
    assert cancel.status_code == 403  # the accountant cancels
    ok(api.post(f"/api/v1/billing_payment/{payment['id']}/cancel", headers=h,
                json={"reason": "录错"}))
    assert settled(invoice(api, draft["id"])) == ("0.00", "0.00", "100.00", "unpaid")
    # its payment cancelled, the invoice may be cancelled and amended into a new draft
    url = f"/api/v1/billing_invoice/{draft['id']}"
    assert api.post(f"{url}/cancel", headers=desk, json={"reason": "开错"}).status_code == 403
    ok(api.post(f"{url}/cancel", headers=h, json={"reason": "开错"}))
    amended = ok(api.post(f"{url}/amend", headers=h))
    assert (amended["number"], amended["docstatus"], amended["outstanding"]) == \
        (f"{draft['number']}-1", "draft", "0.00")
    lines = ok(api.get("/api/v1/billing_invoice_line", headers=h,
                       params={"invoice_id": amended["id"]}))["items"]
    assert [(x["description"], x["amount"]) for x in lines] == [("维修", "100.00")]
    assert totals(api, amended["id"])[2] == "100.00"


def test_another_branch_sees_none_of_the_invoices(api):
    h, jd, jd_desk = api.as_user["kuaiji"], api.as_user["huangtao"], api.as_user["hejuan"]
    draft = new_invoice(api)
    add_line(api, draft["id"])
    url = f"/api/v1/billing_invoice/{draft['id']}"
    ok(api.post(f"{url}/submit", headers=h))
    payment = ok(pay(api, "40.00", [(draft["id"], "40.00")]))
    for path in (url, f"/api/v1/billing_payment/{payment['id']}"):
        hidden = api.get(path, headers=jd)
        assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"
    assert ok(api.get("/api/v1/billing_invoice?count=true", headers=jd))["total"] == 0
    assert ok(api.get("/api/v1/billing_allocation?count=true", headers=jd))["total"] == 0
    assert ok(api.get("/api/v1/billing_invoice_line?count=true", headers=jd))["total"] == 0
    assert api.post(f"{url}/credit", headers=jd, json={"reason": "x"}).status_code == 404
    # JD's front desk cannot pay SH's invoice, nor take money from SH's customer
    theirs = pay(api, "10.00", user="hejuan", customer="C0003", submit=False)
    named = api.post("/api/v1/billing_payment_reference", headers=jd_desk, json={
        "payment_id": theirs["id"], "invoice_id": draft["id"], "amount": "10.00"})
    assert named.status_code == 422 and "invoice_id" in error_of(named)["fields"]
    stranger = api.post("/api/v1/billing_payment", headers=jd_desk, json={
        "customer_id": api.customer["C0001"], "paid_on": "2026-05-10", "method": "cash",
        "amount": "10.00"})
    assert stranger.status_code == 422 and "customer_id" in error_of(stranger)["fields"]
    assert settled(invoice(api, draft["id"])) == ("40.00", "0.00", "60.00", "partly_paid")


#: (what is written, the body, the field the error names)
NASTY_LINES = [
    ("NUL", {"description": "硒鼓\x00DR-2206"}, "description"),
    ("bell", {"description": "硒鼓\x07"}, "description"),
    ("escape", {"description": "\x1b[31m红字"}, "description"),
    ("right-to-left override", {"description": "发票\u202eFDP"}, "description"),
    ("too long", {"description": "长" * 301}, "description"),
    ("empty", {"description": ""}, "description"),
    ("blank", {"description": "   "}, "description"),
    ("huge quantity", {"quantity": "99999999999999"}, "quantity"),
    ("negative quantity", {"quantity": "-1.00"}, "quantity"),
    ("no quantity", {"quantity": "0"}, "quantity"),
    ("huge price", {"unit_price": "99999999999999"}, "unit_price"),
    ("huge line", {"quantity": "999999", "unit_price": "99999999"}, "unit_price"),
    ("negative price", {"unit_price": "-10.00"}, "unit_price"),
    ("three decimals", {"unit_price": "1.005"}, "unit_price"),
    ("three decimal quantity", {"quantity": "1.125"}, "quantity"),
    ("a float", {"unit_price": 12.5}, "unit_price"),
    ("a word", {"unit_price": "十元"}, "unit_price"),
    ("infinity", {"unit_price": "Infinity"}, "unit_price"),
    ("a list", {"unit_price": ["1.00"]}, "unit_price"),
    ("exponent", {"unit_price": "1e30"}, "unit_price"),
    ("discount over 100 %", {"discount_percent": "150.00"}, "discount_percent"),
    ("unknown item", {"item": "gift"}, "item"),
    ("wrong invoice", {"invoice_id": "INV-1"}, "invoice_id"),
    ("missing invoice", {"invoice_id": 999999}, "invoice_id"),
    ("unknown field", {"amount": "1.00"}, "amount"),
]
NASTY_INVOICES = [
    ("year one", {"invoice_date": "0001-01-01"}, "invoice_date"),
    ("far future", {"invoice_date": "9999-12-31"}, "invoice_date"),
    ("no such day", {"invoice_date": "2026-02-30"}, "invoice_date"),
    ("five digit year", {"invoice_date": "99999-01-01"}, "invoice_date"),
    ("a number", {"invoice_date": 20260504}, "invoice_date"),
    ("due before issued", {"due_date": "2026-05-01"}, "due_date"),
    ("VAT over 100 %", {"tax_rate": "250.00"}, "tax_rate"),
    ("negative VAT", {"tax_rate": "-13.00"}, "tax_rate"),
    ("control character in the note", {"note": "备注\x00"}, "note"),
    ("customer by name", {"customer_id": "申达物流"}, "customer_id"),
    ("no such customer", {"customer_id": 999999}, "customer_id"),
    ("its own number", {"number": "INV-SH-2026-99999"}, "number"),
    ("its own total", {"grand_total": "1.00"}, "grand_total"),
    ("submitted at once", {"docstatus": "submitted"}, "docstatus"),
]
NASTY_PAYMENTS = [
    ("negative amount", {"amount": "-5.00"}, "amount"),
    ("huge amount", {"amount": "99999999999999"}, "amount"),
    ("three decimals", {"amount": "10.001"}, "amount"),
    ("ancient", {"paid_on": "1900-01-01"}, "paid_on"),
    ("unknown method", {"method": "bitcoin"}, "method"),
    ("NUL in the reference", {"reference": "支票\x00123"}, "reference"),
    ("its own allocation", {"allocated": "10.00"}, "allocated"),
]


def _counts(api) -> dict[str, int]:
    h = api.as_user["kuaiji"]
    return {entity: ok(api.get(f"/api/v1/{entity}?count=true", headers=h))["total"]
            for entity in ("billing_invoice", "billing_invoice_line", "billing_payment",
                           "billing_payment_reference")}


def test_nasty_input_is_refused_naming_the_field_and_writes_nothing(api):
    h = api.as_user["kuaiji"]
    draft = new_invoice(api)
    line = add_line(api, draft["id"], unit_price="437.00")
    payment = pay(api, "10.00", submit=False)
    before, shown = _counts(api), invoice(api, draft["id"])
    problems = []

    def refused(what, answer, field):
        if not 400 <= answer.status_code < 500 or field not in error_of(answer)["fields"]:
            problems.append((what, answer.status_code, answer.text[:300]))

    base_line = {"invoice_id": draft["id"], "description": "硒鼓", "unit_price": "437.00"}
    for what, body, field in NASTY_LINES:
        refused(what, api.post("/api/v1/billing_invoice_line", headers=h,
                               json={**base_line, **body}), field)
        if field != "invoice_id":
            refused(f"{what} (change)", api.patch(
                f"/api/v1/billing_invoice_line/{line['id']}", headers=h, json=body), field)
    base_invoice = {"customer_id": api.customer["C0001"], "invoice_date": "2026-05-04",
                    "due_date": "2026-06-03", "tax_rate": "13.00"}
    for what, body, field in NASTY_INVOICES:
        refused(what, api.post("/api/v1/billing_invoice", headers=h,
                               json={**base_invoice, **body}), field)
        refused(f"{what} (change)", api.patch(f"/api/v1/billing_invoice/{draft['id']}",
                                              headers=h, json=body), field)
    base_payment = {"customer_id": api.customer["C0001"], "paid_on": "2026-05-10",
                    "method": "cash", "amount": "10.00"}
    for what, body, field in NASTY_PAYMENTS:
        refused(what, api.post("/api/v1/billing_payment", headers=h,
                               json={**base_payment, **body}), field)
        refused(f"{what} (change)", api.patch(f"/api/v1/billing_payment/{payment['id']}",
                                              headers=h, json=body), field)
    for what, amount in (("no amount", "0.00"), ("negative", "-1.00"),
                         ("huge", "99999999999999")):
        refused(f"reference: {what}", api.post(
            "/api/v1/billing_payment_reference", headers=h,
            json={"payment_id": payment["id"], "invoice_id": draft["id"], "amount": amount}),
            "amount")
    refused("not JSON", api.post("/api/v1/billing_invoice", headers={
        **h, "Content-Type": "application/json"}, content=b"{\"customer_id\": 1,"), "body")
    assert not problems, problems
    assert _counts(api) == before
    assert invoice(api, draft["id"]) == shown
    assert ok(api.get(f"/api/v1/billing_payment/{payment['id']}", headers=h))["amount"] \
        == "10.00"
    # and the draft is still good: it submits with its one line
    assert ok(api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=h))[
        "grand_total"] == "437.00"


def test_errors_speak_chinese_to_a_chinese_caller(api):
    h = {**api.as_user["kuaiji"], **ZH}
    draft = new_invoice(api)
    answers = {
        "control": api.post("/api/v1/billing_invoice_line", headers=h, json={
            "invoice_id": draft["id"], "description": "硒鼓\x00", "unit_price": "1.00"}),
        "huge": api.post("/api/v1/billing_invoice_line", headers=h, json={
            "invoice_id": draft["id"], "description": "硒鼓", "quantity": "99999999",
            "unit_price": "1.00"}),
        "date": api.post("/api/v1/billing_invoice", headers=h, json={
            "customer_id": api.customer["C0001"], "invoice_date": "1999-12-31"}),
        "empty": api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=h),
    }
    add_line(api, draft["id"], unit_price="300.00")
    ok(api.post(f"/api/v1/billing_invoice/{draft['id']}/submit", headers=h))
    answers["submitted"] = api.patch(f"/api/v1/billing_invoice/{draft['id']}", headers=h,
                                     json={"note": "改"})
    answers["overpaid"] = pay(api, "400.00", [(draft["id"], "400.00")], user="kuaiji")
    answers["forbidden"] = api.post("/api/v1/billing_invoice",
                                    headers={**api.as_user["zhengli"], **ZH},
                                    json={"customer_id": api.customer["C0001"]})
    overpaid = pay(api, "400.00", [(draft["id"], "301.00")], user="kuaiji", submit=False)
    answers["overpaid"] = api.post(f"/api/v1/billing_payment/{overpaid['id']}/submit",
                                   headers=h)
    problems = []
    for name, answer in answers.items():
        assert 400 <= answer.status_code < 500, (name, answer.text)
        error = error_of(answer)
        text = "\n".join([error["message"], *error["fields"].values()])
        # numbers, codes and field names may stay; no English words
        text = re.sub(r"[A-Z]+-[A-Z]+-\d{4}-\d+|permission denied: \S+|权限不足：\S+", "", text)
        text = re.sub(r"\b[a-z_]+(?=:)", "", text)
        if LATIN.search(text):
            problems.append((name, text))
    assert not problems, problems
    assert error_of(answers["control"])["fields"]["description"] == "不能包含控制字符"
    assert "301.00" not in error_of(answers["overpaid"])["message"]
    assert "300.00" in error_of(answers["overpaid"])["message"]


def test_a_new_invoice_takes_its_defaults_from_the_settings(api):
    """Typed without date, VAT or due date, a draft takes today, the site's 13 % VAT
    included, and the branch's 30 days (``fixdesk_record_new``); what is typed wins."""
    h = api.as_user["kuaiji"]
    made = ok(api.post("/api/v1/billing_invoice", headers=h,
                       json={"customer_id": api.customer["C0001"]}), 201)
    assert (made["tax_rate"], made["tax_inclusive"]) == ("13.00", True)
    today = made["invoice_date"]
    assert dt.date.fromisoformat(made["due_date"]) - dt.date.fromisoformat(today) \
        == dt.timedelta(days=30)
    typed = new_invoice(api, tax_rate="6.00", tax_inclusive=False, due_date="2026-05-20")
    assert (typed["tax_rate"], typed["tax_inclusive"], typed["due_date"]) == (
        "6.00", False, "2026-05-20")
    payment = ok(api.post("/api/v1/billing_payment", headers=api.as_user["zhengli"], json={
        "customer_id": api.customer["C0001"], "method": "cash", "amount": "10.00"}), 201)
    assert payment["paid_on"] == today
