"""The desk's report pages: ``/desk/reports/<name>`` (a parameter form, and the table once
run), its Excel export and its printed paper.

The form is sent with GET, so a report's URL holds its parameters and can be
bookmarked or shared (``/desk/reports/repair.supervisor_daily?day=2026-11-17&branch=SH
&run=1``). Everything runs through :mod:`kernel.reports.service` as the logged-in user.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kernel.errors import FixdeskError, NotFound
from kernel.i18n import _
from kernel.web.desk.inputs import control
from kernel.web.desk.render import DeskRoute, desk_context, render
from kernel.web.downloads import file_response

#: query names of the page that are not the report's parameters
OWN_QUERY = ("run", "download", "format", "lang")


def report_url(name: str, canonical: dict | None = None, suffix: str = "", **extra) -> str:
    """The URL of a report page (or of its ``/export.xlsx`` or ``/print``) with parameters."""
    query = urlencode([*(canonical or {}).items(), *extra.items()])
    return f"/desk/reports/{name}{suffix}" + (f"?{query}" if query else "")


def reports_by_module(app, can) -> dict[str, list[dict]]:
    """The reports the user may run, by the plugin that offers them (for the home page)."""
    modules: dict[str, list[dict]] = {}
    for report in app.reports.values():
        if can(report.permission):
            modules.setdefault(report.module, []).append(
                {"name": report.name, "title": _(report.title), "url": report_url(report.name)})
    return modules


def _raw(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in OWN_QUERY}


# --------------------------------------------------------------------------
# the form
# --------------------------------------------------------------------------


def controls(ctx, report, raw: dict, values: dict, errors: dict, fresh: bool) -> list[dict]:
    """One control per parameter (:mod:`kernel.web.desk.inputs`, as action boxes have);
    ``fresh`` (the page before any run) fills required dates with today."""
    from kernel.params import canonical, label_of

    shown = canonical(report.params, values)
    today = ctx.now().astimezone(ctx.settings.tz).date().isoformat()
    found = []
    for param in report.params:
        value = shown.get(param.name, str(raw.get(param.name, "") or ""))
        if fresh and not value and param.required and param.kind == "date":
            value = today
        found.append(control(ctx, param, id=f"p-{param.name}", label=label_of(param),
                             value=value, error=errors.get(param.name),
                             list_references=True))
    return found


# --------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------


def _charts(ctx, outcome) -> list[dict]:
    """The run's charts (:meth:`kernel.Report.charts_of`) as images for the page."""
    from kernel.charts import drawn_uri

    return [{"title": chart.title, "src": drawn_uri(chart)}
            for chart in outcome.report.charts_of(ctx, outcome.rows, outcome.params)]


def report_page(request: Request, ctx, report) -> Response:
    """The form, and with ``run`` in the query the report's table (or the problems)."""
    from kernel.params import read_each
    from kernel.reports import service
    from kernel.reports.formatting import NUMERIC, text_table, totals_line

    raw = _raw(request)
    names = {p.name for p in report.params}
    ran = "run" in request.query_params or not report.params
    values, errors = read_each(ctx, report.params, raw) if ran else ({}, {})
    outcome, problem = None, None
    if ran and not errors:
        try:
            outcome = service.run_with(ctx, report, values)
        except FixdeskError as exc:
            if exc.status == 403:
                raise
            found = dict(getattr(exc, "fields", None) or {exc.field: exc.message})
            errors = {k: v for k, v in found.items() if k in names}
            problem = None if errors else exc.message
    table = None
    if outcome is not None:
        tz = ctx.settings.tz
        columns = outcome.columns
        table = {"headers": [{"label": _(c.label), "numeric": c.kind in NUMERIC}
                             for c in columns],
                 "rows": text_table(columns, outcome.rows, tz),
                 "totals": totals_line(columns, outcome.rows, tz),
                 "numeric": [c.kind in NUMERIC for c in columns],
                 "kinds": [c.kind for c in columns],
                 "xlsx": report_url(report.name, outcome.canonical, "/export.xlsx"),
                 "pdf": report_url(report.name, outcome.canonical, "/print"),
                 "pdf_download": report_url(report.name, outcome.canonical, "/print",
                                            download="1"),
                 "link": report_url(report.name, outcome.canonical, run="1"),
                 "charts": _charts(ctx, outcome)}
    stray = [message for name, message in errors.items() if name not in names]
    problem = problem or (stray[0] if stray else None)
    form = controls(ctx, report, raw, values, errors, fresh=not ran)
    return render(
        request, "report.html", 422 if errors or problem else 200, ctx=ctx,
        title=_(report.title), report=report, controls=form,
        errors=[(c["name"], c["label"], c["error"]) for c in form if c["error"]],
        problem=problem, table=table, action_url=report_url(report.name))


def router() -> APIRouter:
    """The report pages (mounted before the generic entity pages)."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    def report_of(ctx, name: str):
        report = ctx.app.reports.get(name)
        if report is None:
            raise NotFound(_("There is no such page."))
        ctx.require(report.permission)
        return report

    @routes.get("/desk/reports/{name}")
    def page(request: Request, name: str):
        with desk_context(request) as ctx:
            return report_page(request, ctx, report_of(ctx, name))

    @routes.get("/desk/reports/{name}/export.xlsx")
    def export(request: Request, name: str):
        from kernel.reports.service import render as render_report

        with desk_context(request) as ctx:  # the paper speaks the user's language
            done = render_report(ctx, report_of(ctx, name), _raw(request), "xlsx")
        return file_response(done.content, done.media_type, done.filename)

    @routes.get("/desk/reports/{name}/print")
    def print_paper(request: Request, name: str, download: bool = False):
        from kernel.reports.service import render as render_report

        # the paper speaks the user's language; printing it is logged (a write)
        with desk_context(request, writes=True) as ctx:
            done = render_report(ctx, report_of(ctx, name), _raw(request), "pdf")
        return file_response(done.content, done.media_type, done.filename, download=download)

    return routes
