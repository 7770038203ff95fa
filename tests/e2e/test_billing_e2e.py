"""Scenario 2 billed through the desk in headless Chromium, in Chinese (issue 13's proof),
against a real ``fixdesk serve`` of the demo company with repair, inventory and billing
(billing's price rules; without repair's order history, so the walk is quick).

周志华 walked in with his Canon iR 2206 (out of warranty: category A, carry-in); the drums
on their way arrived in the Shanghai parts store; 李明 (E002, regular grade) diagnosed a
worn drum and put the drum DR-2206 on the order (prepared through repair's services).
In the browser 李明 presses *Quote* without typing an amount: the drum at ¥380.00 plus
15 % is ¥437.00, labour for a medium repair ¥120.00, ¥557.00 in all. The front desk
records that the customer accepted; 李明 repairs and completes the job, which SH invoices
at once. The accountant 钱慧 opens the invoice from the order's *Charges and invoice*,
prints it (¥557.00 on the PDF), records the customer's transfer for it and sees it
settled.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pdf_tools import pdftotext
from site_cache import no_demo
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

PLUGINS = ["repair", "inventory", "billing"]


def prepare(ctx) -> None:
    """The engineer 李明's account; the drums on their way received; scenario 2's job up
    to the diagnosis with the drum on it — each step as the one who does it."""
    from kernel.auth import add_user, get_user
    from kernel.demo import DEMO_PASSWORD, DemoDesk
    from kernel.lifecycle import submit
    from kernel.masterdata import get_branch
    from kernel.models import Employee
    from plugins.inventory.models import OrderStatus, PurchaseOrder
    from plugins.repair import services

    add_user(ctx, "liming", "李明", DEMO_PASSWORD, get_branch(ctx, "SH"), roles=["engineer"])
    get_user(ctx.session, "liming").employee_id = ctx.session.scalar(
        select(Employee.id).where(Employee.code == "E002"))
    ctx.session.flush()
    desk, now = DemoDesk(ctx), ctx.now()

    def at(username: str, minutes_ago: int):
        return desk.at(username, now - dt.timedelta(minutes=minutes_ago))

    keeper = at("sunqin", 180)
    drums = keeper.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.number.like("PO-SH-%-0003"),
        PurchaseOrder.status == OrderStatus.TO_RECEIVE)).one()
    submit(keeper, keeper.run_action("inventory_purchase_order", drums.id, "receive"))
    order = services.register(at("zhengli", 120), channel="walk_in", equipment="QXY20614",
                              fault_description="复印件有黑线、底灰严重")
    services.dispatch(at("wufang", 110), order, engineer="E002")
    services.diagnose(at("liming", 60), order, "感光鼓磨损，需更换感光鼓组件")
    services.add_part(at("liming", 59), order, part_code="DR-2206", quantity=1)
    desk.done()


@pytest.fixture(scope="module")
def billing_server(tmp_path_factory):
    """The demo company with repair, inventory and billing (without repair's order history)
    and scenario 2's job diagnosed, served over HTTP."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-billing") / "site", PLUGINS, [],
                     prepare=prepare) as served:
            yield served


def _order(served) -> tuple[int, str]:
    from plugins.repair.models import WorkOrder

    app = served["site"].start()
    try:
        with app.context() as ctx:
            order = ctx.session.scalars(select(WorkOrder).order_by(WorkOrder.id.desc())).first()
            return order.id, order.number
    finally:
        app.close()


def _act(page, title: str, fill=None) -> None:
    """Open the action box ``title``, let ``fill(form)`` type, submit, expect it done."""
    from playwright.sync_api import expect

    page.locator("details.action-box > summary", has_text=title).click()
    form = page.get_by_role("form", name=title)
    if fill is not None:
        fill(form)
    form.get_by_role("button", name=title).click()
    expect(page.get_by_role("status")).to_have_text(f"已完成：{title}。")


