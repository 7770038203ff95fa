"""Sites with the partner plugins (``tests/distributions``) and what tests do with them:
browsers, API clients and work orders. Importable from any test."""

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


def a_few_orders(ctx) -> None:
    """Repair's demo data for the partner tests: instead of two months of history, one
    order in each state the tests need, made by repair's services and actions (by name).

    SH: a pending order, a dispatched one, one under repair free under warranty
    (category C), a closed one; JD: a dispatched one.
    """
    import datetime as dt

    from sqlalchemy import select

    from kernel.models import Branch, CustomerEquipment
    from plugins.repair import services

    today = ctx.now().date()

    def machine(branch: str, in_warranty: bool, skip=()):
        query = select(CustomerEquipment).join(Branch, Branch.id == CustomerEquipment.branch_id)\
            .where(Branch.code == branch, CustomerEquipment.serial_no.not_in(skip))
        query = query.where(CustomerEquipment.warranty_end > today + dt.timedelta(days=30)) \
            if in_warranty else query.where(CustomerEquipment.warranty_end < today)
        return ctx.session.scalars(query.order_by(CustomerEquipment.id)).first().serial_no

    def order(branch: str, serial: str, *steps):
        made = services.register(ctx, fault_description="卡纸，显示 SC542", channel="phone",
                                 equipment=serial, branch=branch)
        for name, params in steps:
            ctx.run_action("repair_work_order", made.id, name, **params)
        return made

    dispatch = ("dispatch", {"engineer": "E001"})
    repair = [dispatch, ("arrive", {}), ("diagnose", {"diagnosis": "定影组件老化"}),
              ("start", {})]
    free, paid = machine("SH", True), machine("SH", False)
    order("SH", paid)
    order("SH", machine("SH", False, skip=(paid,)), dispatch)
    order("SH", free, *repair)
    other_free = machine("SH", True, skip=(free,))
    order("SH", other_free, *repair, ("complete", {"method": "更换定影组件", "cause": "老化"}),
          ("close", {}))
    order("JD", machine("JD", False), ("dispatch", {"engineer": "E006"}))
