"""Printing records: what the CLI, the API and the desk call.

:func:`render_paper` is the step shared with papers that are not about one record
(reports, :mod:`kernel.reports.printing`): a template and its data, rendered in the
sandbox for one paper size.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateError
from jinja2.sandbox import SecurityError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kernel.contributions import Document
from kernel.documents import pdf
from kernel.documents.registry import PAPERS, get_document, log_print
from kernel.documents.templating import environment
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import _, normalize_locale, translations
from kernel.labels import entity_title

MAX_BATCH = 5000


@dataclass(frozen=True)
class RenderJob:
    """One record's HTML, ready for WeasyPrint (picklable, for worker processes)."""

    html: str
    width: str
    height: str
    footer: str


def permission_of(document: Document) -> str:
    return document.options.get("permission", f"{document.entity}.read")


def offered_document(ctx, name: str) -> Document:
    """Document ``name`` if it is offered to this context's branch, else :class:`NotFound`
    (a document whose plugin's ``fixdesk_documents`` is switched off in the branch)."""
    document = get_document(ctx.app, name)
    if not ctx.offers(document):
        raise NotFound(_("no document {name!r} (see: fixdesk print --list)").format(name=name),
                       field="document")
    return document


def record_label(record) -> str:
    """How a refusal names a record: its number, else its id."""
    return str(getattr(record, "number", None) or record.id)


def check_available(document: Document, records: list) -> None:
    """Refuse (:class:`Conflict`) to print ``document`` for records it is not for
    (``Document.available``), naming them and saying when the paper is available."""
    refused = [r for r in records if not document.available(r)]
    if not refused:
        return
    names = "、".join(record_label(r) for r in refused[:10])
    if len(refused) > 10:
        names += " " + _("and {n} more").format(n=len(refused) - 10)
    reason = _(document.unavailable) if document.unavailable else \
        _("not for these records")
    raise Conflict(_("{document} cannot be printed for {records}: {reason}").format(
        document=_(document.title), records=names, reason=reason), field="ids")


def load_records(ctx, document: Document, ids: list[int]) -> list:
    """The records to print, in the order asked, each checked against the user's rights
    and the document's availability (:func:`check_available`).

    A record the user may not see answers "not found", like one that does not exist.
    """
    if not ids:
        raise ValidationError(_("nothing to print: give record ids"), field="ids")
    if len(ids) > MAX_BATCH:
        raise ValidationError(_("at most {n} records per print").format(n=MAX_BATCH),
                              field="ids")
    entity = ctx.app.entity_class(document.entity)
    preload = [selectinload(getattr(entity, name)) for name in document.preload]
    found = {r.id: r for r in ctx.session.scalars(
        select(entity).where(entity.id.in_(ids)).options(*preload))}
    records = []
    for record_id in ids:
        record = found.get(record_id)
        if record is None:
            raise NotFound(_("no {entity} {id}").format(
                entity=entity_title(ctx.app, document.entity), id=record_id), field="ids")
        ctx.require(permission_of(document), record)
        records.append(record)
    check_available(document, records)
    return records


def paper_locale(ctx, locale: str | None = None) -> str:
    """The language of a paper: the one asked for, else the user's, else the site's."""
    return normalize_locale(locale or getattr(ctx.user, "locale", None) or ctx.settings.locale)


def paper_context(ctx, *, branch, locale: str, copy_number: int) -> dict:
    """The variables every paper has, printed for a record or not: company, branch, issue
    time, copy mark, language, user and whether the site has a logo. ``copy_number`` 0 is
    a preview: nothing logged, no copy mark (``preview`` is true)."""
    from kernel.masterdata import the_company

    return {
        "company": the_company(ctx),
        "branch": branch,
        "issued_at": ctx.now(),
        "copy_number": copy_number,
        "is_copy": copy_number > 1,
        "preview": copy_number == 0,
        "locale": locale,
        "user": ctx.user,
        "logo": (ctx.app.site.path / "assets" / "logo.png").is_file(),
    }


