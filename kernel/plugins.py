"""Plugin discovery, manifests, dependency order and the site's pluggy manager.

Discovery reads the ``fixdesk.plugins`` entry points and each plugin's
``manifest.toml`` *without importing the plugin*: listing, ordering and
dependency checks never run plugin code, so a broken plugin cannot break
discovery. Only the plugins a site enables are imported, when the site starts.
"""

from __future__ import annotations

import heapq
import importlib
import importlib.util
import tomllib
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from kernel import hookspecs
from kernel.errors import PluginError
from kernel.hookspecs import KERNEL
from kernel.i18n import _

ENTRY_POINT_GROUP = "fixdesk.plugins"


@dataclass
class PluginInfo:
    """What the kernel knows about a plugin before (and after) importing it."""

    name: str
    module: str
    path: Path | None = None
    title: str = ""
    version: str = ""
    depends: tuple[str, ...] = ()
    integrates: tuple[str, ...] = ()
    description: str = ""
    distribution: str | None = None
    #: why the plugin cannot be used (bad manifest, failed import); None when fine
    error: str | None = None

    @property
    def migrations_dir(self) -> Path | None:
        """The plugin's Alembic versions folder, if it has one."""
        if self.path is None:
            return None
        versions = self.path / "migrations" / "versions"
        return versions if versions.is_dir() else None

    @property
    def templates_dir(self) -> Path | None:
        """The plugin's templates folder, if it has one."""
        if self.path is None:
            return None
        folder = self.path / "templates"
        return folder if folder.is_dir() else None


def _package_dir(module: str) -> Path:
    """Folder of the package holding ``module``, found without importing anything."""
    parts = module.split(".")
    spec = importlib.util.find_spec(parts[0])
    if spec is None:
        raise ModuleNotFoundError(f"no module named {parts[0]!r}")
    if spec.submodule_search_locations is None:  # a top-level single-file module
        return Path(spec.origin).parent
    locations = list(spec.submodule_search_locations)
    for part in parts[1:]:
        found = [Path(loc) / part for loc in locations if (Path(loc) / part).is_dir()]
        if not found:  # ``part`` is a module file inside the last package
            break
        locations = [str(p) for p in found]
    return Path(locations[0])


def read_manifest(info: PluginInfo) -> None:
    """Fill ``info`` from its ``manifest.toml``; record a readable error instead of raising."""
    try:
        info.path = _package_dir(info.module)
        manifest_file = info.path / "manifest.toml"
        data = tomllib.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        info.error = _("no manifest.toml beside {module}").format(module=info.module)
        return
    except (ModuleNotFoundError, tomllib.TOMLDecodeError, OSError, ValueError) as exc:
        info.error = _("unreadable manifest: {error}").format(error=exc)
        return
    if data.get("name") != info.name:
        info.error = _("manifest names {found!r}, entry point names {expected!r}").format(
            found=data.get("name"), expected=info.name
        )
        return
    info.title = str(data.get("title", info.name))
    info.version = str(data.get("version", "0"))
    info.depends = tuple(data.get("depends", ()))
    info.integrates = tuple(data.get("integrates", ()))
    info.description = str(data.get("description", ""))


