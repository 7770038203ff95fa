"""Billing's reports, dashboard, Excel export and ``fixdesk billing aging / revenue`` on a
site with billing alone, on small data with hand-checked figures (SQLite and PostgreSQL).

Prices include 13 % VAT (the site's default), so ¥113.00 is ¥100.00 net + ¥13.00 VAT.
Customers C0001 (c1) and C0002 (c2), both served by SH; dates in 2025:

=====  ======  ====  ==========  ================================  =====================
name   branch  cust  date        lines (service type, gross)       what happens
=====  ======  ====  ==========  ================================  =====================
I7     SH      c1    2025-07-01  other_service 80.00               P3 pays 10 on site
I1     SH      c1    2025-09-10  repair 113.00, repair 226.00      credit note CN 113.00
                                                                    (2025-10-15), P1 200
I2     SH      c2    2025-10-05  install 565.00                    P2 600 (35 left: credit)
I3     JD      c1    2025-10-20  repair 1130.00                    open
I4     SH      c1    2025-10-25  repair 999.00                     stays a draft
I5     SH      c2    2025-11-02  repair 300.00                     cancelled
I6     SH      c2    2025-11-20  repair 50.00                      open
=====  ======  ====  ==========  ================================  =====================

Revenue 2025-09 … 2025-10: SH repair Sep 300/39/339; JD repair Oct 1000/130/1130; SH
install Oct 500/65/565; SH repair Oct −100/−13/−113 (the credit note): 1700/221/1921.

Aging as of 2025-11-30: c1 31–60 1130 (I3), 61–90 26 (I1: 339 − 113 − 200), over 90 70
(I7), 1226 in all; c2 0–30 50 (I6), credit 35, balance 15.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from kernel.auth import add_user
from kernel.lifecycle import cancel, submit
from kernel.masterdata import get_branch
from kernel.models import Customer, Employee
from kernel.web.app import create_app
from plugins.billing import invoices
from plugins.billing.models import (
    CommissionEntry,
    JobCharge,
    Method,
    Payment,
    PaymentReference,
    ServiceType,
)

PASSWORD = "password-123"


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _invoice(ctx, customer, branch, on, *lines, submit_it=True):
    made = invoices.make_invoice(ctx, customer=customer, branch=branch, invoice_date=_day(on),
                                 lines=[{"description": f"{kind} {price}",
                                         "service_type": ServiceType(kind),
                                         "unit_price": D(price)} for kind, price in lines])
    if submit_it:
        submit(ctx, made)
    return made


def _payment(ctx, customer, branch, on, amount, *paying, **extra):
    payment = Payment(company_id=branch.company_id, branch_id=branch.id,
                      customer_id=customer.id, paid_on=_day(on),
                      method=extra.pop("method", Method.TRANSFER), amount=D(amount),
                      references=[PaymentReference(invoice_id=invoice.id, amount=D(part))
                                  for invoice, part in paying], **extra)
    ctx.session.add(payment)
    ctx.session.flush()
    submit(ctx, payment)
    return payment


def _charge(ctx, branch, n, category, on, labour_value, cost, total="0", billable=False,
            invoice=None):
    ctx.session.add(JobCharge(
        company_id=branch.company_id, branch_id=branch.id, order_id=n,
        order_number=f"WO-{n:04d}", customer_id=None, category=category,
        service_type=ServiceType.REPAIR, completed_on=_day(on), labour_value=D(labour_value),
        internal_cost=D(cost), total=D(total), labour=D(total), billable=billable,
        invoice_id=invoice.id if invoice else None))


def _commission(ctx, engineer, n, kind, month, amount, code=None):
    ctx.session.add(CommissionEntry(
        company_id=engineer.company_id, branch_id=engineer.branch_id, engineer_id=engineer.id,
        order_id=n, order_number=f"WO-{n:04d}", code=code or kind, kind=kind,
        service_type=ServiceType.REPAIR, month=_day(month), amount=D(amount),
        reason=kind, at=dt.datetime(2025, 10, 31, tzinfo=dt.UTC)))


def _load(app) -> dict:
    """The invoices, payments, job charges and commission lines of the module's text; an
    accountant of SH (``kuaiji``) and of JD (``jdkuaiji``)."""
    with app.context(user="admin") as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        people = {e.code: e for e in ctx.session.scalars(select(Employee))}
        c1, c2 = (ctx.session.scalars(select(Customer).where(Customer.code == code)).one()
                  for code in ("C0001", "C0002"))
        add_user(ctx, "kuaiji", "钱慧", PASSWORD, sh, roles=["accountant"])
        add_user(ctx, "jdkuaiji", "冯敏", PASSWORD, jd, roles=["accountant"])
        i7 = _invoice(ctx, c1, sh, "2025-07-01", ("other_service", "80.00"))
        i1 = _invoice(ctx, c1, sh, "2025-09-10", ("repair", "113.00"), ("repair", "226.00"))
        note = invoices.credit(ctx, i1, reason="discount", amount="113.00")
        note.invoice_date = _day("2025-10-15")
        submit(ctx, note)
        i2 = _invoice(ctx, c2, sh, "2025-10-05", ("install", "565.00"))
        _invoice(ctx, c1, jd, "2025-10-20", ("repair", "1130.00"))
        _invoice(ctx, c1, sh, "2025-10-25", ("repair", "999.00"), submit_it=False)
        i5 = _invoice(ctx, c2, sh, "2025-11-02", ("repair", "300.00"))
        cancel(ctx, i5, reason="wrong customer")
        _invoice(ctx, c2, sh, "2025-11-20", ("repair", "50.00"))
        _payment(ctx, c1, sh, "2025-10-01", "200.00", (i1, "200.00"))
        _payment(ctx, c2, sh, "2025-11-01", "600.00", (i2, "565.00"))
        _payment(ctx, c1, sh, "2025-11-25", "10.00", (i7, "10.00"), method=Method.CASH,
                 on_site=True, collected_by_id=people["E001"].id)

        _charge(ctx, sh, 1, "B", "2025-10-03", "160.00", "220.00")
        _charge(ctx, sh, 2, "C", "2025-10-15", "120.00", "500.00")
        _charge(ctx, sh, 3, "C", "2025-10-20", "80.00", "80.00")
        _charge(ctx, jd, 4, "D", "2025-09-09", "60.00", "60.00")
        _charge(ctx, sh, 5, "A", "2025-10-11", "90.00", "90.00")
        _charge(ctx, sh, 6, "A", "2025-10-12", "120.00", "120.00", total="557.00",
                billable=True)
        _charge(ctx, sh, 7, "A", "2025-09-12", "100.00", "100.00", total="339.00",
                billable=True, invoice=i1)
        _charge(ctx, sh, 8, "C", "2025-12-01", "70.00", "70.00")

        e001, e006 = people["E001"], people["E006"]
        _commission(ctx, e001, 1, "earned", "2025-10-01", "17.00")
        _commission(ctx, e001, 1, "deduction", "2025-10-01", "-20.00", "overdue")
        _commission(ctx, e001, 2, "earned", "2025-10-01", "21.00")
        _commission(ctx, e001, 3, "earned", "2025-10-01", "30.00")
        _commission(ctx, e001, 3, "reversal", "2025-11-01", "-30.00")
        _commission(ctx, e006, 10, "earned", "2025-11-01", "12.00")
        _commission(ctx, e006, 10, "deduction", "2025-11-01", "-30.00", "poor_rating")
        _commission(ctx, e006, 11, "earned", "2025-12-01", "15.00")
        headers = bearer_headers(ctx, "admin", "kuaiji")
    return {"headers": headers}


@pytest.fixture
def books(quiet_site):
    """(site, web app, fixdesk app, bearer headers) with the module's data."""
    site = quiet_site(["billing"])
    web = create_app(site)
    app = web.state.fixdesk
    loaded = _load(app)
    yield site, web, app, loaded["headers"]
    app.close()


