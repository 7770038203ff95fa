"""Batch printing in headless Chromium (issue 11, "long work shows progress").

The front desk selects a dozen work orders in the list and prints their service
vouchers together: a new tab shows the job's progress bar advancing paper by paper, then
the download. Meanwhile the supervisor logs in on another browser and works: printing
never holds the database's write lock (SQLite here, a real ``fixdesk serve``).
"""

from __future__ import annotations

import time

import pytest
from pdf_tools import pdftotext
from playwright.sync_api import expect
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

ORDERS = 60  # laid out by the worker processes in chunks of a few papers
SERIALS = ("E335M820091", "QXY20614")


def _orders(ctx) -> None:
    from plugins.repair import services

    for number in range(ORDERS):
        services.register(ctx, channel="phone", equipment=SERIALS[number % 2],
                          fault_description=f"复印件有黑线，卡纸（批量打印 {number + 1}）")


@pytest.fixture(scope="module")
def print_server(tmp_path_factory):
    """The demo company with the repair plugin and a dozen fresh orders (no demo
    history), served over HTTP."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-print") / "site", ["repair"], [],
                     prepare=_orders) as served:
            yield served


def test_batch_print_shows_progress_while_another_user_logs_in(print_server, browser,
                                                               screenshot, tmp_path):
    base = print_server["url"]
    context, page = demo_user_session(browser, base, "zhengli", accept_downloads=True)
    page.goto(f"{base}/desk/repair_work_order?limit=100")
    boxes = page.locator("form[data-rows] input[name=ids]")
    expect(boxes.first).to_be_visible()
    assert boxes.count() >= ORDERS
    page.locator("form[data-rows] [data-select-all]").check()  # the page's rows
    with context.expect_page() as opened:
        page.get_by_role("button", name="打印所选：服务凭证").click()
    job = opened.value
    job.wait_for_load_state()
    expect(job.get_by_role("heading", name="批量打印：服务凭证")).to_be_visible()
    bar = job.locator("progress[data-bar]")

    # another user logs in and opens a list while the papers are laid out
    begun = time.monotonic()
    other, desk = demo_user_session(browser, base, "wufang")
    desk.goto(f"{base}/desk/repair_work_order")
    expect(desk.locator("table.list")).to_be_visible()
    assert time.monotonic() - begun < 15
    other.close()
    # ... before the batch was done
    assert job.locator("[data-print-job]").get_attribute("data-status") in ("queued", "running")

    seen, shot = [], False
    deadline = time.monotonic() + 180
    status = None
    while time.monotonic() < deadline:
        # the bar and the status are read at one moment: the page updates both at once
        status, value = bar.evaluate(
            "bar => [bar.closest('[data-print-job]').dataset.status, bar.value]")
        value = int(value)
        if not seen or seen[-1] != value:
            seen.append(value)
        if 0 < value < 100 and not shot:
            screenshot(job, "batch-print")
            shot = True
        if status in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status == "done", seen
    assert seen[-1] == 100 and seen == sorted(seen)
    assert len(seen) >= 3, seen  # it advanced: more than "nothing" and "all"
    expect(job.locator("[data-text]")).to_have_text(f"已完成 {ORDERS} / {ORDERS} 份")
    if not shot:
        screenshot(job, "batch-print")

    link = job.get_by_role("link", name="下载 PDF")
    expect(link).to_be_visible()
    with job.expect_download() as download:
        link.click()
    saved = tmp_path / "vouchers.pdf"
    download.value.save_as(saved)
    text = pdftotext(saved)
    assert text.count("服务凭证") >= ORDERS and "批量打印 1）" in text and "批量打印 60）" in text
    context.close()
