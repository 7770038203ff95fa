"""Lists page by cursor (kernel.keyset): every order walks every row exactly once, forwards
and backwards, empty values last; a forged cursor is a clean 422; the total is counted only
when asked; a page costs the same queries however many rows the list holds. Real SQLite
and PostgreSQL, the API and the desk through the ASGI app."""

from __future__ import annotations

import pytest
from api_answers import error_of, ok
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from query_count import counting
from sqlalchemy import select, update

from kernel import records
from kernel.errors import ValidationError
from kernel.i18n import translations
from kernel.models import Customer
from kernel.web.app import create_app

#: orders to walk: ascending, descending, empty values (email, phone), several parts
ORDERS = ("code", "-code", "email", "-email", "tier,-email", "-tier,phone,-name", "-id",
          "name,-id", None)


@pytest.fixture
def site(make_site):
    """The kernel's demo site with some customers lacking an e-mail or a phone."""
    site = make_site([], demo=True)
    app = site.start()
    try:
        with app.context() as ctx:
            ids = sorted(ctx.session.scalars(select(Customer.id)))
            ctx.session.execute(update(Customer).where(Customer.id.in_(ids[::3]))
                                .values(email=None))
            ctx.session.execute(update(Customer).where(Customer.id.in_(ids[1::4]))
                                .values(phone=None))
    finally:
        app.close()
    return site


def _walk(ctx, info, sort, limit, **kwargs) -> list[list[int]]:
    """The ids of every page, following ``next`` from the first page."""
    pages, after = [], None
    while True:
        page = records.list_records(ctx, info, sort=sort, limit=limit, after=after, **kwargs)
        pages.append([r.id for r in page.rows])
        if page.next is None:
            return pages
        after = page.next


def _walk_back(ctx, info, sort, limit, cursor) -> list[list[int]]:
    """The ids of every page before ``cursor``, following ``previous``, last page first."""
    pages, before = [], cursor
    while before is not None:
        page = records.list_records(ctx, info, sort=sort, limit=limit, before=before)
        pages.append([r.id for r in page.rows])
        before = page.previous
    return pages


def test_cursor_pages_walk_every_row_once_in_every_order(site, app_of):
    app = app_of(site)
    info = app.exposed["customer"]
    with app.context(user="admin") as ctx:
        for sort in ORDERS:
            whole = records.list_records(ctx, info, sort=sort, limit=records.MAX_LIMIT,
                                         count=True)
            expected = [r.id for r in whole.rows]
            assert whole.total == len(expected) > 30 and whole.next is None, sort
            for limit in (1, 7, 40):
                pages = _walk(ctx, info, sort, limit)
                assert [i for p in pages for i in p] == expected, (sort, limit)
                assert all(len(p) == limit for p in pages[:-1]), (sort, limit)
            # and back again from the end (previous reverses the order)
            last = records.list_records(ctx, info, sort=sort, limit=7, after=records
                                        .list_records(ctx, info, sort=sort, limit=30).next)
            back = _walk_back(ctx, info, sort, 7, last.previous)
            assert [i for p in reversed(back) for i in p] == expected[:30], sort
        # empty values last in either direction, the rest in order
        by_id = {c.id: c for c in ctx.session.scalars(select(Customer))}
        for sort in ("email", "-email"):
            emails = [by_id[i].email for p in _walk(ctx, info, sort, 6) for i in p]
            filled = [e for e in emails if e is not None]
            assert emails == filled + [None] * (len(emails) - len(filled)), sort
            assert len(filled) < len(emails)
        codes = [by_id[i].code for p in _walk(ctx, info, "-code", 9) for i in p]
        assert codes == sorted(codes, reverse=True)


def test_a_yes_no_field_in_the_order_pages_too(site, app_of):
    """Work orders list urgent ones first: a yes/no sort key compares by parameter
    (SQLAlchemy refuses ``> True``), both ways."""
    app = app_of(site)
    info = app.exposed["customer_contact"]
    with app.context(user="admin") as ctx:
        for sort in ("-is_primary,name", "is_primary", "is_primary,-name"):
            expected = [r.id for r in records.list_records(
                ctx, info, sort=sort, limit=records.MAX_LIMIT).rows]
            assert len(expected) > 5
            pages = _walk(ctx, info, sort, 2)
            assert [i for p in pages for i in p] == expected, sort
            back = _walk_back(ctx, info, sort, 2, records.list_records(
                ctx, info, sort=sort, limit=2, after=records.list_records(
                    ctx, info, sort=sort, limit=4).next).previous)
            assert [i for p in reversed(back) for i in p] == expected[:4], sort