def test_a_quoted_job_is_invoiced_printed_and_paid(billing_server, browser, screenshot):
    from playwright.sync_api import expect

    base = billing_server["url"]
    order_id, number = _order(billing_server)
    order_url = f"{base}/desk/repair_work_order/{order_id}"

    # the engineer quotes without typing an amount: billing prices it by the rules (R11)
    context, page = demo_user_session(browser, base, "liming")
    page.goto(order_url)
    _act(page, "报价")
    for field, amount in (("quote_labour", "120.00"), ("quote_parts", "437.00"),
                          ("quote_travel", "0.00"), ("quote_total", "557.00")):
        expect(page.locator(f'[data-field="{field}"] dd')).to_have_text(amount)
    context.close()

    # the customer accepts on the phone; the front desk records it
    context, page = demo_user_session(browser, base, "zhengli")
    page.goto(order_url)
    _act(page, "接受报价", lambda form: form.get_by_label("备注").fill("客户电话确认"))
    context.close()

    # the engineer repairs and completes the job: SH invoices it at once
    context, page = demo_user_session(browser, base, "liming")
    page.goto(order_url)
    _act(page, "开始维修")

    def report(form):
        form.get_by_label("维修报告：处理方法", exact=True).fill("更换感光鼓组件，试印正常")
        form.get_by_label("维修报告：原因", exact=True).fill("感光鼓超寿命使用")

    _act(page, "完工", report)
    context.close()

    # the accountant finds the invoice on the order and prints it
    context, page = demo_user_session(browser, base, "qianhui")
    page.goto(order_url)
    charges = page.get_by_role("region", name="收费与发票")
    expect(charges).to_contain_text("557.00（人工 120.00，配件 437.00，交通 0.00）")
    invoice_link = charges.get_by_role("link", name=re.compile(r"^INV-SH-\d{4}-\d{5}$"))
    invoice_number = invoice_link.inner_text()
    invoice_link.click()
    page.wait_for_url(re.compile(r"/desk/billing_invoice/\d+$"))
    invoice_url = page.url
    expect(page.locator("h1")).to_have_text(invoice_number)
    expect(page.locator('[data-fact="source"]')).to_contain_text(number)
    totals = page.get_by_role("region", name="金额合计")
    expect(totals).to_contain_text("未收款")
    href = page.get_by_role("link", name="下载 PDF：销售单据（发票）").get_attribute("href")
    answer = context.request.get(base + href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    paper = pdftotext(answer.body(), layout=True)
    assert invoice_number in paper and number in paper
    assert "¥557.00" in paper and "人民币伍佰伍拾柒元整" in paper
    assert "¥437.00" in paper and "¥120.00" in paper and "¥64.08" in paper

    # the customer's transfer: a new payment naming the invoice, submitted
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    page.goto(f"{base}/desk/billing_payment/new")
    page.get_by_label("客户", exact=True).select_option(label="C0002 周志华")
    page.get_by_label("收款日期").fill(today)
    page.get_by_label("收款方式").select_option(label="银行转账")
    page.get_by_label("金额", exact=True).fill("557.00")
    page.get_by_label("凭证号（支票、转账）").fill("工商银行网银回单 20261203-004512")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/desk/billing_payment/\d+\?done=created$"))
    expect(page.get_by_role("status")).to_have_text("已创建。")
    paid = page.locator('section[data-lines="billing_payment_reference"]')
    paid.get_by_label("发票", exact=True).select_option(label=invoice_number)
    paid.get_by_label("金额", exact=True).fill("557.00")
    paid.get_by_role("button", name="+ 添加").click()
    expect(paid.locator("tbody tr")).to_have_count(1)
    expect(paid.locator("tbody tr").first).to_contain_text(invoice_number)
    page.get_by_role("region", name="状态与操作").get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("已完成：提交。")
    expect(page.locator("[data-docstatus]")).to_have_attribute("data-docstatus", "submitted")

    # the invoice is settled, the payment listed on it and on the order
    page.goto(invoice_url)
    totals = page.get_by_role("region", name="金额合计")
    expect(totals).to_contain_text("已结清")
    for label, amount in (("已收金额", "¥557.00"), ("未收金额", "¥0.00")):
        expect(totals.locator("dt", has_text=re.compile(f"^{label}$"))
               .locator("xpath=following-sibling::dd")).to_have_text(amount)
    expect(page.locator("main")).to_contain_text("PAY-SH-")
    screenshot(page, "billing-invoice", full_page=True)
    page.goto(order_url)
    charges = page.get_by_role("region", name="收费与发票")
    expect(charges.locator("tbody tr")).to_have_count(2)  # the invoice and the payment
    expect(charges.locator("tbody tr").first).to_contain_text("已结清")
    charges.evaluate("section => section.scrollIntoView({block: 'center'})")
    screenshot(page, "billing-order-charges")
    context.close()
