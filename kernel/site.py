"""A site: one deployment's folder, its ``site.toml``, and the running :class:`App`.

``site.toml``::

    [site]
    locale = "zh_CN"          # zh_CN | en
    timezone = "Asia/Shanghai"
    currency = "CNY"
    public_url = "https://service.example.com"   # where customers reach the site (QR links);
                                                 # unset: the address `fixdesk serve` listens on

    [database]
    url = "sqlite:///fixdesk.sqlite3"   # relative SQLite paths are inside the site folder
    # PostgreSQL with its own roles (new-site, fixdesk db create-roles): url connects as
    # the runtime role, migrate_url as the owner that migrations run as (kernel.dbroles)
    migrate_url = "postgresql+psycopg://fixdesk_owner:PASSWORD@127.0.0.1/fixdesk"

    [plugins]
    enabled = ["repair", "inventory"]

    [limits]                  # larger request bodies are refused unread (413)
    body_mb = 2               # a form or a JSON body
    upload_mb = 64            # a file upload (each file also within the attachment setting)

    [web]
    metrics_from = ["127.0.0.1", "::1"]   # who may read /metrics (addresses or networks)
    trusted_proxies = ["127.0.0.1"]   # reverse proxies whose X-Forwarded-For is believed
                                      # (addresses or CIDR networks; none by default)
    proxy_header = "x-forwarded-for"  # or "forwarded" (RFC 7239)
    threads = 4               # requests one server process works on at once; each may
                              # hold two database connections (PostgreSQL: mind
                              # max_connections across --workers, the CLI and the worker)

    [backup]                  # the scheduled job kernel.backup (fixdesk worker); none unset
    folder = "/var/backups/fixdesk"   # relative: inside the site folder
    every_hours = 24
    keep = 14                 # archives kept in the folder, newest first
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import zoneinfo
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

from kernel.errors import SiteError
from kernel.i18n import SUPPORTED, _

SITE_FILE = "site.toml"
DEFAULT_DB = "sqlite:///fixdesk.sqlite3"
#: what ``make demo`` serves; links printed for customers start here unless ``public_url``
#: is set or ``fixdesk serve`` listens elsewhere
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
#: ``[limits]``: the largest request body (a form, a JSON record) and the largest file
#: upload, in MB
DEFAULT_LIMITS_MB = {"body_mb": 2, "upload_mb": 64}
#: set by ``fixdesk serve`` for its processes: the address it listens on
SERVE_URL_ENV = "FIXDESK_SERVE_URL"
#: modes of what a site keeps: its folders, and files with secrets or data (site.toml,
#: the SQLite database): nobody but the site's owner (and its group, for folders) reads them
SITE_DIR_MODE = 0o750
SECRET_FILE_MODE = 0o600
#: who may read ``/metrics`` unless ``[web] metrics_from`` says otherwise: this machine
DEFAULT_METRICS_FROM = ["127.0.0.1", "::1"]
#: requests a server process works on at once unless ``[web] threads`` says otherwise:
#: few, because Python runs one thread at a time, and more requests side by side only
#: share the CPU worse (16 answered 5-20 % fewer list requests a second than 4, see
#: docs/benchmarks.md); more than one, so that a slow report does not hold up the rest
DEFAULT_WEB_THREADS, MAX_WEB_THREADS = 4, 256


@dataclass
class SiteConfig:
    """The settings in ``site.toml``; validated on construction."""

    database_url: str = DEFAULT_DB
    #: ``[database] migrate_url``: the database's owner, that migrations connect as ("":
    #: ``database_url``, a site without its own roles; :mod:`kernel.dbroles`)
    migrate_url: str = ""
    plugins: list[str] = field(default_factory=list)
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    #: the ``[smtp]`` table: host, port, username, password, sender, starttls, ssl, timeout
    smtp: dict = field(default_factory=dict)
    #: created with demo data (``fixdesk serve`` then prints the demo accounts)
    demo: bool = False
    #: the address customers reach the site at, as set in ``site.toml`` ("" when not set):
    #: read :attr:`customer_url` for the address links start with
    public_url: str = ""
    #: the ``[limits]`` table: ``body_mb``, ``upload_mb`` (read :attr:`body_limit`,
    #: :attr:`upload_limit`)
    limits: dict = field(default_factory=dict)
    #: ``[web] metrics_from``: addresses or networks allowed to read ``/metrics``
    metrics_from: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS_FROM))
    #: ``[web] trusted_proxies``: reverse proxies (addresses or CIDR networks) whose
    #: forwarded header names the client (:mod:`kernel.web.proxies`); none by default
    trusted_proxies: list[str] = field(default_factory=list)
    #: ``[web] proxy_header``: the header those proxies set, x-forwarded-for or forwarded
    proxy_header: str = "x-forwarded-for"
    #: ``[web] threads``: requests a server process works on at once (the rest wait
    #: their turn without holding a database connection); its pool keeps two connections
    #: for each (:func:`kernel.web.app.create_app`)
    threads: int = DEFAULT_WEB_THREADS
    #: the ``[backup]`` table: ``folder``, ``every_hours``, ``keep`` (read by
    #: :func:`kernel.backup.policy`; the scheduled job ``kernel.backup``)
    backup: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.locale not in SUPPORTED:
            raise SiteError(_("unsupported locale {value!r}: use zh_CN or en").format(
                value=self.locale))
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SiteError(_("unknown timezone {value!r}").format(value=self.timezone)) from exc
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise SiteError(_("currency must be an ISO 4217 code such as CNY, not {value!r}")
                            .format(value=self.currency))
        self.plugins = list(dict.fromkeys(self.plugins))
        self._check_limits()
        self._check_proxies()
        self.public_url = str(self.public_url or "").strip().rstrip("/")
        if self.public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?",
                                                self.public_url):
            raise SiteError(_("public_url must be an http(s) address such as "
                              "https://service.example.com, not {value!r}").format(
                                  value=self.public_url))
        if isinstance(self.metrics_from, str):
            self.metrics_from = [self.metrics_from]
        self.metrics_from = [str(net).strip() for net in self.metrics_from]
        for net in self.metrics_from:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise SiteError(_("[web] metrics_from must list addresses or networks such "
                                  "as 127.0.0.1 or 10.0.0.0/8, not {value!r}").format(
                                      value=net)) from exc

    def _check_proxies(self) -> None:
        if not isinstance(self.trusted_proxies, list | tuple):
            raise SiteError(_("[web] trusted_proxies must be a list of addresses or "
                              "networks such as [\"127.0.0.1\", \"10.0.0.0/8\"]"))
        self.trusted_proxies = [str(entry).strip() for entry in self.trusted_proxies]
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise SiteError(_("[web] trusted_proxies: {value!r} is not an address or a "
                                  "network such as 10.0.0.0/8").format(value=entry)) from exc
        self.proxy_header = str(self.proxy_header).strip().lower()
        if self.proxy_header not in ("x-forwarded-for", "forwarded"):
            raise SiteError(_("[web] proxy_header must be x-forwarded-for or forwarded, not "
                              "{value!r}").format(value=self.proxy_header))
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) \
                or not 1 <= self.threads <= MAX_WEB_THREADS:
            raise SiteError(_("[web] threads must be a whole number from 1 to {most}, not "
                              "{value!r}").format(most=MAX_WEB_THREADS, value=self.threads))

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def customer_url(self) -> str:
        """Where links printed on papers and sent to customers start (the survey QR code):
        ``public_url`` when set, else the address ``fixdesk serve`` listens on, else
        :data:`DEFAULT_PUBLIC_URL`."""
        return self.public_url or os.environ.get(SERVE_URL_ENV) or DEFAULT_PUBLIC_URL

    @property
    def customer_url_is_loopback(self) -> bool:
        """Whether :attr:`customer_url` names this machine only (127.0.0.1, localhost):
        a customer's phone cannot open such a link."""
        return is_loopback(urlsplit(self.customer_url).hostname or "")

    def _check_limits(self) -> None:
        if not isinstance(self.limits, dict):
            raise SiteError(_("[limits] must be a table such as body_mb = 2"))
        for key, value in self.limits.items():
            if key not in DEFAULT_LIMITS_MB:
                raise SiteError(_("[limits] has no setting {key!r}: use {keys}").format(
                    key=key, keys=", ".join(DEFAULT_LIMITS_MB)))
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0 < value <= 4096:
                raise SiteError(_("[limits] {key} must be a number of megabytes from 0 to "
                                  "4096, not {value!r}").format(key=key, value=value))

    def _limit(self, key: str) -> int:
        return int(self.limits.get(key, DEFAULT_LIMITS_MB[key]) * 1024 * 1024)

    @property
    def body_limit(self) -> int:
        """The largest request body taken, in bytes (``[limits] body_mb``)."""
        return self._limit("body_mb")

    @property
    def upload_limit(self) -> int:
        """The largest body of a file upload, in bytes (``[limits] upload_mb``); each
        file is also held to the ``kernel.attachment_max_mb`` setting."""
        return self._limit("upload_mb")

    def to_toml(self) -> dict:
        data = {
            "site": {"locale": self.locale, "timezone": self.timezone, "currency": self.currency,
                     **({"public_url": self.public_url} if self.public_url else {}),
                     **({"demo": True} if self.demo else {})},
            "database": {"url": self.database_url,
                         **({"migrate_url": self.migrate_url} if self.migrate_url else {})},
            "plugins": {"enabled": self.plugins},
        }
        if self.smtp:
            data["smtp"] = dict(self.smtp)
        if self.limits:
            data["limits"] = dict(self.limits)
        if self.backup:
            data["backup"] = dict(self.backup)
        if self.metrics_from != DEFAULT_METRICS_FROM:
            data.setdefault("web", {})["metrics_from"] = list(self.metrics_from)
        if self.trusted_proxies:
            data.setdefault("web", {})["trusted_proxies"] = list(self.trusted_proxies)
        if self.proxy_header != "x-forwarded-for":
            data.setdefault("web", {})["proxy_header"] = self.proxy_header
        if self.threads != DEFAULT_WEB_THREADS:
            data.setdefault("web", {})["threads"] = self.threads
        return data

    @classmethod
    def from_toml(cls, data: dict) -> SiteConfig:
        site = data.get("site", {})
        try:
            return cls(
                database_url=str(data.get("database", {}).get("url", DEFAULT_DB)),
                migrate_url=str(data.get("database", {}).get("migrate_url", "")),
                plugins=[str(p) for p in data.get("plugins", {}).get("enabled", [])],
                locale=str(site.get("locale", "zh_CN")),
                timezone=str(site.get("timezone", "Asia/Shanghai")),
                currency=str(site.get("currency", "CNY")),
                smtp=dict(data.get("smtp", {})),
                demo=bool(site.get("demo", False)),
                public_url=str(site.get("public_url", "")),
                limits=data.get("limits", {}),
                backup=dict(data.get("backup", {})),
                metrics_from=list(data.get("web", {}).get("metrics_from",
                                                           DEFAULT_METRICS_FROM)),
                trusted_proxies=data.get("web", {}).get("trusted_proxies", []),
                proxy_header=str(data.get("web", {}).get("proxy_header", "x-forwarded-for")),
                threads=data.get("web", {}).get("threads", DEFAULT_WEB_THREADS),
            )
        except (TypeError, AttributeError) as exc:
            raise SiteError(_("malformed site.toml: {error}").format(error=exc)) from exc


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_url(host: str, port: int) -> str:
    """The address ``fixdesk serve --host HOST --port PORT`` is reached at: listening on
    every interface (0.0.0.0, ::) it is this machine's address in its network."""
    if host in ("0.0.0.0", "::", ""):
        host = lan_address()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def lan_address() -> str:
    """This machine's address on its network (the interface of its default route), or
    127.0.0.1 without a network. Connecting a UDP socket sends nothing."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


class Site:
    """A site folder and its configuration."""

    def __init__(self, path: str | os.PathLike, config: SiteConfig):
        self.path = Path(path).resolve()
        self.config = config

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def load(cls, path: str | os.PathLike | None) -> Site:
        """Read ``DIR/site.toml``; a missing or broken site raises :class:`SiteError`."""
        if not path:
            raise SiteError(_("no site given: pass --site DIR or set FIXDESK_SITE"))
        site_file = Path(path) / SITE_FILE
        if not site_file.is_file():
            raise SiteError(_("no site at {path}: {file} not found").format(
                path=path, file=SITE_FILE))
        try:
            data = tomllib.loads(site_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SiteError(_("cannot read {file}: {error}").format(
                file=site_file, error=exc)) from exc
        return cls(path, SiteConfig.from_toml(data))

    def save(self) -> None:
        """Write ``site.toml`` atomically (a crash never leaves half a file), readable by
        its owner only (mode 0600): it may hold database and SMTP passwords."""
        self.path.mkdir(mode=SITE_DIR_MODE, parents=True, exist_ok=True)
        target = self.path / SITE_FILE
        tmp = target.with_suffix(".toml.tmp")
        tmp.unlink(missing_ok=True)  # a leftover keeps its mode: start afresh
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomli_w.dumps(self.config.to_toml()))
        os.replace(tmp, target)

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved inside the site folder."""
        from kernel.db import normalize_url

        url = normalize_url(self.config.database_url)
        if url.get_backend_name() == "sqlite" and not Path(url.database).is_absolute():
            url = url.set(database=str(self.path / url.database))
        return url.render_as_string(hide_password=False)

    @property
    def migrate_url(self) -> str:
        """The URL migrations connect with: the database owner's (``migrate_url``) on a
        site with its own roles, else :attr:`database_url`."""
        if not self.config.migrate_url:
            return self.database_url
        from kernel.db import normalize_url

        return normalize_url(self.config.migrate_url).render_as_string(hide_password=False)

    def start(self, *, owner: bool = False, web: bool = False, **engine_options) -> App:
        """Build the running application: plugin manager, engine, registries.

        With ``owner`` it connects as the database's owner (:attr:`migrate_url`): for
        migrations. With ``web`` the plugins' web routes are collected too (for
        :func:`kernel.web.app.create_app`; the CLI never needs them).
        ``engine_options`` go to SQLAlchemy's ``create_engine`` (e.g. ``pool_size``).
        """
        return App(self, url=self.migrate_url if owner else None, web=web, **engine_options)


