"""Reads that need no transaction around their statements.

On PostgreSQL the API's and the desk's list and record reads (and the desk's lookups) run
their statements one by one
(``App.statement_reads``: no BEGIN, no COMMIT, two round trips fewer a request); every
other request keeps its transaction, and a connection such a read used goes back to the
pool ready for one.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event, select

from kernel.auth import add_user, create_token
from kernel.masterdata import add_branch
from kernel.models import Branch, Customer, Tier
from kernel.web.app import create_app

POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
PASSWORD = "password-123"


class InTransaction:
    """For each statement run on ``engine``: whether it ran inside a transaction block."""

    def __init__(self, engine):
        self.seen: list[tuple[str, bool]] = []
        event.listen(engine, "after_cursor_execute", self.after)

    def after(self, conn, _cursor, statement, *_args):
        status = conn.connection.dbapi_connection.info.transaction_status
        self.seen.append((statement.split()[0], status != TransactionStatus.IDLE))

    def take(self) -> list[bool]:
        """Whether each statement since the last call ran in a transaction."""
        found, self.seen = [inside for _word, inside in self.seen], []
        return found


def _two_branches(site) -> tuple[str, dict[str, int]]:
    """A supervisor of branch SH with a token, and a customer in SH and one in JD: the
    token and the customers' ids by code."""
    app = site.start()
    try:
        with app.context() as ctx:
            home = ctx.session.scalars(select(Branch).order_by(Branch.id)).first()
            other = add_branch(ctx, "JD", "嘉定服务站")
            customers = {code: Customer(company_id=home.company_id, branch_id=branch.id,
                                        code=code, name=f"客户 {code}", tier=Tier.CORPORATE)
                         for code, branch in (("SH01", home), ("JD01", other))}
            ctx.session.add_all(customers.values())
            user = add_user(ctx, "lists", "列表主管", PASSWORD, home,
                            roles=["service_supervisor"])
            token = create_token(ctx, user, "lists")[1]
            return token, {code: customer.id for code, customer in customers.items()}
    finally:
        app.close()


@pytest.fixture
def served(make_site):
    """(the app of a site with :func:`_two_branches`, its statements watched, the token,
    the customers' ids)."""
    site = make_site()
    token, ids = _two_branches(site)
    web = create_app(site)
    return web, InTransaction(web.state.fixdesk.engine), token, ids


@POSTGRES_ONLY
def test_a_list_and_a_record_run_their_statements_outside_a_transaction(served):
    web, statements, token, ids = served
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(web) as client:
        client.get("/api/v1/customer?limit=1", headers=auth)  # the token's use noted
        statements.take()
        listed = client.get("/api/v1/customer?limit=50", headers=auth)
        assert listed.status_code == 200, listed.text
        # the branch scope holds without a transaction: JD's customer is not listed
        assert [c["code"] for c in listed.json()["items"]] == ["SH01"]
        assert statements.take() == [False, False]  # the token, the page
        record = client.get(f"/api/v1/customer/{ids['SH01']}", headers=auth)
        assert record.status_code == 200 and record.json()["code"] == "SH01"
        assert not any(statements.take())
        assert client.get(f"/api/v1/customer/{ids['JD01']}", headers=auth).status_code == 404


@POSTGRES_ONLY
def test_the_connection_such_a_read_used_serves_transactions_again(served):
    web, statements, token, _ids = served
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(web) as client:
        assert client.get("/api/v1/customer?limit=5", headers=auth).status_code == 200
        statements.take()
        # a write and a read that keeps its transaction (a record's notes), on the pool's
        # one connection, which the list used
        created = client.post("/api/v1/customer", headers=auth,
                              json={"code": "SH02", "name": "新客户", "tier": "corporate"})
        assert created.status_code == 201, created.text
        written = statements.take()
        assert written and all(written)
        notes = client.get(f"/api/v1/customer/{created.json()['id']}/notes", headers=auth)
        assert notes.status_code == 200, notes.text
        read = statements.take()
        assert read and all(read)
        # and what the write committed is there for the next list
        listed = client.get("/api/v1/customer?limit=50", headers=auth)
        assert sorted(c["code"] for c in listed.json()["items"]) == ["SH01", "SH02"]
        assert not any(statements.take())
        assert web.state.fixdesk.engine.pool.checkedin() == 1  # one served them all


@POSTGRES_ONLY
def test_the_desk_lists_opens_and_looks_up_records_outside_a_transaction(served):
    web, statements, _token, ids = served
    with TestClient(web, follow_redirects=False) as browser:
        logged_in = browser.post("/login", data={"username": "lists", "password": PASSWORD})
        assert logged_in.status_code == 303, logged_in.text
        pages = ["/desk/customer", "/desk/customer/lookup?q=SH", f"/desk/customer/{ids['SH01']}"]
        for page in pages:  # the first time notes the session's use, reads the company
            assert browser.get(page).status_code == 200
        statements.take()
        for page in pages:
            answer = browser.get(page)
            assert answer.status_code == 200, (page, answer.text[:300])
            assert "SH01" in answer.text and "JD01" not in answer.text
            ran = statements.take()
            assert ran and not any(ran), page
