"""The monthly review: complaint rate, by category, department and person, the trend, the
dashboard, Excel and ``fixdesk complaints rate`` — hand-checked on small data (SQLite and
PostgreSQL).

The site's clock stands at 2025-11-15 10:00 in Shanghai, so *last month* is October 2025.
Months are local: 2025-10-01 00:30 in Shanghai (2025-09-30 16:30 UTC) is October, and
2025-11-01 01:00 (2025-10-31 17:00 UTC) November.

==========  ======  ===============  =========  ======================================
complaint   branch  received (local) category   what happens
==========  ======  ===============  =========  ======================================
K1          SH      10-08 10:00      human      serious; our fault: department SVC,
                                     factors    person E002 李明; proposed, SVC and HR
                                                still to approve
K2          SH      10-20 15:00      product    critical, open
                                     quality
K3          SH      10-01 00:30      software   passed on by 10-01 10:00: closed on time
J1          JD      10-15 09:00      human f.   open
(not        SH      10-10 / 10-12    —          a praise; a complaint cancelled
counted)    SH      09-30 23:00      other      September
            SH      11-01 01:00      other      November
==========  ======  ===============  =========  ======================================

Jobs (repair's work orders): SH in October 412 (one at 10-01 00:10) and 5 cancelled, one
at 11-01 00:10; SH in September 50; JD in October 100. So SH: 3 ÷ 412 = 0.73 %, JD
1 ÷ 100 = 1.00 %, SH in September 1 ÷ 50 = 2.00 %.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from query_count import counting
from sqlalchemy import insert, select

from kernel.masterdata import get_branch
from kernel.models import Customer, Employee
from kernel.reports.service import render, run
from plugins.complaints import dashboard, reports, services
from plugins.complaints.models import Department

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 11, 15, 10, tzinfo=SHANGHAI).astimezone(dt.UTC)
NUMBERS = itertools.count(1)


def _at(text: str) -> dt.datetime:
    """A local time in Shanghai (``2025-10-08 10:00``) as an aware instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def _orders(ctx, branch, times, status="pending") -> None:
    """Work orders of ``branch`` reported at ``times``, inserted in bulk."""
    table = ctx.app.entity_class("repair_work_order").__table__
    rows = []
    for at in times:
        rows.append({"number": f"WO-T-{branch.code}-{next(NUMBERS):06d}",
                     "company_id": branch.company_id, "branch_id": branch.id,
                     "channel": "phone", "service_mode": "on_site",
                     "fault_description": "卡纸", "reported_at": at, "category": "A",
                     "category_basis": "not_covered", "status": status,
                     "created_at": at, "updated_at": at})
    ctx.session.execute(insert(table), rows)


def _every(first: str, n: int, step_minutes: int) -> list[dt.datetime]:
    return [_at(first) + dt.timedelta(minutes=step_minutes * i) for i in range(n)]


def _complaint(ctx, received: str, category: str, severity: str = "ordinary", **values):
    customer = ctx.session.scalars(select(Customer).order_by(Customer.id)).first()
    return services.register(ctx, **{"customer_id": customer.id, "topic": "complaint",
                                     "category": category, "severity": severity,
                                     "channel": "phone", "received_at": _at(received),
                                     "description": "客户投诉", **values})


