"""Desk sessions of the demo's users through the ASGI app (real HTTP, own cookies)."""

from __future__ import annotations

import re
from contextlib import contextmanager

from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def demo_sessions(web):
    """``open_session("wufang")`` logs a demo user in (password ``DEMO_PASSWORD``) and
    gives the client, its session's CSRF token as ``.csrf``; all are closed at the end."""
    from kernel.demo import DEMO_PASSWORD

    clients = []

    def open_session(username: str) -> TestClient:
        client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
        clients.append(client)
        answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 303, answer.text
        client.csrf = CSRF.search(client.get("/").text).group(1)
        return client

    try:
        yield open_session
    finally:
        for client in clients:
            client.close()
