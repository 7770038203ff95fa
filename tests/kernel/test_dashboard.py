"""The home page's dashboard: cards and charts plugins contribute through
``fixdesk_dashboard``, checked by the registry, filtered per user (permission, roles,
the branch's hook switches), counted as the user, drawn as self-contained SVG with
Chinese labels; and the list filters card links use (is empty, days relative to today).

``fdt_misfit`` (tests/testplugins) contributes a card for everyone who reads customers,
one for the front desk only, one needing its own permission (the front desk has it by
default) and a chart with Chinese labels; ``FDT_MISFIT`` asks for refused or failing ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel import ChartData, DashboardCard, DashboardChart
from kernel.charts import render_svg, table_of
from kernel.demo import DEMO_PASSWORD
from kernel.i18n import use_locale
from kernel.models import Branch, Customer
from kernel.web.app import create_app
from kernel.web.desk.dashboard import cards, charts

PLUGINS = ["fdt_notes", "fdt_misfit"]
MISFIT = ("fdt_misfit.customers", "fdt_misfit.front_only", "fdt_misfit.own")


@pytest.fixture
def site(make_site):
    return make_site(PLUGINS, demo=True)


def _names(found) -> list[str]:
    return [c["name"] for c in found]


# --------------------------------------------------------------------------
# the hook's contract: taken with its owner, checked, refused with the reason
# --------------------------------------------------------------------------


def test_cards_and_charts_are_registered_with_their_plugin_in_order(site, app_of):
    app = app_of(site)
    registry = app.registry
    by_name = {item.name: item for item in registry.dashboard}
    assert {*MISFIT, "fdt_misfit.tiers", "kernel.failed_jobs", "kernel.plugin_problems",
            "kernel.active_users"} <= set(by_name)
    card = by_name["fdt_misfit.customers"]
    assert registry.owner(card) == "fdt_misfit"
    assert registry.source(card) == ("fdt_misfit", "fixdesk_dashboard")
    assert registry.owner(by_name["kernel.failed_jobs"]) == "kernel"
    assert not registry.switchable(by_name["kernel.failed_jobs"])
    order = [(item.order, item.name) for item in registry.dashboard]
    assert order == sorted(order)


REFUSALS = {
    "duplicate_card": "dashboard card or chart fdt_misfit.customers is registered by "
                      "fdt_misfit already",
    "unprefixed_card": "dashboard card or chart customers: the name must start with "
                       "fdt_misfit.",
    "unknown_permission_card": "dashboard card or chart fdt_misfit.typo: unknown "
                               "permission customer.raed",
    "wrong_dashboard_answer": "fixdesk_dashboard answers DashboardCard / DashboardChart "
                              "objects, not 'not a card'",
}


@pytest.mark.parametrize("mode", sorted(REFUSALS))
def test_a_refused_card_disables_its_plugin_only(site, app_of, monkeypatch, mode):
    monkeypatch.setenv("FDT_MISFIT", mode)
    app = app_of(site)
    assert app.failed_plugins["fdt_misfit"] == REFUSALS[mode]
    assert "fdt_misfit" not in app.enabled_plugins and "fdt_notes" in app.enabled_plugins
    assert not [i for i in app.registry.dashboard if i.name.startswith("fdt_misfit")]
    assert "kernel.failed_jobs" in {i.name for i in app.registry.dashboard}


def test_contributions_check_their_values():
    with pytest.raises(ValueError, match="unknown tone"):
        DashboardCard("x.card", "Card", lambda ctx: 1, tone="loud")
    with pytest.raises(ValueError, match="not a role name"):
        DashboardCard("x.card", "Card", lambda ctx: 1, roles=("front desk",))
    assert DashboardChart("x.c", "C", lambda ctx: None, roles="engineer").roles == ("engineer",)
    with pytest.raises(ValueError, match="unknown kind"):
        ChartData("radar", "T", ("a",), (("s", (1,)),))
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        ChartData("bar", "T", ("a", "b"), (("s", (1,)),))
    assert ChartData("bar", "T", ("a",), (("s", (0,)),)).empty
    assert not ChartData("pie", "T", ("a",), (("s", (2,)),)).empty
    for keep in (-1, 3601, 1.5, True, "60"):
        with pytest.raises(ValueError, match="keep is whole seconds from 0 to 3600"):
            DashboardChart("x.c", "C", lambda ctx: None, keep=keep)
    assert DashboardChart("x.c", "C", lambda ctx: None, keep=300).keep == 300


# --------------------------------------------------------------------------
# who sees what: permission, roles, the branch's switches; counted as the user
# --------------------------------------------------------------------------


def _seen(app, username: str) -> tuple[dict, list[str]]:
    with app.context(user=username) as ctx:
        return {c["name"]: c for c in cards(ctx)}, _names(charts(ctx))


def test_cards_follow_permission_and_roles(site, app_of):
    app = app_of(site)
    front, front_charts = _seen(app, "zhengli")  # SH front desk
    assert [n for n in front if n.startswith("fdt_misfit")] == \
        ["fdt_misfit.own", "fdt_misfit.customers", "fdt_misfit.front_only"]  # by order
    assert "fdt_misfit.tiers" in front_charts
    assert not [n for n in front if n.startswith("kernel.")]  # the admin's cards
    supervisor, _charts = _seen(app, "wufang")  # no own permission, not front desk
    assert [n for n in supervisor if n.startswith("fdt_misfit")] == ["fdt_misfit.customers"]
    admin, _charts = _seen(app, "admin")  # every permission, but not the front desk's role
    assert {"fdt_misfit.customers", "fdt_misfit.own", "kernel.failed_jobs",
            "kernel.plugin_problems", "kernel.active_users"} <= set(admin)
    assert "fdt_misfit.front_only" not in admin
    assert front["fdt_misfit.front_only"]["tone"] == "danger"
    assert admin["kernel.failed_jobs"]["tone"] == "neutral"  # nothing failed: no alarm
    assert admin["kernel.active_users"]["count"] == 7


def test_counts_run_as_the_user_in_the_user_s_branches(site, app_of):
    app = app_of(site)
    with app.sessions() as session:
        sh = session.scalar(select(Branch.id).where(Branch.code == "SH"))
        everyone = session.scalar(select(func.count()).select_from(Customer))
        in_sh = session.scalar(select(func.count()).select_from(Customer)
                               .where(Customer.branch_id == sh))
    assert 0 < in_sh < everyone
    assert _seen(app, "zhengli")[0]["fdt_misfit.customers"]["count"] == in_sh
    assert _seen(app, "admin")[0]["fdt_misfit.customers"]["count"] == everyone


def test_a_plugin_switched_off_for_a_branch_shows_no_cards_there(site, app_of):
    from kernel.hookswitch import switch
    from kernel.masterdata import get_branch

    app = app_of(site)
    with app.context(user="admin") as ctx:
        switch(ctx, "fdt_misfit", "fixdesk_dashboard", get_branch(ctx, "SH"), False)
    sh_cards, sh_charts = _seen(app, "zhengli")
    assert not [n for n in [*sh_cards, *sh_charts] if n.startswith("fdt_misfit")]
    jd_cards, jd_charts = _seen(app, "hejuan")  # JD's front desk still has them
    assert {"fdt_misfit.customers", "fdt_misfit.front_only"} <= set(jd_cards)
    assert "fdt_misfit.tiers" in jd_charts


# --------------------------------------------------------------------------
# the home page
# --------------------------------------------------------------------------


def _login(web, username: str) -> TestClient:
    client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
    assert client.post("/login", data={"username": username,
                                       "password": DEMO_PASSWORD}).status_code == 303
    return client


CARD = re.compile(r'data-card="(?P<name>[^"]+)" data-count="(?P<count>\d+)">\s*'
                  r'<a href="(?P<url>[^"]+)"')


def test_the_home_page_shows_cards_linking_to_their_list_and_charts(site):
    web = create_app(site)
    try:
        client = _login(web, "zhengli")
        page = client.get("/")
        assert page.status_code == 200
        assert '<link rel="stylesheet" href="/desk/_static/dashboard.css">' in page.text
        found = {m["name"]: m for m in CARD.finditer(page.text)}
        card = found["fdt_misfit.customers"]
        listed = client.get(html.unescape(card["url"]))
        assert listed.status_code == 200
        assert f"{card['count']} " in re.search(r'<caption class="sr-only">([^<]*)</caption>',
                                                listed.text).group(1)
        # the chart: an SVG image with the Chinese labels, the numbers as a table
        src = re.search(r'data-chart="fdt_misfit.tiers".*?<img src="data:image/svg\+xml;'
                        r'base64,([^"]+)"', page.text, re.S).group(1)
        svg = base64.b64decode(src).decode("utf-8")
        assert "等级" in svg and "<script" not in svg
        assert '<th scope="col">客户数</th>' in page.text and '<th scope="row">等级' in page.text
        # the modules stay below the dashboard
        assert page.text.index('class="dashboard"') < page.text.index('class="modules"')
        assert client.get("/desk/_static/dashboard.css").status_code == 200
    finally:
        web.state.fixdesk.close()


def test_a_failing_card_is_shown_unavailable_and_the_page_still_works(site, monkeypatch):
    monkeypatch.setenv("FDT_MISFIT", "failing_card")
    web = create_app(site)
    try:
        page = _login(web, "zhengli").get("/")
        assert page.status_code == 200
        broken = re.search(r'<li class="dash-card tone-neutral" data-card="fdt_misfit.broken">'
                           r'(.*?)</li>', page.text, re.S)
        assert broken and "暂不可用" in broken.group(1)  # the site speaks Chinese
        assert 'data-card="fdt_misfit.customers" data-count=' in page.text
    finally:
        web.state.fixdesk.close()


# --------------------------------------------------------------------------
# kept charts: drawn once per user and kept a while, drawn again when asked
# --------------------------------------------------------------------------


def _numbers(page: str, chart: str) -> list[str]:
    """The numbers table of ``chart`` on a home page: its rows' cells."""
    figure = page.split(f'data-chart="{chart}"', 1)[1].split("</figure>", 1)[0]
    return re.findall(r"<td class=\"numeric\">([^<]*)</td>", figure)