def _load(app, jobs: bool) -> None:
    """The module's complaints (and, with ``jobs``, work orders) on ``app``."""
    app.clock = lambda: NOW
    with app.context(user="admin", branch="SH") as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        staff = {e.code: e for e in ctx.session.scalars(select(Employee))}
        svc = Department(company_id=sh.company_id, code="SVC", name="售后服务部",
                         head_id=staff["S001"].id)
        hr = Department(company_id=sh.company_id, code="HR", name="人事部",
                        head_id=staff["S003"].id)
        ctx.session.add_all([svc, hr])
        ctx.session.flush()
        k1 = _complaint(ctx, "2025-10-08 10:00", "human_factors", "serious")
        services.investigate(ctx, k1)
        services.determine(ctx, k1, cause="工程师态度差", our_fault=True, department=svc,
                           person=staff["E002"])
        services.propose(ctx, k1, resolution="道歉并更换工程师", departments="SVC,HR")
        _complaint(ctx, "2025-10-20 15:00", "product_quality", "critical")
        _complaint(ctx, "2025-10-10 11:00", "other", topic="praise")
        cancelled = _complaint(ctx, "2025-10-12 11:00", "other")
        services.cancel(ctx, cancelled, reason="重复登记")
        _complaint(ctx, "2025-09-30 23:00", "other")
        _complaint(ctx, "2025-11-01 01:00", "other")
        if jobs:
            _orders(ctx, sh, _every("2025-10-01 00:10", 412, 100))
            _orders(ctx, sh, _every("2025-10-03 09:00", 5, 60), status="cancelled")
            _orders(ctx, sh, [_at("2025-11-01 00:10")])
            _orders(ctx, sh, _every("2025-09-02 09:00", 50, 300))
            _orders(ctx, jd, _every("2025-10-02 09:00", 100, 300))
    early = _at("2025-10-01 10:00").astimezone(dt.UTC)
    with app.context(user="admin", branch="SH", clock=lambda: early) as ctx:
        k3 = _complaint(ctx, "2025-10-01 00:30", "software")
        services.record_contact(ctx, k3, summary="主管致电客户")
        services.pass_on(ctx, k3, "SVC", note="转售后服务部")
    with app.context(user="admin", branch="JD") as ctx:
        _complaint(ctx, "2025-10-15 09:00", "human_factors")


def _rows(app, user, name, **params):
    with app.context(user=user) as ctx:
        return run(ctx, name, params).rows


