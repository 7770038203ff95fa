"""Shared fixtures: real databases (SQLite file and PostgreSQL), sites, the CLI.

The small plugins under ``tests/testplugins`` are installed for the whole run
by putting that folder (with its ``.dist-info``) on ``sys.path`` and on
``PYTHONPATH`` for subprocesses: the kernel finds them through the
``fixdesk.plugins`` entry points like any other installed plugin.

The plugin distributions under ``tests/distributions`` (third-party plugins that
extend repair without importing it) are installed with pip, as a customer would,
into a folder of their own that goes on the same paths; the folder is kept
between runs for as long as their sources do not change.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TESTPLUGINS = TESTS / "testplugins"
#: helpers any test may import (``from pdf_tools import pdftotext``)
SUPPORT = TESTS / "support"
PG_SERVER = os.environ.get("FIXDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/")

DISTRIBUTIONS = TESTS / "distributions"


def _installed_distributions() -> Path:
    """The folder the test distributions are pip-installed into (once per change)."""
    import hashlib
    import shutil
    import subprocess
    import tempfile

    sources = sorted(p for p in DISTRIBUTIONS.glob("*") if (p / "setup.cfg").is_file())
    digest = hashlib.sha256()
    for source in sources:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and \
                    ".egg-info" not in str(path) and "build" not in path.parts:
                digest.update(str(path.relative_to(DISTRIBUTIONS)).encode())
                digest.update(path.read_bytes())
    target = Path(tempfile.gettempdir()) / f"fixdesk-test-dists-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    work = Path(tempfile.mkdtemp(prefix="fixdesk-dists-"))
    copies = []
    for source in sources:  # build from copies: an in-tree build leaves build/ behind
        copy = work / "src" / source.name
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__"))
        copies.append(str(copy))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                           "--no-build-isolation", "--target", str(work / "target"), *copies],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"installing the test distributions failed:\n{done.stderr}")
    try:
        os.replace(work / "target", target)
    except OSError:  # another run installed them meanwhile
        pass
    shutil.rmtree(work, ignore_errors=True)
    return target


INSTALLED = _installed_distributions()
sys.path.insert(0, str(INSTALLED))
sys.path.insert(0, str(TESTPLUGINS))
sys.path.insert(0, str(SUPPORT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(TESTPLUGINS), str(INSTALLED), os.environ.get("PYTHONPATH")) if p)
os.environ["FIXDESK_LANG"] = "en"
# the suite starts many Python processes (the CLI, servers, workers): let them keep their
# bytecode, outside the repository, instead of compiling every module again each time
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", os.path.join(
    tempfile.gettempdir(), "fixdesk-test-pycache"))
os.environ.pop("FIXDESK_SITE", None)


def _postgres_available() -> str | None:
    """None when the server answers, else the reason."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_SERVER + "postgres", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means: no server to test against
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    return PG_SERVER


@pytest.fixture
def pg_url(postgres_server):
    """A fresh PostgreSQL database URL, dropped after the test."""
    from kernel.db import drop_database

    url = f"{postgres_server}fixdesk_test_{uuid.uuid4().hex[:12]}"
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A database URL for each engine: an SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'fixdesk.sqlite3'}"
    else:
        yield request.getfixturevalue("pg_url")


def pytest_configure(config):
    from argon2.profiles import CHEAPEST
    from site_cache import configure

    from kernel.auth import use_password_hashing

    configure(config, PG_SERVER)
    if not hasattr(config, "workerinput"):  # once, before the workers: papers name them
        from kernel.documents.fonts import build

        build()
    # users are made by the thousand here; the production cost is checked in test_auth
    use_password_hashing(CHEAPEST)


#: the longest test files, run first: each file goes to one worker (``--dist loadfile``)
#: in the order collected, and one of these starting last kept the other worker idle for
#: minutes at the end of a run. Neighbours need different demo sites, so that two workers
#: starting together do not wait for the same one to be made.
LONGEST_FIRST = (
    "web/test_one_language.py",  # every plugin's demo, SQLite
    "api/test_bad_input.py",  # repair's, both databases
    "e2e/test_inventory_browser.py",
    "web/test_api_cache.py",
    "e2e/test_billing_e2e.py",
    "plugins/billing/test_billing_demo.py",
    "e2e/test_board_browser.py",
    "kernel/test_report_queries_all.py",
    "e2e/test_repair_desk_browser.py",
    "kernel/test_print_progress.py",
    "e2e/test_batch_print_browser.py",
    "kernel/test_print_fonts.py",
    "kernel/test_cli_fuzz.py",
    "kernel/test_backup.py",
)


def pytest_collection_modifyitems(session, config, items):
    """The longest files first (:data:`LONGEST_FIRST`), the rest in their own order."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}

    def first(item):
        path = Path(item.path)
        name = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
        return rank.get(name, len(rank))

    items.sort(key=first)  # stable: a file's tests keep their order


def pytest_sessionfinish(session):
    """The process that ends the run (the xdist controller, or the only process) drops
    the run's template databases."""
    if hasattr(session.config, "workerinput"):
        return
    from site_cache import drop_templates, shared_root

    drop_templates(shared_root(session.config), PG_SERVER)


@pytest.fixture
def make_site(tmp_path, db_url):
    """Create a site with the given plugins on the engine of ``db_url``; returns the Site.

    Each site gets its own database: a file in its folder, or ``<db_url>_<n>`` on PostgreSQL.
    The first site made from the same plugins and options in this run is made for real
    (migrations, company, demo data); later ones are copies of it.
    """
    from site_cache import cached_site

    from kernel.db import drop_database
    from kernel.site import DEFAULT_DB

    counter = iter(range(100))
    made = []

    def factory(plugins=(), demo=False, **kwargs):
        number = next(counter)
        url = DEFAULT_DB if db_url.startswith("sqlite") else f"{db_url}_{number}"
        company = kwargs.pop("company", "华东办公设备服务有限公司")
        made.append(url)
        return cached_site(tmp_path / f"site{number}", plugins, demo=demo, company=company,
                           url=url, **kwargs)

    yield factory
    for url in made:
        if url.startswith("postgresql"):
            drop_database(url)



#: the built-in plugins whose own demo data :func:`quiet_site` leaves out
DEMO_PLUGINS = ("inventory", "repair", "billing", "complaints")


@pytest.fixture
def quiet_site(make_site, monkeypatch):
    """``quiet_site(plugins)``: a site of SH with the kernel's demo staff, customers and
    machines, without the plugins' own demo data (price rules, stock, order history,
    complaints)."""
    import importlib

    from site_cache import no_demo

    for name in DEMO_PLUGINS:
        monkeypatch.setattr(importlib.import_module(f"plugins.{name}.demo"), "load_demo",
                            no_demo)

    def make(plugins):
        return make_site(plugins, demo=True, branch_code="SH", branch_name="上海服务中心")

    return make


@pytest.fixture
def app_of():
    """Start apps for sites and close them at the end of the test."""
    apps = []

    def start(site):
        app = site.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.close()


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"<exit {self.code} out={self.out!r} err={self.err!r}>"


@pytest.fixture
def fixdesk(capsys):
    """Run the ``fixdesk`` CLI in this process: ``fixdesk("--site", d, "branch", "list")``."""
    from kernel.cli import main

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
