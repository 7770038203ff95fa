"""``/desk/admin/templates``: the printed papers' templates, copied into the site, edited
in the browser with a preview on a chosen record, and reverted to the shipped ones.

The same services as ``fixdesk templates list|copy|revert``
(:mod:`kernel.documents.template_files`):

* ``GET /desk/admin/templates``: every document and report, its template file and who
  provides it (the site's override, a module, the kernel), with its buttons;
* ``GET /desk/admin/templates/<name>``: the template's text (editable once the site has
  its copy), a record to preview on (default: the latest one the admin can see);
* ``POST .../<name>/copy``: copy the shipped template into the site;
* ``POST .../<name>/save``: check and save the text (a refusal draws the editor again
  with the admin's text and the reason, status 422, and the file unchanged);
* ``POST .../<name>/preview``: the PDF of the text as sent, not saved (opened in a new
  tab by the form; saved as a file with ``download=1``), or the editor with the reason;
* ``GET|POST .../<name>/revert``: confirm, then delete the site's copy.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.documents import template_files as files
from kernel.documents.pdf import PrintError
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.web.desk.admin.shell import admin_context, read_form, render_admin, text_field, token
from kernel.web.desk.render import DeskRoute, redirect
from kernel.web.downloads import file_response

#: what ``?done=`` after a redirect says
NOTICES = {
    "copied": N_("The template was copied into the site: edit it below."),
    "saved": N_("Saved. The next print uses this template."),
    "reverted": N_("The site's copy was deleted: the shipped template prints again."),
}
#: the longest record id or report parameters a form may send
MAX_FIELD = 2000
#: the largest editor form read: a text over ``files.MAX_SOURCE`` is refused by the service
#: (the text drawn again); a form over this is not read at all
MAX_POSTED = 8 * 1024 * 1024
#: the body limit of the editor's routes (kernel.web.limits): above MAX_POSTED, so that
#: the editor answers a form too big to read with its own page, up to twice that
READ_LIMIT = 2 * MAX_POSTED
#: refusals shown on the page (the rest, such as 403, answer as errors)
SHOWN = (ValidationError, NotFound, Conflict, PrintError)


def _url(name: str, action: str = "") -> str:
    return f"/desk/admin/templates/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done")
    return _(NOTICES[done]) if done in NOTICES else None


def _row(paper: files.Paper) -> dict:
    return {"paper": paper, "url": _url(paper.name), "copy_url": _url(paper.name, "copy"),
            "revert_url": _url(paper.name, "revert")}


def _list_page(request: Request, ctx, *, status: int = 200, problem: str | None = None):
    rows = [_row(paper) for paper in files.papers(ctx.app)]
    return render_admin(request, "templates.html", ctx, "templates", _("Print templates"),
                        status=status, notice=_notice(request), problem=problem, rows=rows)


def _editor(request: Request, ctx, name: str, *, source: str | None = None,
            record: str | None = None, params: str | None = None, status: int = 200,
            problem: str | None = None, field: str | None = None):
    """The editor of paper ``name``: the text sent back (``source``) or the file's."""
    paper = files.get_paper(ctx.app, name)
    if source is None:
        source = files.read_source(ctx.app, name) if paper.file is not None else ""
    if paper.kind == "document" and record is None:
        found = files.default_record(ctx, name)
        record = str(found) if found is not None else ""
    if paper.kind == "report" and params is None:
        params = urlencode(files.default_params(ctx, name))
    return render_admin(
        request, "template_edit.html", ctx, "templates",
        _("Print template: {title}").format(title=paper.title), status=status,
        notice=_notice(request), problem=problem, paper=paper, source=source,
        record=record or "", params=params or "", field=field,
        urls={"list": "/desk/admin/templates", "save": _url(name, "save"),
              "preview": _url(name, "preview"), "copy": _url(name, "copy"),
              "revert": _url(name, "revert")})


