"""A complaint through the desk and the public form in headless Chromium, in Chinese
(issue 14's proof), against a real ``fixdesk serve`` of the demo company with the
complaints plugin alone (its demo data: departments, scenario 5, a year of history).

申达物流 wrote on the survey card that the engineer was rude and left toner on the
carpet; the front desk registered it (prepared through the services). The Shanghai
supervisor 吴芳 opens it from the complaints list, starts the investigation — the status
bar moves from 已登记 to 调查中 — and records her call to the customer through the action
form; the contact is listed on the complaint, every word of the page in Chinese. Then a
customer writes in on the public page ``/complain`` and is shown the complaint's number.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from one_language import ALLOWED, WORD
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

DESCRIPTION = "回访卡：上门的工程师态度粗鲁，碳粉洒在地毯上也没清理"


def prepare(ctx) -> None:
    """The survey card's complaint, registered by the front desk 20 minutes ago."""
    from kernel.demo import DemoDesk
    from kernel.models import Customer
    from plugins.complaints import services

    customer = ctx.session.scalar(select(Customer).where(Customer.code == "C0001"))
    desk = DemoDesk(ctx)
    services.register(desk.at("zhengli", ctx.now() - dt.timedelta(minutes=20)),
                      customer_id=customer.id, topic="complaint", category="human_factors",
                      severity="serious", channel="survey", contact_name="钱经理",
                      phone="021-6888 1234", description=DESCRIPTION)
    desk.done()


@pytest.fixture(scope="module")
def complaints_server(tmp_path_factory):
    """The demo company with complaints alone and the survey card's complaint, served."""
    with serving(tmp_path_factory.mktemp("e2e-complaints") / "site", ["complaints"], [],
                 prepare=prepare) as served:
        yield served


#: the data on the page written in Latin letters: the users who acted (audit trail)
DATA = {"CP", "wufang", "zhengli"}


def _english(text: str) -> list[str]:
    """Latin words of the page that are neither data nor allowed."""
    return [w for w in WORD.findall(text) if w not in ALLOWED and w not in DATA]


def test_the_supervisor_works_a_complaint_and_a_customer_writes_in(complaints_server,
                                                                     browser, screenshot):
    from playwright.sync_api import expect

    base = complaints_server["url"]
    context, page = demo_user_session(browser, base, "wufang")
    page.goto(f"{base}/desk/complaints_complaint")
    row = page.locator("tbody tr", has_text="申达物流").filter(has_text="已登记").first
    link = row.get_by_role("link", name=re.compile(r"^CP-SH-\d{4}-\d{5}$"))
    number = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/desk/complaints_complaint/\d+$"))
    expect(page.locator("h1")).to_contain_text(number)
    bar = page.get_by_role("region", name="状态与操作")
    expect(bar.locator("[aria-current=step]")).to_contain_text("已登记")

    # start the investigation: the status bar moves on
    page.locator("form.action").get_by_role("button", name="开始调查", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已完成：开始调查。")
    expect(bar.locator("[aria-current=step]")).to_contain_text("调查中")

    # the supervisor's call, recorded through the action's form under the contacts
    title = "记录客户联系"
    contacts = page.locator('section[data-lines="complaints_contact"]')
    expect(contacts.locator("tbody tr")).to_have_text(["暂无明细。"])
    form = contacts.get_by_role("form", name=title)
    form.get_by_label("联系内容").fill("吴芳致电钱经理致歉，约定明天上门查看地毯")
    form.get_by_label("方式", exact=True).select_option(label="电话")
    form.get_by_role("button", name=f"+ {title}").click()
    expect(page.get_by_role("status")).to_have_text(f"已完成：{title}。")
    expect(contacts.locator("tbody tr")).to_have_count(1)
    expect(contacts.locator("tbody tr").first).to_contain_text(
        "吴芳致电钱经理致歉，约定明天上门查看地毯")
    expect(contacts.locator("tbody tr").first).to_contain_text("电话")
    main = page.locator("main")
    expect(main).to_contain_text(DESCRIPTION)
    for label in ("服务主题", "严重程度", "客户"):
        expect(main).to_contain_text(label)
    assert not _english(main.inner_text()), _english(main.inner_text())
    screenshot(page, "complaints-complaint", full_page=True)
    context.close()

    # a customer writes in on the public page, without an account
    context = browser.new_context(locale="zh-CN", viewport={"width": 430, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/complain?lang=zh_CN")
    expect(page.locator("h1")).to_have_text("投诉与建议")
    page.get_by_role("radio", name="投诉", exact=True).check()
    page.get_by_label("您的姓名").fill("许主任")
    page.get_by_label("电话", exact=True).fill("021-5888 7000")
    page.get_by_label("您的留言").fill("复印机修好后第二天又卡纸，希望尽快再派人来看")
    page.get_by_role("button", name="提交").click()
    done = page.get_by_role("status")
    expect(done).to_contain_text("您")
    expect(done.locator(".complaint-number")).to_have_text(re.compile(r"^CP-SH-\d{4}-\d{5}$"))
    assert not _english(done.inner_text())
    screenshot(page, "complaints-public-form")
    context.close()
