"""The supervisor's home page in headless Chromium, in Chinese, on the demo history.

吴芳 (Shanghai's service supervisor) logs in: the cards show what the database holds for
her branch (open orders, callbacks due, waiting for parts, ...), the charts are drawn
(deadline compliance by week, open orders by status, engineers' load today); a click on a
card opens the work-order list with exactly that many rows. The picture of the page is
docs/screenshots/dashboard.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

CLOSED_OR_CANCELLED = ("closed", "cancelled")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo company with repair and its order history, served over HTTP."""
    with serving(tmp_path_factory.mktemp("e2e-dashboard") / "site", ["repair"], []) as served:
        yield served


def _database_counts(site) -> dict[str, int]:
    """Shanghai's numbers, read straight from the site's database."""
    from plugins.repair.models import Callback, WorkOrder

    orders, calls = WorkOrder.__table__, Callback.__table__
    engine = create_engine(site.database_url)  # the SQLite file in the site's folder
    tz = site.config.tz
    tomorrow = dt.datetime.combine(dt.datetime.now(tz).date() + dt.timedelta(days=1), dt.time(),
                                   tzinfo=tz).astimezone(dt.UTC)
    try:
        with engine.connect() as conn:
            sh = conn.exec_driver_sql("SELECT id FROM branch WHERE code = 'SH'").scalar_one()

            def count(table, *where):
                return conn.execute(select(func.count()).select_from(table).where(
                    table.c.branch_id == sh, *where)).scalar_one()

            return {
                "repair.open_orders": count(orders, orders.c.status.notin_(CLOSED_OR_CANCELLED)),
                "repair.waiting_parts": count(orders, orders.c.status == "waiting_parts"),
                "repair.callbacks_due": count(calls, calls.c.status == "open",
                                              calls.c.due_at < tomorrow),
            }
    finally:
        engine.dispose()


def test_the_supervisor_s_dashboard_matches_the_database(demo_server, browser, screenshot):
    from playwright.sync_api import expect

    base = demo_server["url"]
    expected = _database_counts(demo_server["site"])
    assert expected["repair.open_orders"] > 0
    context, page = demo_user_session(browser, base, "wufang")
    try:
        for name, count in expected.items():
            card = page.locator(f'[data-card="{name}"]')
            expect(card.locator(".dash-count")).to_have_text(str(count))
        expect(page.locator('[data-card="repair.open_orders"] .dash-title')).to_have_text(
            "未完结工单")
        for name in ("repair.compliance_weeks", "repair.orders_by_status",
                     "repair.engineer_load"):
            image = page.locator(f'[data-chart="{name}"] img')
            expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        expect(page.get_by_text("每周到场时限达成情况")).to_be_visible()
        screenshot(page, "dashboard", full_page=False)

        # a card is a link to the list of exactly those orders
        count = expected["repair.open_orders"]
        page.locator('[data-card="repair.open_orders"] a').click()
        page.wait_for_url(f"{base}/desk/repair_work_order?*")
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(min(count, 50))
        expect(page.locator(".count")).to_contain_text(str(count))
    finally:
        context.close()
