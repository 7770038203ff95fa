"""Commands for sites, plugins, migrations, branches and the web server."""

from __future__ import annotations

import click

from kernel.cli.base import CliState, cli, pass_state, print_table, split_list
from kernel.i18n import _

# --------------------------------------------------------------------------
# sites
# --------------------------------------------------------------------------


@cli.command("new-site", help=_("Create a site: folder, site.toml, database, company, branch."))
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--db", "db_url", metavar="URL",
              help=_("Database URL (default: SQLite file inside the site)."))
@click.option("--plugins", "plugin_names", metavar="A,B", help=_("Plugins to enable."))
@click.option("--demo", is_flag=True, help=_("Load demo data."))
@click.option("--company", metavar="NAME", help=_("Company name."))
@click.option("--branch", "branch_code", metavar="CODE", help=_("First branch code (HQ)."))
@click.option("--branch-name", metavar="NAME", help=_("First branch name."))
@click.option("--zone", type=click.Choice(["urban", "suburban"]), default="urban",
              help=_("First branch zone."))
@click.option("--locale", default="zh_CN", help=_("zh_CN or en."))
@click.option("--timezone", "tz", default="Asia/Shanghai", help=_("IANA time zone."))
@click.option("--currency", default="CNY", help=_("ISO 4217 currency code."))
@click.option("--public-url", metavar="URL",
              help=_("Where customers reach the site, for links printed on papers "
                     "(default: the address fixdesk serve listens on)."))
@click.option("--db-roles/--no-db-roles", default=True,
              help=_("PostgreSQL: give the database an owner role for migrations and a "
                     "runtime role for serving, instead of connecting as the given user "
                     "(default: on)."))
@click.option("--quiet", "-q", is_flag=True,
              help=_("Write no progress lines (migrations, demo data) to standard error."))
def new_site(directory, db_url, plugin_names, demo, company, branch_code, branch_name, zone,
             locale, tz, currency, public_url, db_roles, quiet):
    from kernel import demo as demo_data
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    config = SiteConfig(database_url=db_url or DEFAULT_DB, plugins=split_list(plugin_names),
                        locale=locale, timezone=tz, currency=currency,
                        public_url=public_url or "")
    if demo:
        company = company or demo_data.COMPANY_NAME
        first = demo_data.BRANCHES[0]
        branch_code = branch_code or first["code"]
        if branch_code == first["code"]:
            branch_name, zone = branch_name or first["name"], first["zone"]
    from kernel.cli.progress import progress_lines

    with progress_lines(quiet):  # on standard error: each migration, each plugin's demo data
        site = create_site(directory, config, company=company or _("My Company"),
                           branch_code=branch_code or "HQ", branch_name=branch_name,
                           branch_zone=zone, demo=demo, db_roles=db_roles)
    click.echo(_("site created at {path}").format(path=site.path))
    _say_roles(site)


def _say_roles(site) -> None:
    """Name the database roles of a site that has them (kept in site.toml, mode 0600)."""
    if not site.config.migrate_url:
        return
    from sqlalchemy.engine import make_url

    click.echo(_("database roles: {owner} owns the database and runs migrations, {runtime} "
                 "serves (passwords in {file})").format(
        owner=make_url(site.config.migrate_url).username,
        runtime=make_url(site.config.database_url).username, file=site.path / "site.toml"))


@cli.command(help=_("Upgrade the database schema of the kernel and the enabled plugins."))
@click.option("--check", is_flag=True, help=_("Only compare the schema with the models."))
@click.option("--revision", "revision_for", metavar="PLUGIN",
              help=_("Write a new migration for PLUGIN (or kernel) from its models."))
@click.option("-m", "--message", default="update", help=_("Message of the new migration."))
@pass_state
def migrate(state: CliState, check: bool, revision_for: str | None, message: str):
    from kernel import migrate as migrations

    with state.app(owner=True) as app:  # the database's owner, on a site with roles
        if revision_for:
            path = migrations.make_revision(app, revision_for, message)
            click.echo(_("wrote {path}").format(path=path))
        elif check:
            diff = migrations.schema_differences(app)
            for item in diff:
                click.echo(repr(item))
            if diff:
                raise click.exceptions.Exit(1)
            click.echo(_("schema matches the models"))
        else:
            from kernel.cli.progress import terminal_progress

            for name, reason in app.failed_plugins.items():
                click.echo(_("warning: {name}: {reason} (its tables are not migrated)").format(
                    name=name, reason=reason), err=True)
            with terminal_progress():
                branches = migrations.upgrade(app)
            click.echo(_("up to date: {branches}").format(branches=", ".join(branches)))


