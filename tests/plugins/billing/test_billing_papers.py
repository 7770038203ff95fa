"""Billing's printed papers, rendered to PDF in Chinese and English and read back with
poppler (``pdftotext``, ``pdffonts``): the invoice (with its credit note, a draft and a
payment receipt), the statement of account, the repair quotation and the on-site
collection receipt.

The documents are made by billing's services (:func:`plugins.billing.invoices.make_invoice`,
the kernel's submit, payments with their references), the quotation by repair's own
services with the amounts typed by staff; every amount checked is computed by hand.

Invoice of 申达物流有限公司 (C0001) on 2026-06-10: drum ¥437.00 + labour ¥120.00 =
¥557.00 (VAT 13 % included: 50.27 + 13.81 = 64.08, net 492.92), ¥200.00 paid in cash at
the counter, ¥57.00 credited: ¥300.00 outstanding, due 2026-07-10.

Statement of account of C0001 printed on 2026-06-15, so for 2026-05-01 – 2026-06-15:

=========== ==================================== ========= ========= ==========
date        document                              charges   credits   balance
=========== ==================================== ========= ========= ==========
before      A 01-15 200; B 03-10 1,000; P1 04-05                       900.00
            600 on B; C 04-20 300
05-08       invoice D                             557.00              1,457.00
05-12       credit note on C                                50.00     1,407.00
05-20       payment P2 (cash, on site) 400 on B             500.00      907.00
            and 100 kept as credit
06-02       invoice E                             120.00              1,027.00
06-10       payment P3 (transfer) on D                      300.00      727.00
=========== ==================================== ========= ========= ==========

Open at 06-15: A 200.00 (151 days, over 90), C 250.00 (56 days) and D 257.00 (38 days) in
31–60, E 120.00 (13 days) in 0–30: 827.00 open less 100.00 credit = 727.00. An invoice
cancelled in the period and a draft are not on it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from pdf_tools import pdffonts, pdftotext
from query_count import counting
from sqlalchemy import insert, select

from kernel import Conflict, RecordLink
from kernel.auth import PermissionDenied
from kernel.documents.service import prepare, print_records
from kernel.lifecycle import cancel, number_new_draft, submit
from kernel.models import Customer, Employee
from plugins.billing import invoices, receivables
from plugins.billing.models import Invoice, Payment, PaymentReference

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
#: a word of English in a paper: letters only (codes such as INV-SH-2026-00001, C0001,
#: NPG-28 or C0001-20260615 carry digits and are allowed)
ENGLISH = re.compile(r"(?<![\w-])[A-Za-z]{2,}(?![\w-])")
#: the words of 周志华's machine (data, not the paper's wording)
CANON = ("Canon", "iR")


def _at(app, user="admin", when=NOW):
    return app.context(user=user, clock=lambda: when)


def _print(app, name: str, record_id: int, locale: str, user: str = "admin") -> bytes:
    with _at(app, user) as ctx:
        return print_records(ctx, name, [record_id], locale=locale)


def _customer(ctx, code: str) -> Customer:
    return ctx.session.scalar(select(Customer).where(Customer.code == code))


def _employee(ctx, code: str) -> Employee:
    return ctx.session.scalar(select(Employee).where(Employee.code == code))


def _invoice(ctx, customer, on, *lines, submit_it=True, **values) -> Invoice:
    """An invoice of ``lines`` (item, description, unit price[, extra values])."""
    invoice = invoices.make_invoice(ctx, customer=customer, invoice_date=on, lines=[
        {"item": line[0], "description": line[1], "unit_price": D(line[2]),
         **(line[3] if len(line) > 3 else {})} for line in lines], **values)
    if submit_it:
        submit(ctx, invoice)
    return invoice


def _pay(ctx, customer, on, amount, method="bank_transfer", refs=(), **values) -> Payment:
    payment = Payment(company_id=customer.company_id, branch_id=customer.branch_id,
                      customer_id=customer.id, paid_on=on, method=method, amount=D(amount),
                      references=[PaymentReference(invoice_id=invoice.id, amount=D(part))
                                  for invoice, part in refs], **values)
    number_new_draft(ctx, payment)
    ctx.session.add(payment)
    ctx.session.flush()
    submit(ctx, payment)
    return payment


def _credit(ctx, invoice, amount, on) -> Invoice:
    note = invoices.credit(ctx, invoice, reason="折让", amount=amount)
    note.invoice_date, note.note = on, "折让：提前付款"  # as a Chinese clerk would write it
    ctx.session.flush()
    submit(ctx, note)
    return note


def _chinese(pdf: bytes, names=()) -> str:
    """The text of a Chinese paper, checked to carry no English word (but the ``names`` of
    things, such as a machine's brand and model) and the CJK font."""
    text = pdftotext(pdf)
    assert [word for word in ENGLISH.findall(text) if word not in names] == [], text
    fonts = pdffonts(pdf)
    assert "Fixdesk-Print-Sans" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    return text


def _row(layout: str, key: str) -> list[str]:
    """The words of the (layout) line holding ``key``."""
    return next(line.split() for line in layout.splitlines() if key in line)


def _queries(app, name: str, entity: str, record_id: int) -> int:
    """The SELECTs gathering and laying out paper ``name`` of a record take."""
    document = app.documents[name]
    with _at(app) as ctx:
        record = ctx.session.get(app.entity_class(entity), record_id)
        with counting(app.engine) as seen:
            prepare(ctx, document, record, "zh_CN", 1)
    return len(seen)


# ---------------------------------------------------------------------------
# invoice, credit note, draft, receipt at the counter
# ---------------------------------------------------------------------------


def test_invoice_credit_note_draft_and_receipt(billing_app):
    app = billing_app
    assert "billing.quote" not in app.documents  # only where repair runs
    with _at(app) as ctx:
        customer = _customer(ctx, "C0001")
        invoice = _invoice(ctx, customer, dt.date(2026, 6, 10),
                           ("parts_fee", "硒鼓 NPG-28", "437.00"),
                           ("labour_fee", "中等维修", "120.00"))
        assert (invoice.grand_total, invoice.tax_total) == (D("557.00"), D("64.08"))
        payment = _pay(ctx, customer, dt.date(2026, 6, 12), "200.00", "cash",
                       refs=[(invoice, "200.00")])
        note = _credit(ctx, invoice, "57.00", dt.date(2026, 6, 14))
        assert invoice.outstanding == D("300.00")
        draft = _invoice(ctx, customer, dt.date(2026, 6, 15),
                         ("other_charge", "操作培训", "100.00",
                          {"quantity": D("2"), "discount_percent": D("10")}),
                         submit_it=False)
        longer = _invoice(ctx, customer, dt.date(2026, 6, 15), *[
            ("parts_fee", f"配件 {n}", "10.00") for n in range(12)])
        ids = {"invoice": invoice.id, "payment": payment.id, "note": note.id,
               "draft": draft.id, "longer": longer.id}
        numbers = {"invoice": invoice.number, "payment": payment.number,
                   "note": note.number, "draft": draft.number}

    # 销售单据（发票）: lines, net, VAT, total in figures and capitals, paid, credited, due
    text = _chinese(_print(app, "billing.invoice", ids["invoice"], "zh_CN"))
    for expected in ("华东办公设备服务有限公司", "销售单据（发票）", numbers["invoice"],
                     "申达物流有限公司", "钱经理", "021-6888 1234", "张江路 88 号",
                     "硒鼓 NPG-28", "中等维修", "配件",
                     "工时费", "¥437.00", "¥120.00", "¥492.92", "¥64.08", "增值税（税率 13%）",
                     "¥557.00", "人民币伍佰伍拾柒元整", "已收金额", "¥200.00", "¥57.00",
                     "¥300.00", "到期日", "2026年7月10日", numbers["payment"], "现金",
                     numbers["note"], "不作为增值税发票", "制单人", "客户签收", "盖章处"):
        assert expected in text, expected
    assert "草稿" not in text and "已作废" not in text
    english = pdftotext(_print(app, "billing.invoice", ids["invoice"], "en"))
    for expected in ("Invoice / sales receipt", "Net amount (excluding VAT)", "VAT at 13%",
                     "557.00", "RMB伍佰伍拾柒元整", "Outstanding", "300.00", "Jul 10, 2026",
                     "Cash", "Payments received", "Credit notes", "Labour fee"):
        assert expected in english, expected

    # 红字冲销单: negative amounts, naming the invoice it credits
    text = _chinese(_print(app, "billing.invoice", ids["note"], "zh_CN"))
    for expected in ("红字冲销单", numbers["note"], "原单据号", numbers["invoice"], "¥557.00",
                     "-¥57.00", "冲销合计", "人民币负伍拾柒元整", "折让"):
        assert expected in text, expected
    assert "销售单据（发票）" not in text and "未收金额" not in text
    english = pdftotext(_print(app, "billing.invoice", ids["note"], "en"))
    assert "Credit note" in english and "Total credited" in english
    assert "Original invoice" in english and numbers["invoice"] in english

    # a draft: marked across the page, nothing paid or outstanding printed
    draft = _print(app, "billing.invoice", ids["draft"], "zh_CN")
    text, layout = _chinese(draft), pdftotext(draft, layout=True)
    assert "草稿" in text and "已收金额" not in text
    assert _row(layout, "操作培训")[-4:] == ["2", "¥100.00", "10%", "¥180.00"]
    assert "人民币壹佰捌拾元整" in text
    assert "DRAFT" in pdftotext(_print(app, "billing.invoice", ids["draft"], "en"))

    # 收款收据: a payment taken at the counter (not on site)
    text = _chinese(_print(app, "billing.receipt", ids["payment"], "zh_CN"))
    for expected in ("收款收据", numbers["payment"], "今收到", "申达物流有限公司", "¥200.00",
                     "人民币贰佰元整", "现金", "2026年6月12日", numbers["invoice"], "付款人签字",
                     "收款人"):
        assert expected in text, expected
    assert "现场收款收据" not in text and "收款工程师" not in text
    english = pdftotext(_print(app, "billing.receipt", ids["payment"], "en"))
    assert "Payment receipt" in english and "Received from" in english
    with _at(app) as ctx:  # the on-site collection receipt is for money collected on site
        with pytest.raises(Conflict, match="on site"):
            print_records(ctx, "billing.collection_receipt", [ids["payment"]], locale="en")

    # through the API's print route, as the desk prints
    with _at(app) as ctx:
        headers = bearer_headers(ctx, "admin")["admin"]
    from kernel.web.app import create_app

    with TestClient(create_app(app.site), raise_server_exceptions=False) as client:
        answer = client.get(f"/api/v1/billing_invoice/{ids['invoice']}/print/billing.invoice",
                            params={"lang": "zh_CN"}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        assert "人民币伍佰伍拾柒元整" in pdftotext(answer.content)

    # gathered in a few queries, not one a line: twelve lines cost what two do
    counts = {key: _queries(app, "billing.invoice", "billing_invoice", ids[key])
              for key in ("invoice", "longer", "note", "draft")}
    assert counts["invoice"] == counts["longer"], counts
    assert max(counts.values()) <= 10, counts
    assert _queries(app, "billing.receipt", "billing_payment", ids["payment"]) <= 10


# ---------------------------------------------------------------------------
# statement of account
# ---------------------------------------------------------------------------


def _statement_data(app) -> dict:
    """The documents of the module's docstring; returns their numbers and the customer."""
    with _at(app) as ctx:
        customer = _customer(ctx, "C0001")
        engineer = _employee(ctx, "E001")

        def day(month, number):
            return dt.date(2026, month, number)

        a = _invoice(ctx, customer, day(1, 15), ("training_fee", "操作培训", "200.00"))
        b = _invoice(ctx, customer, day(3, 10), ("contract_fee", "年度保养", "1000.00"))
        _pay(ctx, customer, day(4, 5), "600.00", refs=[(b, "600.00")])
        c = _invoice(ctx, customer, day(4, 20), ("parts_fee", "墨粉", "300.00"))
        d = _invoice(ctx, customer, day(5, 8), ("parts_fee", "硒鼓", "437.00"),
                     ("labour_fee", "中等维修", "120.00"))
        cn = _credit(ctx, c, "50.00", day(5, 12))
        p2 = _pay(ctx, customer, day(5, 20), "500.00", "cash", refs=[(b, "400.00")],
                  on_site=True, collected_by_id=engineer.id)
        void = _invoice(ctx, customer, day(5, 25), ("other_charge", "重复开票", "999.00"))
        cancel(ctx, void, reason="重复开票")
        _invoice(ctx, customer, day(5, 28), ("other_charge", "草稿", "88.00"),
                 submit_it=False)
        e = _invoice(ctx, customer, day(6, 2), ("travel_fee", "上门", "120.00"))
        p3 = _pay(ctx, customer, day(6, 10), "300.00", refs=[(d, "300.00")],
                  reference="网银 8812")
        return {"customer": customer.id, "A": a.number, "B": b.number, "C": c.number,
                "D": d.number, "E": e.number, "CN": cn.number, "P2": p2.number,
                "P3": p3.number, "void": void.number}


def test_statement_of_account(billing_app):
    app = billing_app
    ids = _statement_data(app)

    with _at(app) as ctx:
        assert receivables.default_period(NOW.date()) == (dt.date(2026, 5, 1), NOW.date())
        data = receivables.statement(ctx, ids["customer"], dt.date(2026, 5, 1), NOW.date())
        assert data["opening"] == D("900.00")
        assert [(line["number"], line["charge"], line["credit"], line["balance"])
                for line in data["lines"]] == [
            (ids["D"], D("557.00"), None, D("1457.00")),
            (ids["CN"], None, D("50.00"), D("1407.00")),
            (ids["P2"], None, D("500.00"), D("907.00")),
            (ids["E"], D("120.00"), None, D("1027.00")),
            (ids["P3"], None, D("300.00"), D("727.00"))]
        assert (data["charges"], data["credits"], data["closing"]) == (
            D("677.00"), D("850.00"), D("727.00"))
        assert [bucket["amount"] for bucket in data["aging"]] == [
            D("120.00"), D("507.00"), D("0.00"), D("200.00")]
        assert [(i["number"], i["open"], i["days"]) for i in data["open_invoices"]] == [
            (ids["A"], D("200.00"), 151), (ids["C"], D("250.00"), 56),
            (ids["D"], D("257.00"), 38), (ids["E"], D("120.00"), 13)]
        assert (data["open_total"], data["credit"]) == (D("827.00"), D("100.00"))
        assert data["closing"] == data["open_total"] - data["credit"]
        assert data["more"] == 0

        # the same customer at the end of May, as the books stood then: P3 (June) had not
        # paid D yet; B was paid off by P2
        may = receivables.statement(ctx, ids["customer"], dt.date(2026, 5, 1),
                                    dt.date(2026, 5, 31))
        assert may["closing"] == D("907.00") == receivables.balance(
            ctx, ids["customer"], dt.date(2026, 5, 31))
        assert [(i["number"], i["open"]) for i in may["open_invoices"]] == [
            (ids["A"], D("200.00")), (ids["C"], D("250.00")), (ids["D"], D("557.00"))]
        assert [b["amount"] for b in may["aging"]] == [
            D("557.00"), D("250.00"), D("0.00"), D("200.00")]
        assert may["credit"] == D("100.00")
        assert may["closing"] == may["open_total"] - may["credit"]

        # a page of lines: the running balance carries on, the closing counts them all
        short = receivables.statement(ctx, ids["customer"], dt.date(2026, 5, 1),
                                      NOW.date(), limit=2)
        assert [line["balance"] for line in short["lines"]] == [D("1457.00"), D("1407.00")]
        assert (short["more"], short["closing"]) == (3, D("727.00"))

    # 对账单 as printed from the customer's form on 2026-06-15
    pdf = _print(app, "billing.statement", ids["customer"], "zh_CN")
    text, layout = _chinese(pdf), pdftotext(pdf, layout=True)
    for expected in ("对账单", "C0001-20260615", "申达物流有限公司", "钱经理",
                     "2026年5月1日", "2026年6月15日", "期初余额", "¥900.00", "期末余额",
                     "人民币柒佰贰拾柒元整", "现场收款", "网银 8812", "冲销 " + ids["C"],
                     "截至 2026年6月15日 未收款账龄", "90 天以上", "客户余款",
                     "客户确认（签字盖章）", "已逾期"):
        assert expected in text, expected
    assert ids["void"] not in text and "¥999.00" not in text and "¥88.00" not in text
    assert _row(layout, ids["D"])[-2:] == ["¥557.00", "¥1,457.00"]
    assert _row(layout, ids["CN"])[-2:] == ["¥50.00", "¥1,407.00"]
    assert _row(layout, ids["P2"])[-2:] == ["¥500.00", "¥907.00"]
    assert _row(layout, ids["E"])[-2:] == ["¥120.00", "¥1,027.00"]
    assert _row(layout, ids["P3"])[-2:] == ["¥300.00", "¥727.00"]
    assert _row(layout, "期末余额")[-3:] == ["¥677.00", "¥850.00", "¥727.00"]
    assert _row(layout, "¥827.00") == ["¥120.00", "¥507.00", "¥0.00", "¥200.00", "¥827.00",
                                       "¥100.00"]
    assert "副本" not in text  # drawn from the books each time: a reprint is no copy
    english = " ".join(pdftotext(_print(app, "billing.statement", ids["customer"], "en")).split())
    for expected in ("Statement of account", "Opening balance", "Closing balance",
                     "Payment by Bank transfer", "Over 90 days", "31–60 days",
                     "May 1, 2026", "Jun 15, 2026", "727.00", "Customer credit"):
        assert expected in english, expected
    assert "COPY" not in english

    # an engineer reads customers but not receivables: the statement is refused
    with _at(app, "wanggong") as ctx:
        with pytest.raises(PermissionDenied):
            print_records(ctx, "billing.statement", [ids["customer"]], locale="zh_CN")


def test_statement_of_years_takes_a_few_queries(billing_app):
    """A customer with ten years of invoices and payments: the statement aggregates the
    opening balance in SQL and lists the period's lines from indexed queries — the number
    of queries does not grow with the history."""
    app = billing_app
    with _at(app) as ctx:
        customer = _customer(ctx, "C0004")
        template = _invoice(ctx, customer, dt.date(2016, 1, 1),
                            ("parts_fee", "配件", "100.00"))
        paid = _pay(ctx, customer, dt.date(2016, 1, 2), "100.00", "cash")
        rows, payments = [], []
        for n in range(4000):
            on = dt.date(2016, 1, 3) + dt.timedelta(days=n)
            rows.append({"company_id": template.company_id, "branch_id": template.branch_id,
                         "customer_id": customer.id, "number": f"OLD-{n:05d}",
                         "kind": "invoice", "invoice_date": on, "due_date": on,
                         "tax_rate": D("13"), "tax_inclusive": True,
                         "net_total": D("88.50"), "tax_total": D("11.50"),
                         "grand_total": D("100.00"), "outstanding": D("0.00"),
                         "paid_total": D("100.00"), "docstatus": "submitted",
                         "payment_state": "settled"})
            payments.append({"company_id": template.company_id,
                             "branch_id": template.branch_id, "customer_id": customer.id,
                             "number": f"OLDP-{n:05d}", "paid_on": on, "method": "cash",
                             "amount": D("100.00"), "allocated": D("100.00"),
                             "unallocated": D("0.00"), "docstatus": "submitted"})
        ctx.session.execute(insert(Invoice), rows)
        ctx.session.execute(insert(Payment), payments)
        assert paid.unallocated == 0
    with _at(app) as ctx:
        with counting(app.engine) as seen:
            started = time.perf_counter()
            data = receivables.statement(ctx, ctx.session.get(Customer, customer.id),
                                         dt.date(2026, 5, 1), dt.date(2026, 6, 15))
            took = time.perf_counter() - started
        assert data["opening"] == D("0.00") and data["closing"] == D("0.00")
        assert len(data["lines"]) == 2 * 46  # the period's invoices and payments
        assert data["lines"][-1]["balance"] == D("0.00")
        assert len(seen) <= 8, seen
        assert took < 2.0, took


# ---------------------------------------------------------------------------
# quotation and on-site collection receipt (repair and billing)
# ---------------------------------------------------------------------------


def _switch_off_pricing(app) -> None:
    """Leave the quote to the staff's amounts: billing's pricing answer switched off in
    SH (a part may be off per branch), so the test does not depend on price rules."""
    from kernel.hookswitch import HookSwitch, implementations
    from kernel.models import Branch

    with app.context() as ctx:
        sh = ctx.session.scalar(select(Branch).where(Branch.code == "SH"))
        for plugin, hook in implementations(app.pm):
            if hook == "repair_quote_requested":
                ctx.session.add(HookSwitch(branch_id=sh.id, plugin=plugin, hook=hook))


def test_quotation_and_on_site_receipt(repair_billing_app):
    from plugins.repair import services

    app = repair_billing_app
    _switch_off_pricing(app)
    assert app.documents["billing.quote"].entity == "repair_work_order"
    with _at(app, "zhengli", NOW) as ctx:
        order = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                  fault_description="复印件发黑，有黑线")
        number, order_id = order.number, order.id
    with _at(app, "wufang", NOW + dt.timedelta(minutes=30)) as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with _at(app, "wanggong", NOW + dt.timedelta(hours=1)) as ctx:
        services.diagnose(ctx, number, "硒鼓磨损，搓纸轮老化", fault_code="drum")
        services.add_part(ctx, number, "硒鼓", 1, "380.00", part_code="NPG-28")
        services.add_part(ctx, number, "搓纸轮", 2, "48.00")
    with _at(app, "wanggong", NOW + dt.timedelta(hours=1)) as ctx:
        with pytest.raises(Conflict, match="quoted"):  # not quoted yet: no quotation
            print_records(ctx, "billing.quote", [order_id], locale="en")
        services.quote(ctx, number, labour="120.00", parts="532.00", travel="50.00")

    # quoted by hand: the parts as one line at the quote's parts amount
    pdf = _print(app, "billing.quote", order_id, "zh_CN", "wanggong")
    text, layout = _chinese(pdf, CANON), pdftotext(pdf, layout=True)
    for expected in ("报价单", number, "周志华", "138 0013 5678", "Canon iR 2206", "QXY20614",
                     "复印件发黑", "硒鼓磨损，搓纸轮老化", "硒鼓 NPG-28、搓纸轮", "¥532.00",
                     "工时费", "¥120.00", "交通费", "¥50.00", "¥702.00", "人民币柒佰零贰元整",
                     "以上价格已含 13% 增值税", "有效期 15 天", "2026年6月30日",
                     "90 天内同一故障免费返修", "本人同意以上报价", "报价人：王建国", "客户签字"):
        assert expected in text, expected
    assert _row(layout, "合计")[-1] == "¥702.00"
    english = pdftotext(_print(app, "billing.quote", order_id, "en", "wanggong"))
    for expected in ("Quotation", "Valid for", "Jun 30, 2026", "702.00", "Labour fee",
                     "Customer's acceptance"):
        assert expected.lower() in english.lower(), expected

    # with each part line priced for the customer (as billing's pricing leaves them):
    # one line per part, adding up to the parts amount
    with _at(app) as ctx:
        gathered = _quote_rows(app, ctx, order_id, {"硒鼓": D("437.00"), "搓纸轮": D("47.50")})
        assert [(row["description"], row["quantity"], row["unit_price"], row["amount"])
                for row in gathered] == [
            ("硒鼓 NPG-28", 1, D("437.00"), D("437.00")),
            ("搓纸轮", 2, D("47.50"), D("95.00")),
            ("", 1, D("120.00"), D("120.00")), ("", 1, D("50.00"), D("50.00"))]
        # prices that do not add up to the quote's parts amount are not printed
        gathered = _quote_rows(app, ctx, order_id, {"硒鼓": D("437.00"), "搓纸轮": D("40.00")})
        assert [row["amount"] for row in gathered] == [D("532.00"), D("120.00"), D("50.00")]
        ctx.session.rollback()

    with _at(app, "wanggong", NOW + dt.timedelta(hours=2)) as ctx:
        services.accept_quote(ctx, number)
    assert "客户已于 2026年6月15日 确认本报价" in _chinese(
        _print(app, "billing.quote", order_id, "zh_CN", "wanggong"), CANON)

    # 现场收款收据: the engineer collects the quote's amount on site for the job
    with _at(app) as ctx:
        customer = _customer(ctx, "C0002")
        invoice = _invoice(ctx, customer, NOW.date(),
                           ("parts_fee", "硒鼓 NPG-28、搓纸轮", "532.00"),
                           ("labour_fee", "维修", "120.00"), ("travel_fee", "上门", "50.00"),
                           source=RecordLink("repair_work_order", order_id))
        payment = _pay(ctx, customer, NOW.date(), "800.00", "cash", on_site=True,
                       collected_by_id=_employee(ctx, "E001").id,
                       job=RecordLink("repair_work_order", order_id))
        payment_id, payment_number, invoice_number = payment.id, payment.number, invoice.number
        assert payment.unallocated == D("98.00")
    # printed by the engineer who collected it (engineers collect, they do not read the
    # office's payments): the office's payment receipt is not his, nor for this payment
    text = _chinese(_print(app, "billing.collection_receipt", payment_id, "zh_CN",
                           "wanggong"), CANON)
    for expected in ("现场收款收据", payment_number, "周志华", "¥800.00", "人民币捌佰元整", "现金",
                     "工单号", number, "iR 2206", "QXY20614", "现场收款工程师", "王建国", "E001",
                     invoice_number, "¥702.00", "转为客户余款", "¥98.00", "付款人签字",
                     "收款工程师"):
        assert expected in text, expected
    with _at(app, "wanggong") as ctx:
        with pytest.raises(PermissionDenied):
            print_records(ctx, "billing.receipt", [payment_id], locale="zh_CN")
    with _at(app) as ctx:
        with pytest.raises(Conflict, match="on site"):
            print_records(ctx, "billing.receipt", [payment_id], locale="en")
    english = pdftotext(_print(app, "billing.collection_receipt", payment_id, "en"))
    for expected in ("On-site collection receipt", "Collected on site by", "Engineer who collected",
                     "For job", number, "Kept as the customer's credit"):
        assert expected in english, expected
    invoice_text = _chinese(_print(app, "billing.invoice", invoice.id, "zh_CN"), CANON)
    assert number in invoice_text  # the job it bills


def _quote_rows(app, ctx, order_id: int, prices: dict) -> list[dict]:
    """The quotation's rows once the order's part lines carry the customer's ``prices``
    (by description; written in this transaction only, rolled back by the caller)."""
    from plugins.billing.papers import quote_rows

    order = ctx.session.get(app.entity_class("repair_work_order"), order_id)
    for line in order.active_lines:
        line.unit_price = prices[line.description]
    return quote_rows(order)
