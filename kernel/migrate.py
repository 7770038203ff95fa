"""Schema migrations for the kernel and the enabled plugins (Alembic, one branch each).

The kernel's versions carry the branch label ``kernel``; each plugin's versions
live in ``<plugin>/migrations/versions`` with the plugin's name as branch label
and ``depends_on`` the revisions they need (the kernel's, a dependency's).
Glue for a partner plugin (a part that ``needs`` it, such as ``acme.repair``) keeps
its tables in a branch labelled with the part's name, which ``depends_on`` the
partner's revision when a table holds a foreign key to it: it is upgraded only
while the part is registered, that is while the partner is enabled.
Every discovered plugin's folder is on the version path, so revisions of a
disabled plugin stay known, but only the kernel, the enabled plugins and their
registered parts are upgraded: ``kernel@head``, then each ``<branch>@head`` in
the order the site registers them, all in one transaction; in it the search indexes
are built (:func:`kernel.search_index.build_indexes`) for what has none yet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData

from kernel.db import Base
from kernel.errors import PluginError, SiteError
from kernel.i18n import N_, _
from kernel.plugins import KERNEL
from kernel.progress import report, step
from kernel.search_index import build_indexes, drop_orphans
from kernel.site import App

#: the step :func:`upgrade` reports (:mod:`kernel.progress`)
MIGRATING = N_("Upgrading the database")
#: the step each migration branch begins (:func:`kernel.progress.step`)
MIGRATING_UNIT = N_("migrating {unit}…")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
def _config(app: App, plugins: list[str] | None = None) -> Config:
    """Alembic config over the kernel's versions and those of ``plugins`` (default: all found)."""
    names = [n for n, p in app.plugins.items() if plugins is None or n in plugins]
    locations = [str(MIGRATIONS_DIR / "versions")]
    locations += [str(app.plugins[n].migrations_dir) for n in names
                  if app.plugins[n].migrations_dir and not app.plugins[n].error]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(dict.fromkeys(locations)))
    return cfg


def _has_branch(script: ScriptDirectory, label: str) -> bool:
    try:
        return bool(script.get_revisions(f"{label}@head"))
    except CommandError:
        return False


def _target_metadata(app: App, plugins: list[str] | None = None) -> MetaData:
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in app.tables(plugins):
        table.to_metadata(metadata)
    return metadata


def _only_tables(names: set[str]):
    """An Alembic ``include_object`` that keeps only these tables and what belongs to them."""

    def include_object(obj, name, type_, _reflected, _compare_to):
        if type_ == "table":
            return name in names
        table = getattr(obj, "table", None)
        return table is None or table.name in names

    return include_object


def upgrade(app: App) -> list[str]:
    """Bring the kernel's and every loaded plugin's tables up to date; returns the branches run.

    On a site with its own database roles (:mod:`kernel.dbroles`) the app must be started
    as the owner (``site.start(owner=True)``); the runtime role's grants are renewed in the
    same transaction."""
    cfg = _config(app)
    script = ScriptDirectory.from_config(cfg)
    branches = [b for b in app.units if _has_branch(script, b)]
    with app.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        try:
            for done, branch in enumerate(branches):
                report(MIGRATING, done, len(branches))
                step(MIGRATING_UNIT, unit=branch)
                command.upgrade(cfg, f"{branch}@head")
            build_indexes(app, connection)  # before the grants: the runtime role uses them
            runtime = runtime_role(app)
            if runtime:
                from kernel.dbroles import grant_runtime

                grant_runtime(connection, runtime)
            report(MIGRATING, len(branches), len(branches))
        except CommandError as exc:
            raise SiteError(_("migration failed: {error}").format(error=exc)) from exc
        finally:
            app.search_indexes.forget()
    return branches


def runtime_role(app: App) -> str | None:
    """The role the site serves as when it has its own roles (``migrate_url`` set on
    PostgreSQL), else None."""
    from kernel.db import normalize_url

    config = app.site.config
    if not config.migrate_url:
        return None
    url = normalize_url(config.database_url)
    if url.get_backend_name() != "postgresql" or not url.username:
        return None
    if url.username == normalize_url(config.migrate_url).username:
        return None
    return url.username


def downgrade(app: App, branch: str) -> None:
    """Remove a plugin's (or part's) tables: its migration branch down to its base, in one
    transaction. Its data is gone; the other branches are left as they are."""
    cfg = _config(app)
    with app.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        try:
            command.downgrade(cfg, f"{branch}@base")
            drop_orphans(connection)  # the search indexes of the tables gone
        except CommandError as exc:
            raise SiteError(_("migration failed: {error}").format(error=exc)) from exc
        finally:
            app.search_indexes.forget()


