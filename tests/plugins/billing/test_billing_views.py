"""Billing on the desk forms of invoices, payments and customers, in the customer list and
in ``fixdesk billing receivables`` (:mod:`plugins.billing.views`), read through the desk
(real HTTP, the site speaks Chinese) by an accountant and the front desk of SH, an
engineer and JD's manager; with the queries each block and column costs.

The books of C0001 (SH), hand-checked, dates counted back from today:

- INV A, 95 days ago, due 30 days later (65 days overdue, aged over 90 days): the drum
  ¥437.00 and labour ¥120.00 incl. 13 % VAT — net ¥492.92, VAT ¥64.08, ¥557.00;
- payment P1 in cash, ¥300.00 naming A for ¥200.00: ¥100.00 is the customer's credit;
- credit note CN for ¥50.00 on A: A owes 557 − 200 − 50 = ¥307.00;
- INV B, 10 days ago, ¥100.00, unpaid (aged 0–30 days, not yet due);
- so C0001 owes ¥407.00 on two invoices, ¥307.00 overdue, credit ¥100.00, balance
  ¥307.00. JD's C0003 has an invoice of ¥88.00 that SH never sees.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from desk_sessions import demo_sessions
from query_count import counting
from sqlalchemy import select

from kernel.auth import add_user
from kernel.demo import DEMO_PASSWORD
from kernel.lifecycle import number_new_draft, submit
from kernel.masterdata import get_branch
from kernel.web.app import create_app


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _block(client, url, name) -> dict | None:
    """The block ``name`` of the form at ``url`` (None when the form has none): its
    summary, rows (cell texts), links and note, as the desk shows them."""
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    found = re.search(rf'<section class="record block" id="block-{re.escape(name)}".*?'
                      r"</section>", page.text, re.S)
    if found is None:
        return None
    html = found.group(0)
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    rows = [[_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S)]
    note = re.search(r'<p class="muted">(.*?)</p>', html, re.S)
    return {"summary": {_text(k): _text(v) for k, v in
                        re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S)},
            "rows": rows, "links": re.findall(r'<a href="([^"]+)"', html),
            "note": _text(note.group(1)) if note else None}


@pytest.fixture
def books(quiet_site):
    """The web app, its app, the site and the ids of the module's books."""
    from kernel.models import Customer
    from plugins.billing import invoices
    from plugins.billing.models import Payment, PaymentReference

    site = quiet_site(["billing"])
    web = create_app(site)
    app = web.state.fixdesk
    with app.context(user="admin") as ctx:
        add_user(ctx, "kuaiji", "钱会计", DEMO_PASSWORD, get_branch(ctx, "SH"),
                 roles=["accountant"])
        today = ctx.now().astimezone(ctx.settings.tz).date()
        customers = {c.code: c for c in ctx.session.scalars(
            select(Customer).where(Customer.code.in_(("C0001", "C0003"))))}
        c1 = customers["C0001"]
        a = invoices.make_invoice(ctx, customer=c1, invoice_date=today - dt.timedelta(95),
                                  lines=[{"item": "parts_fee", "description": "硒鼓 DR-2206",
                                          "unit_price": D("437.00")},
                                         {"item": "labour_fee", "description": "人工费",
                                          "unit_price": D("120.00")}])
        submit(ctx, a)
        b = invoices.make_invoice(ctx, customer=c1, invoice_date=today - dt.timedelta(10),
                                  lines=[{"description": "上门检测", "unit_price": D("100.00")}])
        submit(ctx, b)
        payment = Payment(company_id=c1.company_id, branch_id=c1.branch_id,
                          customer_id=c1.id, paid_on=today - dt.timedelta(60),
                          method="cash", amount=D("300.00"),
                          references=[PaymentReference(invoice_id=a.id, amount=D("200.00"))])
        number_new_draft(ctx, payment)
        ctx.session.add(payment)
        ctx.session.flush()
        submit(ctx, payment)
        note = invoices.credit(ctx, a, reason="硒鼓折让", amount="50.00")
        submit(ctx, note)
        jd = invoices.make_invoice(ctx, customer=customers["C0003"],
                                   lines=[{"description": "维修", "unit_price": D("88.00")}])
        submit(ctx, jd)
        draft = invoices.make_invoice(ctx, customer=c1,
                                      lines=[{"description": "草稿", "unit_price": D("9.00")}])
        ids = {"A": a.id, "B": b.id, "P1": payment.id, "CN": note.id, "JD": jd.id,
               "draft": draft.id, "C0001": c1.id, "C0003": customers["C0003"].id,
               "numbers": {"A": a.number, "B": b.number, "P1": payment.number,
                           "CN": note.number, "JD": jd.number}, "today": today}
    yield web, app, site, ids
    app.close()


