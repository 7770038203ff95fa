"""Print templates as files: which file each paper uses, copying one into the site,
editing the copy safely, previewing an edit, and going back to the shipped template.

What the ``fixdesk templates`` commands and the admin console's *Print templates* page
call. A paper (a registered document or a report) names a template such as
``repair/service_voucher.html``; the file used is the first found in the site's
``templates/``, then the enabled plugins', then the kernel's
(:func:`kernel.documents.templating.which_template`). An admin changes a paper by copying
its template into the site and editing the copy; reverting deletes the copy.

An edit is checked before it is written, and a refused edit leaves the file as it was:

* the text: no NUL or other control characters, at most :data:`MAX_SOURCE` bytes;
* Jinja2's syntax (the message names the line);
* a static check of the parsed template: no attribute or item whose name starts with
  ``_`` (``x.__class__``, ``x['__globals__']``, ``x|attr('__class__')``), the usual
  first step out of the sandbox;
* a trial render in the printing sandbox for a record, when one is given: anything the
  sandbox refuses, or any other failure, refuses the edit.

Files are written atomically (a temporary file renamed over the old one), and every
copy, save and revert is written to the audit trail (entity :data:`AUDIT_ENTITY`, the
paper's name as the record, ``{"template": [old sha-256, new sha-256]}``) in the
caller's transaction. The printing environment notices a changed, new or removed site
file on the next print (:class:`kernel.documents.templating.PaperLoader`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, nodes
from jinja2.loaders import split_template_path
from sqlalchemy import select

from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import _

#: the largest template an admin may save or preview (bytes of UTF-8)
MAX_SOURCE = 512 * 1024
#: the audit trail's entity for changes of site templates
AUDIT_ENTITY = "print_template"
#: who provides a template: the site's own copy, or the kernel (else a plugin's name)
SITE, KERNEL = "site", "kernel"
#: filters that take an attribute name (``map(attribute='x')``, ``attr('x')``, ...)
ATTRIBUTE_FILTERS = frozenset({"attr", "map", "selectattr", "rejectattr", "sort", "groupby",
                               "sum", "unique", "min", "max", "dictsort"})
#: characters a template may not hold: C0 controls but tab and line breaks, and DEL
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: how many of the latest records are tried for a default preview record
RECENT = 50


@dataclass(frozen=True)
class Paper:
    """One printable paper and the template it uses.

    ``kind`` is ``document`` or ``report``; ``owner`` is who provides the file that wins
    (:data:`SITE`, a plugin's name, :data:`KERNEL`; ``None`` when no file is found) and
    ``source`` the same for people; ``file`` is that file, ``shipped`` the default the
    site's copy overrides (or would override); ``entity`` is a document's record table;
    ``shared_with`` names the other papers printed with the same template (reports share
    the kernel's generic one).
    """

    name: str
    kind: str
    title: str
    template: str
    owner: str | None
    source: str
    file: Path | None
    shipped: Path | None
    entity: str | None
    shared_with: tuple[str, ...] = ()

    @property
    def site_copy(self) -> bool:
        """Whether the site has its own copy of the template (the one printed)."""
        return self.owner == SITE


def _papers_raw(app) -> Iterator[tuple[str, str, str, str, str | None]]:
    """(name, kind, title msgid, template, entity) of every document, then every report."""
    for name, document in app.documents.items():
        yield name, "document", document.title, document.template, document.entity
    for name, report in app.reports.items():
        yield name, "report", report.title, report.template, None


def owner_label(app, owner: str | None) -> str:
    """Who provides a template, for people: the site's override, a module's title, the
    kernel, or "missing"."""
    if owner is None:
        return _("missing")
    if owner == SITE:
        return _("site override")
    if owner == KERNEL:
        return _("kernel")
    plugin = app.plugins.get(owner)
    return _(plugin.title or owner) if plugin is not None else owner


def shipped_template(app, template: str) -> tuple[str, Path] | None:
    """The default of ``template`` a site copy overrides: the first plugin or kernel file
    of the chain (who provides it, and the file), or ``None``."""
    from kernel.documents.templating import search_path

    for owner, folder in search_path(app):
        candidate = folder / template
        if owner != SITE and candidate.is_file():
            return owner, candidate
    return None


def site_file(app, template: str) -> Path:
    """Where the site's copy of ``template`` lives (whether it exists or not)."""
    try:
        pieces = split_template_path(template)
    except TemplateNotFound as exc:  # a registered name never climbs out; refuse if it does
        raise ValidationError(_("bad template name {template!r}").format(template=template),
                              field="template") from exc
    return app.site.path.joinpath("templates", *pieces)


def _paper(app, name, kind, title, template, entity, shared) -> Paper:
    from kernel.documents.templating import which_template

    found = which_template(app, template)
    owner, file = found if found else (None, None)
    shipped = shipped_template(app, template)
    return Paper(name=name, kind=kind, title=_(title), template=template, owner=owner,
                 source=owner_label(app, owner), file=file,
                 shipped=shipped[1] if shipped else None, entity=entity,
                 shared_with=tuple(shared))


def papers(app) -> list[Paper]:
    """Every registered document and report (in that order) with its template, who
    provides the file that wins and which file it is."""
    raw = list(_papers_raw(app))
    users: dict[str, list[str]] = {}
    for name, _kind, _title, template, _entity in raw:
        users.setdefault(template, []).append(name)
    return [_paper(app, name, kind, title, template, entity,
                   [n for n in users[template] if n != name])
            for name, kind, title, template, entity in raw]


def get_paper(app, name: str) -> Paper:
    """The paper ``name`` (a document's or a report's name), or :class:`NotFound`."""
    raw = list(_papers_raw(app))
    for found in raw:
        if found[0] == name:
            shared = [other[0] for other in raw if other[3] == found[3] and other[0] != name]
            return _paper(app, *found, shared)
    raise NotFound(_("no document or report {name!r} (see: fixdesk templates list)").format(
        name=name), field="document")


def read_source(app, name: str) -> str:
    """The text of the template paper ``name`` prints with now (the site's copy, else the
    shipped one)."""
    paper = get_paper(app, name)
    if paper.file is None:
        raise NotFound(_("no template {template} for {name}").format(
            template=paper.template, name=name), field="template")
    return paper.file.read_text(encoding="utf-8")


def digest(data: bytes | None) -> str | None:
    """The SHA-256 of a template's bytes, as the audit trail records it (``None``: none)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same folder renamed over
    it: a reader (a print in another process) sees the old file or the new one, never
    half of one. A new file is readable by all (mode 644 less the umask); an existing
    one keeps its mode."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o644 & ~umask
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _require_admin(ctx) -> None:
    from kernel.auth import require_admin

    require_admin(ctx)


def _audit(ctx, name: str, action: str, old: bytes | None, new: bytes | None) -> None:
    from kernel.audit import record_change

    record_change(ctx.session, AUDIT_ENTITY, name, action,
                  {"template": [digest(old), digest(new)]})


def copy_to_site(ctx, name: str) -> tuple[Path, Path]:
    """Copy paper ``name``'s shipped template into the site to be edited there; returns
    (the shipped file, the site's new copy). Refused (:class:`Conflict`) when the site
    has its copy already; audited as an ``insert``."""
    _require_admin(ctx)
    paper = get_paper(ctx.app, name)
    target = site_file(ctx.app, paper.template)
    if target.exists():
        raise Conflict(_("{file} exists already: edit it there").format(file=target),
                       field="document")
    if paper.shipped is None:
        raise NotFound(_("no default template {template}").format(template=paper.template),
                       field="template")
    data = paper.shipped.read_bytes()
    _audit(ctx, name, "insert", None, data)
    write_atomically(target, data)
    return paper.shipped, target


def revert(ctx, name: str) -> Path:
    """Delete the site's copy of paper ``name``'s template, so that the shipped one prints
    again; returns the deleted file. Refused (:class:`Conflict`) when the site has no copy,
    or when there is no shipped template to go back to; audited as a ``delete``."""
    _require_admin(ctx)
    paper = get_paper(ctx.app, name)
    target = site_file(ctx.app, paper.template)
    old = _read_bytes(target)
    if old is None:
        raise Conflict(_("{name} has no site copy of {template}: it prints with the shipped "
                         "template already").format(name=name, template=paper.template),
                       field="document")
    if paper.shipped is None:
        raise Conflict(_("{template} is not shipped by any module: the site's copy is the "
                         "only one").format(template=paper.template), field="document")
    _audit(ctx, name, "delete", old, None)
    target.unlink()
    return target


# --------------------------------------------------------------------------
# checking an edit
# --------------------------------------------------------------------------


def _refused(message: str) -> ValidationError:
    return ValidationError(message, field="source")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def normalize(source: str) -> str:
    """The text as it is saved: browsers send a textarea's lines ending in CR LF."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def _check_text(source: Any) -> str:
    if not isinstance(source, str):
        raise _refused(_("the template must be text"))
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE:
        raise _refused(_("the template is too long: {size} KB, at most {limit} KB").format(
            size=-(-size // 1024), limit=MAX_SOURCE // 1024))
    bad = CONTROL.search(source)
    if bad is not None:
        raise _refused(_("line {line}: the template holds a control character (U+{code:04X}); "
                         "remove it").format(line=_line_of(source, bad.start()),
                                             code=ord(bad.group())))
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _refused(_("line {line}: the template holds a character that is not valid "
                         "text").format(line=_line_of(source, exc.start))) from exc
    return normalize(source)


def _names_in(value: Any) -> list[str]:
    """The attribute names a constant argument of an attribute filter reaches."""
    if isinstance(value, str):
        return value.split(".")
    return []


def unsafe_accesses(tree: nodes.Template) -> list[tuple[int, str]]:
    """(line, name) of every attribute or item access in ``tree`` to a name starting with
    ``_``: ``x.__class__``, ``x['__globals__']``, ``x|attr('__class__')``,
    ``xs|map(attribute='__dict__')``."""
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test)):
        if isinstance(node, nodes.Getattr):
            names = [node.attr]
        elif isinstance(node, nodes.Getitem):
            names = _names_in(node.arg.value) if isinstance(node.arg, nodes.Const) else []
        elif node.name in ATTRIBUTE_FILTERS:
            arguments = [*node.args, *(keyword.value for keyword in node.kwargs)]
            names = [name for argument in arguments if isinstance(argument, nodes.Const)
                     for name in _names_in(argument.value)]
        else:
            names = []
        found += [(node.lineno, name) for name in names if name.startswith("_")]
    return sorted(set(found))


def check_source(app, source: Any) -> str:
    """Check an edited template without rendering it; returns the text as it would be saved
    (line ends normalized) or refuses it (:class:`ValidationError`, field ``source``) with
    a message naming the line: control characters, more than :data:`MAX_SOURCE` bytes, a
    syntax error, an unknown filter or test, a name starting with ``_``."""
    from kernel.documents.templating import environment

    text = _check_text(source)
    env = environment(app, app.site.config.locale)
    try:
        tree = env.parse(text)
    except TemplateSyntaxError as exc:
        line = exc.lineno
        if (exc.message or "").startswith("Unexpected end of template"):
            line = text.rstrip("\n").count("\n") + 1  # Jinja names the last text's start
        raise _refused(_("line {line}: syntax error: {error}").format(
            line=line, error=exc.message)) from exc
    unsafe = unsafe_accesses(tree)
    if unsafe:
        line, name = unsafe[0]
        raise _refused(_("line {line}: {name!r} is not allowed: a template may not use names "
                         "starting with an underscore").format(line=line, name=name))
    try:
        env.compile(text)
    except TemplateSyntaxError as exc:
        raise _refused(_("line {line}: {error}").format(line=exc.lineno,
                                                        error=exc.message)) from exc
    return text


def _render_html(ctx, paper: Paper, source: str, record: Any, *, locale: str | None = None):
    """The edited template rendered in the printing sandbox for ``record`` (a document's
    record or id; a report's parameters), as printing would: a RenderJob (HTML)."""
    from kernel.documents.pdf import PrintError
    from kernel.documents.service import (
        document_data,
        load_records,
        offered_document,
        paper_locale,
        render_paper,
    )

    locale = paper_locale(ctx, locale)
    if paper.kind == "document":
        document = offered_document(ctx, paper.name)
        if not hasattr(record, "id"):
            record = load_records(ctx, document, [_record_id(record)])[0]
        else:
            ctx.require(_permission(document), record)
        data = document_data(ctx, document, record, locale, 0)
        template, size, orientation = document.template, document.paper, document.orientation
    else:
        data, report = _report_data(ctx, paper.name, record, locale)
        template, size, orientation = report.template, report.paper, report.orientation
    try:
        return render_paper(ctx, template, data, locale=locale, paper=size,
                            orientation=orientation, source=source)
    except PrintError as exc:
        raise _refused(_("The template was refused: {error}").format(error=exc.message)) \
            from exc
    except (TemplateError, RecursionError, MemoryError) as exc:
        raise _refused(_("The template was refused: {error}").format(error=exc)) from exc
    except Exception as exc:  # an admin's template may raise anything: refuse it, say what
        raise _refused(_("The template failed: {error}").format(
            error=f"{type(exc).__name__}: {exc}")) from exc


def _permission(document) -> str:
    from kernel.documents.service import permission_of

    return permission_of(document)


def _record_id(record: Any) -> int:
    """A record id given as a number or as text."""
    if isinstance(record, bool):
        record = None
    try:
        number = int(str(record).strip())
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 2**31 - 1:
        raise ValidationError(_("choose a record by its number (id)"), field="record")
    return number


def _report_data(ctx, name: str, params: Any, locale: str) -> tuple[dict, Any]:
    """The variables of report ``name``'s paper run with ``params`` (text values), as its
    print would have them, and the report."""
    from kernel.i18n import use_locale
    from kernel.reports.printing import paper_data
    from kernel.reports.service import run

    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(_("give the report's parameters as names and values"),
                              field="params")
    raw = dict(params or {})
    with use_locale(locale):
        outcome = run(ctx, name, raw)
        return paper_data(ctx, outcome, locale, 0), outcome.report


def save_site_template(ctx, name: str, source: str, record: Any = None) -> Path:
    """Save ``source`` as the site's template of paper ``name`` (creating the site's copy if
    there is none); returns the file.

    The text is checked first (:func:`check_source`) and, when ``record`` is given (a
    document's record or its id; a report's parameters as a mapping), rendered once in
    the printing sandbox for it: whatever the sandbox refuses or the render raises refuses
    the edit (:class:`ValidationError`, field ``source``) and the file stays as it was.
    Written atomically and audited as an ``update`` (``insert`` for a new copy); saving
    the same text again changes nothing.
    """
    _require_admin(ctx)
    paper = get_paper(ctx.app, name)
    text = check_source(ctx.app, source)
    if record is not None and record != "":
        _render_html(ctx, paper, text, record)
    target = site_file(ctx.app, paper.template)
    old, new = _read_bytes(target), text.encode("utf-8")
    if old == new:
        return target
    _audit(ctx, name, "insert" if old is None else "update", old, new)
    write_atomically(target, new)
    return target


def preview(ctx, name: str, source: str, record_id: Any = None, *,
            params: Mapping[str, Any] | None = None, locale: str | None = None) -> bytes:
    """The PDF of paper ``name`` printed with the unsaved ``source`` instead of its file:
    for a document, on its record ``record_id``; for a report, run with ``params`` (text
    values as in its URL). The same data and sandbox as printing; a preview is not a
    print: nothing is logged and the paper has no copy mark. The text is checked as for
    saving (:func:`check_source`); a refusal is a :class:`ValidationError`."""
    from kernel.documents.batch import render_many

    _require_admin(ctx)
    paper = get_paper(ctx.app, name)
    text = check_source(ctx.app, source)
    target = params if paper.kind == "report" else record_id
    if paper.kind == "document" and (record_id is None or record_id == ""):
        raise ValidationError(_("choose a record to preview on"), field="record")
    job = _render_html(ctx, paper, text, target, locale=locale)
    return render_many([job], 1, ctx.app.site.path)


def default_record(ctx, name: str) -> int | None:
    """The record a preview of document ``name`` is shown on unless another is chosen: the
    latest one the user may see and the document is for (``None``: none, or a report)."""
    from kernel.documents.registry import get_document

    paper = get_paper(ctx.app, name)
    if paper.kind != "document":
        return None
    document = get_document(ctx.app, name)
    entity = ctx.app.entity_class(document.entity)
    recent = ctx.session.scalars(select(entity).order_by(entity.id.desc()).limit(RECENT))
    for record in recent:
        if ctx.can_see(record) and document.available(record):
            return record.id
    return None


def default_params(ctx, name: str) -> dict[str, str]:
    """Parameters a preview of report ``name`` runs with unless others are given: its
    required dates (the last 30 days for a ``start``, else today) and month (this one)."""
    paper = get_paper(ctx.app, name)
    if paper.kind != "report":
        return {}
    report = ctx.app.reports[name]
    today = ctx.now().astimezone(ctx.settings.tz).date()
    values = {}
    for param in report.params:
        if not param.required:
            continue
        if param.kind == "date":
            day = today - dt.timedelta(days=30) if param.name == "start" else today
            values[param.name] = day.isoformat()
        elif param.name == "month":
            values[param.name] = today.strftime("%Y-%m")
    return values

