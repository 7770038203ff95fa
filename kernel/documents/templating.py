"""Jinja2 for printed papers: the loader chain and the sandbox.

Templates resolve site ``templates/`` first, then each enabled plugin's
``templates/``, then the kernel's top-level ``templates/``: an admin overrides
a layout by copying one file into the site. Every template runs in Jinja2's
sandbox, because site templates are written by admins: reaching for
``__class__``, ``__globals__``, files or modules raises ``SecurityError``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from kernel.documents import filters
from kernel.i18n import translations
from kernel.paths import template_dirs


def search_path(app) -> list[tuple[str, Path]]:
    """The template folders in the order they are searched, with who owns each."""
    chain = [("site", app.site.path / "templates")]
    for name in app.enabled_plugins:
        folder = app.plugins[name].templates_dir
        if folder is not None:
            chain.append((name, folder))
    chain += [("kernel", folder) for folder in template_dirs()]
    return [(owner, folder) for owner, folder in chain if folder.is_dir()]


def which_template(app, template: str) -> tuple[str, Path] | None:
    """Who provides ``template`` (the first folder of the chain that has it), and the file."""
    for owner, folder in search_path(app):
        candidate = folder / template
        if candidate.is_file():
            return owner, candidate
    return None


def environment(app, locale: str) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment for printing in ``locale`` (one per app and locale)."""
    cache = app.__dict__.setdefault("_print_envs", {})
    env = cache.get(locale)
    if env is not None:
        return env
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for _o, folder in search_path(app)]),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        auto_reload=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    alias = env.globals["_"]  # the i18n extension's alias of gettext
    env.globals.clear()  # no range/lipsum/cycler/joiner/namespace: nothing to climb from
    env.globals["_"] = alias
    gettext = translations(locale)
    env.install_gettext_callables(gettext.gettext, gettext.ngettext, newstyle=True)
    config = app.site.config
    env.filters.update({
        "money": partial(filters.money, currency=config.currency, locale=locale),
        "capital": filters.capital,
        "date": partial(filters.date, tz=config.tz, locale=locale),
        "datetime": partial(filters.datetime, tz=config.tz, locale=locale),
        "number": partial(filters.number, locale=locale),
        "qr": filters.qr,
        "barcode": filters.barcode,
    })
    cache[locale] = env
    return env