async def _editor_form(request: Request) -> dict | None:
    """The editor's form fields (``name: value``), or ``None`` when it is too big to read."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_POSTED:
        return None
    try:
        form = await request.form(max_files=0, max_fields=10, max_part_size=MAX_POSTED)
    except StarletteHTTPException:
        return None
    values = {}
    for key in form:
        texts = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = texts[-1] if texts else ""
    return values


class TooLarge(ValidationError):
    """A form too big to read: answered with an error page (the browser's Back button
    brings the text back), since not even its CSRF token was read."""

    status = 413


def _too_big() -> TooLarge:
    return TooLarge(_("the template is too long: at most {limit} KB").format(
        limit=files.MAX_SOURCE // 1024), field="source")


def _report_params(text: str) -> dict[str, str]:
    return dict(parse_qsl(text.strip().lstrip("?"), keep_blank_values=False))


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/templates")
    def page(request: Request):
        with admin_context(request) as ctx:
            return _list_page(request, ctx)

    @routes.get("/desk/admin/templates/{name}")
    def edit(request: Request, name: str):
        with admin_context(request) as ctx:
            return _editor(request, ctx, name)

    @routes.post("/desk/admin/templates/{name}/copy")
    async def copy(request: Request, name: str):
        form = await read_form(request, max_fields=10)
        return await run_in_threadpool(_copy, request, name, form)

    def _copy(request: Request, name: str, form: dict):
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                files.copy_to_site(ctx, name)
            return redirect(_url(name) + "?done=copied")
        except SHOWN as exc:
            problem, status = exc.message, exc.status
        with admin_context(request, csrf=token(form)) as ctx:
            files.get_paper(ctx.app, name)  # an unknown paper: 404
            return _list_page(request, ctx, status=status, problem=problem)

    @routes.post("/desk/admin/templates/{name}/save", max_body_size=READ_LIMIT)
    async def save(request: Request, name: str):
        form = await _editor_form(request)
        if form is None:
            raise _too_big()
        return await run_in_threadpool(_save, request, name, form)

    def _save(request: Request, name: str, form: dict):
        def save(ctx, source, record, params):
            paper = files.get_paper(ctx.app, name)
            target = _report_params(params) if paper.kind == "report" else record.strip()
            files.save_site_template(ctx, name, source, record=target or None)
            return redirect(_url(name) + "?done=saved")

        return _from_editor(request, name, form, save)

    @routes.post("/desk/admin/templates/{name}/preview", max_body_size=READ_LIMIT)
    async def preview(request: Request, name: str):
        form = await _editor_form(request)
        if form is None:
            raise _too_big()
        return await run_in_threadpool(_preview, request, name, form)

    def _preview(request: Request, name: str, form: dict):
        def preview(ctx, source, record, params):
            data = files.preview(ctx, name, source, record.strip() or None,
                                 params=_report_params(params))
            stem = name.replace(".", "-")
            return file_response(data, "application/pdf", f"preview-{stem}.pdf",
                                 download=form.get("download") == "1")

        return _from_editor(request, name, form, preview)

    @routes.get("/desk/admin/templates/{name}/revert")
    def confirm_revert(request: Request, name: str):
        with admin_context(request) as ctx:
            paper = files.get_paper(ctx.app, name)
            return render_admin(request, "template_revert.html", ctx, "templates",
                                _("Revert to the shipped template"), paper=paper,
                                urls={"revert": _url(name, "revert"), "edit": _url(name),
                                      "list": "/desk/admin/templates"})

    @routes.post("/desk/admin/templates/{name}/revert")
    async def revert(request: Request, name: str):
        form = await read_form(request, max_fields=10)
        return await run_in_threadpool(_revert, request, name, form)

    def _revert(request: Request, name: str, form: dict):
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                files.revert(ctx, name)
            return redirect("/desk/admin/templates?done=reverted")
        except SHOWN as exc:
            problem, status = exc.message, exc.status
        with admin_context(request, csrf=token(form)) as ctx:
            files.get_paper(ctx.app, name)  # an unknown paper: 404
            return _list_page(request, ctx, status=status, problem=problem)

    return routes


def _from_editor(request: Request, name: str, form: dict, work):
    """Run ``work(ctx, source, record, params)`` on what the editor sent, as the admin; a
    refusal draws the editor again with the admin's text kept and the reason shown."""
    source = form.get("source")
    record, params = text_field(form, "record", MAX_FIELD), text_field(form, "params", MAX_FIELD)
    try:
        with admin_context(request, csrf=token(form)) as ctx:
            return work(ctx, source if isinstance(source, str) else None, record, params)
    except SHOWN as exc:
        problem, status, field = exc.message, exc.status, exc.field
    with admin_context(request, csrf=token(form)) as ctx:
        return _editor(request, ctx, name, source=_kept(source), record=record, params=params,
                       status=status, problem=problem, field=field)


def _kept(source) -> str:
    """The text the admin sent, to draw it again (without what no page can hold)."""
    if not isinstance(source, str):
        return ""
    return source.replace("\x00", "\N{REPLACEMENT CHARACTER}")
