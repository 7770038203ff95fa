"""HTML → PDF with WeasyPrint: fonts, stylesheets, a locked-down URL fetcher, missing glyphs.

* One ``FontConfiguration`` and the parsed stylesheets are kept per process:
  building them per render leaks memory in a long-running server.
* Papers name the compact CJK faces of :mod:`.fonts` first (declared here once they are
  built), the full Noto faces after them.
* Stylesheets are passed as parsed ``CSS`` objects, never inlined through
  Jinja (autoescape would turn quotes into entities and silently drop rules).
* The URL fetcher lets a template load only inline ``data:`` URLs and files in
  the site's ``assets/`` folder (logo, stamp). Any other file and every
  network address is refused, and the print fails with :class:`PrintError`
  naming the URL, wherever WeasyPrint asked for it: while laying out (images,
  stylesheets, fonts), while writing the PDF (attachments) or inside an SVG
  image (where WeasyPrint would only log the failure and leave the image out).
* WeasyPrint only *logs* a character no installed font has (``.notdef glyph
  rendered``) and still extracts the right text; here such a render fails,
  naming the characters.
"""

from __future__ import annotations

import logging
import shutil
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from kernel.db import let_others_read
from kernel.errors import FixdeskError
from kernel.i18n import _
from kernel.paths import template_dirs

BASE_CSS = "print/base.css"


class PrintError(FixdeskError):
    """A document could not be printed (bad template, forbidden resource, missing glyphs)."""

    status = 422
    code = "print_error"


@cache
def font_config():
    """The process's one font configuration."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


_css_cache: dict[tuple, object] = {}
_css_lock = threading.Lock()


def stylesheet(path: Path):
    """The parsed stylesheet at ``path``, re-read only when the file changes."""
    from weasyprint import CSS

    key = ("file", str(path), path.stat().st_mtime_ns)
    with _css_lock:
        css = _css_cache.get(key)
        if css is None:
            css = _css_cache[key] = CSS(filename=str(path), font_config=font_config())
        return css


def page_stylesheet(width: str, height: str, footer: str):
    """``@page`` size and the "page x of y" footer, parsed once per paper and language."""
    from weasyprint import CSS

    key = ("page", width, height, footer)
    with _css_lock:
        css = _css_cache.get(key)
        if css is None:
            text = footer.replace("\\", "\\\\").replace('"', '\\"')
            parts = text.replace("{page}", '" counter(page) "').replace(
                "{pages}", '" counter(pages) "')
            css = CSS(string=f'@page {{ size: {width} {height}; '
                             f'@bottom-center {{ content: "{parts}"; }} }}',
                      font_config=font_config())
            _css_cache[key] = css
        return css


_faces: list = []  # the compact faces' stylesheet, once they are built


def faces_stylesheet():
    """The compact print faces' ``@font-face`` rules (:mod:`.fonts`), or None until built.

    Looked for at each print until found, then kept: WeasyPrint has copied the faces."""
    if _faces:
        return _faces[0]
    from weasyprint import CSS

    from kernel.documents.fonts import font_face_css

    rules = font_face_css()
    if not rules:
        return None
    with _css_lock:
        if not _faces:
            _faces.append(CSS(string=rules, font_config=font_config()))
            _remove_copies_at_exit(font_config())
        return _faces[0]


def _remove_copies_at_exit(config) -> None:
    """Remove WeasyPrint's copies of the ``@font-face`` files when the process ends.

    WeasyPrint copies them into a temporary folder that it removes when the font
    configuration is collected, which the process's one configuration never is (its
    ``__del__`` at interpreter exit finds ``rmtree`` gone). A multiprocessing finalizer
    also runs in the batch pool's worker processes, which skip ``atexit``."""
    from multiprocessing.util import Finalize

    Finalize(None, _remove_copies, args=(config,), exitpriority=0)


def _remove_copies(config) -> None:
    folder, config._folder = getattr(config, "_folder", None), None  # __del__: nothing left
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def remove_font_copies() -> None:
    """Remove WeasyPrint's copies of the ``@font-face`` files now (a process about to
    end without running its exit handlers)."""
    if font_config.cache_info().currsize:
        _remove_copies(font_config())


