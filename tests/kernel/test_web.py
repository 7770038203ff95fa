"""The web app of a site, through real HTTP: in-process ASGI and a real ``fixdesk serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from fastapi.testclient import TestClient

from kernel.web.app import create_app


def test_home_page_shows_company_branch_and_plugins(make_site):
    from kernel.demo import DEMO_PASSWORD

    site = make_site(["fdt_notes"], demo=True, company="华东办公设备服务有限公司")
    site.config.plugins.append("fdt_broken")
    with TestClient(create_app(site)) as client:
        page = client.get("/")  # the desk's home page asks for a login first
        assert page.status_code == 200 and page.url.path == "/login"
        assert "华东办公设备服务有限公司" in page.text
        home = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
        assert home.status_code == 200 and home.url.path == "/"
        assert "上海服务中心" in home.text and "fdt_notes" in home.text
        assert "fdt_broken" in home.text  # a plugin that failed to load is shown, not fatal
        health = client.get("/healthz").json()  # its checks: tests/kernel/test_resilience.py
        assert (health["status"], health["plugins"]) == ("ok", ["fdt_notes"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fixdesk_serve_answers_over_http(make_site):
    site = make_site([], demo=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2,
                                     follow_redirects=True)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.url.path == "/login"
        assert "华东办公设备服务有限公司" in response.text
    finally:
        server.terminate()
        server.wait(timeout=10)