@cli.group("db", help=_("The site's database: its PostgreSQL roles."))
def db_group():
    pass


@db_group.command("create-roles", help=_("Give an existing PostgreSQL site an owner role "
                                         "for migrations and a runtime role for serving."))
@pass_state
def db_create_roles(state: CliState):
    """Create the roles of a site made without them (:func:`kernel.dbroles.create_roles`),
    connecting with the URL in site.toml (a superuser), then write the runtime role's URL
    and the owner's ``migrate_url`` into site.toml."""
    from kernel.dbroles import create_roles
    from kernel.errors import SiteError

    site = state.site()
    if site.config.migrate_url:
        raise SiteError(_("the site has its database roles already"))
    if not site.database_url.startswith("postgresql"):
        raise SiteError(_("database roles are for PostgreSQL sites only"))
    roles = create_roles(site.database_url)
    site.config.database_url, site.config.migrate_url = roles.runtime_url, roles.owner_url
    site.save()
    _say_roles(site)


# --------------------------------------------------------------------------
# plugins
# --------------------------------------------------------------------------


@cli.group(help=_("List, enable and disable plugins."))
def plugins():
    pass


@plugins.command("list", help=_("Every installed plugin with its state on this site."))
@pass_state
def plugins_list(state: CliState):
    """A line per installed plugin; under an enabled one, its parts and what of it waits for
    partners that are not enabled (inactive, "needs repair")."""
    from kernel.plugins import NOT_INSTALLED, NOT_LOADED, plugin_states

    texts = {NOT_LOADED: _("enabled (not loaded)"), NOT_INSTALLED: _("enabled (not installed)")}
    rows = [(_("NAME"), _("STATE"), _("VERSION"), _("DEPENDS"), _("ERROR"))]
    below: dict[str, list[tuple[str, str]]] = {}
    for item in plugin_states(state.site()):
        if item.state == NOT_INSTALLED:
            rows.append((item.name, texts[item.state], "", "", ""))
            continue
        rows.append((item.name, texts.get(item.state) or (
            _("enabled") if item.enabled else _("available")), item.version,
            ",".join(item.depends) or "-", item.error))
        below[item.name] = [(_("part {name}").format(name=part), _("active"))
                            for part in item.parts]
        below[item.name] += [(waiting.what, _("inactive (needs {plugins})").format(
            plugins=", ".join(waiting.needs))) for waiting in item.inactive]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True))
                   + "  " + row[4])
        for what, state_text in below.get(row[0], []):
            click.echo(f"  - {what}: {state_text}")


@plugins.command("enable", help=_("Enable a plugin and create its tables."))
@click.argument("name")
@pass_state
def plugins_enable(state: CliState, name: str):
    from kernel.provision import enable_plugin

    if enable_plugin(state.site(), name):
        click.echo(_("enabled {name}").format(name=name))
    else:
        click.echo(_("{name} is already enabled").format(name=name))


@plugins.command("disable", help=_("Disable a plugin; its tables and data are kept."))
@click.argument("name")
@pass_state
def plugins_disable(state: CliState, name: str):
    from kernel.provision import disable_plugin

    disable_plugin(state.site(), name)
    click.echo(_("disabled {name} (its data is kept)").format(name=name))


# --------------------------------------------------------------------------
# branches
# --------------------------------------------------------------------------


@cli.group(help=_("Branches of the company."))
def branch():
    pass


@branch.command("add", help=_("Add a branch."))
@click.argument("code")
@click.option("--name", required=True, help=_("Branch name."))
@click.option("--zone", type=click.Choice(["urban", "suburban"]), default="urban",
              help=_("Zone: deadlines differ."))
@click.option("--address", help=_("Address."))
@click.option("--phone", help=_("Phone."))
@pass_state
def branch_add(state: CliState, code, name, zone, address, phone):
    from kernel.masterdata import add_branch

    with state.context() as ctx:
        added = add_branch(ctx, code, name, zone, address=address, phone=phone)
    click.echo(_("added branch {code}").format(code=added.code))


@branch.command("list", help=_("List branches, code first."))
@pass_state
def branch_list(state: CliState):
    from kernel.masterdata import list_branches

    with state.context() as ctx:
        rows = [(b.code, b.name, _(b.zone.value), b.phone or "", b.address or "")
                for b in list_branches(ctx)]
    print_table((_("CODE"), _("NAME"), _("ZONE"), _("PHONE"), _("ADDRESS")), rows)


