"""Stock through the desk in headless Chromium and in Chinese (issue 12's proof), against a
real ``fixdesk serve`` of the full demo with repair and inventory.

A Shanghai work order waits for the drum DR-2206 (its reservation short by one): the
supervisor 吴芳 sees it on the order and in the list. The keeper 孙琴 receives the purchase
order on its way and submits the receipt; the queued job resumes the order, which the
supervisor finds back in repair with the drum issued. Then the keeper counts the store's
repair supplies, finds two packs of swabs missing, and the supervisor's submit posts the
loss to the ledger.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)


@pytest.fixture(scope="module")
def stock_server(tmp_path_factory):
    """The full demo (repair's order history and inventory's stock history), served."""
    with serving(tmp_path_factory.mktemp("e2e-inventory") / "site", ["repair", "inventory"],
                 []) as served:
        yield served


def _read(served, query):
    app = served["site"].start()
    try:
        with app.context() as ctx:
            return query(ctx)
    finally:
        app.close()


def _story(ctx) -> dict:
    """The waiting order (its reservation of the drum is short), the purchase order of
    drums on its way and the Shanghai parts store."""
    from kernel.links import link_columns
    from plugins.inventory.models import (
        OrderStatus,
        PurchaseOrder,
        Reservation,
        ReservationStatus,
        Warehouse,
    )
    from plugins.repair.models import WorkOrder

    kind, job_id = link_columns(Reservation.job)
    order_id = ctx.session.scalar(select(job_id).where(
        kind == "repair_work_order", Reservation.status == ReservationStatus.SHORT))
    purchase = ctx.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.number.like("PO-SH-%-0003"),
        PurchaseOrder.status == OrderStatus.TO_RECEIVE)).first()
    return {"order_id": order_id,
            "order": ctx.session.get(WorkOrder, order_id).number if order_id else None,
            "purchase_id": purchase.id if purchase else None,
            "store_id": ctx.session.scalar(select(Warehouse.id).where(Warehouse.code == "SH-P"))}


def _run_the_worker_once(served) -> None:
    """What ``fixdesk worker`` does beside the server: run the queued jobs once."""
    done = subprocess.run(
        [sys.executable, "-m", "kernel", "--site", str(served["site"].path), "worker",
         "--once"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _current_state(page):
    return page.get_by_role("region", name="状态与操作").locator('[aria-current="step"]')


def _cell(table, row, column: str):
    """The cell of the ``table``'s ``row`` under the heading ``column``."""
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert column in headers, headers
    return row.locator("td").nth(headers.index(column))


def test_a_job_waits_for_a_part_and_resumes_when_it_arrives(stock_server, browser,
                                                             screenshot):
    from playwright.sync_api import expect

    base = stock_server["url"]
    story = _read(stock_server, _story)
    assert story["order_id"], "the demo has a Shanghai job waiting for the drum"
    assert story["purchase_id"], "the demo has the drums' purchase order on its way"
    number, order_url = story["order"], f"{base}/desk/repair_work_order/{story['order_id']}"

    # the supervisor: the list says how many units the order waits for ...
    supervisor, desk = demo_user_session(browser, base, "wufang")
    desk.goto(f"{base}/desk/repair_work_order?f=status&op=eq&v=waiting_parts")
    row = desk.locator("table.list tbody tr").filter(has=desk.get_by_role("link", name=number))
    expect(_cell(desk.locator("table.list"), row, "待料")).to_have_text("1")
    row.get_by_role("link", name=number).click()
    desk.wait_for_url(order_url)

    # ... and the order, which
    expect(_current_state(desk)).to_have_text("当前： 待配件")
    parts = desk.get_by_role("region", name="配件与库存")
    expect(parts.locator("dl")).to_contain_text("缺货数量")
    expect(parts.locator("dl dd")).to_have_text("1")
    drum = parts.locator("tbody tr", has_text="DR-2206")
    # part, quantity, warehouse, reserved, short, issued, returned
    expect(drum.locator("td")).to_have_text([re.compile("硒鼓"), "1", "上海配件库", "0", "1",
                                             "0", "0"])
    parts.evaluate("section => section.scrollIntoView({block: 'center'})")
    screenshot(desk, "inventory-job-waiting")

    # the keeper receives the drums on the purchase order
    keeper, store = demo_user_session(browser, base, "sunqin")
    store.goto(f"{base}/desk/inventory_purchase_order/{story['purchase_id']}")
    expect(_current_state(store)).to_have_text("当前： 待收货")
    store.get_by_role("button", name="收货验收").click()
    # the button lands on the draft receipt it made
    store.wait_for_url(re.compile(r"/desk/inventory_purchase_receipt/\d+\?"))
    expect(store.get_by_role("status")).to_have_text("已完成：收货验收。")
    expect(store.locator("[data-docstatus]")).to_have_attribute("data-docstatus", "draft")
    lines = store.locator('section[data-lines="inventory_purchase_receipt_line"]')
    expect(lines.locator("tbody tr")).to_have_count(1)
    expect(lines.locator("tbody tr").first).to_contain_text("DR-2206")
    expect(_cell(lines, lines.locator("tbody tr"), "合格")).to_have_text("4")  # all accepted
    store.get_by_label("供应商送货单号").fill("SD-0458812")
    store.get_by_role("button", name="保存").click()
    expect(store.get_by_role("status")).to_have_text("已保存。")
    screenshot(store, "inventory-receipt", full_page=True)
    store.get_by_role("region", name="状态与操作").get_by_role("button", name="提交").click()
    expect(store.get_by_role("status")).to_have_text("已完成：提交。")
    expect(store.locator("[data-docstatus]")).to_have_attribute("data-docstatus", "submitted")
    store.locator('[data-fact="order_id"]').get_by_role("link").click()
    expect(_current_state(store)).to_have_text("当前： 已接收")
    keeper.close()

    # the drum is the order's now, but the order resumes in a queued job
    desk.reload()
    expect(_current_state(desk)).to_have_text("当前： 待配件")
    drum = desk.get_by_role("region", name="配件与库存").locator("tbody tr", has_text="DR-2206")
    expect(drum.locator("td")).to_have_text([re.compile("硒鼓"), "1", "上海配件库", "1", "0",
                                             "0", "0"])
    _run_the_worker_once(stock_server)
    desk.reload()
    expect(_current_state(desk)).to_have_text("当前： 维修中")
    parts = desk.get_by_role("region", name="配件与库存")
    expect(parts.locator("dl")).to_have_count(0)  # nothing short any more
    drum = parts.locator("tbody tr", has_text="DR-2206")
    expect(drum.locator("td")).to_have_text([re.compile("硒鼓"), "1", "上海配件库", "0", "0",
                                             "1", "0"])
    supervisor.close()


