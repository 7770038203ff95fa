"""The site's registry: every contribution of the kernel and the loaded plugins, checked
once when the site starts.

Each plugin's registration hooks (:data:`REGISTRATION_HOOKS`) are called for the plugin
and each of its parts, and what they answer is checked before any of it is taken:

- every key carries its plugin: the registry records who contributed what, and a key
  that another plugin (or the same one) contributed already is refused naming both;
  names that are global (documents, reports, settings, jobs, form sections, list
  columns) start with the plugin's name, and so do actions on another plugin's entity;
- an entity is named by its table: a contribution about an entity of a plugin that is
  not enabled is skipped and listed as inactive ("needs repair"); one about an entity
  that no plugin has is refused;
- a registration hook that raises, or a contribution that is refused, disables its
  plugin with the reason (``fixdesk plugins list``, the desk's home page for admins),
  exactly like a plugin that fails to import: the plugin is taken out of the manager
  together with the plugins that depend on it, and the registry is collected again
  without them. The site and every other plugin still start.

Web routes (``fixdesk_routers``, :data:`WEB_HOOKS`) are collected only for the web app
(``build(..., web=True)``, :func:`kernel.web.app.create_app`): building FastAPI routers
costs most of a CLI command's start, and no CLI command serves them. A plugin whose router
hook fails or answers something that is not a FastAPI ``APIRouter`` is disabled then, with
its reason, as above.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernel.contributions import (
    Action,
    DashboardCard,
    DashboardChart,
    Document,
    Extension,
    FormSection,
    JobHandler,
    ListColumn,
    Permission,
    Role,
    ScheduledJob,
    Setting,
    table_of,
)
from kernel.entities import COMPANION_KEYS
from kernel.hookspecs import KERNEL
from kernel.i18n import N_, _
from kernel.plugins import Inactive, LoadedPlugins, PluginInfo, answer_of

#: the hooks a plugin registers its contributions with, in the order they are read
REGISTRATION_HOOKS = (
    "fixdesk_roles",
    "fixdesk_permissions",
    "fixdesk_settings",
    "fixdesk_extensions",
    "fixdesk_actions",
    "fixdesk_documents",
    "fixdesk_reports",
    "fixdesk_job_handlers",
    "fixdesk_scheduled_jobs",
    "fixdesk_form_sections",
    "fixdesk_list_columns",
    "fixdesk_dashboard",
)
#: registration hooks read only for the web app (``build(..., web=True)``)
WEB_HOOKS = ("fixdesk_routers",)


class Refused(Exception):
    """A contribution the registry does not take; the message says why, for people."""


class PluginFailed(Exception):
    """A plugin's registration failed: it is taken out with ``reason``."""

    def __init__(self, plugin: str, reason: str):
        super().__init__(f"{plugin}: {reason}")
        self.plugin, self.reason = plugin, reason


