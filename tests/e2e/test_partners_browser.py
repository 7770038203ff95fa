"""Two third-party plugins on the work order's desk form, in headless Chromium, in Chinese.

A supervisor of SH opens a dispatched order: the warranty claim block and the difficulty
block (with the order's labour) are there; he rates the job major and saves the block,
then escalates it (the difficulty plugin's action runs repair's own ``edit``), and finds
the new columns in the list. A supervisor of JD, whose branch switched the difficulty
plugin's form sections off, sees the claim block only.
"""

from __future__ import annotations

import re

import pytest
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

ORDERS: dict[str, int] = {}


def _prepare(ctx) -> None:
    """An order in each branch, dispatched, with labour on the SH one; JD switches the
    difficulty plugin's sections off."""
    from kernel.hookswitch import switch
    from kernel.masterdata import get_branch
    from plugins.repair import services

    for branch, serial, engineer in (("SH", "QXY20614", "E001"), ("JD", "LV93X10235", "E006")):
        made = services.register(ctx, fault_description="卡纸", channel="phone",
                                 equipment=serial, branch=branch)
        ctx.run_action("repair_work_order", made.id, "dispatch", engineer=engineer)
        ORDERS[branch] = made.id
    ctx.run_action("repair_work_order", ORDERS["SH"], "add_labour", hours="1.5")
    switch(ctx, "acme_rating.repair", "fixdesk_form_sections", get_branch(ctx, "JD"), False)


@pytest.fixture(scope="module")
def partner_server(tmp_path_factory):
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-partners") / "site",
                     ["repair", "acme_warranty", "acme_rating"], [],
                     prepare=_prepare) as served:
            yield served


def _log_in(browser, base: str, username: str):
    return demo_user_session(browser, base, username)


def test_partner_blocks_on_the_work_order_form(partner_server, browser, screenshot):
    from playwright.sync_api import expect

    base = partner_server["url"]
    context, page = _log_in(browser, base, "wufang")
    page.goto(f"{base}/desk/repair_work_order/{ORDERS['SH']}")
    claim = page.locator('section[data-block="acme_warranty.claim"]')
    expect(claim.get_by_role("heading")).to_have_text("厂家保修索赔")
    expect(claim).to_contain_text("尚未提交索赔。")
    rating = page.locator('section[data-block="acme_rating.difficulty"]')
    expect(rating.get_by_role("heading")).to_have_text("维修难度")
    expect(rating.locator("table")).to_contain_text("1.5")  # the labour, read by table name
    rating.get_by_label("难度", exact=True).select_option("major")
    rating.get_by_label("评定说明").fill("主板烧毁")
    rating.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("已保存。")
    rating = page.locator('section[data-block="acme_rating.difficulty"]')
    expect(rating.get_by_label("难度", exact=True)).to_have_value("major")
    screenshot(page, "partner-blocks", full_page=True)

    page.locator("form.action").get_by_role("button", name="升级为重大维修").click()
    expect(page.get_by_role("status")).to_have_text("已完成：升级为重大维修。")
    urgent = page.locator('.doc-section [data-field="urgent"]')  # the order's details
    expect(urgent.locator("dt")).to_have_text("加急")
    expect(urgent.locator("dd")).to_have_text("是")

    page.goto(f"{base}/desk/repair_work_order")
    headers = page.locator("table.list thead th")
    for title in ("索赔单", "索赔状态", "难度", "加权工时"):
        expect(headers.filter(has_text=re.compile(f"^{title}"))).to_have_count(1)
    row = page.locator("table.list tbody tr").filter(
        has=page.locator(f'a[href="/desk/repair_work_order/{ORDERS["SH"]}"]'))
    expect(row).to_contain_text("大修")
    context.close()

    context, page = _log_in(browser, base, "huangtao")
    page.goto(f"{base}/desk/repair_work_order/{ORDERS['JD']}")
    expect(page.locator('section[data-block="acme_warranty.claim"]')).to_have_count(1)
    expect(page.locator('section[data-block="acme_rating.difficulty"]')).to_have_count(0)
    context.close()
