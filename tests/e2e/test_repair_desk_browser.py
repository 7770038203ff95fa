"""One repair order through the desk in headless Chromium, in Chinese (SCENARIOS.md 1).

申达物流's contract copier shows SC542. The front desk looks up the serial number, sees
the contract and registers the job (category B); the supervisor dispatches 王建国 with
an appointment; the engineer records the arrival, the diagnosis, the part and the
repair report; the front desk prints the service voucher and closes the job; the
customer answers the survey on the public page behind the voucher's QR code; the
supervisor reviews the repair and sees the answers. Every step is a click or a key in
the browser against a real ``fixdesk serve``; only the survey link is read from the site
as the QR code would give it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pdf_tools import pdftotext
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)


def _contract(ctx) -> None:
    from plugins.repair import services

    services.create_contract(ctx, number="BY-2026-018", customer="C0001",
                             equipment=["E335M820091"], start_date="2026-04-01",
                             end_date="2099-03-31", visits_included=12, fee="4800.00")


@pytest.fixture(scope="module")
def repair_server(tmp_path_factory):
    """The demo company with the repair plugin (without the demo's order history, so the
    walk starts from an empty register) and scenario 1's contract, served over HTTP."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-repair") / "site", ["repair"], [],
                     prepare=_contract) as served:
            yield served


def _log_in(browser, base: str, username: str):
    return demo_user_session(browser, base, username, accept_downloads=True)


def _act(page, title: str, fill=None) -> None:
    """Open the action box ``title``, let ``fill(form)`` type, submit, expect it done."""
    from playwright.sync_api import expect

    page.locator("details.action-box > summary", has_text=title).click()
    form = page.get_by_role("form", name=title)
    if fill is not None:
        fill(form)
    form.get_by_role("button", name=title).click()
    expect(page.get_by_role("status")).to_have_text(f"已完成：{title}。")


def _plain(page, title: str) -> None:
    """Press the button of an action without inputs."""
    from playwright.sync_api import expect

    page.locator("form.action").get_by_role("button", name=title, exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"已完成：{title}。")


