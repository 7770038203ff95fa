"""Logins (issue 15): failures throttled per account and address rather than per address,
forwarded addresses believed only from the site's proxies, API tokens that stop with their
account and expire, desk sessions that end when idle. Real HTTP through the ASGI app."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kernel.auth import ApiToken, User, create_token, get_user
from kernel.demo import DEMO_PASSWORD
from kernel.i18n import translations
from kernel.login import LoginFailure, WebSession
from kernel.settings import set_setting
from kernel.web.app import create_app

OFFICE, HOME = "198.51.100.7", "203.0.113.20"
zh = translations("zh_CN").gettext  # the demo site speaks Chinese


@pytest.fixture
def make_web(make_site):
    """``make_web(**site_config)``: the web app of a demo site (demo users, password
    DEMO_PASSWORD) and a ``browser(address)`` maker; closed at the end."""
    made, clients = [], []

    def make(**config):
        site = make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")
        for key, value in config.items():
            setattr(site.config, key, value)
        web = create_app(site)
        made.append(web)

        def browser(address: str = OFFICE) -> TestClient:
            client = TestClient(web, client=(address, 41000), raise_server_exceptions=False,
                                follow_redirects=False)
            clients.append(client)
            return client

        web.browser = browser
        web.app = web.state.fixdesk
        return web

    yield make
    for client in clients:
        client.close()
    for web in made:
        web.state.fixdesk.close()


@pytest.fixture
def web(make_web):
    return make_web()


def login(client, username: str, password: str = DEMO_PASSWORD, **headers):
    return client.post("/login", data={"username": username, "password": password},
                       headers=headers)


def settings(app, **values):
    with app.context() as ctx:
        for key, value in values.items():
            set_setting(ctx, f"kernel.{key}", value)


def backdate_failures(app, minutes: int) -> None:
    with app.write_sessions.begin() as session:
        for row in session.scalars(select(LoginFailure)):
            row.at -= dt.timedelta(minutes=minutes)


# --------------------------------------------------------------------------
# throttling failed logins
# --------------------------------------------------------------------------


def test_one_persons_failures_do_not_lock_the_office_out(web):
    """20 failures of zhengli from the office's one address (NAT) must not keep wanggong,
    at the same address, from logging in with his right password."""
    office = web.browser(OFFICE)
    answers = [login(office, "zhengli", "not-her-password").status_code for _i in range(20)]
    assert answers == [401] * 5 + [429] * 15
    assert login(web.browser(OFFICE), "wanggong").status_code == 303


def test_failures_throttle_that_account_from_that_address(web):
    office = web.browser(OFFICE)
    for _attempt in range(5):
        assert login(office, "zhengli", "not-her-password").status_code == 401
    held = login(office, "zhengli")  # even the right password waits
    assert held.status_code == 429
    assert 840 < int(held.headers["Retry-After"]) <= 900
    assert zh("Too many failed logins for this account from your address: try again in "
              "{minutes} minutes.").format(minutes=15) in held.text
    assert "fixdesk_session" not in held.headers.get("set-cookie", "")
    # the same account from elsewhere is not held up: 5 failures do not lock it
    assert login(web.browser(HOME), "zhengli").status_code == 303
    # after the window the office may try her account again
    backdate_failures(web.app, 16)
    assert login(office, "zhengli").status_code == 303


def test_an_address_is_slowed_only_for_accounts_that_failed_there(web):
    """Against a very high rate from one address (here lowered to 6 failures) an account
    that failed there gets no more tries; one that did not logs in as usual."""
    settings(web.app, login_address_attempts=6)
    office = web.browser(OFFICE)
    for name in ("ghost1", "ghost2", "ghost3"):
        for _attempt in range(2):
            assert login(office, name, "guessing").status_code == 401
    assert login(office, "zhengli", "one-typo-here").status_code == 401  # over the limit
    held = login(office, "zhengli")
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert login(office, "wanggong").status_code == 303


def test_the_account_lock_counts_failures_from_every_address(web):
    """10 failures in a row (kernel.login_max_attempts) from anywhere lock the account."""
    for number in range(10):
        assert login(web.browser(f"192.0.2.{number + 1}"), "zhengli",
                     "spraying").status_code == 401
    locked = login(web.browser(HOME), "zhengli")
    assert locked.status_code == 401
    assert zh("account locked after too many failed logins; try again later") in locked.text


# --------------------------------------------------------------------------
# forwarded addresses
# --------------------------------------------------------------------------


def test_forwarded_addresses_are_ignored_from_an_untrusted_peer(make_web):
    web = make_web(trusted_proxies=["10.0.0.0/8"])
    client = web.browser("203.0.113.9")
    for number in range(5):
        answer = login(client, "zhengli", "guessing", **{
            "X-Forwarded-For": f"100.64.0.{number}", "Forwarded": f"for=100.65.0.{number}"})
        assert answer.status_code == 401
    held = login(client, "zhengli", **{"X-Forwarded-For": "100.64.9.9"})
    assert held.status_code == 429
    secure = login(web.browser("203.0.113.10"), "wanggong", **{"X-Forwarded-Proto": "https"})
    assert "secure" not in secure.headers["set-cookie"].lower()


def test_forwarded_addresses_are_believed_from_a_trusted_proxy(make_web):
    web = make_web(trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    proxy = web.browser("10.1.2.3")
    for _attempt in range(5):
        assert login(proxy, "zhengli", "guessing",
                     **{"X-Forwarded-For": "198.51.100.50"}).status_code == 401
    # a client writing its own header: it stays left of what the proxies added
    spoofed = login(proxy, "zhengli", **{"X-Forwarded-For": "7.7.7.7, 198.51.100.50"})
    assert spoofed.status_code == 429
    # through two proxies of the site (127.0.0.1 in front of 10.1.2.3)
    chained = login(proxy, "zhengli", **{"X-Forwarded-For": "198.51.100.50, 127.0.0.1"})
    assert chained.status_code == 429
    other = login(web.browser("10.1.2.3"), "zhengli",
                  **{"X-Forwarded-For": "198.51.100.51", "X-Forwarded-Proto": "https"})
    assert other.status_code == 303
    assert "secure" in other.headers["set-cookie"].lower()  # HTTPS ended at the proxy
    with web.app.sessions() as session:
        addresses = set(session.scalars(select(LoginFailure.address)))
    assert addresses == {"198.51.100.50"}


def test_the_forwarded_header_of_rfc_7239(make_web):
    web = make_web(trusted_proxies=["10.0.0.0/8"], proxy_header="forwarded")
    proxy = web.browser("10.0.0.5")
    for _attempt in range(5):
        assert login(proxy, "zhengli", "guessing", **{
            "Forwarded": 'for="[2001:db8::7]:4711";proto=https'}).status_code == 401
    assert login(proxy, "zhengli", **{
        "Forwarded": 'for=192.0.2.99, for="[2001:db8::7]"'}).status_code == 429
    # X-Forwarded-For is not what this site's proxy sets: ignored
    assert login(proxy, "zhengli", **{"Forwarded": 'for="[2001:db8::7]"',
                                      "X-Forwarded-For": "192.0.2.1"}).status_code == 429
    assert login(web.browser("10.0.0.6"), "zhengli", **{
        "Forwarded": "for=192.0.2.1;proto=https"}).status_code == 303


def test_site_toml_refuses_a_bad_trusted_proxy(tmp_path):
    from kernel.errors import SiteError
    from kernel.site import SiteConfig

    config = SiteConfig.from_toml({"web": {"trusted_proxies": ["10.0.0.0/8", "::1"]}})
    assert config.to_toml()["web"]["trusted_proxies"] == ["10.0.0.0/8", "::1"]
    with pytest.raises(SiteError, match="'proxy.example.com' is not an address"):
        SiteConfig.from_toml({"web": {"trusted_proxies": ["proxy.example.com"]}})
    with pytest.raises(SiteError, match="proxy_header"):
        SiteConfig.from_toml({"web": {"proxy_header": "x-real-ip"}})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fixdesk_serve_believes_no_forwarded_header_by_default(make_site, app_of):
    """Through the real server: uvicorn on its own would believe X-Forwarded-For from
    127.0.0.1, and a client on this machine could take a new address for every guess."""
    site = make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}/login"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        for number in range(5):
            answer = httpx.post(url, data={"username": "zhengli", "password": "guessing"},
                                headers={"X-Forwarded-For": f"100.64.1.{number}"}, timeout=10)
            assert answer.status_code == 401
        with app_of(site).sessions() as session:  # counted against the real peer
            assert set(session.scalars(select(LoginFailure.address))) == {"127.0.0.1"}
        held = httpx.post(url, data={"username": "zhengli", "password": DEMO_PASSWORD},
                          headers={"X-Forwarded-For": "100.64.2.1"}, timeout=10)
        assert held.status_code == 429
    finally:
        server.terminate()
        server.wait(timeout=10)


# --------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------


def _token(app, username: str, **options) -> tuple[int, str]:
    with app.context() as ctx:
        row, secret = create_token(ctx, get_user(ctx.session, username), "test", **options)
        return row.id, secret


def me(web, secret: str):
    return web.browser().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})


def test_a_locked_accounts_tokens_stop_working(web):
    _id, secret = _token(web.app, "zhengli")
    assert me(web, secret).status_code == 200
    for number in range(10):
        login(web.browser(f"192.0.2.{number + 1}"), "zhengli", "spraying")
    refused = me(web, secret)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == (  # the API speaks English unless asked
        "the account of this API token is locked after too many failed logins; try again later")
    with web.app.write_sessions.begin() as session:
        session.execute(update(User).where(User.username == "zhengli").values(
            locked_until=None, active=False))
    assert me(web, secret).status_code == 401  # disabled, however it came about
    with web.app.write_sessions.begin() as session:
        session.execute(update(User).where(User.username == "zhengli").values(active=True))
    assert me(web, secret).status_code == 200


def test_tokens_expire_by_default_and_say_so(web):
    token_id, secret = _token(web.app, "zhengli")
    with web.app.sessions() as session:
        row = session.get(ApiToken, token_id)
        lifetime = row.expires_at - row.created_at
    assert dt.timedelta(days=89) < lifetime <= dt.timedelta(days=90)
    with web.app.write_sessions.begin() as session:
        session.get(ApiToken, token_id).expires_at = dt.datetime.now(dt.UTC) - \
            dt.timedelta(seconds=1)
    expired = me(web, secret)
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"] == "Bearer"
    assert expired.json()["error"]["message"] == \
        "this API token has expired; ask an administrator for a new one"
    never_id, _secret = _token(web.app, "zhengli", never=True)
    settings(web.app, token_default_days=0)
    default_id, _secret = _token(web.app, "zhengli")
    with web.app.sessions() as session:
        assert session.get(ApiToken, never_id).expires_at is None
        assert session.get(ApiToken, default_id).expires_at is None


def test_token_cli_expiry_list_and_revoke(web, fixdesk):
    site = web.app.site.path
    made = fixdesk("--site", site, "user", "token", "add", "zhengli", "--name", "tablet",
                   "--expires", "30d")
    assert made.code == 0, made
    secret = made.out.splitlines()[1]
    dated = fixdesk("--site", site, "user", "token", "add", "wanggong", "--expires",
                    "2099-01-01")
    assert dated.code == 2 and dated.err.count("\n") == 1  # more than 3650 days away
    dated = fixdesk("--site", site, "user", "token", "add", "wanggong", "--expires",
                    (dt.date.today() + dt.timedelta(days=400)).isoformat())
    assert dated.code == 0, dated
    assert fixdesk("--site", site, "user", "token", "add", "wanggong", "--expires",
                   "never").code == 0
    for bad in ("soon", "30", "-3d"):
        refused = fixdesk("--site", site, "user", "token", "add", "wanggong", "--expires", bad)
        assert refused.code == 2 and refused.err.startswith("error: ") \
            and refused.err.count("\n") == 1, refused
    assert me(web, secret).status_code == 200
    listing = fixdesk("--site", site, "user", "token", "list").out
    assert secret not in listing
    header, *rows = [line.split("\t") for line in listing.splitlines()]
    assert len(header) == 7 and len(rows) == 3
    mine = next(r for r in rows if r[1] == "zhengli")
    assert mine[2] == "tablet" and mine[4] != "-" and mine[5] != "-"  # used, expires
    assert [r[5] for r in rows if r[1] == "wanggong"][-1] == "-"  # never
    only = fixdesk("--site", site, "user", "token", "list", "wanggong").out.splitlines()
    assert len(only) == 3
    assert fixdesk("--site", site, "user", "token", "revoke", mine[0]).code == 0
    revoked = me(web, secret)
    assert revoked.status_code == 401
    gone = fixdesk("--site", site, "user", "token", "revoke", "99999")
    assert gone.code == 2 and gone.err.count("\n") == 1


def test_tokens_through_the_api(web):
    own_id, own = _token(web.app, "zhengli")
    other_id, other = _token(web.app, "wanggong")
    _admin_id, admin = _token(web.app, "admin")
    client = web.browser()
    auth = {"Authorization": f"Bearer {own}"}
    listed = client.get("/api/v1/me/tokens", headers=auth).json()
    assert [t["id"] for t in listed] == [own_id] and "secret" not in str(listed).lower()
    assert client.post(f"/api/v1/tokens/{other_id}/revoke", headers=auth).status_code == 404
    assert me(web, other).status_code == 200
    revoked = client.post(f"/api/v1/tokens/{own_id}/revoke", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert me(web, own).status_code == 401
    assert client.post(f"/api/v1/tokens/{other_id}/revoke",
                       headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    assert me(web, other).status_code == 401


# --------------------------------------------------------------------------
# desk sessions
# --------------------------------------------------------------------------


def _session_row(app) -> WebSession:
    with app.sessions() as session:
        row = session.scalars(select(WebSession).order_by(WebSession.id.desc())).first()
        session.expunge(row)
        return row


def _move_session(app, **shift) -> None:
    with app.write_sessions.begin() as session:
        row = session.scalars(select(WebSession).order_by(WebSession.id.desc())).first()
        for column, delta in shift.items():
            setattr(row, column, getattr(row, column) - delta)


def test_desk_sessions_end_after_being_idle(web):
    browser = web.browser()
    assert login(browser, "zhengli").status_code == 303
    assert browser.get("/").status_code == 200
    _move_session(web.app, last_seen_at=dt.timedelta(hours=8, minutes=1),
                  created_at=dt.timedelta(hours=9))
    ended = browser.get("/desk/customer")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login?ended=1&next=/desk/customer"
    page = browser.get(ended.headers["location"])
    assert zh("Your session has ended: log in again.") in page.text


def test_desk_sessions_slide_on_use_writing_at_most_once_a_minute(web):
    browser = web.browser()
    login(browser, "zhengli")
    first = _session_row(web.app).last_seen_at
    browser.get("/")
    assert _session_row(web.app).last_seen_at == first  # within the minute: no write
    _move_session(web.app, last_seen_at=dt.timedelta(hours=7, minutes=59),
                  created_at=dt.timedelta(hours=8))
    assert browser.get("/").status_code == 200
    seen = _session_row(web.app).last_seen_at
    assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(minutes=1)
    _move_session(web.app, last_seen_at=dt.timedelta(hours=7))
    assert browser.get("/").status_code == 200  # slid: 7 hours idle is within 8


def test_desk_sessions_end_at_their_latest_however_busy(web):
    settings(web.app, session_max_hours=24)
    browser = web.browser()
    answer = login(browser, "zhengli")
    assert "max-age=86400" in answer.headers["set-cookie"].lower()
    row = _session_row(web.app)
    assert row.expires_at - row.created_at == dt.timedelta(hours=24)
    _move_session(web.app, expires_at=dt.timedelta(hours=24, seconds=1))
    ended = browser.get("/")
    assert ended.status_code == 303 and ended.headers["location"] == "/login?ended=1"