def schema_differences(app: App) -> list:
    """What differs between the database and the loaded models (empty when in sync)."""
    with app.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _only_tables({t.name for t in app.tables()}),
                        "compare_type": True}
        )
        return compare_metadata(context, _target_metadata(app))


def current_heads(app: App) -> list[str]:
    """The revisions recorded in the database."""
    with app.engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


@dataclass(frozen=True)
class BranchState:
    """Where one migration branch (the kernel, a plugin, a plugin's part) stands: the
    revision the database is at (None: none of it yet) and the branch's newest one."""

    branch: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """Whether ``fixdesk migrate`` has nothing to do for this branch."""
        return self.current == self.head


def applied_revisions(app: App, script: ScriptDirectory) -> set[str]:
    """Every revision the database has had applied: its current heads and all below them
    (a head the installed code no longer has is left out)."""
    applied: set[str] = set()
    for head in current_heads(app):
        try:
            applied.update(rev.revision for rev in script.walk_revisions("base", head))
        except CommandError:  # a revision the installed code no longer has
            continue
    return applied


def migration_states(app: App) -> dict[str, BranchState]:
    """Each migration branch the site upgrades (the kernel, the loaded plugins and their
    registered parts that have migrations), in upgrade order, with the revision the
    database is at and the branch's head: what the admin console shows per module, and
    whether ``fixdesk migrate`` is needed."""
    script = ScriptDirectory.from_config(_config(app))
    applied = applied_revisions(app, script)
    states = {}
    for branch in app.units:
        if not _has_branch(script, branch):
            continue
        own = [rev.revision for rev in script.walk_revisions("base", f"{branch}@head")
               if branch in rev.branch_labels]
        current = next((rev for rev in own if rev in applied), None)
        states[branch] = BranchState(branch, current, own[0])
    return states


def make_revision(app: App, plugin: str, message: str, rev_id: str | None = None) -> Path:
    """Autogenerate a new revision for ``plugin`` (or ``kernel``) from its models.

    The plugin's first revision starts its branch and depends on the kernel's
    current head and on its dependencies' heads.
    """
    owner = plugin.split(".", 1)[0]
    if plugin == KERNEL:
        version_path = MIGRATIONS_DIR / "versions"
        depends: list[str] = []
    else:
        info = app.plugins.get(owner)
        if info is None or plugin not in app.units:
            raise PluginError(_("plugin {name!r} is not enabled on this site").format(name=plugin))
        version_path = info.path / "migrations" / "versions"
        depends = [KERNEL, *info.depends] if plugin == owner else \
            [KERNEL, owner, *app.part_needs(plugin)]
    version_path.mkdir(parents=True, exist_ok=True)
    # autogenerate insists that the database is at the head of every branch it
    # knows: show it the kernel, the enabled plugins and what the database holds
    applied = set()
    everything = ScriptDirectory.from_config(_config(app))
    for head in current_heads(app):
        applied.update(everything.get_revision(head).branch_labels)
    cfg = _config(app, [*app.enabled_plugins, *applied])
    locations = cfg.get_main_option("version_locations").split(os.pathsep)
    if str(version_path) not in locations:  # a plugin's first revision
        cfg.set_main_option("version_locations", os.pathsep.join([*locations, str(version_path)]))
    script = ScriptDirectory.from_config(cfg)
    include_object = _only_tables(set(app.registry.unit_tables.get(plugin, [])))
    first = not _has_branch(script, plugin)
    if rev_id is None:  # readable, ordered ids: repair_0001, repair_0002, ...
        count = sum(1 for rev in script.walk_revisions() if plugin in rev.branch_labels)
        rev_id = f"{plugin.replace('.', '_')}_{count + 1:04d}"
    with app.engine.begin() as connection:
        cfg.attributes.update(connection=connection,
                              target_metadata=_target_metadata(app),
                              include_object=include_object)
        heads = [script.get_revisions(f"{d}@head")[0].revision for d in depends
                 if _has_branch(script, d)]
        rev = command.revision(
            cfg, message=message, autogenerate=True,
            head="base" if first else f"{plugin}@head",
            branch_label=plugin if first else None,
            version_path=str(version_path),
            depends_on=heads if first else None,
            rev_id=rev_id,
        )
    return Path(rev.path)
