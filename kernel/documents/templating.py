"""Jinja2 for printed papers: the loader chain and the sandbox.

Templates resolve site ``templates/`` first, then each enabled plugin's
``templates/``, then the kernel's top-level ``templates/``: an admin overrides
a layout by copying one file into the site. Every template runs in Jinja2's
sandbox, because site templates are written by admins: reaching for
``__class__``, ``__globals__``, files or modules raises ``SecurityError``.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from functools import partial
from pathlib import Path

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, select_autoescape
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from kernel import template_code
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


def _file_key(found: os.stat_result) -> tuple:
    return found.st_ino, found.st_size, found.st_mtime_ns


class PaperLoader(BaseLoader):
    """The loader chain of printed papers: the first folder that has a template wins.

    A template loaded from one folder is stale (reloaded by the next print, in every
    process, without a restart) as soon as its file changes or is removed, or an earlier
    folder gets a file of that name: a site copy made, edited or reverted after a paper
    was printed is what the next print uses. (Jinja2's ``ChoiceLoader`` only watches
    the file it loaded, so a new site copy would go unnoticed.)
    """

    def __init__(self, folders: list[Path]):
        self.folders = [str(folder) for folder in folders]

    def get_source(self, environment, template: str):
        """The source of ``template``, its file and a check of whether it is still the one
        the chain would load."""
        pieces = split_template_path(template)
        for index, folder in enumerate(self.folders):
            filename = posixpath.join(folder, *pieces)
            try:
                with open(filename, encoding="utf-8") as fh:
                    opened = os.fstat(fh.fileno())
                    if not stat.S_ISREG(opened.st_mode):
                        continue
                    contents = fh.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            earlier = [posixpath.join(other, *pieces) for other in self.folders[:index]]

            def uptodate(filename=filename, key=_file_key(opened), earlier=earlier) -> bool:
                try:
                    if _file_key(os.stat(filename)) != key:
                        return False
                except OSError:
                    return False
                return not any(os.path.isfile(path) for path in earlier)

            return contents, os.path.normpath(filename), uptodate
        raise TemplateNotFound(template)


def paper_folders(app) -> list[Path]:
    """The folders printed papers are loaded from, in order: the site's ``templates/``
    (even before it exists: a copy made later is found), then the plugins' and the
    kernel's."""
    return [app.site.path / "templates",
            *(folder for owner, folder in search_path(app) if owner != "site")]


#: what a paper may print of a user: who they are, never how they log in (the password
#: hash, the lock counters) — a class may say the same with ``__print_fields__``
USER_PRINT_FIELDS = frozenset({"id", "username", "full_name", "email", "employee_id",
                               "employee", "home_branch", "home_branch_id", "locale",
                               "roles"})
#: attributes no paper prints, whatever object has them (a plugin's own secrets too)
SECRET_NAME = re.compile(r"password|passwd|secret|token|hash|csrf|api_?key|private_?key"
                         r"|signing|salt|credential|database_url|migrate_url|smtp",
                         re.IGNORECASE)


def _print_fields(cls) -> frozenset | None:
    """The attributes a paper may read of instances of ``cls`` (None: any that is not
    secret). Users show :data:`USER_PRINT_FIELDS`; logins' tables (tokens, sessions,
    failures) and the running site (app, site, configuration, database session,
    context) nothing."""
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

    from kernel.auth import ApiToken, User
    from kernel.context import Context
    from kernel.login import LoginFailure, WebSession

    if issubclass(cls, User):
        return USER_PRINT_FIELDS
    if issubclass(cls, (ApiToken, WebSession, LoginFailure, Context, Session, Engine,
                        Connection)) or cls.__module__ == "kernel.site":  # App, Site, config
        return frozenset()
    return getattr(cls, "__print_fields__", None)


class PaperSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, which also keeps secrets off paper: an admin edits
    templates, but must not print a user's password hash, an API token or the site's
    configuration through them (``{{ user.password_hash }}`` fails the print like any
    unsafe attribute)."""

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        """Jinja2's rule, then: no secret-looking name, and for users and the site's
        machinery only the fields a paper may show (:func:`_print_fields`)."""
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, dict):  # a template's own data (``document``): keys, not fields
            return True
        if SECRET_NAME.search(attr):
            return False
        allowed = _print_fields(type(obj))
        return allowed is None or attr in allowed


def environment(app, locale: str) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment for printing in ``locale`` (one per app and locale)."""
    cache = app.__dict__.setdefault("_print_envs", {})
    env = cache.get(locale)
    if env is not None:
        return env
    env = PaperSandbox(
        loader=PaperLoader(paper_folders(app)),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        auto_reload=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=template_code.for_environments("paper"),
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
