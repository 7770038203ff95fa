"""A note with an @mention and a photo on a work order's timeline, in headless Chromium.

The supervisor 吴芳 opens a job dispatched to 王建国, types "@wang", picks him from the
list, writes "请带硒鼓" and attaches a photo of the fault; 王建国 logs in, finds the note
on his home page, opens the job from there, and the note is no longer waiting for him.
"""

from __future__ import annotations

import io
import re

import pytest
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)


def _dispatched_order(ctx) -> None:
    from plugins.repair import services

    order = services.register(ctx, channel="phone", equipment="E335M820091",
                              fault_description="复印机卡纸，显示 J051")
    services.dispatch(ctx, order, engineer="E001")


@pytest.fixture(scope="module")
def timeline_server(tmp_path_factory):
    """The demo company with repair (no order history) and one job for 王建国."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-timeline") / "site", ["repair"], [],
                     prepare=_dispatched_order) as served:
            yield served


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (1200, 900), "white")
    ImageDraw.Draw(picture).rectangle((200, 200, 1000, 700), fill="darkorange")
    out = io.BytesIO()
    picture.save(out, "JPEG")
    return out.getvalue()


def test_a_note_with_a_mention_and_a_photo_reaches_the_engineer(timeline_server, browser,
                                                                  screenshot):
    from playwright.sync_api import expect

    base = timeline_server["url"]
    order_url = f"{base}/desk/repair_work_order/1"

    # the supervisor writes the note, picking 王建国 from the @ list
    context, page = demo_user_session(browser, base, "wufang")
    page.goto(order_url)
    timeline = page.locator("section#timeline")
    expect(timeline.get_by_role("heading", name="动态")).to_be_visible()
    box = timeline.locator("#note-body")
    box.click()
    box.press_sequentially("@wang")
    choice = timeline.get_by_role("option", name="王建国 (@wanggong)")
    expect(choice).to_be_visible()
    choice.click()
    expect(box).to_have_value("@wanggong ")
    box.press_sequentially("请带硒鼓")
    timeline.get_by_role("button", name="添加备注").click()
    page.wait_for_url(re.compile(r"\?done=noted"))
    expect(page.get_by_role("status")).to_have_text("已添加备注。")
    note = timeline.locator('li[data-kind="note"]').first
    expect(note.locator("span.mention")).to_have_text("@wanggong")
    expect(note).to_contain_text("请带硒鼓")
    expect(note).to_contain_text("吴芳")

    # and attaches a photo of the fault: its thumbnail shows in the timeline
    timeline.get_by_label("上传附件").set_input_files(
        files=[{"name": "故障照片.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    timeline.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_url(re.compile(r"\?done=attached"))
    attached = timeline.locator('li[data-kind="attachment"]').first
    expect(attached).to_contain_text("附件：故障照片.jpg")
    thumbnail = attached.locator("img")
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 320",
                           arg=thumbnail.element_handle())
    # status changes of the job are on the same timeline
    expect(timeline.locator('li[data-kind="status"]').first).to_contain_text("派工")
    screenshot(page, "timeline", full_page=True)
    context.close()

    # the engineer finds the note on his home page and opens the job from there
    context, page = demo_user_session(browser, base, "wanggong")
    mentions = page.locator("section[data-mentions]")
    expect(mentions.get_by_role("heading")).to_contain_text("提到你的备注")
    expect(mentions).to_contain_text("请带硒鼓")
    expect(mentions).to_contain_text("吴芳")
    screenshot(page, "home-mentions", full_page=True)
    mentions.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/desk/repair_work_order/1#timeline$"))
    expect(page.locator('section#timeline li[data-kind="note"]').first).to_contain_text(
        "请带硒鼓")
    page.goto(f"{base}/")
    expect(page.locator("section[data-mentions]")).to_have_count(0)
    context.close()
