"""Lists people work from, through HTTP on the demo company with repair's order history
(SQLite and PostgreSQL): the default filter per entity and its removable chip, saved
filters (each user's own, one his default), group-by counts equal to the database's,
the column picker, and the kanban by status."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from desk_sessions import demo_sessions
from sqlalchemy import func, select

from kernel.list_prefs import ListPreference, SavedFilter
from kernel.models import Branch, Employee
from plugins.repair import lists
from plugins.repair.models import Appointment, StatusChange, WorkOrder
from plugins.repair.rules import OPEN, Status

OPEN_VALUES = {s.value for s in OPEN}
LIST = "/desk/repair_work_order"


@pytest.fixture
def web(make_site):
    """The demo company (SH and JD) with repair and its order history."""
    from kernel.web.app import create_app

    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    yield web
    web.state.fixdesk.close()


@pytest.fixture
def login(web):
    """``login("wufang")``: a desk session of a demo user; ``.csrf`` is its token."""
    with demo_sessions(web) as open_session:
        yield open_session


def _db(web):
    return web.state.fixdesk.sessions()


def _branch_id(web, code: str) -> int:
    with _db(web) as session:
        return session.scalar(select(Branch.id).where(Branch.code == code))


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]


def _total(page: str) -> int:
    found = re.search(r'class="count">[^<]*?共 (\d+) 条', page)
    assert found, page
    return int(found.group(1))


def _chip(page: str) -> str | None:
    found = re.search(r'<span class="chip" data-default-filter>([^<]+)<', page)
    return found.group(1).strip() if found else None


def _chip_remove(page: str) -> str:
    return html.unescape(re.search(r'<a href="([^"]+)" class="chip-remove"', page).group(1))


def _open_orders(web, *where) -> list[int]:
    """Open work orders by the default filter's order: urgent first, then the newest."""
    with _db(web) as session:
        return list(session.scalars(select(WorkOrder.id).where(
            WorkOrder.status.in_(list(OPEN)), *where).order_by(
            WorkOrder.urgent.desc(), WorkOrder.reported_at.desc(), WorkOrder.id.desc())))


# --------------------------------------------------------------------------
# the default filter
# --------------------------------------------------------------------------


def test_the_work_order_list_opens_with_the_open_orders_of_my_branch(web, login):
    supervisor = login("wufang")
    page = supervisor.get(LIST, params={"limit": 200}).text
    assert _chip(page) == "本分支机构的未结工单"
    expected = _open_orders(web, WorkOrder.branch_id == _branch_id(web, "SH"))
    assert expected and _ids(page) == expected  # open ones only, urgent first, newest next
    with _db(web) as session:
        closed = session.scalar(select(WorkOrder.number).where(
            WorkOrder.status == Status.CLOSED, WorkOrder.branch_id == _branch_id(web, "SH")))
    assert closed and closed not in page

    exported = supervisor.get(f"{LIST}/export.csv")  # what the list shows
    assert len(list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))) == \
        len(expected) + 1

    # the chip's × shows every order of the branch, the newest first
    everything = supervisor.get(_chip_remove(page))
    assert everything.status_code == 200 and "all=1" in _chip_remove(page)
    assert _chip(everything.text) is None
    with _db(web) as session:
        all_sh = session.scalar(select(func.count()).select_from(WorkOrder).where(
            WorkOrder.branch_id == _branch_id(web, "SH")))
        newest = list(session.scalars(select(WorkOrder.id).where(
            WorkOrder.branch_id == _branch_id(web, "SH")).order_by(
            WorkOrder.reported_at.desc(), WorkOrder.id.desc()).limit(200)))
    assert _ids(everything.text) == newest
    counted = supervisor.get(_chip_remove(page) + "&count=1")  # counted when asked
    assert _total(counted.text) == all_sh > len(expected)

    # the search box sends the default filter's rows with the words: still the default
    searched = supervisor.get(LIST, params=[
        ("q", "WO-SH"), ("f", "status"), ("op", "in"), ("v", lists.OPEN_VALUES),
        ("f", "branch_id"), ("op", "eq"), ("v", str(_branch_id(web, "SH")))]).text
    assert _chip(searched) == "本分支机构的未结工单" and set(_ids(searched)) <= set(expected)

    # a filter of one's own replaces the default one
    chosen = supervisor.get(LIST, params={"f": "status", "op": "eq", "v": "closed"}).text
    assert _chip(chosen) is None
    with _db(web) as session:
        statuses = set(session.scalars(select(WorkOrder.status).where(
            WorkOrder.id.in_(_ids(chosen)))))
    assert statuses == {Status.CLOSED}

    # the other branch's supervisor gets his branch's open orders
    jd = login("huangtao").get(LIST, params={"limit": 200}).text
    assert _ids(jd) == _open_orders(web, WorkOrder.branch_id == _branch_id(web, "JD"))
    # an entity without a default filter opens as before
    assert _chip(supervisor.get("/desk/customer").text) is None


