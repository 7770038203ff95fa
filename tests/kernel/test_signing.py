"""The site's signing key and signed tokens (links customers open without a login), and
the site's public address that such links start with."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from kernel.signing import SECRET_ENV, SECRET_FILE, sign, unsign
from kernel.site import Site


def test_a_new_site_has_a_private_key_and_signs_per_purpose(make_site, app_of):
    site = make_site([])
    key = site.path / SECRET_FILE
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    app = app_of(site)
    token = sign(app, "repair.survey", "42-20261231")
    assert token.startswith("42-20261231.")
    assert unsign(app, "repair.survey", token) == "42-20261231"
    assert unsign(app, "other.purpose", token) is None  # made for another kind of link
    assert unsign(app, "repair.survey", token.replace("42-", "43-")) is None  # altered
    assert unsign(app, "repair.survey", "42-20261231") is None  # unsigned
    assert unsign(app, "repair.survey", "链接.乱码") is None
    # the key survives restarts: a token made before still opens
    again = app_of(Site.load(site.path))
    assert unsign(again, "repair.survey", token) == "42-20261231"


def test_the_environment_key_wins(make_site, app_of, monkeypatch):
    app = app_of(make_site([]))
    token = sign(app, "p", "v")
    monkeypatch.setenv(SECRET_ENV, "a-key-shared-by-every-machine")
    shared = app_of(Site.load(app.site.path))
    assert unsign(shared, "p", token) is None
    assert unsign(shared, "p", sign(shared, "p", "v")) == "v"


READ_KEY = """
import sys, types
from pathlib import Path
from kernel.signing import site_secret
print(site_secret(types.SimpleNamespace(path=Path(sys.argv[1]))))
"""


def test_processes_starting_together_agree_on_one_key(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    workers = [subprocess.Popen([sys.executable, "-c", READ_KEY, str(tmp_path)],
                                stdout=subprocess.PIPE, text=True, env=env)
               for _ in range(4)]
    keys = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert len(keys) == 1 and (tmp_path / SECRET_FILE).read_text().strip() in keys


def test_public_url_is_checked_and_written(tmp_path, fixdesk):
    bad = fixdesk("new-site", tmp_path / "bad", "--public-url", "service.example.com")
    assert bad.code == 2 and "public_url must be an http(s) address" in bad.err
    assert len(bad.err.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()
    made = fixdesk("new-site", tmp_path / "good", "--public-url",
                   "https://service.example.com/fixdesk/")
    assert made.code == 0, made.err
    site = Site.load(tmp_path / "good")
    assert site.config.public_url == "https://service.example.com/fixdesk"
    assert 'public_url = "https://service.example.com/fixdesk"' in \
        (tmp_path / "good" / "site.toml").read_text()


def test_customer_links_default_to_the_address_serve_listens_on(monkeypatch):
    """``public_url`` unset: links start with the address ``fixdesk serve`` was given
    (``0.0.0.0``: this machine's address in its network); a loopback address is flagged."""
    from kernel.site import DEFAULT_PUBLIC_URL, SERVE_URL_ENV, SiteConfig, lan_address, serve_url

    monkeypatch.delenv(SERVE_URL_ENV, raising=False)
    unset = SiteConfig()
    assert unset.public_url == "" and unset.customer_url == DEFAULT_PUBLIC_URL
    assert unset.customer_url_is_loopback and "public_url" not in unset.to_toml()["site"]
    monkeypatch.setenv(SERVE_URL_ENV, serve_url("192.168.1.20", 8080))
    assert unset.customer_url == "http://192.168.1.20:8080"
    assert not unset.customer_url_is_loopback
    assert serve_url("0.0.0.0", 8000) == f"http://{lan_address()}:8000"
    assert serve_url("localhost", 8000) == "http://localhost:8000"
    assert SiteConfig(public_url="http://localhost:9000/").customer_url_is_loopback
    chosen = SiteConfig(public_url="https://service.example.com")
    assert chosen.customer_url == "https://service.example.com"  # set: it wins
    assert not chosen.customer_url_is_loopback


def test_serve_warns_when_customer_links_point_to_this_machine(tmp_path, fixdesk,
                                                               monkeypatch):
    import uvicorn

    from kernel.site import SERVE_URL_ENV

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    for name in ("FIXDESK_SITE", SERVE_URL_ENV):  # serve sets them: restored afterwards
        monkeypatch.setenv(name, "")
    assert fixdesk("new-site", tmp_path / "s").code == 0
    local = fixdesk("--site", tmp_path / "s", "serve", "--port", "8123")
    assert local.code == 0 and "http://127.0.0.1:8123" in local.err
    assert "public_url" in local.err
    network = fixdesk("--site", tmp_path / "s", "serve", "--host", "0.0.0.0")
    assert network.code == 0
    from kernel.site import lan_address

    assert ("public_url" in network.err) == lan_address().startswith("127.")