def _add_customer(site, app_of) -> None:
    from kernel.masterdata import get_branch

    app = app_of(site)
    with app.context(user="admin") as ctx:
        ctx.session.add(Customer(code="KEPT-1", name="新客户", tier="corporate",
                                 branch_id=get_branch(ctx, "SH").id,
                                 company_id=get_branch(ctx, "SH").company_id))


def test_a_kept_chart_is_drawn_once_and_again_when_asked(site, app_of):
    web = create_app(site)
    try:
        front = _login(web, "zhengli")
        page = front.get("/").text
        kept, live = _numbers(page, "fdt_misfit.tiers_kept"), _numbers(page, "fdt_misfit.tiers")
        assert kept == live and kept
        built = re.search(r'data-chart="fdt_misfit.tiers_kept".*?<span class="dash-built muted"'
                          r' data-built>截至 (\d\d:\d\d) · <a href="([^"]+)" data-refresh>刷新</a>',
                          page, re.S)
        assert built, page
        assert 'data-chart="fdt_misfit.tiers"' in page and \
            "data-built" not in page.split('data-chart="fdt_misfit.tiers"', 1)[1].split(
                "</figure>", 1)[0]  # a chart that is not kept says nothing of it

        _add_customer(site, app_of)
        page = front.get("/").text
        assert _numbers(page, "fdt_misfit.tiers_kept") == kept  # kept: as it was drawn
        assert _numbers(page, "fdt_misfit.tiers") != live  # drawn for this request
        fresh = _numbers(page, "fdt_misfit.tiers")
        # another user of the branch gets his own, drawn now; the link draws it again
        assert _numbers(_login(web, "wufang").get("/").text, "fdt_misfit.tiers_kept") == fresh
        again = front.get(html.unescape(built.group(2)))
        assert again.status_code == 200
        assert _numbers(again.text, "fdt_misfit.tiers_kept") == fresh
        assert _numbers(front.get("/").text, "fdt_misfit.tiers_kept") == fresh  # kept anew
        # an unknown name to refresh changes nothing
        assert front.get("/?refresh=nothing%00here").status_code == 200
    finally:
        web.state.fixdesk.close()