def test_an_engineer_gets_his_own_open_jobs(web, login):
    page = login("wanggong").get(LIST, params={"limit": 200}).text
    assert _chip(page) == "我未完成的工作"
    with _db(web) as session:
        mine = session.scalar(select(Employee.id).where(Employee.code == "E001"))
    expected = _open_orders(web, WorkOrder.engineer_id == mine)
    assert expected and _ids(page) == expected


def test_appointments_open_from_today(web, login):
    from plugins.repair import services

    app = web.state.fixdesk
    tomorrow = (dt.datetime.now(dt.UTC).astimezone(app.site.config.tz).date()
                + dt.timedelta(days=1))
    with app.context(user="huangtao") as ctx:
        pending = ctx.session.scalar(select(WorkOrder).where(
            WorkOrder.status == Status.PENDING, WorkOrder.branch_id == ctx.branch.id))
        services.dispatch(ctx, pending, engineer="E006",
                          appointment_at=f"{tomorrow.isoformat()}T10:00:00+08:00")
    page = login("huangtao").get("/desk/repair_appointment").text
    assert _chip(page) == "今天起的预约"
    midnight = dt.datetime.combine(tomorrow - dt.timedelta(days=1), dt.time(),
                                   tzinfo=app.site.config.tz)
    with _db(web) as session:
        expected = list(session.scalars(select(Appointment.id).where(
            Appointment.branch_id == _branch_id(web, "JD"), Appointment.starts_at >= midnight)
            .order_by(Appointment.starts_at, Appointment.id)))
        older = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.branch_id == _branch_id(web, "JD"), Appointment.starts_at < midnight))
    assert expected and _ids(page) == expected and older > 0


# --------------------------------------------------------------------------
# saved filters
# --------------------------------------------------------------------------


def _saved(page: str) -> list[str]:
    return re.findall(r'<li data-saved="([^"]+)">', page)


