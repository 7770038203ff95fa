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


@pytest.fixture(scope="session")
def site_templates(tmp_path_factory):
    """Sites made once per test session, by what they were made from; :func:`make_site`
    copies them (the folder, and the database: an SQLite file, or ``CREATE DATABASE ...
    TEMPLATE`` on PostgreSQL) instead of migrating and loading demo data for every test."""
    from kernel.db import drop_database

    made: dict[tuple, object] = {}
    yield made, tmp_path_factory.mktemp("site-templates")
    for site in made.values():
        if site.database_url.startswith("postgresql"):
            drop_database(site.database_url)


def _demo_loaders(plugins) -> tuple:
    """The demo loaders of ``plugins`` as they are now: a test may replace one (the repair
    tests leave out the order history), and a site made with another is not the same."""
    import importlib

    loaders = []
    for name in plugins:
        try:  # imported here, so the key is the same before and after the first site
            module = importlib.import_module(f"plugins.{name}.demo")
        except ImportError:
            module = None
        loaders.append((name, id(getattr(module, "load_demo", None))))
    return tuple(loaders)


def _copy_site(template, folder: Path, url: str):
    """A copy of the ``template`` site in ``folder`` on the database ``url``."""
    import shutil

    from sqlalchemy import create_engine

    from kernel.site import Site

    shutil.copytree(template.path, folder)
    if url.startswith("postgresql"):
        server, _sep, name = url.rpartition("/")
        _s, _sep, source = template.database_url.rpartition("/")
        engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        finally:
            engine.dispose()
        site = Site.load(folder)
        site.config.database_url = url
        site.save()
    return Site.load(folder)


@pytest.fixture
def make_site(tmp_path, db_url, site_templates):
    """Create a site with the given plugins on the engine of ``db_url``; returns the Site.

    Each site gets its own database: a file in its folder, or ``<db_url>_<n>`` on PostgreSQL.
    The first site made from the same plugins and options is made for real (migrations,
    company, demo data); later ones are copies of it.
    """
    from kernel.db import drop_database
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    templates, template_dir = site_templates
    counter = iter(range(100))
    made = []

    def factory(plugins=(), demo=False, **kwargs):
        number = next(counter)
        sqlite = db_url.startswith("sqlite")
        url = DEFAULT_DB if sqlite else f"{db_url}_{number}"
        company = kwargs.pop("company", "测试服务公司")
        key = (sqlite, tuple(plugins), demo, company, tuple(sorted(kwargs.items())),
               _demo_loaders(plugins))
        template = templates.get(key)
        if template is None:
            source = DEFAULT_DB if sqlite else \
                f"{db_url.rpartition('/')[0]}/fixdesk_tmpl_{uuid.uuid4().hex[:12]}"
            template = create_site(template_dir / f"t{len(templates)}",
                                   SiteConfig(database_url=source, plugins=list(plugins)),
                                   company=company, demo=demo, **kwargs)
            templates[key] = template
        made.append(url)
        return _copy_site(template, tmp_path / f"site{number}", url)

    yield factory
    for url in made:
        if url.startswith("postgresql"):
            drop_database(url)


def _no_demo(ctx):
    """The demo loader of tests that make their own data: nothing (one function, so that
    the sites made with it are made once and copied)."""


#: the built-in plugins whose own demo data :func:`quiet_site` leaves out
DEMO_PLUGINS = ("inventory", "repair", "billing", "complaints")


@pytest.fixture
def quiet_site(make_site, monkeypatch):
    """``quiet_site(plugins)``: a site of SH with the kernel's demo staff, customers and
    machines, without the plugins' own demo data (price rules, stock, order history,
    complaints)."""
    import importlib

    for name in DEMO_PLUGINS:
        monkeypatch.setattr(importlib.import_module(f"plugins.{name}.demo"), "load_demo",
                            _no_demo)

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
