"""gettext for every user-facing string (zh_CN and en ship).

Each package ships its own catalogue, a ``.po`` file per language, compiled in
memory the first time the language is used (the repository carries no ``.mo``):

- the kernel's: ``kernel/locale/<locale>/LC_MESSAGES/fixdesk.po``, the strings of
  ``kernel/`` and ``templates/``;
- each plugin's: ``<plugin package>/locale/<locale>/LC_MESSAGES/<plugin name>.po``,
  merged by :func:`add_catalogue` when a site starts (:class:`kernel.site.App`), so a
  plugin installed from outside the repository speaks Chinese too.

The CLI speaks the terminal's language (``FIXDESK_LANG``, then ``LANGUAGE``,
``LC_ALL``, ``LANG``); the desk and printed papers use the user's or site's locale.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar
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


#: plugin locale folders merged into every language's translations -> their domain,
#: in the order registered
_catalogues: dict[Path, str] = {}
#: one translations object per locale, kept for the life of the process
_translations: dict[str, _gettext.NullTranslations] = {}
_lock = threading.Lock()


def _compile(folder: Path, domain: str, locale: str) -> _gettext.GNUTranslations | None:
    """``folder/<locale>/LC_MESSAGES/<domain>.po`` compiled in memory; None when absent.

    Fuzzy and untranslated entries are left out, so lookups fall through to the next
    catalogue (or the English msgid).
    """
    po_file = folder / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po_file.is_file():
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_file.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def add_catalogue(folder: Path, domain: str) -> None:
    """Merge a plugin's catalogues: ``folder/<locale>/LC_MESSAGES/<domain>.po``.

    Called by the site for each loaded plugin with ``<package>/locale`` and the
    plugin's name. Registering a folder again is a no-op; a folder (or a language)
    without a catalogue changes nothing. It takes effect at once, also on the
    objects :func:`translations` has already handed out (Jinja environments keep
    theirs): the plugin's catalogue is added to each as a further fallback.
    """
    folder = Path(folder).resolve()
    with _lock:
        if folder in _catalogues:
            return
        _catalogues[folder] = domain
        for locale, merged in _translations.items():
            compiled = _compile(folder, domain, locale)
            if compiled is not None:
                merged.add_fallback(compiled)


def translations(locale: str) -> _gettext.NullTranslations:
    """The translations of ``locale``: one object per language for the life of the process.

    It is the kernel's catalogue (a null one for English), with each plugin catalogue
    registered by :func:`add_catalogue` chained behind it as a fallback. So where the
    kernel and a plugin both translate a msgid, the kernel wins: a plugin cannot
    reword the kernel's shared strings (menus, buttons) under other plugins' feet;
    between plugins, the one registered first (dependency order) wins.
    """
    locale = normalize_locale(locale)
    merged = _translations.get(locale)
    if merged is not None:
        return merged
    with _lock:
        if locale not in _translations:
            merged = _compile(LOCALE_DIR, DOMAIN, locale) or _gettext.NullTranslations()
            for folder, domain in _catalogues.items():
                compiled = _compile(folder, domain, locale)
                if compiled is not None:
                    merged.add_fallback(compiled)
            _translations[locale] = merged
        return _translations[locale]


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


def current_locale() -> str:
    """The language :func:`_` speaks now: the desk user's, else the terminal's."""
    return _current_locale.get() or terminal_locale()


def _(message: str) -> str:
    """Translate ``message`` into the current desk user's language, else the terminal's."""
    return translations(current_locale()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (enum values, constants)."""
    return message


def zone_name(tz) -> str:
    """A time zone as people say it in the current language ("中国（上海）时间"), not
    its identifier."""
    from babel.dates import get_timezone_location

    try:
        return get_timezone_location(tz, locale=current_locale())
    except (LookupError, ValueError):
        return str(tz)
