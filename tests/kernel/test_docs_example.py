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


SPEAKS = """
import json, sys
from kernel import ValidationError
from kernel.i18n import use_locale
from kernel.site import Site
from fixdesk_hello.services import greet

def refusal():
    try:
        with app.context() as ctx:
            greet(ctx, "SH", "  ")
    except ValidationError as exc:
        return exc.message

app = Site.load(sys.argv[1]).start()  # merges the plugin's catalogue
try:
    terminal = refusal()  # FIXDESK_LANG
    with use_locale("en"):  # a desk user who reads English
        english = refusal()
    print(json.dumps([terminal, english], ensure_ascii=False))
finally:
    app.close()
"""


def _pip_install(source: Path, target: Path) -> None:
    """Install the example alone into ``target``; fixdesk comes from this virtualenv.

    Building without isolation needs setuptools>=69 and wheel here (the ``test``
    extra brings them), and no package index.
    """
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def hello_env(tmp_path_factory):
    """(environment, folder): subprocesses run with the example plugin installed.

    The folder holds ``src`` (a copy of the example) and ``target`` (where it is installed).
    """
    work = tmp_path_factory.mktemp("hello")
    source = work / "src"  # a copy: an in-tree build would leave build/ in docs/
    shutil.copytree(EXAMPLE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _pip_install(source, work / "target")
    assert (work / "target" / "fixdesk_hello" / "migrations" / "versions"
            / "hello_0001_greeting.py").is_file()
    assert (work / "target" / "fixdesk_hello" / "manifest.toml").is_file()
    assert (work / "target" / "fixdesk_hello" / "locale" / "zh_CN" / "LC_MESSAGES"
            / "hello.po").is_file()
    env = dict(os.environ, FIXDESK_LANG="en")
    env.pop("FIXDESK_SITE", None)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(work / "target"), os.environ.get("PYTHONPATH")) if p)
    return env, work


def _run(env, cwd, *args):
    done = subprocess.run([sys.executable, *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_example_plugin_installs_migrates_and_answers_its_hook(hello_env, db_url, tmp_path):
    env = hello_env[0]
    site = tmp_path / "site"
    db = [] if db_url.startswith("sqlite") else ["--db", db_url]
    out = _run(env, tmp_path, "-m", "kernel", "new-site", site, *db,
               "--plugins", "hello", "--demo")
    assert out.startswith("site created at")

    listing = _run(env, tmp_path, "-m", "kernel", "--site", site, "plugins", "list")
    hello = next(line.split() for line in listing.splitlines() if line.startswith("hello "))
    assert hello[:4] == ["hello", "enabled", "0.1.0", "-"]

    check = _run(env, tmp_path, "-m", "kernel", "--site", site, "migrate", "--check")
    assert check == "schema matches the models\n"

    result = json.loads(_run(env, tmp_path, "-c", SNIPPET, site).splitlines()[-1])
    assert result == {
        "plugins": ["hello"],
        "replies": ["早上好, 1.50 received"],
        "rows": [["你好！欢迎来到上海服务中心。", "8.80"], ["早上好", "1.50"]],
    }


@pytest.mark.slow
def test_example_plugin_own_tests_pass(hello_env):
    env, work = hello_env
    out = _run(env, work, "-m", "pytest", "-q", "-p", "no:cacheprovider", work / "src" / "tests")
    assert " passed" in out


@pytest.mark.slow
def test_example_plugin_speaks_chinese_from_its_own_catalogue(hello_env, tmp_path):
    env, _work = hello_env
    site = tmp_path / "site"
    _run(env, tmp_path, "-m", "kernel", "new-site", site, "--plugins", "hello")
    zh_env = dict(env, FIXDESK_LANG="zh_CN")
    said = json.loads(_run(zh_env, tmp_path, "-c", SPEAKS, site).splitlines()[-1])
    # fixdesk_hello/locale/zh_CN/LC_MESSAGES/hello.po, installed with the distribution
    assert said == ["问候语不能为空", "a greeting needs some text"]