def discover() -> dict[str, PluginInfo]:
    """All plugins installed in this Python environment, by name, manifests read.

    Nothing is imported. The name ``kernel`` is reserved.
    """
    found: dict[str, PluginInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        info = PluginInfo(name=ep.name, module=ep.value.split(":")[0],
                          distribution=ep.dist.name if ep.dist else None)
        if ep.name in found or ep.name == KERNEL:
            if ep.name in found and found[ep.name].module == info.module:
                continue  # the same distribution seen twice on sys.path
            info.error = _("plugin name {name!r} is already taken").format(name=ep.name)
            found[f"{ep.name}@{info.module}"] = info
            continue
        read_manifest(info)
        found[ep.name] = info
    return dict(sorted(found.items()))


def in_order(units: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """Names of ``units`` (name, what it comes after) so each comes after those it names
    that are among them; name breaks ties. Units in a cycle are left out."""
    names = {n for n, _d in units}
    blockers = {n: {d for d in deps if d in names} for n, deps in units}
    ready = [n for n, deps in blockers.items() if not deps]
    heapq.heapify(ready)
    order = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for other, deps in blockers.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, other)
    return order


def dependency_order(plugins: dict[str, PluginInfo], names: Iterable[str]) -> list[str]:
    """``names`` sorted so every plugin comes after its dependencies; name breaks ties.

    Raises :class:`PluginError` for unknown plugins, missing dependencies and cycles.
    """
    wanted = set(names)
    for name in sorted(wanted):
        if name not in plugins:
            raise PluginError(_("unknown plugin {name!r}").format(name=name))
        missing = [d for d in plugins[name].depends if d not in wanted]
        if missing:
            raise PluginError(_("{name} depends on {missing}, which is not enabled").format(
                name=name, missing=", ".join(missing)))
    order = in_order([(n, plugins[n].depends) for n in wanted])
    if len(order) != len(wanted):
        cycle = sorted(wanted - set(order))
        raise PluginError(_("dependency cycle between plugins: {names}").format(
            names=", ".join(cycle)))
    return order


def dependents(plugins: dict[str, PluginInfo], enabled: Iterable[str], name: str) -> list[str]:
    """Enabled plugins that depend on ``name`` directly."""
    return sorted(n for n in enabled if n in plugins and name in plugins[n].depends)


def import_plugin(info: PluginInfo):
    """Import a plugin's module; on failure record the error on ``info`` and return None."""
    if info.error:
        return None
    try:
        return importlib.import_module(info.module)
    except Exception as exc:  # any failure in foreign code must not stop the site
        last = traceback.extract_tb(exc.__traceback__)[-1]
        info.error = _("import failed: {type}: {error} ({file}:{line})").format(
            type=type(exc).__name__, error=exc, file=Path(last.filename).name, line=last.lineno)
        return None


@dataclass(frozen=True)
class Inactive:
    """Something of an enabled plugin that waits for partners: a part (glue) or a
    contribution naming another plugin's entity, while those plugins are not enabled."""

    plugin: str
    #: what it is, for people: ``part acme.repair``, ``action repair_work_order.acme_claim``
    what: str
    needs: tuple[str, ...]


@dataclass
class LoadedPlugins:
    """The result of building a site's plugin manager."""

    pm: pluggy.PluginManager
    #: every registered plugin and part in the order their hooks run (the kernel first)
    sequence: list[str] = field(default_factory=list)
    #: enabled plugins that could not be loaded, name -> reason
    failed: dict[str, str] = field(default_factory=dict)
    #: what of the registered plugins waits for partners that are not enabled
    inactive: list[Inactive] = field(default_factory=list)
    #: each plugin's dependencies (for :meth:`drop`)
    depends: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: each registered part's needs: manager name -> plugins
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        """Names of registered plugins, in dependency order (the kernel first)."""
        return [unit for unit in self.sequence if "." not in unit]

    def parts(self, plugin: str) -> list[str]:
        """The registered parts of ``plugin``, by their names in the manager (``acme.repair``)."""
        return [unit for unit in self.sequence if unit.startswith(plugin + ".")]

    def units(self, plugin: str) -> list[str]:
        """The manager names of ``plugin``'s hook implementations: itself, then its parts."""
        return [plugin, *self.parts(plugin)]

    def owner(self, unit: str) -> str:
        """The plugin a manager name belongs to (``billing.invoicing`` → ``billing``)."""
        return unit.split(".", 1)[0]

    def _unregister(self, units: list[str]) -> None:
        for unit in units:
            if self.pm.has_plugin(unit):
                self.pm.unregister(name=unit)
        self.sequence = [u for u in self.sequence if u not in units]

    def drop(self, plugin: str, reason: str) -> None:
        """Take ``plugin`` out of the manager (its registration failed) with everything
        that cannot run without it: plugins that depend on it fail too, parts of other
        plugins that need it become inactive."""
        queue = [(plugin, reason)]
        while queue:
            name, why = queue.pop(0)
            if name not in self.sequence:
                continue
            self._unregister(self.units(name))
            self.failed[name] = why
            queue += [(other, _("depends on {names}, which failed to load").format(names=name))
                      for other in self.order if name in self.depends.get(other, ())]
            waiting = [u for u in self.sequence if name in self.needs.get(u, ())]
            self._unregister(waiting)
            self.inactive += [Inactive(self.owner(u), _("part {name}").format(name=u),
                                       self.needs[u]) for u in waiting]


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("fixdesk")
    pm.add_hookspecs(hookspecs)
    return pm


def _usable_order(plugins: dict[str, PluginInfo], enabled: list[str],
                  failed: dict[str, str]) -> list[str]:
    """Dependency order of the enabled plugins that are installed and whose dependencies are
    enabled too; the others go to ``failed`` with the reason."""
    for name in enabled:
        if name not in plugins:
            failed[name] = _("not installed")
    usable = [n for n in enabled if n in plugins]
    changed = True
    while changed:
        changed = False
        for name in list(usable):
            missing = [d for d in plugins[name].depends if d not in usable]
            if missing:
                failed[name] = _("depends on {names}, which is not enabled or not installed") \
                    .format(names=", ".join(missing))
                usable.remove(name)
                changed = True
    return dependency_order(plugins, usable)


def answer_of(pm: pluggy.PluginManager, hook_name: str, unit: str, **kwargs):
    """What one registered object (``unit``: a plugin or a part) answers to a hook; None
    when it does not implement it."""
    caller = getattr(pm.hook, hook_name, None)
    if caller is None:
        return None
    for impl in caller.get_hookimpls():
        if impl.plugin_name == unit:
            return impl.function(**kwargs)
    return None


def _resolve_hooks(part, module):
    """The object of a part's hooks: as given, or the module named (relative names are
    inside the plugin's package)."""
    if not isinstance(part.hooks, str):
        return part.hooks
    package = module.__name__.rpartition(".")[0] or module.__name__
    return importlib.import_module(part.hooks, package=package)


def _fail_registration(scratch, failed, info, name, error) -> None:
    for unit in [u for u in scratch.list_name_plugin() if u[0] == name
                 or u[0].startswith(name + ".")]:
        scratch.unregister(name=unit[0])  # pluggy keeps a half-registered plugin
    failed[name] = info.error = error


def build_plugin_manager(plugins: dict[str, PluginInfo], enabled: Iterable[str],
                         builtin: object) -> LoadedPlugins:
    """A fresh pluggy manager with the kernel and the enabled plugins that load cleanly,
    each with its parts whose partners are enabled.

    A plugin that is not installed, fails to import, implements a hook with the
    wrong signature (itself or one of its parts), or depends on such a plugin is
    left out and reported in ``failed``; the others still load. Plugins are checked
    on a scratch manager in dependency order (so each hook's spec exists before its
    implementations are validated), then registered on the real manager in reverse
    order: pluggy calls the most recently registered implementation first, so hooks
    run in dependency order, the kernel's first, and a part after its plugin and
    after the partners it needs.
    """
    failed: dict[str, str] = {}
    order = _usable_order(plugins, list(dict.fromkeys(enabled)), failed)
    scratch = _new_manager()
    scratch.register(builtin, name=KERNEL)
    scratch.hook.fixdesk_addhooks.call_historic(kwargs={"pluginmanager": scratch})
    objects: dict[str, object] = {}
    units: list[tuple[str, tuple[str, ...]]] = []
    parts: dict[str, list] = {}
    for name in order:
        info = plugins[name]
        broken = [d for d in info.depends if d in failed]
        if broken:
            failed[name] = _("depends on {names}, which failed to load").format(
                names=", ".join(broken))
            continue
        module = import_plugin(info)
        if module is None:
            failed[name] = info.error or ""
            continue
        try:
            scratch.register(module, name=name)
            found = []
            for part in answer_of(scratch, "fixdesk_parts", name) or []:
                unlisted = [n for n in part.needs
                            if n not in info.integrates and n not in info.depends]
                if unlisted:
                    raise PluginError(_("part {part} needs {names}, which manifest.toml does "
                                       "not name in integrates").format(
                                           part=part.name, names=", ".join(unlisted)))
                hooks = _resolve_hooks(part, module)
                found.append((part, hooks))
            parts[name] = found
        except PluginError as exc:
            _fail_registration(scratch, failed, info, name, exc.message)
            continue
        except (pluggy.PluginValidationError, ValueError) as exc:
            _fail_registration(scratch, failed, info, name,
                               _("invalid hooks: {error}").format(error=exc))
            continue
        except Exception as exc:  # foreign code: a failing part stops only its plugin
            _fail_registration(scratch, failed, info, name, _(
                "its parts could not be loaded: {type}: {error}").format(
                    type=type(exc).__name__, error=exc))
            continue
        objects[name] = module
        units.append((name, info.depends))
    loaded = LoadedPlugins(pm=_new_manager(), failed=failed)
    for name, found in parts.items():  # every plugin's hookspecs are known by now
        for part, hooks in found:
            if not set(part.needs) <= set(objects):
                continue  # a partner's hooks cannot be checked without its specs
            try:
                scratch.register(hooks, name=f"{name}.{part.name}")
            except (pluggy.PluginValidationError, ValueError) as exc:
                _fail_registration(scratch, failed, plugins[name], name, _(
                    "invalid hooks in part {part}: {error}").format(part=part.name, error=exc))
                break
    usable = {n for n in objects if n not in failed}
    changed = True
    while changed:  # a plugin whose dependency failed above fails too
        changed = False
        for name in sorted(usable):
            broken = [d for d in plugins[name].depends if d not in usable]
            if broken:
                failed[name] = _("depends on {names}, which failed to load").format(
                    names=", ".join(broken))
                usable.discard(name)
                changed = True
    for name, found in parts.items():
        if name not in usable:
            continue
        for part, hooks in found:
            unit = f"{name}.{part.name}"
            if not set(part.needs) <= usable:
                loaded.inactive.append(Inactive(name, _("part {name}").format(name=unit),
                                                part.needs))
                continue
            objects[unit] = hooks
            loaded.needs[unit] = part.needs
            units.append((unit, (name, *part.needs)))
    ordered = [u for u in in_order(units) if loaded.owner(u) in usable]
    for unit in reversed(ordered):
        loaded.pm.register(objects[unit], name=unit)
    loaded.pm.register(builtin, name=KERNEL)
    loaded.pm.hook.fixdesk_addhooks.call_historic(kwargs={"pluginmanager": loaded.pm})
    loaded.sequence = [KERNEL, *ordered]
    loaded.depends = {n: plugins[n].depends for n in loaded.order if n in plugins}
    return loaded


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> dict[str, object]:
    """Call one hook plugin by plugin: ``{plugin name: its answer}`` in call order."""
    caller = getattr(pm.hook, hook_name)
    answers: dict[str, object] = {}
    for impl in reversed(caller.get_hookimpls()):
        answers[impl.plugin_name] = impl.function(**kwargs)
    return answers


# --------------------------------------------------------------------------
# every installed plugin's state on a site (``fixdesk plugins list``, the admin console)
# --------------------------------------------------------------------------

#: a plugin's state on a site (:attr:`PluginState.state`)
ENABLED, AVAILABLE, NOT_LOADED, NOT_INSTALLED = "enabled", "available", "not_loaded", \
    "not_installed"


@dataclass
class PluginState:
    """One plugin as a site sees it: installed or not, enabled or not, loaded or why not,
    its registered parts and what of it waits for partners that are not enabled."""

    name: str
    #: its manifest (None for a plugin that is enabled but not installed)
    info: PluginInfo | None
    #: :data:`ENABLED`, :data:`AVAILABLE`, :data:`NOT_LOADED` (enabled, but it failed to
    #: load: see ``error``) or :data:`NOT_INSTALLED` (enabled, not installed)
    state: str
    #: why it cannot be used (failed to load, bad manifest), "" when fine
    error: str = ""
    #: its registered parts, by their names in the plugin manager (``acme.repair``)
    parts: list[str] = field(default_factory=list)
    #: what of it waits for partners that are not enabled (:class:`Inactive`)
    inactive: list[Inactive] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        """Whether the site's configuration enables it (loaded or not)."""
        return self.state != AVAILABLE

    @property
    def version(self) -> str:
        return self.info.version if self.info else ""

    @property
    def depends(self) -> tuple[str, ...]:
        return self.info.depends if self.info else ()


def plugin_states(site, app=None) -> list[PluginState]:
    """Every installed plugin with its state on ``site`` (a :class:`kernel.site.Site`), by
    name, then the enabled plugins that are not installed, in the configuration's order.

    ``app`` is the site's running :class:`kernel.site.App` when there is one (the desk's);
    without it a site with plugins is started (and closed again) to learn which of them
    load, their parts and what waits for partners. What ``fixdesk plugins list`` prints and
    the admin console's "Modules" page shows."""
    enabled = list(site.config.plugins)
    found = discover()
    failed: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    waiting: dict[str, list[Inactive]] = {}
    if enabled:
        # with the web routes: a plugin whose routers fail is listed as not loaded
        running = app if app is not None else site.start(web=True)
        try:
            failed = dict(running.failed_plugins)
            found = running.plugins
            for name in running.enabled_plugins:
                parts[name] = list(running.parts(name))
            for item in running.inactive:
                waiting.setdefault(item.plugin, []).append(item)
        finally:
            if app is None:
                running.close()
    states = []
    for name, info in found.items():
        error = failed.get(name) or info.error or ""
        state = (NOT_LOADED if error else ENABLED) if name in enabled else AVAILABLE
        states.append(PluginState(name, info, state, error, parts.get(name, []),
                                  waiting.get(name, [])))
    states += [PluginState(name, None, NOT_INSTALLED) for name in enabled if name not in found]
    return states


#: translated catalogues of plugins that are not loaded: (folder, domain, locale) → them
_idle_catalogues: dict[tuple, object] = {}


def plugin_text(info: PluginInfo, text: str) -> tuple[str, bool]:
    """``text`` of ``info``'s manifest (its title, its description) in the current language,
    and whether it is translated: from the catalogues of the loaded plugins, else from the
    plugin's own catalogue, read (not imported) for a plugin that is not loaded. English
    text stays as it is (``False``) when neither has it."""
    from kernel import i18n

    if not text:
        return text, True
    locale = i18n.current_locale()
    if locale == "en":
        return text, True
    translated = _(text)
    if translated != text:
        return translated, True
    if info.path is None:
        return text, False
    key = (info.path, info.name, locale)
    if key not in _idle_catalogues:
        try:
            _idle_catalogues[key] = i18n._compile(info.path / "locale", info.name, locale)
        except Exception:  # a broken catalogue of someone else's plugin: English then
            _idle_catalogues[key] = None
    catalogue = _idle_catalogues[key]
    if catalogue is not None:
        translated = catalogue.gettext(text)
        if translated != text:
            return translated, True
    return text, False
