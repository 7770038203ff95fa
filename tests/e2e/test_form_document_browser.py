"""A work order of the demo as a document, in headless Chromium and in Chinese: the
status bar shows where the order stands, the supervisor dispatches it from the bar, adds
a part and an hour and a half of labour in the tables' add rows; a front-desk clerk edits
a customer's contact in place. Against a real ``fixdesk serve`` of the full demo."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)


def _call_comes_in(ctx) -> None:
    """申达物流 calls: their Ricoh jams (a new order, pending, for the supervisor)."""
    from plugins.repair import services

    with ctx.app.context(user="zhengli") as desk:
        services.register(desk, channel="phone", equipment="E335M820091",
                          fault_description="复印机频繁卡纸", fault_code="J001")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The full demo (the repair plugin's order history included) and a call just taken,
    served over HTTP."""
    with serving(tmp_path_factory.mktemp("e2e-document") / "site", ["repair"], [],
                 prepare=_call_comes_in) as served:
        yield served


def _read(served, query):
    app = served["site"].start()
    try:
        with app.context() as ctx:
            return query(ctx)
    finally:
        app.close()


def _pending_order(ctx) -> int:
    """The pending on-site order of Shanghai taken last."""
    from kernel.models import Branch
    from plugins.repair.models import WorkOrder

    return ctx.session.scalar(
        select(WorkOrder.id).join(Branch, Branch.id == WorkOrder.branch_id)
        .where(Branch.code == "SH", WorkOrder.status == "pending",
               WorkOrder.service_mode == "on_site", WorkOrder.paused_at.is_(None))
        .order_by(WorkOrder.id.desc()).limit(1))


def _customer(ctx) -> int:
    from kernel.models import Customer

    return ctx.session.scalar(select(Customer.id).where(Customer.code == "C0001"))


def test_dispatch_from_the_bar_and_lines_added_in_place(demo_server, browser, screenshot):
    from playwright.sync_api import expect

    base = demo_server["url"]
    order_id = _read(demo_server, _pending_order)
    assert order_id, "the demo has a pending order in Shanghai"
    context, page = demo_user_session(browser, base, "wufang")
    page.goto(f"{base}/desk/repair_work_order/{order_id}")

    bar = page.get_by_role("region", name="状态与操作")
    states = bar.get_by_role("list", name="状态")
    expect(states.locator("li")).to_have_text(["当前： 待处理", "已派工", "维修中", "已完工",
                                               "已结案"])
    expect(states.locator('[aria-current="step"]')).to_have_text("当前： 待处理")
    actions = bar.get_by_role("group", name="操作")
    expect(actions.locator("summary, button").first).to_have_text("派工")  # the next step
    header = page.get_by_role("region", name="摘要")
    expect(header).to_contain_text("到场时限")
    expect(header.locator(".deadline-note")).to_have_text(re.compile(r"^(还剩|已超时) "))

    # dispatch from the bar: the box opens under the buttons
    actions.locator("summary", has_text="派工").click()
    form = page.get_by_role("form", name="派工")
    expect(form).to_be_visible()
    form.locator("ul.suggestions button").first.click()
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).astimezone(
        dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M")
    form.get_by_label("预约时间", exact=True).fill(soon)
    form.get_by_role("button", name="派工").click()
    expect(page.get_by_role("status")).to_have_text("已完成：派工。")
    expect(page.locator('.doc-states [aria-current="step"]')).to_have_text("当前： 已派工")
    appointments = page.locator('section[data-lines="repair_appointment"]')
    expect(appointments.locator("tbody tr")).to_have_count(1)

    # a part and an hour and a half of labour, typed into the tables' add rows
    parts = page.locator('section[data-lines="repair_work_order_line"]')
    add_part = parts.get_by_role("form", name="添加配件")
    add_part.get_by_label("配件", exact=True).fill("搓纸轮")
    add_part.get_by_label("数量", exact=True).fill("2")
    add_part.get_by_label("单价", exact=True).fill("48.00")
    add_part.get_by_role("button", name="+ 添加配件").click()
    expect(page.get_by_role("status")).to_have_text("已完成：添加配件。")
    parts = page.locator('section[data-lines="repair_work_order_line"]')
    expect(parts.locator("tbody tr")).to_have_count(1)
    expect(parts.locator("tbody tr").first).to_contain_text("搓纸轮")

    labour = page.locator('section[data-lines="repair_labour_entry"]')
    expect(labour.locator("tbody tr")).to_have_text(["暂无明细。"])
    add = labour.get_by_role("form", name="登记工时")
    add.get_by_label("工时", exact=True).fill("1.5")
    add.get_by_label("备注", exact=True).fill("清洁纸路")
    add.get_by_role("button", name="+ 登记工时").click()
    expect(page.get_by_role("status")).to_have_text("已完成：登记工时。")
    labour = page.locator('section[data-lines="repair_labour_entry"]')
    expect(labour.locator("tbody tr")).to_have_count(1)
    expect(labour.locator("tbody tr").first).to_contain_text("90")
    expect(labour.locator("tbody tr").first).to_contain_text("清洁纸路")
    screenshot(page, "repair-order", full_page=True)

    # at tablet width the bar and the tables still fit (tables scroll inside their box)
    page.set_viewport_size({"width": 768, "height": 1024})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()


def test_a_contact_edited_in_place(demo_server, browser):
    from playwright.sync_api import expect

    base = demo_server["url"]
    customer_id = _read(demo_server, _customer)
    context, page = demo_user_session(browser, base, "zhengli")
    url = f"{base}/desk/customer/{customer_id}"
    page.goto(url)
    contacts = page.locator('section[data-lines="customer_contact"]')
    row = contacts.locator("tbody tr").first
    expect(row).to_contain_text("钱经理")
    row.get_by_role("link", name="编辑").click()
    phone = contacts.get_by_label("电话").first
    expect(phone).to_be_visible()  # the row turned into inputs, the page stayed
    assert page.url == url
    expect(phone).to_have_value(re.compile(r"\d"))
    contacts.get_by_label("职务").first.fill("行政经理")
    contacts.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("已保存。")
    expect(page.locator('section[data-lines="customer_contact"] tbody tr').first) \
        .to_contain_text("行政经理")

    # a new contact without a name: the error under its cell, nothing added
    contacts = page.locator('section[data-lines="customer_contact"]')
    contacts.locator("tfoot").get_by_label("电话").fill("13900001111")
    contacts.get_by_role("button", name="+ 添加").click()
    contacts = page.locator('section[data-lines="customer_contact"]')
    expect(contacts.locator(".field-error")).to_have_count(1)
    expect(contacts.locator("tbody tr")).to_have_count(1)
    contacts.locator("tfoot").get_by_label("名称").fill("孙会计")
    contacts.get_by_role("button", name="+ 添加").click()
    expect(page.get_by_role("status")).to_have_text("已创建。")
    expect(page.locator('section[data-lines="customer_contact"] tbody tr')).to_have_count(2)
    context.close()