def test_the_same_numbers_are_drawn_once_per_language():
    from kernel.charts import _drawn, data_uri, drawn_uri

    chart = ChartData("bar", "每周", ("11-24", "12-01"), (("准时", (3, 0)),))
    other = ChartData("bar", "每周", ("11-24",), (("准时", (5,)),))
    before = _drawn.cache_info()
    first = drawn_uri(chart)
    assert first.startswith("data:image/svg+xml;base64,") and first != data_uri(
        render_svg(chart, title=False))  # a drawing has an id of its own: not drawn again
    assert drawn_uri(ChartData("bar", "每周", ("11-24", "12-01"), (("准时", (3, 0)),))) == first
    assert _drawn.cache_info().hits == before.hits + 1
    with use_locale("zh_CN"):
        chinese = drawn_uri(other)
    with use_locale("en"):
        english = drawn_uri(other)
    with use_locale("zh_CN"):
        assert drawn_uri(other) == chinese
    assert chinese != english  # drawn once per language (its texts may be translated)


def test_kept_entries_last_their_own_seconds():
    from kernel.kept import Kept

    now = [100.0]
    kept = Kept(size=2, clock=lambda: now[0])
    kept.put("a", "first", 10, built="12:00")
    kept.put("b", "second", 60)
    kept.put("failed", "not kept", 0)
    now[0] += 9
    assert kept.get("a").value == "first" and kept.get("a").built == "12:00"
    assert kept.get("failed") is None
    now[0] += 2
    assert kept.get("a") is None and kept.get("b").value == "second"
    kept.put("c", "third", 60)
    kept.put("d", "fourth", 60)  # two at most: the least recently used leaves
    assert kept.get("b") is None and kept.get("d").value == "fourth"


