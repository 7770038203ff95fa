"""The engineer's phone page, the customer's survey page on a phone, and registration
without dead ends — in headless Chromium against a real ``fixdesk serve``, in Chinese.

王建国 (wanggong) opens the desk on a phone (390 × 844, touch), taps through to his jobs
today, opens the first, records his arrival, lets the customer sign on the screen and
saves it; every tap target measures at least 44 px. The customer's survey page at the
same width keeps each rating's label on one line. At the front desk, a serial number
and a customer not on file are created in place and the request registered.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
#: every visible control: its size in CSS pixels (links, buttons, inputs, summaries; a
#: radio button or check box inside its label is tapped through the label)
TAP_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, label.rating-option')]
  .filter(e => !(e.matches('input[type=radio], input[type=checkbox]') && e.closest('label')))
  .filter(e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
  .map(e => { const r = e.getBoundingClientRect();
              return {what: (e.tagName + ' ' + (e.textContent || e.name || '')).trim().slice(0, 40),
                      width: r.width, height: r.height, left: r.left}; })
  .filter(t => t.left >= 0 && t.width > 0)"""


def _at(hour: int, minute: int, days: int = 0) -> str:
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).isoformat()


def _jobs(ctx) -> None:
    """Two jobs today for E001 (booked 00:09 and 00:05) and one for E002; one job of E001
    repaired and closed earlier, whose survey the customer answers on the phone."""
    from plugins.repair import services

    reported = _at(0, 0)
    made = {}
    for key, serial, engineer, appointment in (
            ("late", "E335M820091", "E001", _at(0, 9)), ("early", "QXY20614", "E001", _at(0, 5)),
            ("other", "E335M820091", "E002", _at(0, 6)), ("done", "QXY20614", "E001", None)):
        order = services.register(ctx, channel="phone", equipment=serial, branch="SH",
                                  reported_at=reported, fault_description=f"卡纸（{key}）",
                                  category="C", category_reason="保修期内")
        services.dispatch(ctx, order, engineer=engineer, appointment_at=appointment)
        made[key] = order
    done = made["done"]
    services.record_arrival(ctx, done)
    services.start(ctx, done)
    services.complete(ctx, done, method="清洁纸路", cause="纸屑")
    services.close(ctx, done)


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory):
    """The demo company with the repair plugin (no order history) and today's jobs."""
    import plugins.repair.demo

    if dt.datetime.now(SHANGHAI).time() < dt.time(0, 12):
        pytest.skip("the jobs of the day are booked shortly after midnight")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-phone") / "site", ["repair"], [],
                     prepare=_jobs) as served:
            yield served


def _phone_login(browser, base: str, username: str):
    from kernel.demo import DEMO_PASSWORD

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").tap()
    page.wait_for_url(f"{base}/")
    return context, page


def _check_tap_targets(page) -> None:
    small = [t for t in page.evaluate(TAP_TARGETS) if t["height"] < 44 or t["width"] < 44]
    assert not small, small
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow  # nothing wider than the phone