# --------------------------------------------------------------------------
# web
# --------------------------------------------------------------------------


@cli.command(help=_("Serve the desk and the API."))
@click.option("--host", default="127.0.0.1", help=_("Address to listen on."))
@click.option("--port", default=8000, type=click.IntRange(1, 65535), help=_("Port."))
@click.option("--workers", default=1, type=click.IntRange(1, 64),
              help=_("Worker processes (PostgreSQL sites only: SQLite takes one)."))
@click.option("--shutdown-timeout", default=30, type=click.IntRange(1, 3600),
              help=_("Seconds requests in flight may take to finish on SIGTERM."))
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              envvar="FIXDESK_LOG_FORMAT", show_envvar=True,
              help=_("Log lines on standard error: text, or one JSON object a line."))
@pass_state
def serve(state: CliState, host: str, port: int, workers: int, shutdown_timeout: int,
          log_format: str):
    import os

    import uvicorn

    from kernel.errors import SiteError
    from kernel.health import refuse_read_only
    from kernel.logs import logging_config
    from kernel.site import SERVE_URL_ENV, serve_url

    site = state.site()  # fail fast, with one line, before uvicorn starts
    if workers > 1 and site.database_url.startswith("sqlite"):
        # SQLite lets one process write at a time: several would refuse each other's writes
        raise SiteError(_("--workers {count}: an SQLite site is served by one worker process; "
                          "move the site to PostgreSQL to run more").format(count=workers))
    refuse_read_only(site)
    os.environ["FIXDESK_SITE"] = str(site.path)
    os.environ[SERVE_URL_ENV] = serve_url(host, port)  # links for customers, unless set
    click.echo(_("fixdesk serving {site} on http://{host}:{port}").format(
        site=site.path, host=host, port=port))
    _warn_loopback(site.config)
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default;
    # the app believes only the site's [web] trusted_proxies (kernel.web.proxies)
    options = dict(host=host, port=port, workers=workers, log_level="info",
                   access_log=False,  # ours: fixdesk.access
                   log_config=logging_config(log_format), proxy_headers=False,
                   timeout_graceful_shutdown=shutdown_timeout)
    if workers > 1:  # each worker process builds its own app
        _share_metrics()
        if site.config.demo:
            from kernel.demo import demo_accounts_text

            with state.app() as app:
                click.echo(demo_accounts_text(app))
        _serve_workers(options)
        return

    def web_app():
        """The app, built once uvicorn has set up logging; the site starts once, for the
        demo accounts and the server alike."""
        from kernel.web.app import create_app

        web = create_app(site, serving=True)
        if site.config.demo:
            from kernel.demo import demo_accounts_text

            click.echo(demo_accounts_text(web.state.fixdesk))
        return web

    uvicorn.run(web_app, factory=True, **options)


def _serve_workers(options: dict) -> None:
    """Serve with ``options["workers"]`` processes, each listening on a socket of its own
    where the system spreads connections over them (:mod:`kernel.web.listeners`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from kernel.errors import SiteError
    from kernel.web.listeners import worker_sockets

    config = uvicorn.Config("kernel.web.app:create_app_from_env", factory=True, **options)
    try:
        sockets = worker_sockets(config)
    except OSError as exc:
        raise SiteError(_("cannot listen on {host}:{port}: {error}").format(
            host=config.host, port=config.port, error=exc.strerror or exc)) from None
    Multiprocess(config, sockets=sockets).run()


def _share_metrics() -> None:
    """Give the worker processes one empty folder for their metrics (prometheus_client's
    multiprocess mode), so that whichever answers ``/metrics`` counts them all; removed
    when serve stops."""
    import atexit
    import os
    import shutil
    import tempfile

    from kernel.web.observe import MULTIPROC_ENV

    folder = tempfile.mkdtemp(prefix="fixdesk-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    atexit.register(shutil.rmtree, folder, True)


def _warn_loopback(config) -> None:
    """Say on the server's log (standard error) when links printed for customers point to
    this machine only: a customer's phone cannot open them."""
    if not config.customer_url_is_loopback:
        return
    message = _("warning: links printed for customers (survey QR codes) start with {url}, "
                "which a customer's phone cannot reach: set public_url in site.toml, or "
                "serve on the network (--host 0.0.0.0)").format(url=config.customer_url)
    click.echo(message, err=True)