def test_a_count_finds_a_difference_and_posts_it(stock_server, browser, screenshot):
    from playwright.sync_api import expect

    base = stock_server["url"]
    store_id = _read(stock_server, _story)["store_id"]

    # the keeper counts the repair supplies of the Shanghai parts store
    keeper, page = demo_user_session(browser, base, "sunqin")
    page.goto(f"{base}/desk/inventory_warehouse/{store_id}")
    bar = page.get_by_role("region", name="状态与操作")
    bar.locator("summary", has_text="开始盘点").click()
    start = page.get_by_role("form", name="开始盘点")
    start.get_by_label("仅限类别").fill("SUPPLY")
    start.get_by_role("button", name="开始盘点").click()
    # the button lands on the new draft sheet
    page.wait_for_url(re.compile(r"/desk/inventory_stock_count/\d+\?"))
    expect(page.get_by_role("status")).to_have_text("已完成：开始盘点。")
    sheet_url, sheet = page.url.split("?")[0], page.locator("h1").inner_text()
    lines = page.locator('section[data-lines="inventory_stock_count_line"]')
    expect(lines.locator("tbody tr")).to_have_count(3)
    for code, counted, reason in (("CL-BL01", "10", None), ("SP-CL02", "18", "维修现场取用未登记"),
                                  ("SP-GR01", "4", None)):
        row = page.locator('section[data-lines="inventory_stock_count_line"] tbody tr',
                           has_text=code)
        row.get_by_role("link", name="编辑").click()
        field = row.get_by_label("实盘数量")
        expect(field).to_be_visible()  # the row turned into inputs, the page stayed
        field.fill(counted)
        if reason:
            row.get_by_label("差异原因").fill(reason)
        row.get_by_role("button", name="保存").click()
        expect(page.get_by_role("status")).to_have_text("已保存。")
    keeper.close()

    # the supervisor approves it: the loss is posted
    supervisor, page = demo_user_session(browser, base, "wufang")
    page.goto(sheet_url)
    found = page.get_by_role("region", name="盘点差异")
    expect(found).to_contain_text("3 / 3")
    expect(found).to_contain_text("-2 · ¥24.00")
    expect(found.locator("tbody tr")).to_have_count(1)
    expect(found.locator("tbody tr td")).to_have_text([
        re.compile("SP-CL02 清洁棉签"), "", "20", "18", "-2", "-¥24.00", "维修现场取用未登记"])
    screenshot(page, "inventory-count", full_page=True)
    page.get_by_role("region", name="状态与操作").get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("已完成：提交。")
    expect(page.locator("[data-docstatus]")).to_have_attribute("data-docstatus", "submitted")

    page.goto(f"{base}/desk/inventory_ledger_entry?f=voucher_number&op=eq&v={sheet}")
    entries = page.locator("table.list tbody tr")
    expect(entries).to_have_count(1)
    for text in ("调整", "SP-CL02 清洁棉签", "SH-P 上海配件库", "-2", "-24.00"):
        expect(entries.first).to_contain_text(text)

    # the store's stock: 18 packs of swabs left
    page.goto(sheet_url)
    page.locator('[data-fact="warehouse_id"]').get_by_role("link").click()
    page.locator(".related").get_by_role("link", name="库存", exact=True).click()
    swabs = page.locator("table.list tbody tr", has_text="SP-CL02")
    expect(_cell(page.locator("table.list"), swabs, "现存量")).to_have_text("18")
    expect(_cell(page.locator("table.list"), swabs, "库存金额")).to_have_text("216.00")
    screenshot(page, "inventory-stock", full_page=True)
    supervisor.close()