@dataclass
class Registry:
    """What the kernel and the loaded plugins contribute, by kind and key."""

    #: plugin → the mapped classes it owns (the kernel's under ``"kernel"``)
    entities: dict[str, list[type]] = field(default_factory=dict)
    #: table → its mapped class
    classes: dict[str, type] = field(default_factory=dict)
    #: table → the plugin that owns it
    table_owners: dict[str, str] = field(default_factory=dict)
    #: manager name of a plugin or part → the tables it registered (its migration branch's)
    unit_tables: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)
    actions: dict[tuple[str, str], Action] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    job_handlers: dict[str, JobHandler] = field(default_factory=dict)
    schedules: list[ScheduledJob] = field(default_factory=list)
    #: target table → the extensions of its entity, in plugin order
    extensions: dict[str, list[Extension]] = field(default_factory=dict)
    #: target table → form sections, by order then name
    sections: dict[str, list[FormSection]] = field(default_factory=dict)
    #: target table → list columns, in plugin order
    columns: dict[str, list[ListColumn]] = field(default_factory=dict)
    #: the home page's cards and charts, by order then name
    dashboard: list[DashboardCard | DashboardChart] = field(default_factory=list)
    #: web routes (FastAPI routers), opaque to the core; collected only for the web app
    routers: list = field(default_factory=list)
    #: whether the web hooks (:data:`WEB_HOOKS`) were read: :attr:`routers` is complete
    web: bool = False
    #: what waits for partners that are not enabled
    inactive: list[Inactive] = field(default_factory=list)
    #: id of a contribution → (plugin, manager name of the part or plugin, hook)
    _sources: dict[int, tuple[str, str, str]] = field(default_factory=dict, repr=False)

    def owner(self, item: Any) -> str | None:
        """The plugin that contributed ``item``."""
        source = self._sources.get(id(item))
        return source[0] if source else None

    def source(self, item: Any) -> tuple[str, str] | None:
        """(manager name, hook) of the implementation that contributed ``item``: what an
        admin switches off per branch to hide it there."""
        source = self._sources.get(id(item))
        return source[1:] if source else None

    def switchable(self, item: Any) -> bool:
        """Whether ``item`` can be switched off per branch: a plugin contributed it (the
        kernel's contributions are on everywhere)."""
        return self.owner(item) not in (None, KERNEL)

    def offered(self, item: Any, switched_off: frozenset[tuple[str, str]]) -> bool:
        """Whether ``item`` is offered where the implementations ``switched_off``
        (``{(plugin or part, hook)}``) are off."""
        return not switched_off or self.source(item) not in switched_off


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------


def build(loaded: LoadedPlugins, plugins: dict[str, PluginInfo], *,
          web: bool = False) -> Registry:
    """The registry of the plugins in ``loaded``; a plugin whose registration fails is
    dropped from ``loaded`` (with its dependents) and the rest collected again. With
    ``web`` the web routes (:data:`WEB_HOOKS`) are collected and checked too."""
    while True:
        try:
            return _collect(loaded, plugins, web)
        except PluginFailed as failure:
            if failure.plugin == KERNEL:
                raise RuntimeError(f"the kernel's registration failed: {failure.reason}") \
                    from failure.__cause__
            if plugins.get(failure.plugin) is not None:
                plugins[failure.plugin].error = failure.reason
            loaded.drop(failure.plugin, failure.reason)


@contextmanager
def _blame(plugin: str):
    """Turn any failure inside the block into :class:`PluginFailed` for ``plugin``."""
    try:
        yield
    except PluginFailed:
        raise
    except Refused as exc:
        raise PluginFailed(plugin, str(exc)) from exc
    except Exception as exc:  # foreign code: any failure disables only its plugin
        last = traceback.extract_tb(exc.__traceback__)[-1]
        raise PluginFailed(plugin, _("registration failed: {type}: {error} ({file}:{line})")
                           .format(type=type(exc).__name__, error=exc,
                                   file=Path(last.filename).name, line=last.lineno)) from exc


def _collect(loaded: LoadedPlugins, plugins: dict[str, PluginInfo], web: bool) -> Registry:
    registry = Registry(inactive=list(loaded.inactive), web=web)
    hooks = REGISTRATION_HOOKS + WEB_HOOKS if web else REGISTRATION_HOOKS
    for plugin in loaded.order:  # entities first: the rest names them
        with _blame(plugin):
            classes = []
            for unit in loaded.units(plugin):
                for cls in answer_of(loaded.pm, "fixdesk_entities", unit) or []:
                    table = table_of(cls)
                    if table in registry.table_owners:
                        raise Refused(_("entity {table} is registered by {other} already")
                                      .format(table=table, other=registry.table_owners[table]))
                    registry.table_owners[table] = plugin
                    registry.classes[table] = cls
                    registry.unit_tables.setdefault(unit, []).append(table)
                    classes.append(cls)
            registry.entities[plugin] = classes
    for plugin in loaded.order:  # what the entities declare about others, by table
        with _blame(plugin):
            for cls in registry.entities[plugin]:
                _check_declarations(cls, registry.classes)
    for plugin in loaded.order:
        with _blame(plugin):
            intake = _Intake(registry, plugin, loaded, plugins)
            for hook in hooks:
                for unit in loaded.units(plugin):
                    for item in answer_of(loaded.pm, hook, unit) or []:
                        intake.take(hook, unit, item)
            if plugin == KERNEL:  # submit, cancel, amend of the plugins' submittable documents
                from kernel.lifecycle import lifecycle_actions

                for item in lifecycle_actions(registry.classes):
                    intake.take("fixdesk_actions", KERNEL, item)
            intake.commit()
    for table in registry.sections:
        registry.sections[table].sort(key=lambda s: (s.order, s.name))
    registry.dashboard.sort(key=lambda item: (item.order, item.name))
    return registry


