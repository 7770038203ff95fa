"""An order's history is read through indexes of that order on SQLite, which plans without
statistics: the list of its status changes through ``(order_id, id)`` (it took the
branch's ``(branch_id, id)``: 1.3 s at a million orders), its form's audit trail through
``(record_id, entity, at, id)`` (it took ``(entity, at)``: 2.9 s). The work order list
opens through the partial index of the open orders (``ix_repair_work_order_open``), the
home page counts them from the other (``ix_repair_work_order_open_state``), its
compliance chart reads a branch's weeks from one index, and the supervisor's daily
report reads each order's last change by the order."""

from __future__ import annotations

import sqlite3

import pytest
from api_tokens import bearer_headers
from desk_sessions import demo_sessions
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from kernel.auth import get_user
from kernel.web.app import create_app


@pytest.fixture
def sent(db_url, make_site):
    """(site, web app, the statements the app sends, one order of SH's) on SQLite."""
    if not db_url.startswith("sqlite"):  # before the demo is made: it takes a while
        pytest.skip("PostgreSQL plans by its statistics (autovacuum keeps them)")
    # the full demo (its orders' history needs the other plugins' demo staff), made once
    # in a run and shared with the other tests that ask for it
    site = make_site(["repair", "inventory", "billing", "complaints"], demo=True,
                     branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    statements = []
    with app.context() as ctx:
        order_class = app.entity_class("repair_work_order")
        order = ctx.session.scalars(select(order_class.id).where(
            order_class.branch_id == get_user(ctx.session, "wufang").home_branch_id).order_by(
            order_class.id)).first()
        headers = bearer_headers(ctx, "wufang")["wufang"]
    event.listen(app.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, params, *_rest:
                 statements.append((statement, params)))
    yield site, web, statements, order, headers
    app.close()


def _plan(site, statements, table: str) -> str:
    return _plan_of(site, *next((s, p) for s, p in statements if f"FROM {table}" in s))


def _plan_of(site, statement: str, params) -> str:
    with sqlite3.connect(site.path / "fixdesk.sqlite3") as raw:
        assert not raw.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'"
                               ).fetchall()  # as every SQLite site: no statistics
        return " | ".join(row[-1] for row in raw.execute(
            f"EXPLAIN QUERY PLAN {statement}", params))


def test_an_orders_status_changes_are_read_by_the_order(sent):
    site, web, statements, order, headers = sent
    with TestClient(web) as client:
        answer = client.get(f"/api/v1/repair_status_change?order_id={order}",
                            headers=headers)
    assert answer.status_code == 200 and answer.json()["items"], answer.text
    assert "branch_id IN" in next(s for s, _p in statements
                                  if "FROM repair_status_change" in s)  # the scope
    plan = _plan(site, statements, "repair_status_change")
    assert "USING INDEX ix_repair_status_change_order (order_id=?)" in plan, plan


def test_an_orders_form_reads_its_audit_trail_by_the_order(sent):
    site, web, statements, order, _headers = sent
    with demo_sessions(web) as open_session:
        answer = open_session("wufang").get(f"/desk/repair_work_order/{order}")
    assert answer.status_code == 200
    plan = _plan(site, statements, "audit_log")
    # (a record's few rows may then be sorted: the timeline asks for several tables)
    assert "USING INDEX ix_audit_log_record_at (record_id=? AND entity=?)" in plan, plan


def test_the_work_order_list_opens_through_the_open_orders_index(sent):
    """The desk's default list (open orders of my branch, urgent first, then the newest)
    reads the partial index of the open orders: the status filter is written into the
    statement, which is how SQLite can tell that the index covers it."""
    site, web, statements, _order, _headers = sent
    with demo_sessions(web) as open_session:
        answer = open_session("wufang").get("/desk/repair_work_order")
    assert answer.status_code == 200
    statement, params = next((s, p) for s, p in statements if "FROM repair_work_order" in s
                             and "ORDER BY repair_work_order.urgent DESC" in s)
    assert "status IN ('pending', 'dispatched'" in statement, statement
    plan = _plan_of(site, statement, params)
    assert "USING INDEX ix_repair_work_order_open (branch_id=?)" in plan, plan


def test_the_compliance_chart_reads_the_branch_s_orders_from_one_index(sent):
    """The home page's twelve weeks of deadline compliance read the branch's orders of
    the period from ``ix_repair_work_order_branch_period`` alone, never the table."""
    site, web, statements, _order, _headers = sent
    with demo_sessions(web) as open_session:
        answer = open_session("wufang").get("/?refresh=repair.compliance_weeks")
    assert answer.status_code == 200 and 'data-chart="repair.compliance_weeks"' in answer.text
    statement, params = next((s, p) for s, p in statements if "FROM repair_work_order" in s
                             and "CASE WHEN (repair_work_order.reported_at <" in s)
    plan = _plan_of(site, statement, params)
    assert "USING COVERING INDEX ix_repair_work_order_branch_period (branch_id=? AND " \
           "reported_at>? AND reported_at<?)" in plan, plan


def test_the_supervisor_s_day_reads_each_order_s_last_change_by_the_order(sent):
    """The supervisor's daily report finds each candidate order's status at the end of the
    day as its last change before then, read by the order, newest first."""
    site, web, statements, _order, _headers = sent
    with demo_sessions(web) as open_session:
        answer = open_session("wufang").get(
            "/desk/reports/repair.supervisor_daily?day=2026-11-20&run=1")
    assert answer.status_code == 200
    statement, params = next((s, p) for s, p in statements if "FROM repair_work_order" in s
                             and "ORDER BY repair_status_change.id DESC" in s)
    plan = _plan_of(site, statement, params)
    assert "CORRELATED SCALAR SUBQUERY" in plan and \
        "SEARCH repair_status_change USING INDEX ix_repair_status_change_order " \
        "(order_id=?)" in plan, plan
    assert "SCAN repair_status_change" not in plan, plan


def test_the_home_page_counts_a_branch_s_open_orders_from_their_own_index(sent):
    """Each card and chart of the branch's open orders reads the partial index of the open
    orders (its conditions written into the statement), never the branch's history."""
    site, web, statements, _order, _headers = sent
    with demo_sessions(web) as open_session:
        answer = open_session("wufang").get("/")
    assert answer.status_code == 200
    counts = [(s, p) for s, p in statements if "FROM repair_work_order" in s
              and "repair_work_order.status IN ('pending', 'dispatched'" in s]
    assert len(counts) >= 6, [s for s, _p in statements]  # 5 cards, 2 charts at least
    for statement, params in counts:
        plan = _plan_of(site, statement, params)
        assert "USING COVERING INDEX ix_repair_work_order_open_state (branch_id=? AND " \
               "status=?" in plan, (statement, plan)