def test_the_engineer_works_a_job_on_his_phone(phone_server, browser, screenshot):
    from playwright.sync_api import expect

    base = phone_server["url"]
    context, page = _phone_login(browser, base, "wanggong")
    page.get_by_role("link", name="我的手机工作页").first.tap()
    page.wait_for_url(f"{base}/desk/repair/phone")
    expect(page.get_by_role("heading", name="我今天的工作")).to_be_visible()
    jobs = page.locator("li.phone-job")
    expect(jobs).to_have_count(3)  # his jobs today in appointment order, not E002's
    expect(jobs.nth(0)).to_contain_text("00:05")
    expect(jobs.nth(1)).to_contain_text("00:09")
    expect(jobs.nth(2)).to_have_class(re.compile(r"\bis-done\b"))  # repaired today
    expect(jobs.nth(0).get_by_role("link", name="致电 周志华")).to_have_attribute(
        "href", "tel:13800135678")
    expect(jobs.nth(0).get_by_role("link", name=re.compile(r"^地图："))).to_have_attribute(
        "href", re.compile(r"^geo:0,0\?q=%E4%B8%8A%E6%B5%B7"))
    _check_tap_targets(page)
    screenshot(page, "phone-jobs", full_page=True)

    # the first job: record the arrival
    jobs.nth(0).get_by_role("link", name="打开工单").tap()
    page.wait_for_url(re.compile(r"/desk/repair/phone/\d+$"))
    job_url = page.url
    page.get_by_role("button", name="登记到场").tap()
    expect(page.get_by_role("status")).to_have_text("已记录到场。")
    expect(page.locator("dl.phone-facts")).to_contain_text("到场时间")
    _check_tap_targets(page)

    # the customer signs with a finger (pointer moves on the canvas), and it is saved
    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    save = page.get_by_role("button", name="保存签名")
    expect(save).to_be_disabled()  # nothing drawn yet
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 140)
    page.mouse.down()
    for x, y in ((70, 60), (110, 150), (150, 70), (190, 140), (240, 80), (300, 120)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()
    expect(save).to_be_enabled()
    screenshot(page, "phone-signature", full_page=True)
    save.tap()
    page.wait_for_url(f"{job_url}?done=signature")
    expect(page.get_by_role("status")).to_have_text("客户签名已保存。")
    signed = page.locator("figure.phone-signed img")
    expect(signed).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert signed.evaluate("img => img.naturalWidth") >= 300  # the drawing itself
    _check_tap_targets(page)
    context.close()

    app = phone_server["site"].start()
    try:
        from sqlalchemy import select

        from kernel.attachments import Attachment

        with app.sessions() as session:
            kinds = session.scalars(select(Attachment.kind)).all()
        assert kinds == ["signature"]
    finally:
        app.close()


def test_the_survey_page_on_a_phone(phone_server, browser, screenshot):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from plugins.repair import callbacks
    from plugins.repair.models import WorkOrder

    base = phone_server["url"]
    app = phone_server["site"].start()
    try:
        with app.context() as ctx:
            order = ctx.session.scalar(select(WorkOrder).where(
                WorkOrder.status == "closed"))
            url = callbacks.survey_url(ctx, order).replace("http://127.0.0.1:8000", base)
    finally:
        app.close()
    url = re.sub(r"^https?://[^/]+", base, url)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", name="客户意见调查")).to_be_visible()
    options = page.locator("label.rating-option")
    expect(options).to_have_count(16)
    lines = page.evaluate("""() => [...document.querySelectorAll('label.rating-option span')]
        .map(s => { const r = document.createRange(); r.selectNodeContents(s);
                    const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                    return {text: s.textContent, lines: tops.size}; })""")
    assert all(line["lines"] == 1 for line in lines), lines  # each label on one line
    _check_tap_targets(page)
    for question, score in (("服务态度", "4"), ("技术水平", "4"), ("到场时间", "3"),
                            ("信守承诺", "4")):
        page.get_by_role("group", name=question).locator(
            f"label.rating-option:has(input[value='{score}'])").tap()
    page.get_by_label("建议或投诉").fill("王工很专业")
    screenshot(page, "survey-phone", full_page=True)
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("status")).to_contain_text("感谢您的评价")
    context.close()


def test_registration_creates_the_unknown_customer_and_machine(phone_server, browser):
    from playwright.sync_api import expect

    base = phone_server["url"]
    context, page = demo_user_session(browser, base, "zhengli")
    page.goto(f"{base}/desk/repair_work_order/new")
    page.get_by_label("设备", exact=True).fill("E2E-NEW-SN")
    page.get_by_role("button", name="查询历史").click()
    equipment_box = page.locator("details#new_equipment")
    expect(equipment_box).to_have_attribute("open", "")  # not on file: offered in place
    expect(equipment_box.get_by_label("序列号")).to_have_value("E2E-NEW-SN")

    # the customer first: a mistake shows under its input, then it is made
    page.locator("details#new_customer > summary").click()
    customer_box = page.locator("details#new_customer")
    expect(customer_box.get_by_label("客户编码")).to_have_value("C0041")
    customer_box.get_by_role("button", name="新建并填入").click()
    expect(page.locator("#new_customer-nc_name-error")).to_be_visible()
    customer_box = page.locator("details#new_customer")
    customer_box.get_by_label("名称", exact=True).fill("浦东新客户")
    customer_box.get_by_label("电话").fill("139 0000 2222")
    customer_box.get_by_label("地址").fill("上海市浦东新区世纪大道 100 号")
    customer_box.get_by_label("区县").fill("浦东")
    customer_box.get_by_role("button", name="新建并填入").click()
    expect(page.locator("#created")).to_contain_text("C0041")
    expect(page.locator("#a-register-customer")).to_have_value("C0041")

    # then the machine, for that customer, with its warranty
    page.locator("details#new_equipment > summary").click()
    equipment_box = page.locator("details#new_equipment")
    equipment_box.get_by_label("序列号").fill("E2E-NEW-SN")
    equipment_box.get_by_label("型号").fill("MP 3055")
    equipment_box.get_by_label("保修截止").fill("2099-12-31")
    expect(equipment_box.get_by_label("客户", exact=True)).to_have_value("C0041")
    equipment_box.get_by_role("button", name="新建并填入").click()
    expect(page.locator("#created")).to_contain_text("E2E-NEW-SN")
    expect(page.locator("#a-register-equipment")).to_have_value("E2E-NEW-SN")
    expect(page.locator("#category-preview")).to_contain_text("C 类")

    page.get_by_label("报修渠道").select_option("phone")
    page.get_by_label("故障描述").fill("新机器卡纸")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r"/desk/repair_work_order/\d+\?done=created$"))
    expect(page.locator("body")).to_contain_text("浦东新客户")
    context.close()
