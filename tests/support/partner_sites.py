"""Sites with the partner plugins (``tests/distributions``) and what tests do with them:
browsers, API clients and demo work orders. Importable from any test."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kernel.web.app import create_app

ALL = ["repair", "acme_warranty", "acme_rating"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Web:
    """A started site's ASGI app, with logged-in browsers and API tokens per user."""

    def __init__(self, site):
        self.web = create_app(site)
        self.app = self.web.state.fixdesk
        self.clients: list[TestClient] = []
        self._tokens: dict[str, dict] = {}

    def client(self) -> TestClient:
        client = TestClient(self.web, raise_server_exceptions=False, follow_redirects=False)
        self.clients.append(client)
        return client

    def api(self, username: str) -> TestClient:
        """A client calling the API with the user's bearer token."""
        from api_tokens import bearer_headers

        if username not in self._tokens:
            with self.app.context() as ctx:
                self._tokens.update(bearer_headers(ctx, username))
        client = self.client()
        client.headers.update(self._tokens[username])
        return client

    def desk(self, username: str) -> TestClient:
        """A logged-in desk browser; ``.csrf`` is its token."""
        from kernel.demo import DEMO_PASSWORD

        client = self.client()
        answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 303, answer.text
        client.csrf = CSRF.search(client.get("/").text).group(1)
        return client

    def close(self):
        for client in self.clients:
            client.close()
        self.app.close()


def an_order(web, **where):
    """The id of a demo work order of SH matching ``where`` (column = value)."""
    from sqlalchemy import select

    orders = web.app.entity_class("repair_work_order")
    with web.app.context() as ctx:
        query = select(orders.id).join(orders.branch).where(
            orders.branch.property.mapper.class_.code == "SH")
        for column, value in where.items():
            query = query.where(getattr(orders, column) == value)
        found = ctx.session.scalar(query.order_by(orders.id))
    assert found is not None, where
    return found


def an_order_of(web, branch: str) -> int:
    """The id of the first demo work order of ``branch``."""
    from sqlalchemy import select

    orders = web.app.entity_class("repair_work_order")
    branches = web.app.entity_class("branch")
    with web.app.context() as ctx:
        return ctx.session.scalar(select(orders.id).join(branches, branches.id ==
                                                         orders.branch_id)
                                  .where(branches.code == branch).order_by(orders.id))