def test_invoice_payment_and_customer_forms_show_the_books(books):
    web, app, _site, ids = books
    n, today = ids["numbers"], ids["today"]
    with demo_sessions(web) as login:
        accountant, desk, engineer, jd = (login(u) for u in ("kuaiji", "zhengli", "wanggong",
                                                             "huangtao"))
        a_url = f"/desk/billing_invoice/{ids['A']}"
        totals = _block(accountant, a_url, "billing.invoice_totals")
        assert totals["summary"] == {
            "不含税合计": "¥492.92", "增值税": "¥64.08（税率 13 %，价内含税）",
            "合计": "¥557.00", "状态": "已提交", "已冲销": "¥50.00", "已收金额": "¥200.00",
            "未收金额": "¥307.00", "收款": "部分收款", "逾期天数": "65"}
        paid = _block(accountant, a_url, "billing.invoice_payments")
        assert paid["summary"] == {"已收金额": "¥200.00"}
        assert [row[:5] for row in paid["rows"]] == [
            [n["P1"], (today - dt.timedelta(60)).isoformat(), "现金", "收款", "200.00"]]
        assert paid["links"] == [f"/desk/billing_payment/{ids['P1']}"]
        credits = _block(accountant, a_url, "billing.invoice_credit_notes")
        assert credits["summary"] == {"已冲销": "¥50.00", "可冲销余额": "¥507.00"}
        assert [row[:4] for row in credits["rows"]] == [[n["CN"], today.isoformat(), "已提交",
                                                         "50.00"]]
        assert credits["rows"][0][4].endswith("硒鼓折让")
        assert credits["links"] == [f"/desk/billing_invoice/{ids['CN']}"]

        note = _block(accountant, f"/desk/billing_invoice/{ids['CN']}", "billing.invoice_totals")
        assert note["summary"]["合计"] == "¥50.00" and "已收金额" not in note["summary"]
        assert note["rows"] == [[n["A"], (today - dt.timedelta(95)).isoformat(), "557.00",
                                 "50.00", "307.00"]]
        assert note["links"] == [a_url]
        assert note["note"] == "本红字冲销单从所冲销的发票中减去 ¥50.00。"
        for name in ("billing.invoice_payments", "billing.invoice_credit_notes"):
            assert _block(accountant, f"/desk/billing_invoice/{ids['CN']}", name) is None
        draft = _block(accountant, f"/desk/billing_invoice/{ids['draft']}",
                       "billing.invoice_totals")
        assert draft["summary"] == {"不含税合计": "¥7.96", "增值税": "¥1.04（税率 13 %，价内含税）",
                                    "合计": "¥9.00", "状态": "草稿"}
        assert draft["note"].startswith("草稿：")

        allocations = _block(desk, f"/desk/billing_payment/{ids['P1']}",
                             "billing.payment_allocations")
        assert allocations["summary"] == {
            "金额": "¥300.00", "已核销": "¥200.00", "本笔收款未核销余额": "¥100.00",
            "客户预收余额": "¥100.00"}
        assert [row[:5] for row in allocations["rows"]] == [
            [n["A"], (today - dt.timedelta(95)).isoformat(), "收款", "200.00", "307.00"]]
        assert allocations["links"] == [a_url]

        customer = f"/desk/customer/{ids['C0001']}"
        receivables = _block(accountant, customer, "billing.receivables")
        assert receivables["summary"] == {
            "未结发票": "2", "未收金额": "¥407.00", "逾期金额": "¥307.00（1 张发票）",
            "0–30 天": "¥100.00", "90 天以上": "¥307.00", "客户预收余额": "¥100.00",
            "应收净额": "¥307.00"}
        a_date, b_date = today - dt.timedelta(95), today - dt.timedelta(10)
        assert receivables["rows"] == [
            [n["A"], a_date.isoformat(), (a_date + dt.timedelta(30)).isoformat(), "557.00",
             "250.00", "307.00", "65"],
            [n["B"], b_date.isoformat(), (b_date + dt.timedelta(30)).isoformat(), "100.00",
             "0.00", "100.00", ""]]
        assert receivables["links"] == [a_url, f"/desk/billing_invoice/{ids['B']}"]
        # the front desk sees it too; an engineer sees the customer but not the money
        assert _block(desk, customer, "billing.receivables")["summary"]["未收金额"] == "¥407.00"
        assert _block(engineer, customer, "billing.receivables") is None
        # JD sees none of SH's invoices, and its own customer's only
        assert jd.get(a_url).status_code == 404
        theirs = _block(jd, f"/desk/customer/{ids['C0003']}", "billing.receivables")
        assert theirs["summary"]["未收金额"] == "¥88.00"
        assert [row[0] for row in theirs["rows"]] == [n["JD"]]
        assert accountant.get(f"/desk/customer/{ids['C0003']}").status_code == 404

        for client, expected in ((accountant, ["407.00", "100.00"]), (engineer, ["", ""])):
            page = client.get("/desk/customer", params={"q": "C0001"})
            assert page.status_code == 200
            table = re.search(r"<table.*?</table>", page.text, re.S).group(0)
            headers = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
            assert headers[-2:] == ["未收金额", "客户预收余额"]
            row = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)]
            assert row[-2:] == expected, row


