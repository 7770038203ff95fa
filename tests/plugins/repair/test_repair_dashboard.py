"""Repair's cards and charts on the home page, on the demo history (SQLite and PostgreSQL).

Each card's number is what a direct SQL count of the same rule gives for the user's
branches, and its link opens the work-order (or callback) list showing exactly that many
records, through the desk as the logged-in user. The charts aggregate the same orders;
the deadline compliance report prints its weekly chart in the PDF, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient
from pdf_tools import pdftotext
from sqlalchemy import and_, func, or_, select, true

from kernel.auth import get_user
from kernel.demo import DEMO_PASSWORD
from kernel.i18n import use_locale
from kernel.models import Branch
from kernel.web.app import create_app
from kernel.web.desk.dashboard import cards, charts
from plugins.repair.dashboard import (
    compliance_by_week,
    engineer_load,
    orders_by_branch,
    orders_by_status,
)
from plugins.repair.models import Callback, WorkOrder

DEMO_HISTORY = True  # see conftest: the cards need the demo's orders and callbacks

ORDERS = WorkOrder.__table__
CALLS = Callback.__table__
CLOSED_OR_CANCELLED = ("closed", "cancelled")
TO_DO = ("dispatched", "quoted", "in_repair", "waiting_parts", "hard_to_repair")
#: demo users: who they are, and the cards repair shows them
USERS = {
    "wufang": {"repair.open_orders", "repair.undispatched", "repair.overdue",
               "repair.due_today", "repair.callbacks_due", "repair.waiting_parts"},
    "zhengli": {"repair.open_orders", "repair.undispatched", "repair.overdue",
                "repair.due_today", "repair.callbacks_due"},
    "wanggong": {"repair.my_jobs_today", "repair.my_open_jobs", "repair.overdue"},
    "huangtao": {"repair.open_orders", "repair.undispatched", "repair.overdue",
                 "repair.due_today", "repair.callbacks_due", "repair.waiting_parts",
                 "repair.closed_today"},
    "admin": {"repair.open_orders", "repair.undispatched", "repair.overdue",
              "repair.due_today", "repair.callbacks_due", "repair.waiting_parts",
              "repair.closed_today"},
}


@pytest.fixture
def demo_site(make_site):
    return make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")


def _day(ctx, moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Today's start and tomorrow's in Shanghai, in UTC."""
    tz = ctx.settings.tz
    day = moment.astimezone(tz).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def _direct(ctx, username: str, moment: dt.datetime) -> dict[str, int]:
    """Each card's rule as plain SQL on the tables (no ORM, no session scope): the
    user's branches are a WHERE of their own."""
    user = get_user(ctx.session, username)
    start, end = _day(ctx, moment)
    o, c = ORDERS.c, CALLS.c
    mine = (lambda col: true()) if user.sees_all_branches else \
        (lambda col: col.in_(sorted(user.branch_ids)))
    open_ = and_(o.status.notin_(CLOSED_OR_CANCELLED), mine(o.branch_id))

    def count(table, *where) -> int:
        return ctx.session.execute(select(func.count()).select_from(table)
                                   .where(*where)).scalar_one()

    found = {
        "repair.open_orders": count(ORDERS, open_),
        "repair.undispatched": count(ORDERS, mine(o.branch_id), o.status == "pending",
                                     o.engineer_id.is_(None),
                                     or_(o.partner_outlet.is_(None), o.partner_outlet == "")),
        "repair.overdue": count(ORDERS, open_, o.deadline_at < moment, o.arrived_at.is_(None),
                                o.paused_at.is_(None)),
        "repair.due_today": count(ORDERS, open_, o.deadline_at >= start, o.deadline_at < end,
                                  o.arrived_at.is_(None)),
        "repair.callbacks_due": count(CALLS, mine(c.branch_id), c.status == "open",
                                      c.due_at < end),
        "repair.waiting_parts": count(ORDERS, mine(o.branch_id), o.status == "waiting_parts"),
        "repair.closed_today": count(ORDERS, mine(o.branch_id), o.status == "closed",
                                     o.closed_at >= start),
    }
    if user.employee_id is not None:
        his = and_(mine(o.branch_id), o.engineer_id == user.employee_id, o.status.in_(TO_DO))
        found["repair.my_open_jobs"] = count(ORDERS, his)
        found["repair.my_jobs_today"] = count(ORDERS, his, o.appointment_at < end)
    return found


def test_cards_count_what_direct_sql_counts(demo_site, app_of):
    app = app_of(demo_site)
    moment = dt.datetime.now(dt.UTC)
    seen_any = {}
    for username, expected in USERS.items():
        with app.context(user=username, clock=lambda: moment) as ctx:
            shown = {c["name"]: c["count"] for c in cards(ctx) if c["name"].startswith("repair.")}
            direct = _direct(ctx, username, moment)
        assert set(shown) == expected, username
        for name, count in shown.items():
            assert count == direct[name], (username, name)
            seen_any[name] = seen_any.get(name, 0) + count
    # the demo history has something behind most cards (the test is not about zeros)
    for name in ("repair.open_orders", "repair.callbacks_due", "repair.waiting_parts",
                 "repair.my_open_jobs"):
        assert seen_any[name] > 0, name
    with app.context(user="admin", clock=lambda: moment) as ctx:
        everyone = _direct(ctx, "admin", moment)["repair.open_orders"]
    with app.context(user="wufang", clock=lambda: moment) as ctx:
        shanghai = _direct(ctx, "wufang", moment)["repair.open_orders"]
    assert 0 < shanghai < everyone  # branch scope: a Shanghai supervisor sees Shanghai