def test_a_contract_job_through_the_desk(repair_server, browser, screenshot, tmp_path):
    from playwright.sync_api import expect

    base = repair_server["url"]

    # the front desk: look the machine up, see the contract, register (R1–R3)
    context, page = _log_in(browser, base, "zhengli")
    page.get_by_role("link", name="维修工单", exact=True).click()
    page.get_by_role("link", name="+ 新建").click()
    page.wait_for_url(f"{base}/desk/repair_work_order/new")
    page.get_by_label("设备", exact=True).fill("E335M820091")
    page.get_by_role("button", name="查询历史").click()
    history = page.locator("aside.side")
    expect(history).to_contain_text("申达物流有限公司")
    expect(history).to_contain_text("BY-2026-018")
    expect(page.locator("#category-preview")).to_contain_text("B 类")
    page.get_by_label("报修渠道").select_option("phone")
    page.get_by_label("故障描述").fill("复印机显示 SC542，无法打印")
    page.get_by_label("故障代码").fill("SC542")
    screenshot(page, "repair-register", full_page=True)
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r"/desk/repair_work_order/\d+\?done=created$"))
    expect(page.get_by_role("status")).to_have_text("已创建。")
    order_url = page.url.split("?")[0]
    number = page.locator("h1").inner_text().split()[0]  # "WO-SH-2026-00001 Ricoh MP 2555"
    assert re.fullmatch(r"WO-SH-\d{4}-\d{5}", number), number
    expect(page.locator('[data-field="contact_name"]')).to_contain_text("钱经理")
    expect(page.locator('[data-fact="category"]')).to_contain_text("B 类")  # the header
    context.close()

    # the supervisor dispatches 王建国 with an appointment two hours from now (R7)
    context, page = _log_in(browser, base, "wufang")
    page.goto(order_url)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).astimezone(
        dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M")

    def dispatch(form):
        # the best suggestion: same branch, copier skill, covers 浦东, senior (R7)
        best = form.locator("ul.suggestions button").first
        expect(best).to_contain_text("E001 王建国")
        expect(best).to_contain_text("浦东")
        best.click()
        expect(form.get_by_label("工程师", exact=True)).to_have_value("E001 王建国")
        form.get_by_label("预约时间", exact=True).fill(soon)

    _act(page, "派工", dispatch)
    expect(page.locator('[data-fact="engineer_id"]')).to_contain_text("王建国")
    context.close()

    # the engineer: arrival, diagnosis, start, the part, the repair report (R10–R16)
    context, page = _log_in(browser, base, "wanggong")
    page.goto(order_url)
    _act(page, "登记到场")
    _act(page, "诊断",
         lambda form: form.get_by_label("诊断结果", exact=True).fill("定影热敏电阻失效"))
    _act(page, "开始维修")

    # the part in the add row of the order's parts table
    parts = page.locator('section[data-lines="repair_work_order_line"]')
    form = parts.get_by_role("form", name="添加配件")
    form.get_by_label("配件", exact=True).fill("定影热敏电阻")
    form.get_by_label("数量", exact=True).fill("1")
    form.get_by_label("单价", exact=True).fill("45.00")
    form.get_by_role("button", name="+ 添加配件").click()
    expect(page.get_by_role("status")).to_have_text("已完成：添加配件。")
    expect(page.locator('section[data-lines="repair_work_order_line"] tbody tr')) \
        .to_contain_text(["定影热敏电阻"])

    def report(form):
        form.get_by_label("维修报告：处理方法", exact=True).fill("更换定影热敏电阻，试印 50 张正常")
        form.get_by_label("维修报告：原因", exact=True).fill("热敏电阻老化")
        form.get_by_label("工时", exact=True).fill("1.25")

    _act(page, "完工", report)
    screenshot(page, "repair-order-completed", full_page=True)
    context.close()

    # the front desk prints the voucher the customer signed and closes the job (R12)
    context, page = _log_in(browser, base, "zhengli")
    page.goto(order_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF：服务凭证").click()
    saved = tmp_path / "voucher.pdf"
    download.value.save_as(saved)
    voucher = pdftotext(saved, layout=True)
    assert number in voucher and "BY-2026-018" in voucher and "定影热敏电阻" in voucher
    assert "王建国" in voucher and "扫码评价我们的服务" in voucher  # the survey QR code
    _act(page, "结案")
    context.close()

    # the customer answers the survey on the phone behind the QR code (R19), no login
    from plugins.repair import callbacks
    from plugins.repair.models import WorkOrder

    app = repair_server["site"].start()
    try:
        with app.context() as ctx:
            from sqlalchemy import select

            order = ctx.session.scalar(select(WorkOrder).where(WorkOrder.number == number))
            url = callbacks.survey_url(ctx, order).replace("http://127.0.0.1:8000", base)
    finally:
        app.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", name="客户意见调查")).to_be_visible()
    for question, score in (("服务态度", "4"), ("技术水平", "4"), ("到场时间", "4"),
                            ("信守承诺", "3")):
        page.get_by_role("group", name=question).locator(f"input[value='{score}']").check()
    page.get_by_label("建议或投诉").fill("王工很专业")
    screenshot(page, "survey-phone", full_page=True)
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("感谢您的评价")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # fits a phone's screen
    phone.close()

    # the supervisor reviews the repair and finds the answers on the callback (R16, R19)
    context, page = _log_in(browser, base, "wufang")
    page.goto(order_url)
    _act(page, "审核维修",
         lambda form: form.get_by_label("复核通过", exact=True).select_option("true"))
    expect(page.locator('.doc-states [aria-current="step"]')).to_contain_text("已结案")
    page.goto(f"{base}/desk/repair_callback")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("已完成")
    context.close()
