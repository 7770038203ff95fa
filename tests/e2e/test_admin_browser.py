"""The admin console in headless Chromium: the office admin of 华东办公设备 does in the
desk what used to need the command line (issue 17's proof).

The admin creates a supervisor for 嘉定 (JD) who then logs in; switches repair's SMS
survey off for JD, after which a closed JD order sends no survey while a Shanghai one
does (scenario 8); marks 2027-02-06 (a Saturday of the Spring Festival) a working day
for JD and sees the deadline calculator move; copies the service voucher's template,
edits its heading, previews it and has a sandbox-breaking edit refused. A supervisor
who is not an admin finds no console and gets 403 on its pages.
"""

from __future__ import annotations

import pytest
from repair_jobs import SmsGateway, closed_order, survey_sms
from site_cache import no_demo

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """The demo company with repair (no order history)."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", no_demo)
        with serving(tmp_path_factory.mktemp("e2e-admin") / "site", ["repair"], []) as served:
            yield served


def test_the_admin_creates_a_jd_supervisor_who_logs_in(admin_server, browser, screenshot):
    from playwright.sync_api import expect

    base = admin_server["url"]
    context, page = demo_user_session(browser, base, "admin")
    page.get_by_role("link", name="管理后台").first.click()
    page.wait_for_url(f"{base}/desk/admin")
    screenshot(page, "admin-console")
    page.locator(".admin-nav").get_by_role("link", name="用户").click()
    form = page.locator("#new-user")
    form.locator("#f-username").fill("sunjd")
    form.locator("#f-full_name").fill("孙建东")
    form.locator("#f-home_branch").select_option("JD")
    form.get_by_label("服务主任").check()
    form.locator("#f-password").fill("jd-super-2027")
    form.get_by_role("button", name="创建用户").click()
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator("main")).to_contain_text("孙建东")
    screenshot(page, "admin-user")
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("sunjd")
    page.get_by_label("密码").fill("jd-super-2027")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".who")).to_contain_text("孙建东")
    expect(page.get_by_role("link", name="管理后台")).to_have_count(0)
    answer = page.goto(f"{base}/desk/admin/users")
    assert answer.status == 403
    context.close()


def test_a_make_up_working_day_moves_the_deadline(admin_server, browser, screenshot):
    from playwright.sync_api import expect

    base = admin_server["url"]
    context, page = demo_user_session(browser, base, "admin")
    page.goto(f"{base}/desk/admin/branches")
    page.locator("main").get_by_role("link", name="JD").first.click()
    page.goto(f"{page.url.split('?')[0]}?year=2027")
    page.locator("#deadline-start").fill("2027-02-05T16:00")
    page.locator("#deadline-hours").fill("6")
    page.get_by_role("button", name="计算").click()
    expect(page.locator(".deadline-result")).to_contain_text("2027-02-11 16:00")

    page.locator('[data-day="2027-02-06"]').click()
    page.locator('.day-form input[name="state"][value="working"]').check()
    page.locator("#day-note").fill("2027 春节调休")
    page.locator(".day-form").get_by_role("button", name="保存").click()
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator(".deadline-result")).to_contain_text("2027-02-06 16:00")
    screenshot(page, "admin-calendar", full_page=False)
    context.close()


def test_switching_off_jd_s_sms_survey_in_the_desk(admin_server, browser, screenshot):
    from playwright.sync_api import expect

    base = admin_server["url"]
    context, page = demo_user_session(browser, base, "admin")
    page.goto(f"{base}/desk/admin/hooks")
    cell = page.locator("#hook-repair-repair_order_closed form").filter(
        has=page.locator('input[name="branch"][value="JD"]'))
    expect(cell.locator("button.switch-on")).to_be_visible()
    cell.locator("button").click()
    expect(page.locator(".notice")).to_be_visible()
    expect(cell.locator("button.switch-off")).to_be_visible()
    screenshot(page, "admin-hooks", full_page=False)
    context.close()

    app = admin_server["site"].start()
    app.pm.register(SmsGateway(), name="sms_gateway")
    try:
        jd_order, sh_order = closed_order(app, jd=True), closed_order(app, jd=False)
        sent = survey_sms(app)
    finally:
        app.pm.unregister(name="sms_gateway")
        app.close()
    assert sh_order in sent
    assert jd_order not in sent


def _pdf_text(data: bytes, folder) -> str:
    import subprocess

    path = folder / "preview.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_voucher_template_is_copied_edited_previewed_and_guarded(admin_server, browser,
                                                                      screenshot, tmp_path):
    from playwright.sync_api import expect

    base = admin_server["url"]
    app = admin_server["site"].start()
    try:
        closed_order(app, jd=False)  # a voucher to preview
    finally:
        app.close()
    context, page = demo_user_session(browser, base, "admin")
    page.goto(f"{base}/desk/admin/templates")
    row = page.locator("tr").filter(has_text="repair/service_voucher.html")
    row.get_by_role("button", name="复制到本站后修改").click()
    page.wait_for_url(f"{base}/desk/admin/templates/repair.service_voucher*")
    editor = page.locator("#template-source")
    source = editor.input_value()
    assert "Fault and repair" in source
    editor.fill(source.replace('{{ _("Fault and repair") }}', "故障与维修（试行版）"))

    with page.expect_download() as download:
        page.get_by_role("button", name="下载预览（PDF）").click()
    assert "故障与维修（试行版）" in _pdf_text(download.value.path().read_bytes(), tmp_path)

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".notice")).to_be_visible()
    screenshot(page, "admin-template", full_page=False)
    saved = admin_server["site"].path / "templates" / "repair" / "service_voucher.html"
    assert "故障与维修（试行版）" in saved.read_text(encoding="utf-8")

    # a sandbox-breaking edit is refused, and the saved file stays as it was
    editor = page.locator("#template-source")
    editor.fill(editor.input_value() + "\n{{ record.__class__.__mro__ }}")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".alert")).to_be_visible()
    assert "__mro__" in page.locator("#template-source").input_value()  # the text is kept
    assert "__mro__" not in saved.read_text(encoding="utf-8")
    context.close()


def test_a_supervisor_finds_no_console(admin_server, browser):
    from playwright.sync_api import expect

    base = admin_server["url"]
    context, page = demo_user_session(browser, base, "wufang")
    expect(page.get_by_role("link", name="管理后台")).to_have_count(0)
    for section in ("", "/users", "/roles", "/branches/JD/calendar", "/hooks", "/settings",
                    "/plugins", "/templates", "/audit"):
        answer = page.goto(f"{base}/desk/admin{section}")
        assert answer.status == 403, section
    context.close()