def _pick(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


RATE_KEYS = ("branch_code", "jobs", "complaints", "rate", "product_quality", "human_factors",
             "software", "other", "critical", "closed", "closed_on_time")


def test_monthly_review_by_hand(quiet_site, app_of, fixdesk, monkeypatch):
    """The rate per branch (3 ÷ 412 = 0.73 %), by category, department, person and month,
    as the reader's branches allow; a constant number of queries however many rows; the
    Excel export under Chinese headers; the dashboard; ``fixdesk complaints rate``."""
    site = quiet_site(["repair", "complaints"])
    app = app_of(site)
    _load(app, jobs=True)

    rows = _rows(app, "admin", "complaints.rate")  # last month: 2025-10
    assert _pick(rows, *RATE_KEYS) == [
        ("JD", 100, 1, D("1.00"), 0, 1, 0, 0, 0, 0, 0),
        ("SH", 412, 3, D("0.73"), 1, 1, 1, 0, 1, 1, 1)]
    assert _pick(_rows(app, "huangtao", "complaints.rate", month="2025-10"), "branch_code",
                 "complaints", "rate") == [("JD", 1, D("1.00"))]
    assert _pick(_rows(app, "admin", "complaints.rate", from_date="2025-09-01",
                       to_date="2025-10-31", branch="SH"), "jobs", "complaints", "rate") \
        == [(462, 4, D("0.87"))]

    by_category = _rows(app, "admin", "complaints.by_category", month="2025-10")
    assert _pick(by_category, "category", "complaints", "share", "our_fault", "serious",
                 "critical", "closed_on_time") == [
        ("product_quality", 1, D("0.25"), 0, 0, 1, 0),
        ("human_factors", 2, D("0.5"), 1, 1, 0, 0),
        ("software", 1, D("0.25"), 0, 0, 0, 1),
        ("other", 0, D("0"), 0, 0, 0, 0)]
    assert _pick(_rows(app, "admin", "complaints.by_department", month="2025-10"),
                 "department_code", "complaints", "our_fault", "human_factors") == [
        ("SVC", 1, 1, 1), ("", 3, 0, 1)]
    assert _pick(_rows(app, "admin", "complaints.by_person", month="2025-10"),
                 "employee_code", "employee", "branch_code", "complaints", "our_fault",
                 "serious") == [("E002", "李明", "SH", 1, 1, 1)]
    assert _pick(_rows(app, "admin", "complaints.trend", to_month="2025-10", months=2,
                       branch="SH"), "month", "complaints", "jobs", "rate") == [
        ("2025-09", 1, 50, D("2.00")), ("2025-10", 3, 412, D("0.73"))]

    # the queries do not grow with the rows
    def queries(name, **params):
        with app.context(user="wufang") as ctx, counting(app.engine) as seen:
            run(ctx, name, params)
        return len(seen)

    before = {name: queries(name, month="2025-10") for name in (
        "complaints.rate", "complaints.by_category", "complaints.by_person")}
    before["complaints.trend"] = queries("complaints.trend", to_month="2025-10")
    with app.context(user="admin", branch="SH") as ctx:
        sh = get_branch(ctx, "SH")
        staff = ctx.session.scalars(select(Employee).where(Employee.code == "E003")).one()
        for n, category in enumerate(("other", "software", "product_quality")):
            made = _complaint(ctx, f"2025-10-2{n} 10:00", category)
            services.investigate(ctx, made)
            services.determine(ctx, made, cause="x", our_fault=True, person=staff)
        _orders(ctx, sh, _every("2025-10-05 09:00", 30, 30))
    after = {name: queries(name, month="2025-10") for name in (
        "complaints.rate", "complaints.by_category", "complaints.by_person")}
    after["complaints.trend"] = queries("complaints.trend", to_month="2025-10")
    assert after == before and before["complaints.rate"] <= 4, before
    assert before["complaints.trend"] <= 15, before  # one query, a job count per month

    with app.context(user="admin") as ctx:
        sheet = load_workbook(io.BytesIO(render(
            ctx, "complaints.rate", {"month": "2025-10", "branch": "SH"}, "xlsx",
            locale="zh_CN").content)).active
        lines = list(sheet.iter_rows(values_only=True))
        assert lines[1] == ("分支机构", "工单数", "投诉件数", "投诉率（%）", "产品质量",
                            "人为因素", "软件因素", "其他", "重大", "已结案", "按时结案")
        assert lines[2][:4] == ("上海服务中心", 442, 6, 1.36)

    # the dashboard, as the SH supervisor (head of SVC) and the JD manager (head of HR)
    with app.context(user="wufang") as ctx:
        assert (dashboard.open_complaints(ctx), dashboard.past_deadline(ctx),
                dashboard.critical_open(ctx), dashboard.forms_waiting(ctx)) == (8, 8, 1, 1)
        chart = dashboard.rate_chart(ctx)
        assert chart.kind == "line" and chart.labels[0] == "2024-12" \
            and chart.labels[-1] == "2025-11" and len(chart.labels) == 12
        assert dict(chart.series)["上海服务中心"][-2] == 1.36
        card = {c.name: c for c in dashboard.DASHBOARD}["complaints.critical_open"]
        assert card.url(ctx).startswith("/desk/complaints_complaint?")
    with app.context(user="huangtao") as ctx:
        assert (dashboard.open_complaints(ctx), dashboard.critical_open(ctx),
                dashboard.forms_waiting(ctx)) == (1, 0, 0)  # K1 is SH's

    monkeypatch.setenv("FIXDESK_LANG", "en")
    done = fixdesk("--site", site.path, "complaints", "rate", "--month", "2025-10",
                   "--branch", "SH")
    assert done.code == 0, done
    lines = [line.split("\t") for line in done.out.splitlines()]
    assert lines[0][:4] == ["Branch", "Jobs", "Number of complaints", "Complaint rate (%)"]
    assert lines[1][:4] == ["上海服务中心", "442", "6", "1.36"]
    done = fixdesk("--site", site.path, "complaints", "rate", "--month", "2025-13")
    assert done.code == 2 and len(done.err.strip().splitlines()) == 1, done


def test_without_repair_the_rate_is_empty(quiet_site, app_of):
    """On a site with complaints alone nobody counts jobs: jobs and rate stay empty (not
    0), the counts are right, the trend's chart shows complaints."""
    app = app_of(quiet_site(["complaints"]))
    _load(app, jobs=False)
    rows = _rows(app, "admin", "complaints.rate", month="2025-10")
    assert _pick(rows, *RATE_KEYS) == [
        ("JD", None, 1, None, 0, 1, 0, 0, 0, 0, 0),
        ("SH", None, 3, None, 1, 1, 1, 0, 1, 1, 1)]
    trend = _rows(app, "admin", "complaints.trend", to_month="2025-10", months=2,
                  branch="SH")
    assert _pick(trend, "month", "complaints", "jobs", "rate") == [
        ("2025-09", 1, None, None), ("2025-10", 3, None, None)]
    with app.context(user="admin") as ctx:
        chart = reports.trend_chart(ctx, trend)
        assert chart.kind == "bar" and dict(chart.series)["上海服务中心"] == (1, 3)
        table = render(ctx, "complaints.rate", {"month": "2025-10"}, "table",
                       locale="en").content
        assert table.splitlines()[2].split("\t")[:4] == ["上海服务中心", "", "3", ""]