def _run(app, user, name, **params):
    from kernel.reports.service import run

    with app.context(user=user) as ctx:
        outcome = run(ctx, name, params)
        return outcome.rows, outcome.columns


def _pick(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


def _sums(rows, columns):
    from kernel.reports.formatting import totals

    return totals(columns, rows)


REVENUE = [("2025-09", "SH", "repair", D("300.00"), D("39.00"), D("339.00")),
           ("2025-10", "JD", "repair", D("1000.00"), D("130.00"), D("1130.00")),
           ("2025-10", "SH", "install", D("500.00"), D("65.00"), D("565.00")),
           ("2025-10", "SH", "repair", D("-100.00"), D("-13.00"), D("-113.00"))]


def test_report_figures(books):
    """Each report's rows and totals on the module's data, narrowed by branch, by the
    reader's branches and by the other parameters; bad months refused naming the field."""
    from kernel import ValidationError

    _site, _web, app, _headers = books
    rows, columns = _run(app, "admin", "billing.revenue", from_month="2025-09",
                         to_month="2025-10")
    keys = ("month", "branch_code", "service_type", "net", "tax", "total")
    assert _pick(rows, *keys) == REVENUE
    assert _sums(rows, columns) == {"net": D("1700.00"), "tax": D("221.00"),
                                    "total": D("1921.00")}
    rows, _c = _run(app, "admin", "billing.revenue", from_month="2025-09",
                    to_month="2025-12", branch="SH", service_type="repair")
    assert _pick(rows, "month", "net") == [("2025-09", D("300.00")), ("2025-10", D("-100.00")),
                                           ("2025-11", D("44.25"))]
    rows, _c = _run(app, "jdkuaiji", "billing.revenue", from_month="2025-01",
                    to_month="2025-12")
    assert _pick(rows, *keys) == [REVENUE[1]]
    for bad, field in (({"from_month": "2025-13"}, "from_month"),
                       ({"from_month": "2025-10", "to_month": "2025-09"}, "to_month")):
        with pytest.raises(ValidationError) as refused:
            _run(app, "admin", "billing.revenue", **bad)
        assert refused.value.field == field

    aging_keys = ("customer_code", "days_0_30", "days_31_60", "days_61_90", "days_over_90",
                  "outstanding", "credit", "balance", "oldest")
    rows, columns = _run(app, "admin", "billing.aging", date="2025-11-30")
    assert _pick(rows, *aging_keys) == [
        ("C0001", D("0.00"), D("1130.00"), D("26.00"), D("70.00"), D("1226.00"), D("0.00"),
         D("1226.00"), _day("2025-07-01")),
        ("C0002", D("50.00"), D("0.00"), D("0.00"), D("0.00"), D("50.00"), D("35.00"),
         D("15.00"), _day("2025-11-20"))]
    assert _sums(rows, columns)["balance"] == D("1241.00")
    rows, _c = _run(app, "kuaiji", "billing.aging", date="2025-11-30")
    assert _pick(rows, "customer_code", "days_61_90", "days_over_90", "outstanding") == [
        ("C0001", D("26.00"), D("70.00"), D("96.00")), ("C0002", D("0.00"), D("0.00"),
                                                        D("50.00"))]
    # a month earlier: I6 and P2 were not there yet; the rest aged from 2025-10-31
    rows, _c = _run(app, "admin", "billing.aging", date="2025-10-31")
    assert _pick(rows, *aging_keys) == [
        ("C0001", D("1130.00"), D("26.00"), D("0.00"), D("70.00"), D("1226.00"), D("0.00"),
         D("1226.00"), _day("2025-07-01"))]
    rows, _c = _run(app, "admin", "billing.aging", date="2025-11-30", customer="C0002")
    assert _pick(rows, "customer_code", "balance") == [("C0002", D("15.00"))]

    rows, columns = _run(app, "admin", "billing.commission", from_month="2025-10",
                         to_month="2025-11")
    assert _pick(rows, "engineer_code", "branch_code", "jobs", "earned", "deductions",
                 "reversals", "total") == [
        ("E001", "SH", 3, D("68.00"), D("-20.00"), D("-30.00"), D("18.00")),
        ("E006", "JD", 1, D("12.00"), D("-30.00"), D("0.00"), D("-18.00"))]
    assert _sums(rows, columns)["total"] == D("0.00")
    rows, _c = _run(app, "kuaiji", "billing.commission", from_month="2025-10",
                    to_month="2025-12")
    assert _pick(rows, "engineer_code", "total") == [("E001", D("18.00"))]

    rows, columns = _run(app, "admin", "billing.free_work", from_month="2025-09",
                         to_month="2025-11")
    assert _pick(rows, "month", "branch_code", "category_code", "jobs", "labour_value",
                 "internal_cost") == [
        ("2025-09", "JD", "D", 1, D("60.00"), D("60.00")),
        ("2025-10", "SH", "A", 1, D("90.00"), D("90.00")),
        ("2025-10", "SH", "B", 1, D("160.00"), D("220.00")),
        ("2025-10", "SH", "C", 2, D("200.00"), D("580.00"))]
    assert _sums(rows, columns) == {"jobs": 5, "labour_value": D("510.00"),
                                    "internal_cost": D("950.00")}
    rows, _c = _run(app, "admin", "billing.free_work", from_month="2025-09",
                    to_month="2025-12", category="C")
    assert _pick(rows, "month", "jobs") == [("2025-10", 2), ("2025-12", 1)]


def test_excel_and_json_through_the_api(books):
    """Every report exports to Excel through the kernel (R33): openpyxl reads the figures
    back as numbers under Chinese headers; a bad month is a 422 naming the field."""
    _site, web, _app, headers = books
    with TestClient(web, raise_server_exceptions=False) as client:
        queries = {"billing.revenue": {"from_month": "2025-09", "to_month": "2025-10"},
                   "billing.aging": {"date": "2025-11-30"},
                   "billing.commission": {"from_month": "2025-10", "to_month": "2025-11"},
                   "billing.free_work": {"from_month": "2025-09", "to_month": "2025-11"}}
        sheets = {}
        for name, query in queries.items():
            answer = client.get(f"/api/v1/reports/{name}", headers=headers["admin"],
                                params={**query, "format": "xlsx", "lang": "zh_CN"})
            assert answer.status_code == 200, (name, answer.text)
            sheets[name] = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(
                values_only=True))
        revenue = sheets["billing.revenue"]
        assert revenue[1] == ("月份", "分支机构", "服务类型", "不含税金额", "增值税", "价税合计")
        assert [line[3:] for line in revenue[2:]] == [
            (300, 39, 339), (1000, 130, 1130), (500, 65, 565), (-100, -13, -113)]
        assert revenue[3][:3] == ("2025-10", "嘉定分公司", "维修")
        aging = {line[0]: line for line in sheets["billing.aging"][2:]}
        assert aging["C0001"][2:9] == (0, 1130, 26, 70, 1226, 0, 1226)
        assert aging["C0002"][6:9] == (50, 35, 15)
        commission = sheets["billing.commission"]
        assert [line[3:] for line in commission[2:]] == [(3, 68, -20, -30, 18),
                                                         (1, 12, -30, 0, -18)]
        free = sheets["billing.free_work"]
        assert free[3][2:] == ("A 有费服务", 1, 90, 90)

        answer = client.get("/api/v1/reports/billing.aging", headers=headers["kuaiji"],
                            params={"date": "2025-11-30"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["totals"]["outstanding"] == "146.00"
        refused = client.get("/api/v1/reports/billing.revenue", headers=headers["admin"],
                             params={"from_month": "2025-1x"})
        assert refused.status_code == 422
        assert "from_month" in refused.json()["error"]["fields"]


def test_dashboard_cards_and_chart(books):
    """The cards count what they say, as the user who looks, and the accountant's home page
    shows them with the chart."""
    from plugins.billing import dashboard

    _site, web, app, _headers = books
    with app.context(user="admin") as ctx:
        today = ctx.now().astimezone(ctx.settings.tz).date()
        c2 = ctx.session.scalars(select(Customer).where(Customer.code == "C0002")).one()
        _invoice(ctx, c2, get_branch(ctx, "SH"), today.isoformat(), ("repair", "226.00"))
    with app.context(user="kuaiji") as ctx:
        assert (dashboard.revenue_this_month(ctx), dashboard.receivables_overdue(ctx),
                dashboard.collections_not_handed_in(ctx), dashboard.jobs_not_invoiced(ctx)) \
            == (200, 146, 1, 1)
        chart = dashboard.revenue_by_month(ctx)
        assert chart.labels[-1] == today.strftime("%Y-%m") and len(chart.labels) == 12
        assert chart.series[0][1][-1] == 200.0
        cards = {card.name: card for card in dashboard.DASHBOARD}
        month = today.strftime("%Y-%m")
        assert cards["billing.revenue_this_month"].url(ctx) == \
            f"/desk/reports/billing.revenue?from_month={month}&to_month={month}&run=1"
    with app.context(user="jdkuaiji") as ctx:
        assert (dashboard.revenue_this_month(ctx), dashboard.receivables_overdue(ctx),
                dashboard.collections_not_handed_in(ctx), dashboard.jobs_not_invoiced(ctx)) \
            == (0, 1130, 0, 0)
        assert dashboard.revenue_by_month(ctx) is None
    with TestClient(web, raise_server_exceptions=False, follow_redirects=False) as desk:
        assert desk.post("/login", data={"username": "kuaiji", "password": PASSWORD}
                         ).status_code == 303
        home = desk.get("/")
        assert home.status_code == 200, home.text
        for title in ("本月营业收入（元，不含税）", "账龄超过30天的应收款（元）",
                      "未交回的现场收款", "已完工未开票的工单", "各月营业收入（不含税）"):
            assert title in home.text, title
        listed = desk.get(cards["billing.collections_not_handed_in"].url(None))
        assert listed.status_code == 200, listed.text
        page = desk.get("/desk/reports/billing.revenue?from_month=2025-09&to_month=2025-10"
                        "&run=1")
        assert page.status_code == 200 and "791.00" in page.text  # SH only


def test_cli_aging_and_revenue(books, fixdesk, monkeypatch):
    """``fixdesk billing aging`` and ``revenue`` print the reports tab-separated with their
    totals; a bad value exits 2 with one line."""
    site, _web, _app, _headers = books
    monkeypatch.setenv("FIXDESK_LANG", "en")
    done = fixdesk("--site", site.path, "billing", "revenue", "--from", "2025-09", "--to",
                   "2025-10")
    assert done.code == 0, done
    lines = [line.split("\t") for line in done.out.splitlines()]
    assert lines[0] == ["Month", "Branch", "Service type", "Net", "VAT", "Total incl. VAT"]
    assert lines[1] == ["2025-09", "上海服务中心", "repair", "300.00", "39.00", "339.00"]
    assert lines[-1] == ["Total", "", "", "1,700.00", "221.00", "1,921.00"]
    done = fixdesk("--site", site.path, "billing", "aging", "--branch", "SH", "--date",
                   "2025-11-30")
    assert done.code == 0, done
    lines = [line.split("\t") for line in done.out.splitlines()]
    assert [line[0] for line in lines[1:]] == ["C0001", "C0002", "Total"]
    assert lines[-1][2:9] == ["50.00", "0.00", "26.00", "70.00", "146.00", "35.00", "111.00"]
    for args in (("revenue", "--from", "2025-13"), ("aging", "--branch", "XX"),
                 ("aging", "--date", "yesterday"), ("revenue", "--from", "2025-10", "--to",
                                                    "2025-01")):
        done = fixdesk("--site", site.path, "billing", *args)
        assert done.code == 2, (args, done)
        assert done.err.startswith("error: ") and len(done.err.strip().splitlines()) == 1, \
            done
        assert done.out == ""
