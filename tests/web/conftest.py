"""A demo site's desk through real HTTP (the ASGI app), with users of several roles."""

from __future__ import annotations

import functools
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel.auth import add_user, hash_password
from kernel.masterdata import get_branch
from kernel.web.app import create_app

PASSWORD = "password-123"
#: username: roles, home branch
USERS = {
    "root": (["admin"], "SH"),
    "lily": (["front_desk"], "SH"),
    "wangli": (["engineer"], "SH"),
    "supersh": (["service_supervisor"], "SH"),
    "jdfront": (["front_desk"], "JD"),
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Desk:
    """The app of a demo site and browsers (TestClients, each with its own cookies)."""

    def __init__(self, web):
        self.web = web
        self.app = web.state.fixdesk
        self.clients = []

    def browser(self) -> TestClient:
        client = TestClient(self.web, raise_server_exceptions=False, follow_redirects=False)
        self.clients.append(client)
        return client

    def login(self, username: str) -> TestClient:
        """A browser logged in as ``username``; ``client.csrf`` is its session's token."""
        client = self.browser()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.text
        client.csrf = csrf_of(client.get("/"))
        return client

    def count(self, cls, **where) -> int:
        with self.app.sessions() as session:
            return session.scalar(select(func.count()).select_from(cls).filter_by(**where))

    def id_of(self, cls, **where) -> int:
        with self.app.sessions() as session:
            return session.scalar(select(cls.id).filter_by(**where))

    def get(self, cls, **where):
        with self.app.sessions() as session:
            found = session.scalar(select(cls).filter_by(**where))
            session.expunge_all()
            return found


def csrf_of(page) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def desk(make_site):
    site = make_site(["fdt_notes"], demo=True, company="华东办公设备服务有限公司",
                     branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    desk = Desk(web)
    with desk.app.context() as ctx:
        for username, (roles, branch) in USERS.items():
            user = add_user(ctx, username, f"{username} 测试", None, get_branch(ctx, branch),
                            roles=roles)
            user.password_hash = password_hash()  # argon2 is slow on purpose: hash once
    yield desk
    for client in desk.clients:
        client.close()
    desk.app.close()