def test_cursor_is_bound_to_its_list_and_order(site, app_of):
    app = app_of(site)
    info = app.exposed["customer"]
    with app.context(user="admin") as ctx:
        page = records.list_records(ctx, info, sort="code", limit=5)
        assert page.previous is None and page.next
        for sort, cursor in (("-code", page.next), ("code", page.next[:-2] + "xx"),
                             ("code", "e30"), ("code", "not a cursor")):
            with pytest.raises(ValidationError) as refused:
                records.list_records(ctx, info, sort=sort, after=cursor)
            assert refused.value.field == "after"
        with pytest.raises(ValidationError) as refused:
            records.list_records(ctx, info, sort="code", before="x", after=page.next)
        assert refused.value.field == "before"
        with pytest.raises(ValidationError) as refused:
            records.list_records(ctx, info, offset=records.MAX_OFFSET + 1)
        assert refused.value.field == "offset"


def test_api_counts_only_when_asked_and_refuses_a_forged_cursor(site, app_of):
    app = app_of(site)
    with app.context() as ctx:
        headers = bearer_headers(ctx, "admin")["admin"]
    with TestClient(create_app(site)) as api:
        url = "/api/v1/customer"
        first = ok(api.get(url, headers=headers, params={"limit": 10, "sort": "-email"}))
        assert first["total"] is None and first["previous"] is None and first["next"]
        counted = ok(api.get(url, headers=headers, params={"limit": 10, "count": "true"}))
        seen, after = [], None
        while True:
            params = {"limit": 10, "sort": "-email", **({"after": after} if after else {})}
            page = ok(api.get(url, headers=headers, params=params))
            seen += [c["id"] for c in page["items"]]
            after = page["next"]
            if after is None:
                break
        assert len(seen) == len(set(seen)) == counted["total"]
        for forged in (first["next"] + "A", "eyJ4IjoxfQ", first["next"].replace(".", "")):
            answer = api.get(url, headers=headers, params={"sort": "-email", "after": forged})
            assert answer.status_code == 422 and "after" in error_of(answer)["fields"]
        other_order = api.get(url, headers=headers, params={"after": first["next"]})
        assert other_order.status_code == 422 and "after" in error_of(other_order)["fields"]
        deep = api.get(url, headers=headers, params={"offset": records.MAX_OFFSET + 1})
        assert deep.status_code == 422 and "offset" in error_of(deep)["fields"]
        schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]["CustomerPage"]
        assert {"next", "previous", "total"} <= set(schema["properties"])
        assert "total" not in schema.get("required", [])


def test_desk_pager_by_cursor_in_chinese(site, app_of):
    from kernel.demo import DEMO_PASSWORD

    zh = translations("zh_CN").gettext
    with TestClient(create_app(site)) as desk:
        desk.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
        first = desk.get("/desk/customer", params={"limit": 20, "sort": "code"})
        assert first.status_code == 200
        assert zh("{first}–{last}").format(first=1, last=20) in first.text
        assert zh("Count all") in first.text and "count=1" in first.text
        assert zh("Previous") not in first.text
        next_url = _link(first.text, 'rel="next"')
        second = desk.get(next_url)
        assert zh("{first}–{last}").format(first=21, last=40) in second.text
        assert zh("Previous") in second.text
        back = desk.get(_link(second.text, 'rel="prev"'))
        assert _codes(back.text) == _codes(first.text)
        counted = desk.get(next_url + "&count=1")
        assert zh("{first}–{last} of {total}").format(first=21, last=40, total=40) \
            in counted.text
        forged = desk.get("/desk/customer", params={"sort": "code", "after": "x.y"})
        assert forged.status_code == 422 and 'class="alert"' in forged.text


def _link(html: str, rel: str) -> str:
    import html as markup

    tag = html[:html.index(rel)].rpartition("<a ")[2]
    return markup.unescape(tag.split('href="')[1].split('"')[0])