def kernel_stylesheet_path() -> Path:
    for folder in template_dirs():
        if (folder / BASE_CSS).is_file():
            return folder / BASE_CSS
    raise PrintError(_("the kernel's print stylesheet is missing"))


def _refusal(url: str) -> str:
    return _("a template may only load files from the site's assets folder, not {url}").format(
        url=url[:200])


def _allowed_file(url: str, assets: Path) -> bool:
    """Whether the ``file:`` URL names a file inside ``assets`` (a malformed one does not)."""
    from urllib.parse import unquote, urlparse

    try:
        path = Path(unquote(urlparse(url).path)).resolve()
        return path.is_relative_to(assets.resolve()) and path.is_file()
    except (OSError, ValueError):  # a NUL in the path, a name too long
        return False


class SiteURLFetcher:
    """Lets templates load ``data:`` URLs and files under the site's ``assets/`` only.

    A refused URL raises WeasyPrint's fatal error and is also kept in the fetcher's
    ``refused`` list: WeasyPrint swallows even fatal errors inside SVG images, so
    :func:`render` and :func:`write` check the list afterwards."""

    def __new__(cls, assets: Path):
        from weasyprint.urls import FatalURLFetchingError, URLFetcher

        class _Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if url.startswith("data:"):
                    return super().fetch(url, headers)
                if url.startswith("file://") and _allowed_file(url, assets):
                    return super().fetch(url, headers)
                self.refused.append(url)
                raise FatalURLFetchingError(_refusal(url))

        fetcher = _Fetcher(allowed_protocols={"data", "file"}, allow_redirects=False,
                           fail_on_errors=True, timeout=5)
        fetcher.refused = []
        return fetcher


def _check_refused(documents) -> None:
    """:class:`PrintError` for the first URL the fetchers of ``documents`` refused."""
    for document in documents:
        refused = getattr(document.url_fetcher, "refused", None)
        if refused:
            raise PrintError(_refusal(refused[0]))


@contextmanager
def _fetch_errors():
    """WeasyPrint's fatal fetching error (a ``BaseException``) as :class:`PrintError`."""
    from weasyprint.urls import FatalURLFetchingError

    try:
        yield
    except FatalURLFetchingError as exc:
        raise PrintError(str(exc.__cause__ or exc)
                         or _("a resource of the template could not be loaded")) from exc


class _GlyphWatch(logging.Handler):
    """Collects WeasyPrint's missing-glyph warnings of one thread."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.missing: list[str] = []

    def emit(self, record):
        if record.thread == self.thread and str(record.msg).startswith(".notdef glyph"):
            self.missing.append(record.args[0] if record.args else "?")


def render(html: str, *, base_dir: Path, width: str, height: str, footer: str,
           extra_css: list[Path] = ()):
    """Lay out ``html`` as a WeasyPrint document (not yet written)."""
    from weasyprint import HTML

    let_others_read()  # a layout takes a while and runs no statement
    faces = faces_stylesheet()
    sheets = [*([faces] if faces else []), stylesheet(kernel_stylesheet_path()),
              *(stylesheet(p) for p in extra_css), page_stylesheet(width, height, footer)]
    with _fetch_errors():
        document = HTML(string=html, base_url=str(base_dir) + "/",
                        url_fetcher=SiteURLFetcher(base_dir / "assets")).render(
            font_config=font_config(), stylesheets=sheets)
    _check_refused([document])
    return document


def write(documents) -> bytes:
    """Write one or more laid-out documents as one PDF; fail on characters no font has."""
    watch = _GlyphWatch()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(watch)
    try:
        first = documents[0]
        pages = [page for doc in documents for page in doc.pages]
        with _fetch_errors():  # attachments and SVG images are fetched while writing
            pdf = (first if len(documents) == 1 else first.copy(pages)).write_pdf()
    finally:
        logger.removeHandler(watch)
    _check_refused(documents)
    if watch.missing:
        chars = "".join(dict.fromkeys(watch.missing))
        codes = ", ".join(f"U+{ord(c):04X}" for c in chars)
        raise PrintError(_("no installed font has these characters: {chars} ({codes})")
                         .format(chars=chars, codes=codes))
    return pdf
