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
