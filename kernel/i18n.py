"""gettext for every user-facing string (zh_CN and en ship).

Catalogues are the ``.po`` files under ``kernel/locale`` (and, later, each
plugin's ``locale``), compiled in memory the first time a language is used, so
the repository carries no generated ``.mo`` files.

The CLI speaks the terminal's language (``FIXDESK_LANG``, then ``LANGUAGE``,
``LC_ALL``, ``LANG``); the desk and printed papers use the user's or site's locale.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "fixdesk"
LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("zh_CN", "en")

#: the language of the unit of work in progress (a desk request), if not the terminal's
_current_locale: ContextVar[str | None] = ContextVar("fixdesk_locale", default=None)


def normalize_locale(value: str | None) -> str:
    """Map ``zh_CN.UTF-8``, ``zh-CN``, ``zh`` ... to a shipped locale; default ``en``."""
    if value and value.replace("-", "_").lower().startswith("zh"):
        return "zh_CN"
    return "en"


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalogue for ``locale`` (a null one for English)."""
    locale = normalize_locale(locale)
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "en" or not po_file.exists():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_file.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def terminal_locale() -> str:
    """The language of the terminal running the CLI."""
    for var in ("FIXDESK_LANG", "LANGUAGE", "LC_ALL", "LANG"):
        if os.environ.get(var):
            return normalize_locale(os.environ[var])
    return "en"


@contextmanager
def use_locale(locale: str | None):
    """Within the block, :func:`_` speaks ``locale`` (the desk user's language).

    A context variable, so concurrent requests in other threads or tasks keep theirs.
    """
    token = _current_locale.set(normalize_locale(locale) if locale else None)
    try:
        yield
    finally:
        _current_locale.reset(token)


def _(message: str) -> str:
    """Translate ``message`` into the current desk user's language, else the terminal's."""
    return translations(_current_locale.get() or terminal_locale()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (enum values, constants)."""
    return message