def test_saved_filters_are_each_users_own_and_one_may_open_the_list(web, login):
    wufang, zhengli = login("wufang"), login("zhengli")
    query = "f=urgent&op=eq&v=true&f=status&op=in&v=" + ",".join(sorted(OPEN_VALUES))
    saved = wufang.post(f"{LIST}/filters", data={"csrf": wufang.csrf, "name": "加急待办",
                                                 "query": query})
    assert saved.status_code == 303 and saved.headers["location"] == f"{LIST}?{query}"
    shown = wufang.get(saved.headers["location"]).text
    assert _saved(shown) == ["加急待办"] and 'aria-current="true" class="current"' in shown
    assert _saved(zhengli.get(LIST).text) == []  # nobody sees another user's
    with _db(web) as session:
        row = session.scalar(select(SavedFilter).where(SavedFilter.name == "加急待办"))
    refused = zhengli.post(f"{LIST}/filters/{row.id}/delete", data={"csrf": zhengli.csrf})
    assert refused.status_code == 404
    forged = wufang.post(f"{LIST}/filters/{row.id}/delete", data={"csrf": "forged"})
    assert forged.status_code == 403

    # a name is needed: the error under the field, nothing saved
    nameless = wufang.post(f"{LIST}/filters", data={"csrf": wufang.csrf, "name": " ",
                                                    "query": query})
    assert nameless.status_code == 422 and 'id="sf-name-error"' in nameless.text
    with _db(web) as session:
        assert session.scalar(select(func.count()).select_from(SavedFilter)) == 1

    # his default: the list opens with it; all=1 still shows everything
    assert wufang.post(f"{LIST}/filters/{row.id}/default", data={
        "csrf": wufang.csrf, "back": LIST}).status_code == 303
    page = wufang.get(LIST, params={"limit": 200}).text
    assert _chip(page) == "加急待办"
    urgent = _open_orders(web, WorkOrder.urgent.is_(True))
    assert _ids(page) == [i for i in urgent if i in set(_open_orders(
        web, WorkOrder.branch_id == _branch_id(web, "SH")))]
    assert _chip(zhengli.get(LIST).text) == "本分支机构的未结工单"  # his own default stays
    assert _chip(wufang.get(LIST, params={"all": 1}).text) is None
    wufang.post(f"{LIST}/filters/{row.id}/undefault", data={"csrf": wufang.csrf})
    assert _chip(wufang.get(LIST).text) == "本分支机构的未结工单"

    assert wufang.post(f"{LIST}/filters/{row.id}/delete", data={
        "csrf": wufang.csrf}).status_code == 303
    assert _saved(wufang.get(LIST).text) == []


# --------------------------------------------------------------------------
# group-by
# --------------------------------------------------------------------------


def _groups(page: str) -> dict[str, tuple[int, str | None]]:
    rows = re.findall(r'<tr data-group="([^"]*)"><td>(?:<a href="([^"]+)">)?[^<]*(?:</a>)?'
                      r'</td><td class="k-integer">(?:<a href="[^"]+">)?(\d+)', page)
    return {value: (int(count), html.unescape(url) if url else None)
            for value, url, count in rows}


