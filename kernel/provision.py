"""Creating sites and switching plugins: all-or-nothing operations behind the CLI.

Each operation validates first, then changes the database, and writes
``site.toml`` last, so a failure leaves the site as it was (and a failed
``new-site`` leaves no folder and no database behind).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kernel import masterdata, migrate
from kernel.errors import PluginError, SiteError
from kernel.i18n import N_, _
from kernel.plugins import dependency_order, dependents, discover, import_plugin
from kernel.signing import SECRET_FILE, site_secret
from kernel.site import SITE_DIR_MODE, SITE_FILE, App, Site, SiteConfig

#: the step :func:`load_demo_data` reports (:mod:`kernel.progress`)
LOADING_DEMO = N_("Loading demo data")
#: the step each plugin's demo data begins (:func:`kernel.progress.step`)
DEMO_DATA_OF = N_("demo data: {plugin}…")


def _check_loadable(app: App, names: list[str]) -> None:
    broken = {n: app.failed_plugins[n] for n in names if n in app.failed_plugins}
    if broken:
        name, reason = next(iter(broken.items()))
        raise PluginError(_("plugin {name} cannot be loaded: {reason}").format(
            name=name, reason=reason))


def load_demo_data(ctx) -> None:
    """Every enabled plugin's demo data (``fixdesk_demo_data``), reporting each plugin done
    (:mod:`kernel.progress`); the implementations run in the order pluggy calls them."""
    from kernel.progress import report, step

    hook = ctx.app.pm.hook.fixdesk_demo_data
    impls = list(reversed(hook.get_hookimpls()))  # pluggy calls the last registered first
    if any(impl.hookwrapper or getattr(impl, "wrapper", False) for impl in impls):
        hook(ctx=ctx)
        return
    for done, impl in enumerate(impls):
        report(LOADING_DEMO, done, len(impls))
        step(DEMO_DATA_OF, plugin=impl.plugin_name)
        impl.function(**{name: ctx for name in impl.argnames})
    report(LOADING_DEMO, len(impls), len(impls))


def create_site(path: str | Path, config: SiteConfig, *, company: str, branch_code: str = "HQ",
                branch_name: str | None = None, branch_zone: str = "urban",
                demo: bool = False, db_roles: bool = False) -> Site:
    """Create a site folder, its database and schema, the company and a first branch.

    With ``demo`` the kernel's demo master data and every enabled plugin's demo
    data are loaded too. With ``db_roles`` (PostgreSQL only) the database gets an owner
    and a runtime role (:func:`kernel.dbroles.create_roles`): the configured URL is used
    to create them, migrations run as the owner, and ``site.toml`` keeps the runtime
    role's URL for serving and the owner's as ``migrate_url``. On any failure nothing is
    left behind.
    """
    from kernel.db import create_database, drop_database

    path = Path(path)
    if (path / SITE_FILE).exists():
        raise SiteError(_("a site already exists at {path}").format(path=path))
    plugins = discover()
    dependency_order(plugins, config.plugins)  # unknown plugins, missing dependencies
    made_dir = not path.exists()
    if path.exists() and not path.is_dir():
        raise SiteError(_("{path} is not a folder").format(path=path))
    site = Site(path, config)
    had_secret = (site.path / SECRET_FILE).exists()
    site.path.mkdir(parents=True, exist_ok=True)
    if made_dir:
        site.path.chmod(SITE_DIR_MODE)  # a folder of secrets: not for other users
    db_created = roles_made = False
    app = None
    try:
        admin_url = site.database_url  # who creates (and on failure drops) the database
        db_created = create_database(admin_url)
        if db_roles and admin_url.startswith("postgresql"):
            from kernel.dbroles import create_roles, holds_tables

            if not db_created and holds_tables(admin_url):  # refused below, as it is
                raise SiteError(_("the database already holds a fixdesk site; use an "
                                  "empty one"))
            roles = create_roles(admin_url)
            roles_made = True
            site.config.database_url, site.config.migrate_url = (roles.runtime_url,
                                                                 roles.owner_url)
        app = site.start(owner=True)
        _check_loadable(app, config.plugins)
        if migrate.current_heads(app):
            raise SiteError(_("the database already holds a fixdesk site; use an empty one"))
        migrate.upgrade(app)
        with app.context() as ctx:
            masterdata.create_company(ctx, company)
            masterdata.add_branch(ctx, branch_code, branch_name or branch_code, branch_zone)
            if demo:
                from kernel.audit import written_in_bulk

                with written_in_bulk(ctx.session):  # a statement per flush: half the time
                    load_demo_data(ctx)
                site.config.demo = True
        site_secret(site)  # links signed for customers (kernel.signing)
        site.save()
    except BaseException:
        if app is not None:
            app.close()
            app = None
        if db_created:
            drop_database(admin_url)  # and the roles made for it
        elif roles_made:
            from kernel.dbroles import remove_roles

            remove_roles(admin_url)
        if made_dir:
            shutil.rmtree(site.path, ignore_errors=True)
        elif not had_secret:
            (site.path / SECRET_FILE).unlink(missing_ok=True)
        raise
    finally:
        if app is not None:
            app.close()
    return site


def enable_plugin(site: Site, name: str) -> bool:
    """Enable ``name`` on the site and create or upgrade its tables.

    Refused when a dependency is not enabled or the plugin cannot be imported.
    Returns False when it was already enabled.
    """
    plugins = discover()
    if name not in plugins:
        raise PluginError(_("unknown plugin {name!r}").format(name=name))
    if name in site.config.plugins:
        return False
    info = plugins[name]
    if info.error:
        raise PluginError(_("plugin {name} cannot be used: {reason}").format(
            name=name, reason=info.error))
    missing = [d for d in info.depends if d not in site.config.plugins]
    if missing:
        raise PluginError(_("cannot enable {name}: it depends on {missing}, which is not enabled")
                          .format(name=name, missing=", ".join(missing)))
    if import_plugin(info) is None:
        raise PluginError(_("plugin {name} cannot be loaded: {reason}").format(
            name=name, reason=info.error))
    candidate = Site(site.path, SiteConfig(**{**vars(site.config),
                                              "plugins": [*site.config.plugins, name]}))
    app = candidate.start(owner=True)  # migrations: as the database's owner
    try:
        _check_loadable(app, [name])
        migrate.upgrade(app)
    finally:
        app.close()
    candidate.save()
    site.config = candidate.config
    return True


def disable_plugin(site: Site, name: str) -> None:
    """Disable ``name``; its tables and data stay for when it is enabled again.

    Refused while an enabled plugin depends on it.
    """
    if name not in site.config.plugins:
        raise PluginError(_("plugin {name} is not enabled").format(name=name))
    users = dependents(discover(), site.config.plugins, name)
    if users:
        raise PluginError(_("cannot disable {name}: {users} depends on it").format(
            name=name, users=", ".join(users)))
    site.config.plugins = [p for p in site.config.plugins if p != name]
    site.save()