# --------------------------------------------------------------------------
# charts: self-contained SVG with Chinese text
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line", "pie"])
def test_a_chart_is_self_contained_svg_with_its_chinese_labels(kind):
    chart = ChartData(kind, "每周到场时限达成情况", ("11-24", "12-01", "上海服务中心"),
                      (("准时", (3, 4, 5)), ("超时", (1, 0, 2))), colours=("#1e7a3c",))
    svg = render_svg(chart)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for text in ("每周到场时限达成情况", "上海服务中心"):
        assert text in svg
    if kind != "pie":  # a pie draws the first series, its slices named by the labels
        assert "准时" in svg and "超时" in svg
    assert "<script" not in svg and "<!--" not in svg
    assert not re.search(r"(?:href|src)\s*=|url\(\s*['\"]?(?!#)|@import", svg)
    assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) <= {"http://www.w3.org/2000/svg",
                                                            "http://www.w3.org/1999/xlink"}
    assert '"Noto Sans CJK SC"' in svg
    assert "每周到场时限达成情况" not in render_svg(chart, title=False)


def test_a_chart_s_numbers_as_a_table():
    chart = ChartData("bar", "T", ("a", "b"), (("x", (1, 2.5)), ("y", (None, 3))), unit="h",
                      decimals=1)
    assert table_of(chart) == {"columns": ["", "x", "y"],
                               "rows": [["a", "1.0h", ""], ["b", "2.5h", "3.0h"]]}


# --------------------------------------------------------------------------
# the filters card links use: is (not) empty, days relative to today
# --------------------------------------------------------------------------


def test_is_empty_and_relative_days_filter_lists(site, app_of):
    from kernel import records

    app = app_of(site)
    info = app.exposed["customer"]
    with app.context(user="admin") as ctx:
        everyone = records.list_records(ctx, info, limit=1, count=True).total
        without_email = records.list_records(ctx, info, filters={"email__empty": "true"},
                                             limit=1, count=True).total
        with_email = records.list_records(ctx, info, filters={"email__empty": "false"},
                                          limit=1, count=True).total
        assert without_email + with_email == everyone
        made_before_now = records.list_records(ctx, info, filters={"created_at__lt": "now"},
                                               limit=1, count=True).total
        made_today = records.list_records(ctx, info, filters={
            "created_at__gte": "today-1", "created_at__lt": "today+1"}, limit=1, count=True).total
        assert made_before_now == everyone == made_today  # the demo was made just now
        assert records.list_records(ctx, info, filters={"created_at__gte": "today+1"},
                                    limit=1, count=True).total == 0
        with pytest.raises(Exception, match="email__empty"):
            records.list_records(ctx, info, filters={"email__empty": "perhaps"})


def _total(page) -> int:
    assert page.status_code == 200, page.text
    return int(re.search(r'<caption class="sr-only">[^<]*?(\d+)', page.text).group(1))


def test_the_desk_list_reads_valueless_operators_and_chinese_day_words(site):
    web = create_app(site)  # the site speaks Chinese
    try:
        client = _login(web, "admin")
        every = _total(client.get("/desk/customer?all=1"))
        empty = _total(client.get("/desk/customer?f=email&op=empty&v="))
        filled = _total(client.get("/desk/customer?f=email&op=notempty&v="))
        assert empty + filled == every
        page = client.get("/desk/customer?f=email&op=empty&v=")
        assert '<option value="empty" selected>为空</option>' in page.text
        assert _total(client.get("/desk/customer?f=created_at&op=lt&v=今天%2B1")) == every
        assert _total(client.get("/desk/customer?f=created_at&op=gte&v=今天%2B1")) == 0
    finally:
        web.state.fixdesk.close()


def test_relative_days_resolve_in_the_site_s_zone():
    from zoneinfo import ZoneInfo

    from kernel.relative_dates import resolve

    tz = ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC)  # already 4 December in Shanghai
    assert resolve("today", "date", now, tz) == dt.date(2026, 12, 4)
    assert resolve("today+1", "datetime", now, tz) == dt.datetime(2026, 12, 5, tzinfo=tz)
    assert resolve("today - 7", "datetime", now, tz) == dt.datetime(2026, 11, 27, tzinfo=tz)
    assert resolve("now", "datetime", now, tz) == now
    assert resolve("2026-12-01", "date", now, tz) is None
    assert resolve("today", "string", now, tz) is None