def _codes(html: str) -> list[str]:
    import re

    return re.findall(r">(C\d{4})<", html)


def test_a_list_page_costs_the_same_queries_however_long_the_list(site, app_of):
    app = app_of(site)
    with app.context() as ctx:
        headers = bearer_headers(ctx, "admin", "zhengli")
    web = create_app(site)
    with TestClient(web) as api:
        def queries(user, limit, **params) -> int:
            api.get("/api/v1/customer", headers=headers[user], params={"limit": limit})
            with counting(web.state.fixdesk.engine) as seen:
                ok(api.get("/api/v1/customer", headers=headers[user],
                           params={"limit": limit, **params}))
            return len(seen)

        for user in ("admin", "zhengli"):  # every branch; a branch's (scoped) rows
            assert queries(user, 2) == queries(user, 30)
            page = ok(api.get("/api/v1/customer", headers=headers[user],
                              params={"limit": 3}))
            assert queries(user, 3, after=page["next"]) == queries(user, 3)


def test_history_rows_carry_their_orders_branch_and_are_scoped_by_it(quiet_site, app_of):
    from kernel.models import Branch
    from plugins.repair import services
    from plugins.repair.models import StatusChange, WorkOrder

    app = app_of(quiet_site(["repair"]))
    info = app.exposed["repair_status_change"]
    with app.context(user="hejuan") as ctx:  # a JD order
        order = services.register(ctx, channel="phone", equipment="XQH30112",
                                  fault_description="卡纸")
        number, jd = order.number, order.branch_id
    with app.context() as ctx:
        order = ctx.session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        changes = list(ctx.session.scalars(select(StatusChange).where(
            StatusChange.order_id == order.id)))
        assert changes and {c.branch_id for c in changes} == {jd}
        sh = ctx.session.scalar(select(Branch.id).where(Branch.code == "SH"))
    for user, seen in (("hejuan", True), ("zhengli", False)):
        with app.context(user=user) as ctx:
            with counting(app.engine) as statements:
                rows = records.list_records(ctx, info, filters={"order_id": str(order.id)},
                                            count=True)
            assert bool(rows.rows) == seen and rows.total == len(rows.rows), user
            listing = [s for s in statements if "repair_status_change" in s]
            assert listing and not any("repair_work_order" in s for s in listing), listing
    with app.context() as ctx:  # the order moves to SH: its history goes with it
        moved = ctx.session.get(WorkOrder, order.id)
        loaded = list(moved.history)
        moved.branch_id = sh
        ctx.session.flush()
        assert {c.branch_id for c in loaded} == {sh}
    with app.context() as ctx:
        assert set(ctx.session.scalars(select(StatusChange.branch_id).where(
            StatusChange.order_id == order.id))) == {sh}
    with app.context(user="zhengli") as ctx:
        assert records.list_records(ctx, info, filters={"order_id": str(order.id)}).rows


def test_a_page_read_as_rows_answers_what_the_records_would(site, app_of):
    """A list read as plain rows (the API's, :mod:`kernel.page_rows`) writes every value
    as the record's own answer does: instants in UTC with ``Z``, their microseconds only
    when there are some, whatever zone they were written in."""
    import datetime as dt

    app = app_of(site)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    with app.context() as ctx:
        ids = sorted(ctx.session.scalars(select(Customer.id)))
        ctx.session.execute(update(Customer).where(Customer.id == ids[0]).values(
            created_at=dt.datetime(2026, 3, 1, 0, 30, 5, 120034, tzinfo=shanghai)))
        ctx.session.execute(update(Customer).where(Customer.id == ids[1]).values(
            created_at=dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)))
    info = app.exposed["customer"]
    with app.context(user="admin") as ctx:
        rows = records.list_records(ctx, info, sort="id", limit=200, as_dicts=True).rows
        loaded = records.list_records(ctx, info, sort="id", limit=200).rows
        assert rows == records.page_dicts(ctx, info, loaded)
        by_id = {row["id"]: row for row in rows}
        assert by_id[ids[0]]["created_at"] == "2026-02-28T16:30:05.120034Z"
        assert by_id[ids[1]]["created_at"] == "1999-12-31T23:59:59Z"