def _login(web, username: str) -> TestClient:
    client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
    assert client.post("/login", data={"username": username,
                                       "password": DEMO_PASSWORD}).status_code == 303
    return client


CARD = re.compile(r'data-card="(?P<name>repair\.[^"]+)" data-count="(?P<count>\d+)">\s*'
                  r'<a href="(?P<url>[^"]+)"')
TOTAL = re.compile(r'<caption class="sr-only">[^<]*?(\d+)')
ENGLISH_STATUS = re.compile(r'name="v" value="[^"]*\b(pending|dispatched|waiting_parts|open)\b')


def test_each_card_opens_a_list_of_exactly_that_many(demo_site):
    web = create_app(demo_site)
    try:
        for username in ("wufang", "wanggong", "huangtao", "admin"):
            client = _login(web, username)
            home = client.get("/")
            assert home.status_code == 200
            found = list(CARD.finditer(home.text))
            assert {m["name"] for m in found} == USERS[username], username
            for match in found:
                listed = client.get(html.unescape(match["url"]))
                assert listed.status_code == 200, (match["name"], listed.text[:500])
                assert int(TOTAL.search(listed.text).group(1)) == int(match["count"]), \
                    (username, match["name"], match["url"])
                # the filters read as people type them: Chinese labels, no English codes
                assert not ENGLISH_STATUS.search(listed.text), match["url"]
    finally:
        web.state.fixdesk.close()


def test_charts_aggregate_the_orders_the_user_sees(demo_site, app_of):
    from plugins.repair.reports import deadline_compliance

    app = app_of(demo_site)
    moment = dt.datetime.now(dt.UTC)
    with use_locale("zh_CN"), app.context(user="wufang", clock=lambda: moment) as ctx:
        assert _names(charts(ctx)) == ["repair.compliance_weeks", "repair.orders_by_status",
                                       "repair.engineer_load"]
        by_status = orders_by_status(ctx)
        assert sum(by_status.series[0][1]) == _direct(ctx, "wufang", moment)[
            "repair.open_orders"]
        assert "待配件" in by_status.labels  # translated statuses
        load = engineer_load(ctx)
        busy = ctx.session.execute(select(func.count()).select_from(ORDERS).where(
            ORDERS.c.status.in_(TO_DO), ORDERS.c.engineer_id.is_not(None),
            ORDERS.c.branch_id.in_(sorted(get_user(ctx.session, "wufang").branch_ids)))
        ).scalar_one()
        assert sum(sum(values) for _name, values in load.series) == busy > 0
        # the weekly chart counts the jobs the compliance report counts
        today = moment.astimezone(ctx.settings.tz).date()
        first = today - dt.timedelta(days=60)
        weekly = compliance_by_week(ctx, first, today)
        line, _total = deadline_compliance(ctx, first, today, branch="SH")  # and the total
        on_time, missed = (sum(values) for _name, values in weekly.series)
        assert (on_time, missed) == (line["on_time"], line["missed"])
        assert line["jobs"] > 10
        assert weekly.labels[0] == first.strftime("%m-%d") and len(weekly.labels) >= 9
    with use_locale("zh_CN"), app.context(user="admin", clock=lambda: moment) as ctx:
        branches = orders_by_branch(ctx)
        assert set(branches.labels) == {"上海服务中心", "嘉定分公司"}
        assert [name for name, _values in branches.series] == ["未完结工单", "已超时"]
        assert sum(branches.series[0][1]) == _direct(ctx, "admin", moment)["repair.open_orders"]
    with app.context(user="huangtao", clock=lambda: moment) as ctx:  # manager of JD only
        assert orders_by_branch(ctx).labels == ("嘉定分公司",)


def _names(found) -> list[str]:
    return [c["name"] for c in found if c["name"].startswith("repair.")]


def test_the_compliance_report_prints_its_weekly_chart_in_chinese(demo_site, app_of):
    from kernel.reports.service import render

    app = app_of(demo_site)
    with app.context(user="wufang") as ctx:
        today = ctx.now().astimezone(ctx.settings.tz).date()
        start = (today - dt.timedelta(days=27)).isoformat()
        done = render(ctx, "repair.compliance", {"start": start, "end": today.isoformat()},
                      "pdf", locale="zh_CN")
    text = pdftotext(done.content)
    assert "每周到场时限达成情况" in text  # the chart's title, drawn in the SVG
    assert "准时" in text and "超时" in text  # its legend


def test_the_report_page_and_the_supervisor_s_chart_link(demo_site):
    web = create_app(demo_site)
    try:
        client = _login(web, "wufang")
        home = client.get("/").text
        link = re.search(r'data-chart="repair.compliance_weeks".*?<a href="([^"]+)"', home,
                         re.S).group(1)
        assert link.startswith("/desk/reports/repair.compliance?start=")
        page = client.get(html.unescape(link))
        assert page.status_code == 200
        assert '<figure class="dash-chart report-chart" data-chart>' in page.text
        assert 'alt="每周到场时限达成情况"' in page.text
    finally:
        web.state.fixdesk.close()


def test_repair_s_cards_can_be_switched_off_for_a_branch(demo_site, app_of):
    from kernel.hookswitch import switch
    from kernel.masterdata import get_branch

    app = app_of(demo_site)
    with app.context(user="admin") as ctx:
        switch(ctx, "repair", "fixdesk_dashboard", get_branch(ctx, "JD"), False)
    with app.context(user="huangtao") as ctx:  # JD
        assert not [c for c in [*cards(ctx), *charts(ctx)] if c["name"].startswith("repair.")]
    with app.context(user="wufang") as ctx:  # SH keeps them
        assert {c["name"] for c in cards(ctx)} >= USERS["wufang"]
        assert ctx.session.scalar(select(func.count()).select_from(Branch)) == 2