class App:
    """A running site: its plugins registered in a fresh pluggy manager, its database engine.

    Built per site when it starts; several apps in one process never share plugins.
    """

    def __init__(self, site: Site, *, url: str | None = None, web: bool = False,
                 **engine_options):
        from kernel import builtin, registry
        from kernel.audit import install_audit
        from kernel.auth import branch_parents, install_branch_scope
        from kernel.backup import schedules as backup_schedules
        from kernel.branch_carry import carriers, install_branch_carry
        from kernel.db import make_engine, make_sessionmaker, utcnow
        from kernel.entities import collect as collect_exposed
        from kernel.i18n import add_catalogue
        from kernel.lifecycle import install_guard as install_lifecycle_guard
        from kernel.linked import install_link_guard
        from kernel.plugins import build_plugin_manager, discover
        from kernel.search_index import SearchIndexes

        self.site = site
        self.plugins = discover()
        self._loaded = build_plugin_manager(self.plugins, site.config.plugins, builtin)
        self.pm = self._loaded.pm
        #: every contribution of the kernel and the loaded plugins (:mod:`kernel.registry`)
        self.registry = registry.build(self._loaded, self.plugins, web=web)
        self.plugin_order = self._loaded.order
        #: enabled plugins that could not be loaded or registered, name → reason
        self.failed_plugins = self._loaded.failed
        reg = self.registry
        self.entities: dict[str, list[type]] = reg.entities
        self.settings_registry = reg.settings
        self.declared_permissions = list(reg.permissions.values())
        self.documents = dict(sorted(reg.documents.items()))
        self.actions = reg.actions
        self.reports = dict(sorted(reg.reports.items()))
        self.job_handlers = reg.job_handlers
        #: the plugins' scheduled jobs, and the backups when site.toml turns them on
        self.schedules = [*reg.schedules, *backup_schedules(site)]
        self.exposed = collect_exposed(reg, {n: self.plugins[n].title or n
                                             for n in self.enabled_plugins})
        self._relays: dict[frozenset, object] = {}
        #: the id of the site's company once read (:func:`kernel.masterdata.company_id`)
        self.company_id: int | None = None
        #: the clock every context of this app reads (requests, CLI, jobs); a scenario
        #: test may set it to walk a story through the API on the story's dates
        self.clock = utcnow
        #: the database URL connected to: the site's (runtime) one unless started as owner
        self.url = url or site.database_url
        self.engine = make_engine(self.url, **engine_options)
        self.sessions = make_sessionmaker(self.engine)
        #: sessions for units of work that write: on SQLite they take the write lock first
        self.write_sessions = make_sessionmaker(
            self.engine.execution_options(fixdesk_writes=True))
        #: sessions for reads whose statements need no transaction around them (no
        #: savepoint, no ``SET LOCAL``): on PostgreSQL each statement commits as it runs,
        #: sparing a request BEGIN and COMMIT (at READ COMMITTED each statement sees a
        #: snapshot of its own either way); on SQLite they are the read sessions
        self.statement_reads = self.sessions if self.engine.dialect.name == "sqlite" else \
            make_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        parents = branch_parents(reg.classes)
        #: the entities' search indexes (:mod:`kernel.search_index`), kept by every session
        self.search_indexes = SearchIndexes(self.exposed)
        for factory in self.session_factories:
            install_audit(factory)
            self.search_indexes.install(factory)
            install_branch_scope(factory, parents)
            install_branch_carry(factory, carriers(parents))
            install_link_guard(factory, reg.classes)
            install_lifecycle_guard(factory, reg.classes)
        for name in self.enabled_plugins:
            info = self.plugins.get(name)
            if info is not None and info.path is not None:
                add_catalogue(info.path / "locale", name)

    @property
    def session_factories(self) -> tuple:
        """Each of the app's session factories once (reads, writes, statement reads)."""
        return tuple(dict.fromkeys((self.sessions, self.write_sessions, self.statement_reads)))

    @property
    def inactive(self) -> list:
        """What of the loaded plugins waits for partners that are not enabled
        (:class:`kernel.plugins.Inactive`): glue parts and contributions."""
        return self.registry.inactive

    def parts(self, plugin: str) -> list[str]:
        """The registered parts of ``plugin`` (``billing.invoicing``)."""
        return self._loaded.parts(plugin)

    def part_needs(self, part: str) -> tuple[str, ...]:
        """The partner plugins a registered part (``acme.repair``) needs."""
        return tuple(self._loaded.needs.get(part, ()))

    @property
    def units(self) -> list[str]:
        """Every registered plugin and part, in the order their hooks run (kernel first):
        the migration branches of a site, where they have one."""
        return list(self._loaded.sequence)

    @property
    def enabled_plugins(self) -> list[str]:
        """Plugins registered in this app (enabled and loaded), dependency order, no kernel."""
        return self.plugin_order[1:]

    def entity_class(self, table: str) -> type | None:
        """The mapped class of ``table`` among the kernel's and the loaded plugins' entities."""
        return self.registry.classes.get(table)

    def tables(self, plugins: list[str] | None = None) -> list:
        """Tables owned by the kernel and by ``plugins`` (default: the loaded ones)."""
        owners = ["kernel", *(self.enabled_plugins if plugins is None else plugins)]
        return [cls.__table__ for owner in owners for cls in self.entities.get(owner, [])]

    @contextmanager
    def context(self, user=None, branch=None, **kwargs):
        """One transaction as a :class:`~kernel.context.Context`; commits on success.

        ``user`` and ``branch`` may be objects of another session or user names
        and branch codes; they are loaded into this transaction's session.
        """
        with self.write_sessions.begin() as session:
            user, branch = self._attach(session, user, branch)
            yield self.context_in(session, user, branch, **kwargs)

    def context_in(self, session, user=None, branch=None, **kwargs):
        """A :class:`~kernel.context.Context` over a transaction the caller already holds
        (the worker's, a login check's), on this app's clock unless given another."""
        from kernel.context import Context

        kwargs.setdefault("clock", self.clock)
        return Context(session=session, app=self, user=user, branch=branch, **kwargs)

    def _attach(self, session, user, branch):
        from kernel.auth import User, get_user
        from kernel.masterdata import branch_by_code
        from kernel.models import Branch

        if isinstance(user, str):
            user = get_user(session, user)
        elif isinstance(user, User):
            user = session.get(User, user.id)
        if isinstance(branch, str):
            branch = branch_by_code(session, branch)
        elif isinstance(branch, Branch):
            branch = session.get(Branch, branch.id)
        return user, branch

    def permissions(self, session):
        """The effective permission table (declared defaults changed by role grants), kept
        while the grants do not change (:mod:`kernel.auth_cache`)."""
        return self.auth_cache.permissions(session)

    @property
    def auth_cache(self):
        """Users and the permission table kept by this process (:mod:`kernel.auth_cache`)."""
        cache = self.__dict__.get("_auth_cache")
        if cache is None:
            from kernel.auth_cache import AuthCache

            cache = self.__dict__.setdefault("_auth_cache", AuthCache(self))
        return cache

    @property
    def kept(self):
        """What this process keeps for a short while (:mod:`kernel.kept`)."""
        kept = self.__dict__.get("_kept")
        if kept is None:
            from kernel.kept import Kept

            kept = self.__dict__.setdefault("_kept", Kept())
        return kept

    def template_override_dirs(self) -> list:
        """Folders searched before the kernel's templates: the site's, then each plugin's."""
        dirs = [self.site.path / "templates"]
        dirs += [self.plugins[n].templates_dir for n in self.enabled_plugins
                 if self.plugins[n].templates_dir]
        return [d for d in dirs if d.is_dir()]

    def cached_relay(self, switched_off: frozenset, build):
        """The hook relay for one set of switched-off implementations, built once."""
        relay = self._relays.get(switched_off)
        if relay is None:
            relay = self._relays[switched_off] = build()
        return relay

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
