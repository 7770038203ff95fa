"""The plugin-author guide's example is a real third-party plugin: it installs and runs.

``docs/example/fixdesk-hello`` is installed with pip into a folder of its own,
as a separate distribution, and the real ``fixdesk`` command finds it through
its ``fixdesk.plugins`` entry point (that folder is put on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "example" / "fixdesk-hello"

SNIPPET = """
import json, sys
from sqlalchemy import select
from kernel import hookimpl
from kernel.site import Site
from fixdesk_hello.models import Greeting
from fixdesk_hello.services import greet

class Listener:  # another plugin, registered for this run only
    @hookimpl
    def hello_greeted(self, ctx, greeting):
        return f"{greeting.text}, {greeting.tip} received"

app = Site.load(sys.argv[1]).start()
try:
    app.pm.register(Listener(), name="listener")
    with app.context() as ctx:
        greeting, replies = greet(ctx, "JD", "早上好", tip="1.50")
    with app.sessions() as session:
        rows = session.execute(select(Greeting.text, Greeting.tip).order_by(Greeting.id)).all()
    print(json.dumps({"plugins": app.enabled_plugins, "replies": replies,
                      "rows": [[text, str(tip)] for text, tip in rows]}, ensure_ascii=False))
finally:
    app.close()
"""


def _pip_install(source: Path, target: Path) -> None:
    """``pip install --no-deps --no-build-isolation --target``, as the guide tells authors.

    setuptools older than 70.1 builds wheels only with the ``wheel`` package
    beside it; a virtualenv without it cannot build in place, so fall back to
    pip's isolated build (and say so) rather than test nothing.
    """
    args = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target)]
    done = subprocess.run([*args, "--no-build-isolation", str(source)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode and "bdist_wheel" in done.stdout + done.stderr:
        warnings.warn("pip --no-build-isolation cannot build wheels in this virtualenv "
                      "(install 'wheel' or setuptools>=70.1); used an isolated build",
                      stacklevel=2)
        done = subprocess.run([*args, str(source)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def hello_env(tmp_path_factory):
    """Environment for subprocesses in which the example plugin is installed."""
    work = tmp_path_factory.mktemp("hello")
    source = work / "src"  # a copy: an in-tree build would leave build/ in docs/
    shutil.copytree(EXAMPLE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _pip_install(source, work / "target")
    assert (work / "target" / "fixdesk_hello" / "migrations" / "versions"
            / "hello_0001_greeting.py").is_file()
    assert (work / "target" / "fixdesk_hello" / "manifest.toml").is_file()
    env = dict(os.environ, FIXDESK_LANG="en")
    env.pop("FIXDESK_SITE", None)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(work / "target"), os.environ.get("PYTHONPATH")) if p)
    return env


def _run(env, cwd, *args):
    done = subprocess.run([sys.executable, *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_example_plugin_installs_migrates_and_answers_its_hook(hello_env, db_url, tmp_path):
    site = tmp_path / "site"
    db = [] if db_url.startswith("sqlite") else ["--db", db_url]
    out = _run(hello_env, tmp_path, "-m", "kernel", "new-site", site, *db,
               "--plugins", "hello", "--demo")
    assert out.startswith("site created at")

    listing = _run(hello_env, tmp_path, "-m", "kernel", "--site", site, "plugins", "list")
    hello = next(line.split() for line in listing.splitlines() if line.startswith("hello "))
    assert hello[:4] == ["hello", "enabled", "0.1.0", "-"]

    check = _run(hello_env, tmp_path, "-m", "kernel", "--site", site, "migrate", "--check")
    assert check == "schema matches the models\n"

    result = json.loads(_run(hello_env, tmp_path, "-c", SNIPPET, site).splitlines()[-1])
    assert result == {
        "plugins": ["hello"],
        "replies": ["早上好, 1.50 received"],
        "rows": [["你好！欢迎来到上海服务中心。", "8.80"], ["早上好", "1.50"]],
    }