def _base_context(ctx, document: Document, record, locale: str, copy_number: int) -> dict:
    from kernel.models import Branch
    from kernel.transaction_memo import memo

    branch_id = getattr(record, "branch_id", None)
    branch = ctx.branch
    if branch_id:  # kept for the transaction: a batch's papers come from a few branches
        branches = memo(ctx.session, "paper_branches")
        branch = branches.get(branch_id) or branches.setdefault(
            branch_id, ctx.session.get(Branch, branch_id))
    return {
        **paper_context(ctx, branch=branch, locale=locale, copy_number=copy_number),
        "document": {"name": document.name, "title": translations(locale).gettext(
            document.title), "paper": document.paper},
        "record": record,
        "number": getattr(record, "number", None) or str(record.id),
    }


def render_paper(ctx, template: str, data: dict, *, locale: str, paper: str,
                 orientation: str, source: str | None = None) -> RenderJob:
    """Render ``template`` with ``data`` in the sandbox, ready for WeasyPrint: the part of
    printing shared by documents and reports (a paper need not be about one record).

    ``source``, when given, is rendered instead of the template's file (an edit not saved
    yet, previewed: :mod:`kernel.documents.template_files`), in the same environment, so
    it extends and includes the same files."""
    try:
        env = environment(ctx.app, locale)
        compiled = env.get_template(template) if source is None else env.from_string(source)
        html = compiled.render(data)
    except SecurityError as exc:
        raise pdf.PrintError(_("template {template} tried something unsafe: {error}")
                             .format(template=template, error=exc)) from exc
    except TemplateError as exc:
        raise pdf.PrintError(_("template {template} failed: {error}").format(
            template=template, error=exc)) from exc
    width, height = PAPERS[paper]
    if orientation == "landscape":
        width, height = height, width
    footer = translations(locale).gettext("page {page} of {pages}")
    return RenderJob(html, width, height, footer)


def document_data(ctx, document: Document, record, locale: str, copy_number: int) -> dict:
    """The variables of ``document``'s template for ``record``: those of every paper, the
    document, the record and its number, and what the document's ``gather`` adds."""
    data = _base_context(ctx, document, record, locale, copy_number)
    data.update(document.gather(ctx, record) or {})
    return data


def prepare(ctx, document: Document, record, locale: str, copy_number: int, *,
            source: str | None = None) -> RenderJob:
    """Gather the record's data and render its HTML in the sandbox (``source``: an unsaved
    edit of the document's template instead of its file, see :func:`render_paper`)."""
    data = document_data(ctx, document, record, locale, copy_number)
    return render_paper(ctx, document.template, data, locale=locale, paper=document.paper,
                        orientation=document.orientation, source=source)


def print_records(ctx, name: str, ids: list[int], *, locale: str | None = None,
                  workers: int | None = None, progress=None, preview: bool = False) -> bytes:
    """Print document ``name`` for the records ``ids`` as one PDF in the caller's
    transaction; every print is logged.

    Reprints are marked as copies (副本 / COPY) on the paper. A ``preview`` is not a print:
    nothing is logged and the paper carries no copy mark. A document whose plugin's
    ``fixdesk_documents`` is switched off in the user's branch is not offered there; a
    record the document is not for is refused (:func:`check_available`). ``progress(n)``
    is called as papers are rendered (n more each time). Printing many records while
    others work: :func:`kernel.documents.detached.print_detached` renders outside the
    write transaction.
    """
    from kernel.documents.batch import render_many

    document = offered_document(ctx, name)
    locale = paper_locale(ctx, locale)
    records = load_records(ctx, document, ids)

    def jobs():
        for record in records:
            copy_number = 0 if preview else log_print(ctx, document, record)
            yield prepare(ctx, document, record, locale, copy_number)

    return render_many(jobs(), len(records), ctx.app.site.path, workers=workers,
                       progress=progress)
