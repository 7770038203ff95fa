"""A real ``fixdesk serve`` of a demo site, and headless Chromium driven by Playwright.

Debian's ``chromium`` (``/usr/bin/chromium``) is used, never a downloaded
browser (see the skip rule in ``test_desk_browser.py``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "e2e-password-1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(folder: Path, plugins: list[str], users: list[tuple[str, str, str, list[str]]],
            prepare=None):
    """A demo site with ``plugins`` in ``folder`` (SQLite), the accounts ``users``
    (username, full name, branch, roles; password :data:`PASSWORD`), ``prepare(ctx)`` run
    once, served by a real ``fixdesk serve`` on a free port: ``{"url", "site"}``."""
    from site_cache import cached_site

    from kernel.auth import add_user
    from kernel.masterdata import get_branch

    site = cached_site(folder, plugins, company="华东办公设备服务有限公司",
                       branch_code="SH", branch_name="上海服务中心", demo=True)
    app = site.start()
    try:
        with app.context() as ctx:
            for username, name, branch, roles in users:
                add_user(ctx, username, name, PASSWORD, get_branch(ctx, branch), roles=roles)
        if prepare is not None:
            with app.context() as ctx:
                prepare(ctx)
    finally:
        app.close()
    port = _free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--host",
         "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("fixdesk serve did not start:\n" + (folder / "serve.log").read_text())
        time.sleep(0.2)
    try:
        yield {"url": base, "site": site}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A demo site (SQLite) with an admin and a Shanghai front-desk clerk, served over HTTP."""
    with serving(tmp_path_factory.mktemp("e2e") / "site", [],
                 [("e2e_admin", "系统管理员", "SH", ["admin"]),
                  ("e2e_front", "前台 郑丽", "SH", ["front_desk"])]) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot():
    """Save a page's screenshot to docs/screenshots/ when FIXDESK_SCREENSHOTS=1."""
    wanted = os.environ.get("FIXDESK_SCREENSHOTS") == "1"

    def take(page, name: str, **options):
        if wanted:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **options)

    return take


def demo_user_session(browser, base: str, username: str, **options):
    """A new browser context logged in as a demo user (password ``DEMO_PASSWORD``), in
    Chinese, on a desktop-sized window: ``(context, page)``, the page on the home page."""
    from kernel.demo import DEMO_PASSWORD

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  **options)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    return context, page
