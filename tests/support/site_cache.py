"""Sites made once per test run and copied, shared by every xdist worker of the run.

Making a site (migrations, company, demo data) costs seconds to minutes; copying one
costs milliseconds (an SQLite file) or about a second (``CREATE DATABASE … TEMPLATE`` on
PostgreSQL). The first worker that needs a site made from some plugins and options makes
it under a file lock; the others wait for it and copy it. The templates live in the
run's shared temporary folder; their PostgreSQL databases are named after the run and
dropped by the process that ends the run (:func:`drop_templates`).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

RUN_FILE = "run-id"
PREFIX = "fixdesk_tmpl_"

_config = None  # the pytest config of this process (:func:`configure`)
_server = ""


def shared_root(config) -> Path:
    """The folder every process of this run shares: the run's base temporary folder
    (an xdist worker's own base folder is a child of it)."""
    base = Path(config._tmp_path_factory.getbasetemp())
    return base.parent if hasattr(config, "workerinput") else base


def configure(config, server: str) -> None:
    """Remember this process's pytest config and the PostgreSQL server URL (from the
    root conftest's ``pytest_configure``)."""
    global _config, _server
    _config, _server = config, server


def current() -> SiteCache:
    """The run's cache of site templates (usable from plain helper functions too)."""
    return SiteCache(shared_root(_config), _server)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_id(root: Path) -> str:
    """A token naming this run's template databases (unique among concurrent runs)."""
    with _locked(root / f"{RUN_FILE}.lock"):
        path = root / RUN_FILE
        if not path.is_file():
            path.write_text(uuid.uuid4().hex[:10])
        return path.read_text().strip()


def loader_identity(function) -> str:
    """A name for a demo loader that is the same in every process (``id()`` is not)."""
    if function is None:
        return "-"
    code = getattr(function, "__code__", None)
    where = f"{code.co_filename}:{code.co_firstlineno}" if code else ""
    return f"{function.__module__}.{function.__qualname__}@{where}"


def no_demo(ctx) -> None:
    """A demo loader that loads nothing: the one tests put in place of a plugin's own
    (one function, so that the sites made with it are made once and copied)."""


def demo_loaders(plugins) -> tuple:
    """The demo loaders of ``plugins`` as they are now: a test may replace one (the repair
    tests leave out the order history), and a site made with another is not the same."""
    import importlib

    loaders = []
    for name in plugins:
        try:
            module = importlib.import_module(f"plugins.{name}.demo")
        except ImportError:
            module = None
        loaders.append((name, loader_identity(getattr(module, "load_demo", None))))
    return tuple(loaders)


def cached_site(folder: Path, plugins, *, demo: bool = False, company: str, url: str = "",
                **options):
    """A site in ``folder`` made from ``plugins`` and the options of
    :func:`kernel.provision.create_site`, copied from the run's template (on SQLite unless
    ``url`` names a PostgreSQL database to copy it into)."""
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    url = url or DEFAULT_DB
    key = (tuple(plugins), demo, company, tuple(sorted(options.items())),
           demo_loaders(plugins))
    template = current().template(
        key, "postgresql" if url.startswith("postgresql") else "sqlite",
        lambda where, source: create_site(
            where, SiteConfig(database_url=source, plugins=list(plugins)),
            company=company, demo=demo, **options))
    return copy_site(template, folder, url)


class SiteCache:
    """Templates of sites by what they are made from, shared across processes."""

    def __init__(self, root: Path, server: str):
        self.root = root / "site-templates"
        self.server = server  # PostgreSQL server URL ending in "/"

    def template(self, key: tuple, engine: str, make):
        """The template site for ``key``, made by ``make(folder, database_url)`` when no
        process of this run has made it yet."""
        from kernel.site import DEFAULT_DB, Site

        digest = hashlib.sha256(repr((engine, key)).encode()).hexdigest()[:16]
        folder = self.root / digest
        with _locked(self.root / f"{digest}.lock"):
            if (folder / "made").is_file():
                return Site.load(folder / "site")
            shutil.rmtree(folder, ignore_errors=True)  # a process died while making it
            url = DEFAULT_DB if engine == "sqlite" else \
                f"{self.server}{PREFIX}{run_id(self.root.parent)}_{digest}"
            site = make(folder / "site", url)
            (folder / "made").write_text(site.database_url)
            return site


def copy_site(template, folder: Path, url: str):
    """A copy of the ``template`` site in ``folder`` on the database ``url`` (an SQLite
    file inside the folder, or a new PostgreSQL database made from the template's)."""
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


def drop_templates(root: Path, server: str) -> None:
    """Drop the template databases of the run whose shared folder is ``root``."""
    from sqlalchemy import create_engine

    if not (root / RUN_FILE).is_file():
        return
    pattern = f"{PREFIX}{(root / RUN_FILE).read_text().strip()}_%"
    engine = create_engine(f"{server}postgres", isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            names = conn.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE %(p)s",
                {"p": pattern}).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # no server: nothing was made on it
        pass
    finally:
        engine.dispose()
