"""Documents that are submitted on the desk (the ASGI app), on SQLite and PostgreSQL: the
status line, a read-only form once submitted, the lifecycle's buttons; and the buttons
of an entity that switches generic operations off.

The demo site speaks Chinese (the site's locale).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel.auth import add_user, hash_password
from kernel.i18n import translations
from kernel.masterdata import get_branch
from kernel.web.app import create_app

zh = translations("zh_CN").gettext
PASSWORD = "password-123"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def desk(make_site):
    """The web app of a demo site with fdt_ledger, and ``login(username)``: keeper (front
    desk: submits), store (warehouse keeper: writes drafts and ledger moves)."""
    site = make_site(["fdt_ledger"], demo=True, branch_code="SH")
    web = create_app(site)
    app = web.state.fixdesk
    hashed = hash_password(PASSWORD)
    with app.context() as ctx:
        sh = get_branch(ctx, "SH")
        for username, roles in [("keeper", ["front_desk"]), ("store", ["warehouse_keeper"])]:
            add_user(ctx, username, username, None, sh, roles=roles).password_hash = hashed
    clients = []

    def login(username):
        client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
        clients.append(client)
        assert client.post("/login", data={"username": username,
                                           "password": PASSWORD}).status_code == 303
        client.csrf = CSRF.search(client.get("/").text).group(1)
        return client

    login.app = app
    yield login
    for client in clients:
        client.close()
    app.close()


def state_of(page) -> str | None:
    found = re.search(r'data-docstatus="(\w+)"', page.text)
    return found.group(1) if found else None


def test_the_form_shows_the_state_and_is_read_only_once_submitted(desk):
    from fdt_ledger.models import StockEntry

    browser = desk("keeper")
    created = browser.post("/desk/fdt_ledger_entry/new", data={
        "csrf": browser.csrf, "_fields": ["purpose"], "purpose": "入库"})
    assert created.status_code == 303, created.text
    url = created.headers["location"].split("?")[0]
    entry_id = int(url.rsplit("/", 1)[1])
    draft = browser.get(url)
    assert state_of(draft) == "draft" and zh("Draft") in draft.text
    assert zh("Save") in draft.text and f'action="{url}/delete"' in draft.text
    assert f'action="{url}/action/submit"' in draft.text
    assert f'action="{url}/action/cancel"' not in draft.text
    assert browser.post(url, data={"csrf": browser.csrf, "_fields": ["purpose"],
                                   "purpose": "调拨入库"}).status_code == 303

    submitted = browser.post(f"{url}/action/submit", data={"csrf": browser.csrf})
    assert submitted.status_code == 303
    page = browser.get(url)
    assert state_of(page) == "submitted" and zh("Submitted") in page.text
    assert 'id="f-purpose"' in page.text and re.search(r'id="f-purpose"[^>]* disabled', page.text)
    assert f'<button type="submit" class="primary" accesskey="s">{zh("Save")}' not in page.text
    assert f'action="{url}/delete"' not in page.text
    assert f'action="{url}/action/submit"' not in page.text
    assert f'action="{url}/action/cancel"' in page.text and zh("Cancel document") in page.text
    refused = browser.post(url, data={"csrf": browser.csrf, "_fields": ["purpose"],
                                      "purpose": "改"})
    assert refused.status_code == 409
    deleted = browser.post(f"{url}/delete", data={"csrf": browser.csrf})
    assert deleted.status_code == 409 and state_of(deleted) == "submitted"

    no_reason = browser.post(f"{url}/action/cancel", data={"csrf": browser.csrf, "reason": ""})
    assert no_reason.status_code == 422 and state_of(no_reason) == "submitted"
    cancelled = browser.post(f"{url}/action/cancel",
                             data={"csrf": browser.csrf, "reason": "数量录错"})
    assert cancelled.status_code == 303
    page = browser.get(url)
    assert state_of(page) == "cancelled" and "数量录错" in page.text
    assert f'action="{url}/action/amend"' in page.text

    amended = browser.post(f"{url}/action/amend", data={"csrf": browser.csrf})
    assert amended.status_code == 303
    new_url = amended.headers["location"].split("?")[0]
    assert new_url != url  # the new draft is shown
    with desk.app.sessions() as session:
        number = session.scalar(select(StockEntry.number).where(StockEntry.id == entry_id))
    page = browser.get(amended.headers["location"])
    assert state_of(page) == "draft" and f"{number}-1" in page.text
    assert re.search(rf'<a href="{url}" data-amended-from>[^<]*{number}</a>', page.text)
    assert zh("Amended from") in page.text and zh("Save") in page.text
    original = browser.get(url).text
    assert re.search(rf'<a href="{new_url}" data-amended-by>[^<]*{number}-1</a>', original)
    assert f'action="{url}/action/amend"' not in original


def test_buttons_follow_the_permissions_and_the_operations(desk):
    from fdt_ledger.models import LedgerMove, StockEntry

    store = desk("store")  # writes drafts, may not submit
    created = store.post("/desk/fdt_ledger_entry/new", data={
        "csrf": store.csrf, "_fields": ["purpose"], "purpose": "入库"})
    url = created.headers["location"].split("?")[0]
    page = store.get(url).text
    assert "/action/submit" not in page and zh("Save") in page
    refused = store.post(f"{url}/action/submit", data={"csrf": store.csrf})
    assert refused.status_code == 403

    # ledger moves are made, never changed or deleted (__operations__ = ("create",))
    listing = store.get("/desk/fdt_ledger_move").text
    assert 'href="/desk/fdt_ledger_move/new"' in listing
    made = store.post("/desk/fdt_ledger_move/new", data={
        "csrf": store.csrf, "_fields": ["item", "qty"], "item": "盘点调整", "qty": "1"})
    assert made.status_code == 303, made.text
    with desk.app.sessions() as session:
        move = session.scalar(select(LedgerMove.id))
        assert session.scalar(select(StockEntry.docstatus)) == "draft"
    form = store.get(f"/desk/fdt_ledger_move/{move}").text
    assert f'action="/desk/fdt_ledger_move/{move}/delete"' not in form
    assert f'accesskey="s">{zh("Save")}' not in form
    assert re.search(r'id="f-qty"[^>]* disabled', form)
    assert state_of(store.get(f"/desk/fdt_ledger_move/{move}")) is None  # not a document
    changed = store.post(f"/desk/fdt_ledger_move/{move}", data={
        "csrf": store.csrf, "_fields": ["qty"], "qty": "2"})
    assert changed.status_code == 409
    assert store.post(f"/desk/fdt_ledger_move/{move}/delete",
                      data={"csrf": store.csrf}).status_code == 403  # no such permission
    with desk.app.sessions() as session:
        assert session.scalar(select(LedgerMove.qty).where(LedgerMove.id == move)) == 1
