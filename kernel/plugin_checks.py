"""Checks every plugin should pass, for its own test suite (as Tryton's ``ModuleTestCase``):
what of it is undocumented, and which titles of its contributions speak no Chinese.

Each function takes a started site (:class:`kernel.site.App`) with the plugin loaded and
returns a list of problems for people (empty: all is well), so a plugin's tests read::

    def test_contract(app):
        assert plugin_checks.documentation_problems(app, "acme") == []
        assert plugin_checks.untranslated_titles(app, "acme") == []

The repository's own plugins are held to them by ``tests/kernel/test_plugin_contract.py``.
"""

from __future__ import annotations

import inspect

from kernel.i18n import translations


def _implementations(app, plugin: str):
    """(manager name, hook name, function) of the plugin's and its parts' hook code."""
    units = {plugin, *app.parts(plugin)}
    for name, caller in vars(app.pm.hook).items():
        if name.startswith("_") or not hasattr(caller, "get_hookimpls"):
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin_name in units:
                yield impl.plugin_name, name, impl.function


def _offered_hooks(app, plugin: str):
    """(hook name, spec function) of the hooks the plugin offers other plugins."""
    package = app.plugins[plugin].module.rpartition(".")[0] or app.plugins[plugin].module
    for name, caller in vars(app.pm.hook).items():
        spec = getattr(caller, "spec", None)
        module = getattr(getattr(spec, "namespace", None), "__name__", "")
        if spec is not None and (module == package or module.startswith(package + ".")):
            yield name, spec.function


def _contributions(app, plugin: str):
    """(kind, key, the texts people read) of everything the plugin contributed."""
    registry = app.registry
    mine = lambda item: registry.owner(item) == plugin  # noqa: E731
    for (entity, name), action in registry.actions.items():
        if mine(action):
            yield "action", f"{entity}.{name}", [action.title]
    for name, document in registry.documents.items():
        if mine(document):
            yield "document", name, [document.title]
    for name, report in registry.reports.items():
        if mine(report):
            yield "report", name, [report.title, *(c.label for c in report.columns)]
    for key, setting in registry.settings.items():
        if mine(setting):
            yield "setting", key, [setting.description]
    for name, role in registry.roles.items():
        if mine(role):
            yield "role", name, [role.title]
    for table, sections in registry.sections.items():
        for section in sections:
            if mine(section):
                yield "form section", f"{table}:{section.name}", [section.title]
    for table, columns in registry.columns.items():
        for column in columns:
            if mine(column):
                yield "list column", f"{table}:{column.name}", [column.label]
    for table, extensions in registry.extensions.items():
        for extension in extensions:
            if mine(extension) and extension.title:
                yield "extension", table, [extension.title]
    for cls in registry.entities.get(plugin, []):
        if getattr(cls, "__expose__", True):
            yield "entity", cls.__tablename__, [getattr(cls, "__title__", None)]


def documentation_problems(app, plugin: str) -> list[str]:
    """Hook implementations without a docstring, offered hooks without a docstring or
    without a ``:param`` line per argument, contributions without a title."""
    problems = []
    for unit, hook, function in _implementations(app, plugin):
        if not inspect.getdoc(function):
            problems.append(f"{unit}: the implementation of {hook} has no docstring")
    for hook, function in _offered_hooks(app, plugin):
        doc = inspect.getdoc(function) or ""
        if not doc:
            problems.append(f"hook {hook} (offered) has no docstring")
            continue
        for argument in inspect.signature(function).parameters:
            if f":param {argument}:" not in doc:
                problems.append(f"hook {hook} (offered): no ':param {argument}:' line")
    for kind, key, texts in _contributions(app, plugin):
        if not all(texts):
            problems.append(f"{kind} {key} has no title")
    return problems


def untranslated_titles(app, plugin: str, locale: str = "zh_CN") -> list[str]:
    """The plugin's title (``manifest.toml``) and its contributions' titles and labels
    that the site's catalogues (the kernel's and the plugins') leave untranslated."""
    gettext = translations(locale).gettext
    texts = [("plugin", plugin, app.plugins[plugin].title)]
    texts += [(kind, key, text) for kind, key, found in _contributions(app, plugin)
              for text in found if text]
    return [f"{kind} {key}: {text!r} is not translated" for kind, key, text in texts
            if gettext(text) == text]
