"""The dispatch board and the kanban in headless Chromium, in Chinese, against a real
``fixdesk serve`` of the demo company with its order history.

The supervisor 吴芳 drags a new order onto 李明's tomorrow and it is dispatched with an
appointment at 09:00; without a mouse she selects another order and presses the + of
张伟's day after tomorrow. On the kanban of the open orders she drags a completed order
onto "closed" and it is closed by the order's own action.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _new_orders(ctx) -> None:
    """Two calls taken this morning at the SH front desk, the only ones waiting for
    dispatch (the demo history's own recent calls, which depend on the day the site is
    made, are cancelled first)."""
    from plugins.repair import services
    from plugins.repair.models import WorkOrder

    waiting = ctx.session.scalars(select(WorkOrder).where(WorkOrder.status == "pending"))
    for order in list(waiting):
        services.cancel(ctx, order, "客户已自行解决")

    services.register(ctx, channel="phone", equipment="E335M820091", branch="SH",
                      fault_description="复印机显示 SC542，无法打印", urgent=True)
    services.register(ctx, channel="phone", equipment="QXY20614", branch="SH",
                      fault_description="打印机不进纸")


@pytest.fixture(scope="module")
def board_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-board") / "site", ["repair"], [],
                 prepare=_new_orders) as served:
        yield served


def _order(site, number: str):
    from kernel.site import Site
    from plugins.repair.models import WorkOrder

    app = Site.load(site.path).start()
    try:
        with app.sessions() as session:
            order = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
            engineer = order.engineer.code if order.engineer else None
            return order.status.value, engineer, order.appointment_at
    finally:
        app.close()


def _drag(item, target) -> None:
    """Drag ``item`` onto the top of ``target``. Aiming at the target's centre would let
    Playwright scroll a tall cell into view between mouse-down and the move, and Chromium
    would then start the drag from whatever lies under the pointer after the scroll."""
    item.scroll_into_view_if_needed()
    item.drag_to(target, target_position={"x": 12, "y": 12})


def test_the_supervisor_dispatches_from_the_board(board_server, browser, screenshot):
    from playwright.sync_api import expect

    base, site = board_server["url"], board_server["site"]
    context, page = demo_user_session(browser, base, "wufang")
    page.goto(f"{base}/desk/repair_work_order")
    page.locator('a[data-view="/desk/repair_work_order/board"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("派工看板")

    queue = page.locator("[data-queue] li.card")
    expect(queue).to_have_count(2)
    first = queue.first.get_attribute("data-order")  # urgent first (R9)
    second = queue.nth(1).get_attribute("data-order")
    tomorrow = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
    cell = page.locator(f'td[data-cell="E002|{tomorrow.isoformat()}"]')

    _drag(queue.first, cell)
    expect(page.get_by_role("status")).to_contain_text(first)
    expect(page.locator(f'td[data-cell="E002|{tomorrow.isoformat()}"]')).to_contain_text(first)
    expect(page.locator("[data-queue] li.card")).to_have_count(1)
    assert _order(site, first) == ("dispatched", "E002", dt.datetime.combine(
        tomorrow, dt.time(9, 0), tzinfo=SHANGHAI))

    # without a mouse: select the order, press the + of the day
    later = tomorrow + dt.timedelta(days=1)
    page.locator("[data-queue] li.card input[type=radio]").first.check()
    page.locator(f'td[data-cell="E003|{later.isoformat()}"] button[data-drop-submit]').press(
        "Enter")
    expect(page.get_by_role("status")).to_contain_text(second)
    expect(page.locator(f'td[data-cell="E003|{later.isoformat()}"]')).to_contain_text(second)
    assert _order(site, second)[:2] == ("dispatched", "E003")
    expect(page.locator("[data-queue] li.empty")).to_be_visible()
    screenshot(page, "dispatch-board", full_page=True)
    context.close()


def test_a_card_moved_on_the_kanban_runs_the_step(board_server, browser, screenshot):
    from playwright.sync_api import expect

    base, site = board_server["url"], board_server["site"]
    context, page = demo_user_session(browser, base, "wufang")
    page.goto(f"{base}/desk/repair_work_order/kanban")
    expect(page.locator("[data-default-filter]")).to_contain_text("本分支机构的未结工单")
    screenshot(page, "kanban", full_page=False)

    card = page.locator('[data-column="completed"] li.card').first
    number = card.locator("a.card-title").inner_text()
    _drag(card, page.locator('[data-column="closed"]'))
    expect(page.get_by_role("status")).to_have_text("已移动。")
    expect(page.locator('[data-column="completed"]')).not_to_contain_text(number)
    assert _order(site, number)[0] == "closed"

    # without a mouse, a move no single step makes: refused with the reason, no change
    other = page.locator('[data-column="completed"] li.card').first
    other_number = other.locator("a.card-title").inner_text()
    other.locator("input[type=radio]").check()
    page.locator('[data-column="pending"] button[data-drop-submit]').click()
    expect(page.get_by_role("alert")).to_contain_text(other_number)
    assert _order(site, other_number)[0] == "completed"
    context.close()
