"""``/api/v1/reports``: the reports the caller may run, and running one as JSON, Excel, CSV
or PDF. Routes only translate HTTP to :mod:`kernel.reports.service`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from kernel.web.deps import request_context
from kernel.web.downloads import file_response
from kernel.web.errors import ERROR_RESPONSES

#: query names that are not the report's parameters
OWN_QUERY = ("format", "lang")
FILES = {200: {"description": "The report: JSON, or a file in the format asked for",
               "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                           {}, "text/csv": {}, "application/pdf": {}}}}


class ParamInfo(BaseModel):
    """One parameter of a report."""

    name: str
    kind: str
    label: str
    required: bool
    choices: list[str]
    reference: str | None
    help: str | None


class ReportInfo(BaseModel):
    """A report the caller may run."""

    name: str
    title: str
    module: str
    params: list[ParamInfo]
    paper: str
    orientation: str


class ReportColumn(BaseModel):
    key: str
    label: str
    kind: str


class ReportResult(BaseModel):
    """One run: the parameters used, the columns (translated) and every row."""

    name: str
    title: str
    params: dict[str, str]
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None


def describe_report(report) -> dict:
    """What ``GET /api/v1/reports`` says of one report (in the current language)."""
    from kernel.i18n import _
    from kernel.params import label_of

    return {"name": report.name, "title": _(report.title), "module": report.module,
            "paper": report.paper, "orientation": report.orientation,
            "params": [{"name": p.name, "kind": p.kind, "label": label_of(p),
                        "required": p.required, "choices": list(p.choices),
                        "reference": p.reference, "help": _(p.help) if p.help else None}
                       for p in report.params]}


def reports_router() -> APIRouter:
    """``GET /api/v1/reports`` and ``GET /api/v1/reports/<name>?<params>&format=&lang=``."""
    router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)

    @router.get("", response_model=list[ReportInfo], summary="The reports the caller may run")
    def list_reports(request: Request, lang: str | None = Query(None, pattern="^(zh_CN|en)$")):
        from kernel.i18n import use_locale
        from kernel.reports.registry import reports_for
        from kernel.web.desk.render import user_locale

        with request_context(request) as ctx, use_locale(lang or user_locale(request,
                                                                              ctx.user)):
            return [describe_report(r) for r in reports_for(ctx)]

    @router.get("/{name}", response_model=ReportResult, responses=FILES,
                summary="Run a report",
                description="The report's parameters go in the query string, by name "
                            "(`?day=2026-11-17&branch=SH`; see `GET /api/v1/reports`). "
                            "Run as the caller: the report's permission and the caller's "
                            "branches. A wrong parameter answers 422 naming it in `fields`.")
    def run_report(request: Request, name: str = Path(..., max_length=100),
                   format: Literal["json", "xlsx", "csv", "pdf"] = "json",
                   lang: str | None = Query(None, pattern="^(zh_CN|en)$")):
        from kernel.reports.service import render

        raw = {k: v for k, v in request.query_params.items() if k not in OWN_QUERY}
        with request_context(request, writes=format == "pdf") as ctx:  # prints are logged
            done = render(ctx, name, raw, format, lang)
        if format == "json":
            return done.content
        return file_response(done.content, done.media_type, done.filename,
                             download=format != "pdf")

    return router