def test_group_by_counts_are_the_database_counts(web, login):
    supervisor = login("wufang")
    page = supervisor.get(LIST, params={"group": "status"}).text
    groups = _groups(page)
    sh, jd = _branch_id(web, "SH"), _branch_id(web, "JD")
    with _db(web) as session:
        expected = {str(s.value): n for s, n in session.execute(
            select(WorkOrder.status, func.count()).where(
                WorkOrder.branch_id == sh, WorkOrder.status.in_(list(OPEN)))
            .group_by(WorkOrder.status))}
    assert {v: n for v, (n, _url) in groups.items()} == expected
    # a group is a link to the list filtered to it
    value, (count, url) = next(iter(groups.items()))
    assert _total(supervisor.get(url).text) == count
    assert ("status", "eq", value) in zip(*(parse_qs(urlsplit(url).query)[k]
                                            for k in ("f", "op", "v")), strict=True)

    # the JD supervisor counts JD's orders by engineer, all of them
    jd_page = login("huangtao").get(LIST, params={"group": "engineer_id", "all": 1}).text
    with _db(web) as session:
        by_engineer = {str(e) if e else "": n for e, n in session.execute(
            select(WorkOrder.engineer_id, func.count()).where(WorkOrder.branch_id == jd)
            .group_by(WorkOrder.engineer_id))}
    assert {v: n for v, (n, _url) in _groups(jd_page).items()} == by_engineer

    # by day in the site's time zone
    days = _groups(supervisor.get(LIST, params={"group": "reported_at", "all": 1}).text)
    with _db(web) as session:
        assert sum(n for n, _url in days.values()) == session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.branch_id == sh))
        day = max(days)
        start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(),
                                    tzinfo=web.state.fixdesk.site.config.tz)
        assert days[day][0] == session.scalar(select(func.count()).select_from(WorkOrder)
                                              .where(WorkOrder.branch_id == sh,
                                                     WorkOrder.reported_at >= start,
                                                     WorkOrder.reported_at < start
                                                     + dt.timedelta(days=1)))
    wrong = supervisor.get(LIST, params={"group": "fault_description"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def _headers(page: str) -> list[str]:
    return re.findall(r'<th scope="col" class="k-[^"]+" aria-sort="[^"]+"><a[^>]*>([^<]+)<',
                      page)


def test_the_column_picker_keeps_each_users_columns(web, login):
    wufang, zhengli = login("wufang"), login("zhengli")
    default = _headers(zhengli.get(LIST).text)
    assert default[:3] == ["编号", "加急", "状态"]
    chosen = wufang.post(f"{LIST}/columns", data={
        "csrf": wufang.csrf, "columns": ["number", "status", "phone"], "back": LIST})
    assert chosen.status_code == 303 and chosen.headers["location"] == LIST
    assert _headers(wufang.get(LIST).text) == ["编号", "状态", "电话"]
    assert _headers(zhengli.get(LIST).text) == default
    unknown = wufang.post(f"{LIST}/columns", data={"csrf": wufang.csrf,
                                                   "columns": ["number", "password"]})
    assert unknown.status_code == 422
    assert wufang.post(f"{LIST}/columns", data={"csrf": wufang.csrf, "reset": "1"}
                       ).status_code == 303
    assert _headers(wufang.get(LIST).text) == default
    with _db(web) as session:
        assert session.scalar(select(func.count()).select_from(ListPreference)) == 0


# --------------------------------------------------------------------------
# the kanban
# --------------------------------------------------------------------------


def _columns(page: str) -> dict[str, str | None]:
    found = {}
    for state, rest in re.findall(r'data-column="([^"]+)"(.*?)</header>', page, re.S):
        count = re.search(r'data-count>(\d+)<', rest)
        found[state] = int(count.group(1)) if count else None
    return found


def _cards(page: str, state: str) -> list[int]:
    part = page.split(f'data-column="{state}"', 1)[1].split("data-column=", 1)[0]
    return [int(i) for i in re.findall(r'data-card="(\d+)"', part)]


def test_the_kanban_counts_by_status_and_moves_a_card_by_its_action(web, login):
    supervisor = login("wufang")
    page = supervisor.get(f"{LIST}/kanban").text
    sh = _branch_id(web, "SH")
    with _db(web) as session:
        expected = {str(s.value): n for s, n in session.execute(
            select(WorkOrder.status, func.count()).where(WorkOrder.branch_id == sh,
                                                         WorkOrder.status.in_(list(OPEN)))
            .group_by(WorkOrder.status))}
    columns = _columns(page)
    assert list(columns) == [s.value for s in Status]
    assert columns["closed"] is None and columns["cancelled"] is None  # not in the filter
    assert {s: n for s, n in columns.items() if n} == expected
    assert _chip(page) == "本分支机构的未结工单" and 'href="/desk/repair_work_order/board"' in page

    completed = _cards(page, "completed")[0]
    moved = supervisor.post(f"{LIST}/kanban/move", data={
        "csrf": supervisor.csrf, "id": completed, "to": "closed",
        "back": f"{LIST}/kanban"})
    assert moved.status_code == 303 and moved.headers["location"].endswith("done=moved")
    with _db(web) as session:
        order = session.get(WorkOrder, completed)
        assert order.status == Status.CLOSED and order.closed_at is not None
        assert session.scalar(select(StatusChange.event).where(
            StatusChange.order_id == completed).order_by(StatusChange.id.desc())
            .limit(1)) == "close"

    other = _cards(page, "completed")[1]
    refused = supervisor.post(f"{LIST}/kanban/move", data={
        "csrf": supervisor.csrf, "id": other, "to": "pending", "back": f"{LIST}/kanban"})
    assert refused.status_code == 409 and "data-problem" in refused.text
    assert f'href="/desk/repair_work_order/{other}"' in refused.text
    with _db(web) as session:
        assert session.get(WorkOrder, other).status == Status.COMPLETED