def test_each_block_and_column_costs_one_query_or_two(books):
    """However many invoices and customers: the customer list's columns one query each for
    the page, the customer's receivables two, an invoice's payments and credit notes one
    each, a payment's allocations two."""
    from kernel.models import Customer
    from plugins.billing import views
    from plugins.billing.models import Invoice, Payment

    _web, app, _site, ids = books
    with app.context(user="kuaiji") as ctx:
        ctx.can("billing_invoice.read")  # the user's permissions, read once per request
        customers = list(ctx.session.scalars(select(Customer).order_by(Customer.id)))
        invoice, note = (ctx.session.get(Invoice, ids[k]) for k in ("A", "CN"))
        payment = ctx.session.get(Payment, ids["P1"])
        customer = ctx.session.get(Customer, ids["C0001"])
        note.credit_of  # noqa: B018 - loaded before counting, as the form has it
        for build, args, queries in (
                (views.customers_outstanding, (customers,), 1),
                (views.customers_credit, (customers,), 1),
                (views.customer_receivables, (customer,), 2),
                (views.invoice_totals, (invoice,), 0),
                (views.invoice_totals, (note,), 0),
                (views.invoice_payments, (invoice,), 1),
                (views.invoice_credit_notes, (invoice,), 1),
                (views.payment_allocations, (payment,), 2)):
            with counting(app.engine) as seen:
                build(ctx, *args)
            assert len(seen) == queries, (build.__name__, seen)
        assert views.customers_outstanding(ctx, customers) == {ids["C0001"]: D("407.00")}
        assert views.customers_credit(ctx, customers) == {ids["C0001"]: D("100.00")}


def test_receivables_on_the_command_line(books, fixdesk, monkeypatch):
    _web, _app, site, ids = books
    n, today = ids["numbers"], ids["today"]
    a_date, b_date = today - dt.timedelta(95), today - dt.timedelta(10)
    done = fixdesk("--site", site.path, "billing", "receivables", "--customer", "C0001")
    assert done.code == 0, done
    assert done.out.splitlines() == [
        "C0001 申达物流有限公司",
        "INVOICE\tINVOICE DATE\tDUE DATE\tTOTAL\tPAID\tCREDITED\tOUTSTANDING\tDAYS OVERDUE",
        f"{n['A']}\t{a_date}\t{a_date + dt.timedelta(30)}\t557.00\t200.00\t50.00\t307.00\t65",
        f"{n['B']}\t{b_date}\t{b_date + dt.timedelta(30)}\t100.00\t0.00\t0.00\t100.00\t",
        "OPEN INVOICES\tOUTSTANDING\tCREDIT\tNET RECEIVABLE",
        "2\t407.00\t100.00\t307.00"]
    jd = fixdesk("--site", site.path, "billing", "receivables", "--customer", "C0003")
    assert jd.out.splitlines()[-1] == "1\t88.00\t0.00\t88.00"
    for code, message in (("NOPE", "no customer"), ("C0001\x00", "must not contain NUL"),
                          ("C" * 500, "no customer")):
        refused = fixdesk("--site", site.path, "billing", "receivables", "--customer", code)
        assert refused.code == 2 and refused.out == "", refused
        assert len(refused.err.splitlines()) == 1 and message in refused.err
    missing = fixdesk("--site", site.path, "billing", "receivables")
    assert missing.code == 2 and "--customer" in missing.err
    monkeypatch.setenv("FIXDESK_LANG", "zh_CN")
    chinese = fixdesk("--site", site.path, "billing", "receivables", "--customer", "C0001")
    assert chinese.out.splitlines()[1].split("\t") == [
        "发票", "开票日期", "到期日", "合计", "已收金额", "已冲销", "未收金额", "逾期天数"]
    assert chinese.out.splitlines()[4].split("\t") == ["未结发票", "未收金额", "客户预收余额",
                                                       "应收净额"]
    assert fixdesk("--site", site.path, "billing", "receivables", "--customer",
                   "NOPE").err == "错误：客户 NOPE 不存在\n"