def _check_declarations(cls: type, classes: dict[str, type]) -> None:
    """Refuse an entity whose class names a parent that is not an entity of the site
    (``__branch_parent__``, ``__submittable_parent__``, ``__lines_of__``), declares a
    link wrongly, or names as its ``__workflow__`` a field that is not a choice."""
    from kernel.lifecycle import is_submittable
    from kernel.links import links_of

    workflow = getattr(cls, "__workflow__", None)
    if workflow is not None and not _is_enum_column(cls, workflow):
        raise Refused(_("entity {table}: __workflow__ names {field}, which is not a choice "
                        "field of it").format(table=cls.__tablename__, field=workflow))
    for attribute in ("__branch_parent__", "__submittable_parent__", "__lines_of__"):
        declared = getattr(cls, attribute, None)
        if declared is None:
            continue
        parent = classes.get(declared[1]) if isinstance(declared[1], str) else declared[1]
        if parent is None or (attribute == "__submittable_parent__"
                              and not is_submittable(parent)):
            raise Refused(_("entity {table}: {attribute} names {parent}, which is not such an "
                            "entity of this site").format(table=cls.__tablename__,
                                                          attribute=attribute,
                                                          parent=declared[1]))
    links_of(cls)  # a link declared under another name raises here


def _is_enum_column(cls: type, name: str) -> bool:
    from sqlalchemy import Enum

    column = cls.__table__.columns.get(name)
    return column is not None and isinstance(column.type, Enum)


#: registration hook → the registry's mapping its answers go to, and their key there
KEYED = {"fixdesk_roles": ("roles", lambda i: i.name),
         "fixdesk_permissions": ("permissions", lambda i: i.name),
         "fixdesk_settings": ("settings", lambda i: i.key),
         "fixdesk_actions": ("actions", lambda i: (i.entity, i.name)),
         "fixdesk_documents": ("documents", lambda i: i.name),
         "fixdesk_reports": ("reports", lambda i: i.name),
         "fixdesk_job_handlers": ("job_handlers", lambda i: i.name)}
#: registration hook → the registry's lists of contributions per target entity
BY_ENTITY = {"fixdesk_extensions": "extensions", "fixdesk_form_sections": "sections",
             "fixdesk_list_columns": "columns"}
#: the kinds of contributions, as people read them in refusals
KINDS = {"role": N_("role"), "permission": N_("permission"), "setting": N_("setting"),
         "extension": N_("extension"), "action": N_("action"), "document": N_("document"),
         "report": N_("report"), "job": N_("job"), "scheduled job": N_("scheduled job"),
         "form section": N_("form section"), "list column": N_("list column"),
         "dashboard item": N_("dashboard card or chart")}


