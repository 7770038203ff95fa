"""The desk in headless Chromium against a real ``fixdesk serve``.

Skipped with a reason when Debian's Chromium or Playwright is missing, except
under ``CI=true``, where a missing browser fails the run. With
``FIXDESK_SCREENSHOTS=1`` the run refreshes ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pdf_tools import pdftotext

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "e2e-password-1"  # the users' password in conftest.py


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    return None


pytestmark = pytest.mark.skipif(
    _missing() is not None and os.environ.get("CI") != "true",
    reason=f"browser tests need Debian's Chromium and Playwright: {_missing()}")



def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_admin_creates_finds_prints_and_audits_in_chinese(server, browser, screenshot,
                                                          tmp_path):
    from playwright.sync_api import expect

    base = server["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    screenshot(page, "login")

    log_in(page, base, "e2e_admin")
    expect(page.get_by_role("heading", name="华东办公设备服务有限公司")).to_be_visible()
    expect(page.get_by_text("系统管理员 · 上海服务中心").first).to_be_visible()
    screenshot(page, "home", full_page=True)

    # a customer, typed in Chinese, saved with the keyboard (Ctrl+S)
    page.get_by_role("link", name="客户", exact=True).click()
    page.get_by_role("link", name="+ 新建").click()
    page.get_by_label("编码").fill("C9100")
    page.get_by_label("名称").fill("浦江精密仪器有限公司")
    page.get_by_label("客户类别").select_option("corporate")
    page.get_by_label("电话").fill("021-6432 1100")
    page.get_by_label("名称").press("Control+s")
    page.wait_for_url(re.compile(r"/desk/customer/\d+\?done=created$"))
    expect(page.get_by_role("status")).to_have_text("已创建。")

    # its equipment, with the customer picked by name
    page.goto(f"{base}/desk/customer_equipment/new")
    page.get_by_label("客户", exact=True).select_option(label="C9100 浦江精密仪器有限公司")
    page.get_by_label("品牌").fill("理光")
    page.get_by_label("型号").fill("MP 2555SP")
    page.get_by_label("序列号").fill("PJ2026-0001")
    page.get_by_label("购买日期").fill("2026-03-01")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/desk/customer_equipment/\d+\?done=created$"))
    equipment_url = page.url.split("?")[0]

    # find it again with a filter on the customer's name; "/" jumps to the search box
    page.goto(f"{base}/desk/customer_equipment")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.get_by_text("筛选", exact=True).click()
    row = page.locator(".filter-row").first
    row.get_by_label("字段").select_option("customer_id")
    row.get_by_label("运算").select_option("contains")
    row.get_by_label("值").fill("浦江精密")
    page.get_by_role("button", name="应用筛选").click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PJ2026-0001")
    expect(rows.first).to_contain_text("C9100 浦江精密仪器有限公司")
    screenshot(page, "list", full_page=True)

    # open it, change it; the audit history shows who changed what
    rows.first.get_by_role("link", name="PJ2026-0001").click()
    page.wait_for_url(equipment_url)
    page.get_by_label("型号").fill("MP 2555SP 改")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"\?done=saved$"))
    history = page.locator("section.timeline")
    expect(history.get_by_role("heading", name="动态")).to_be_visible()
    changes = history.locator('li[data-kind="change"]')
    expect(changes).to_have_count(2)
    latest = changes.first
    expect(latest).to_contain_text("系统管理员")  # e2e_admin's full name
    expect(latest).to_contain_text("修改字段")
    expect(latest).to_contain_text("型号")
    expect(latest.locator("del")).to_have_text("MP 2555SP")
    expect(latest.locator("ins")).to_have_text("MP 2555SP 改")

    # print the equipment record: the PDF carries the customer's Chinese name
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF：设备档案").click()
    saved = tmp_path / "equipment.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = pdftotext(saved, layout=True)
    assert "浦江精密仪器有限公司" in text and "PJ2026-0001" in text
    screenshot(page, "form", full_page=True)
    page.get_by_role("link", name="预览：设备档案").click()
    expect(page.locator("iframe.preview")).to_be_visible()

    # a tablet in portrait: one column, nothing wider than the screen
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(equipment_url)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    height = page.get_by_role("button", name="保存").bounding_box()["height"]
    assert height >= 44  # a finger-sized target
    screenshot(page, "form-tablet")
    context.close()


def test_front_desk_of_one_branch_cannot_open_another_branchs_record(server, browser):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from kernel.models import Customer, CustomerEquipment

    app = server["site"].start()
    try:
        with app.sessions() as session:
            jd_customer = session.scalar(select(Customer.id).where(Customer.code == "C0003"))
            jd_machine = session.scalar(select(CustomerEquipment.id).where(
                CustomerEquipment.serial_no == "LV93X10235"))
            sh_customer = session.scalar(select(Customer.id).where(Customer.code == "C0001"))
    finally:
        app.close()
    base = server["url"]
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "e2e_front")
    for url in (f"/desk/customer/{jd_customer}", f"/desk/customer_equipment/{jd_machine}"):
        response = page.goto(base + url)
        assert response.status == 404
        expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    response = page.goto(f"{base}/desk/customer/{sh_customer}")
    assert response.status == 200
    expect(page.get_by_role("heading", name="C0001 申达物流有限公司")).to_be_visible()
    context.close()