def _expected_type(hook: str) -> type | tuple[type, ...] | None:
    """The class (or classes) a registration hook's answers are made of (None: any object)."""
    from kernel.reports.registry import Report

    if hook == "fixdesk_routers":  # read for the web app only: FastAPI is loaded then
        from fastapi import APIRouter

        return APIRouter
    return {"fixdesk_roles": Role, "fixdesk_permissions": Permission,
            "fixdesk_settings": Setting, "fixdesk_extensions": Extension,
            "fixdesk_actions": Action, "fixdesk_documents": Document,
            "fixdesk_reports": Report, "fixdesk_job_handlers": JobHandler,
            "fixdesk_scheduled_jobs": ScheduledJob, "fixdesk_form_sections": FormSection,
            "fixdesk_list_columns": ListColumn,
            "fixdesk_dashboard": (DashboardCard, DashboardChart)}.get(hook)


class _Intake:
    """One plugin's contributions, checked against the registry before any is taken."""

    def __init__(self, registry: Registry, plugin: str, loaded: LoadedPlugins,
                 plugins: dict[str, PluginInfo]):
        self.registry = registry
        self.plugin = plugin
        self.loaded = loaded
        self.plugins = plugins
        self.accepted: list[tuple[str, str, Any]] = []
        self.inactive: list[Inactive] = []
        self.keys: dict[tuple[str, Any], str] = {}
        #: this plugin's extensions by target (sections and columns name their fields)
        self.own_extensions: dict[str, Extension] = {}

    # -- checks ------------------------------------------------------------------------

    def _unique(self, kind: str, key: Any, shown: str, taken_by: str | None) -> None:
        """Refuse ``key`` of ``kind`` when someone has it already (naming them)."""
        other = taken_by or self.keys.get((kind, key))
        if other is not None:
            raise Refused(_("{kind} {key} is registered by {other} already").format(
                kind=_(KINDS[kind]), key=shown, other=other))
        self.keys[(kind, key)] = self.plugin

    def _prefixed(self, kind: str, name: str, separators: str = ".") -> None:
        """Refuse a global name that does not start with the plugin's name."""
        if self.plugin == KERNEL:
            return
        if not any(name.startswith(self.plugin + s) for s in separators):
            raise Refused(_("{kind} {name}: the name must start with {prefix}").format(
                kind=_(KINDS[kind]), name=name, prefix=self.plugin + separators[0]))

    def _namespace_owner(self, key: str) -> str | None:
        """Whose name a key starts with: the plugin owning the entity whose permission
        prefix it starts with (``fdt_note.read``), else the installed plugin named by its
        first part (``repair.urban_deadline_hours``); None for neutral keys."""
        head = key.split(".", 1)[0]
        for table, cls in self.registry.classes.items():
            if getattr(cls, "__permission__", table) == head:
                return self.registry.table_owners[table]
        return self._owner_by_name(head)

    def _in_namespace(self, kind: str, key: str, exempt: str = "") -> None:
        """Refuse ``key`` when it starts with another plugin's name (or the name of
        another plugin's entity), unless its part after the dot starts with ``exempt``."""
        owner = self._namespace_owner(key)
        if owner is None or owner == self.plugin or self.plugin == KERNEL:
            return
        if exempt and key.partition(".")[2].startswith(exempt):
            return
        raise Refused(_("{kind} {key} belongs to {other}").format(
            kind=_(KINDS[kind]), key=key, other=owner))

    def _owner_by_name(self, table: str) -> str | None:
        """The installed plugin whose name prefixes ``table`` (the longest), if any."""
        found = [n for n in self.plugins if table == n or table.startswith(n + "_")]
        return max(found, key=len) if found else None

    def _target(self, table: str, what: str) -> bool:
        """Whether the entity ``table`` is on this site; False (and listed as inactive)
        when its plugin is not enabled; :class:`Refused` when no plugin has it."""
        if table in self.registry.classes:
            return True
        owner = self._owner_by_name(table)
        if owner is not None and owner != self.plugin and owner not in self.loaded.order:
            self.inactive.append(Inactive(self.plugin, what, (owner,)))
            return False
        raise Refused(_("{what} names the entity {table}, which no plugin has").format(
            what=what, table=table))

    def _foreign(self, table: str) -> bool:
        return self.registry.table_owners.get(table) not in (self.plugin, None)

    def _param_targets(self, params, what: str) -> bool:
        from kernel.contributions import Param

        return all(self._target(p.reference, what) for p in params
                   if isinstance(p, Param) and p.kind == "reference")

    # -- intake --------------------------------------------------------------------------

    def take(self, hook: str, unit: str, item: Any) -> None:
        """Check one contribution of ``hook`` from ``unit`` (the plugin or a part)."""
        expected = _expected_type(hook)
        if expected is not None and not isinstance(item, expected):
            names = " / ".join(t.__name__ for t in (expected if isinstance(expected, tuple)
                                                      else (expected,)))
            raise Refused(_("{hook} answers {type} objects, not {value!r}").format(
                hook=hook, type=names, value=item))
        handler: Callable[[Any], bool] = getattr(self, "_" + hook.removeprefix("fixdesk_"))
        if handler(item):
            self.accepted.append((hook, unit, item))

    def _roles(self, role: Role) -> bool:
        from kernel.auth import ROLES

        taken = self.registry.roles.get(role.name)
        self._unique("role", role.name, role.name,
                     KERNEL if role.name in ROLES else taken and self.registry.owner(taken))
        return True

    def _permissions(self, permission: Permission) -> bool:
        self._in_namespace("permission", permission.name, exempt=self.plugin + "_")
        taken = self.registry.permissions.get(permission.name)
        self._unique("permission", permission.name, permission.name,
                     taken and self.registry.owner(taken))
        return True

    def _settings(self, setting: Setting) -> bool:
        if setting.key.startswith("numbering."):
            self._in_namespace("setting", setting.key.removeprefix("numbering."))
        else:
            self._prefixed("setting", setting.key)
        taken = self.registry.settings.get(setting.key)
        self._unique("setting", setting.key, setting.key, taken and self.registry.owner(taken))
        return True

    def _extensions(self, extension: Extension) -> bool:
        what = _("extension of {table}").format(table=extension.entity)
        if not self._target(extension.entity, what):
            return False
        model_table = table_of(extension.model)
        if self.registry.table_owners.get(model_table) != self.plugin:
            raise Refused(_("{what}: its table {table} must be one of {plugin}'s entities")
                          .format(what=what, table=model_table, plugin=self.plugin))
        column = extension.model.__table__.columns.get("record_id")
        if column is None or not column.primary_key:
            raise Refused(_("{what}: {table} needs the primary key record_id (the id of the "
                            "extended record)").format(what=what, table=model_table))
        self._unique("extension", extension.entity, what, None)
        self.own_extensions[extension.entity] = extension
        return True

    def _actions(self, action: Action) -> bool:
        what = _("action {entity}.{name}").format(entity=action.entity, name=action.name)
        if not self._target(action.entity, what) or \
                not self._param_targets(action.params, what):
            return False
        if self._foreign(action.entity):
            self._prefixed("action", action.name, "_")
        taken = self.registry.actions.get((action.entity, action.name))
        self._unique("action", (action.entity, action.name), f"{action.entity}.{action.name}",
                     taken and self.registry.owner(taken))
        return True

    def _documents(self, document: Document) -> bool:
        from kernel.documents.registry import PAPERS

        what = _("document {name}").format(name=document.name)
        self._prefixed("document", document.name)
        if not self._target(document.entity, what):
            return False
        if document.paper not in PAPERS:
            raise Refused(_("{what}: unknown paper {paper!r}").format(what=what,
                                                                      paper=document.paper))
        taken = self.registry.documents.get(document.name)
        self._unique("document", document.name, document.name,
                     taken and self.registry.owner(taken))
        return True

    def _reports(self, report) -> bool:
        from kernel.documents.registry import PAPERS

        what = _("report {name}").format(name=report.name)
        self._prefixed("report", report.name)
        if report.paper not in PAPERS:
            raise Refused(_("{what}: unknown paper {paper!r}").format(what=what,
                                                                      paper=report.paper))
        if not self._param_targets(report.params, what):
            return False
        taken = self.registry.reports.get(report.name)
        self._unique("report", report.name, report.name, taken and self.registry.owner(taken))
        return True

    def _job_handlers(self, handler: JobHandler) -> bool:
        self._prefixed("job", handler.name)
        taken = self.registry.job_handlers.get(handler.name)
        self._unique("job", handler.name, handler.name, taken and self.registry.owner(taken))
        return True

    def _scheduled_jobs(self, job: ScheduledJob) -> bool:
        self._prefixed("scheduled job", job.name)
        taken = next((s for s in self.registry.schedules if s.name == job.name), None)
        self._unique("scheduled job", job.name, job.name, taken and self.registry.owner(taken))
        return True

    def _extension_field(self, table: str, name: str, what: str) -> None:
        extension = self.own_extensions.get(table)
        columns = extension.model.__table__.columns if extension is not None else {}
        if name not in columns or name in COMPANION_KEYS:
            raise Refused(_("{what}: {plugin} has no field {name} on {table}").format(
                what=what, plugin=self.plugin, name=name, table=table))

    def _desk_contribution(self, kind: str, item, what: str, placed: dict,
                           fields: tuple[str, ...]) -> bool:
        """A form section or list column: named after the plugin, about an entity of the
        site, naming only the plugin's own extension fields, once per entity."""
        self._prefixed(kind, item.name)
        if not self._target(item.entity, what):
            return False
        for name in fields:
            self._extension_field(item.entity, name, what)
        taken = next((x for x in placed.get(item.entity, []) if x.name == item.name), None)
        self._unique(kind, (item.entity, item.name), item.name,
                     taken and self.registry.owner(taken))
        return True

    def _form_sections(self, section: FormSection) -> bool:
        return self._desk_contribution(
            "form section", section, _("form section {name}").format(name=section.name),
            self.registry.sections, section.fields)

    def _list_columns(self, column: ListColumn) -> bool:
        return self._desk_contribution(
            "list column", column, _("list column {name}").format(name=column.name),
            self.registry.columns, (column.field,) if column.field else ())

    def _dashboard(self, item: DashboardCard | DashboardChart) -> bool:
        """A card or chart: named after the plugin, once in the site, needing a permission
        that the kernel, this plugin or one it comes after declares."""
        self._prefixed("dashboard item", item.name)
        if item.permission is not None and item.permission not in self.registry.permissions \
                and ("permission", item.permission) not in self.keys:
            raise Refused(_("{kind} {name}: unknown permission {permission}").format(
                kind=_(KINDS["dashboard item"]), name=item.name, permission=item.permission))
        taken = next((x for x in self.registry.dashboard if x.name == item.name), None)
        self._unique("dashboard item", item.name, item.name,
                     taken and self.registry.owner(taken))
        return True

    def _routers(self, _router: Any) -> bool:
        return True

    # -- commit ----------------------------------------------------------------------

    def commit(self) -> None:
        """Take every accepted contribution into the registry."""
        registry = self.registry
        for hook, unit, item in self.accepted:
            registry._sources[id(item)] = (self.plugin, unit, hook)
            if hook in KEYED:
                store, key = KEYED[hook]
                getattr(registry, store)[key(item)] = item
            elif hook in BY_ENTITY:
                getattr(registry, BY_ENTITY[hook]).setdefault(item.entity, []).append(item)
            elif hook == "fixdesk_routers":
                registry.routers.append(item)
            elif hook == "fixdesk_dashboard":
                registry.dashboard.append(item)
            elif hook == "fixdesk_scheduled_jobs":
                registry.schedules.append(item)
                if item.name not in registry.job_handlers:
                    handler = JobHandler(item.name, item.func)
                    registry.job_handlers[item.name] = handler
                    registry._sources[id(handler)] = (self.plugin, unit, hook)
        registry.inactive.extend(self.inactive)
