"""``GET /api/repair/reports/<report>``: the repair reports' first URLs, kept for the
clients that use them. Each delegates to the kernel's report service
(:mod:`kernel.reports.service`), which also serves them as ``GET /api/v1/reports/
repair.<report>``; the answer keeps its first shape: JSON (title, translated columns,
rows with amounts to two decimals) or, with ``?format=xlsx``, an Excel workbook (R33).
Each runs as the calling user: ``repair_work_order.read`` and the user's branches."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query, Request

from kernel import records
from kernel.web.deps import request_context
from kernel.web.downloads import file_response
from kernel.web.errors import ERROR_RESPONSES

from . import reports

Format = Literal["json", "xlsx"]


def _answer(request: Request, name: str, options: dict, fmt: str, lang: str | None):
    """Run report ``name`` as the caller and answer JSON (title, columns, rows) or a
    workbook, in the caller's language (``lang`` overrides)."""
    from kernel.i18n import _, use_locale
    from kernel.reports.service import produce, run_with
    from kernel.web.desk.render import user_locale

    report = reports.REPORTS[name]
    with request_context(request) as ctx:
        locale = lang or user_locale(request, ctx.user)
        with use_locale(locale):
            outcome = run_with(ctx, report, options)
            if fmt == "xlsx":
                done = produce(ctx, outcome, "xlsx", locale)
                return file_response(done.content, done.media_type, done.filename)
            return {"title": _(report.title),
                    "columns": [{"key": c.key, "label": _(c.label), "kind": c.kind}
                                for c in outcome.columns],
                    "rows": [{k: records.plain(v) for k, v in row.items()}
                             for row in outcome.rows]}


def reports_router() -> APIRouter:
    """``GET /api/repair/reports/<report>``: JSON, or ``?format=xlsx`` for Excel (R33)."""
    routes = APIRouter(prefix="/api/repair/reports", tags=["repair reports"],
                       responses=ERROR_RESPONSES)
    lang_query = Query(None, description="zh_CN or en (default: the user's language)",
                       pattern="^(zh_CN|en)$")

    @routes.get("/register", summary="Repair register (报修登记簿) by day and branch")
    def register_report(request: Request, start: dt.date, end: dt.date,
                        branch: str | None = None, format: Format = "json",
                        lang: str | None = lang_query):
        return _answer(request, "register", {"start": start, "end": end, "branch": branch},
                       format, lang)

    @routes.get("/compliance", summary="Deadline compliance by branch or engineer")
    def compliance_report(request: Request, start: dt.date, end: dt.date,
                          by: Literal["branch", "engineer"] = "branch",
                          branch: str | None = None, format: Format = "json",
                          lang: str | None = lang_query):
        return _answer(request, "compliance",
                       {"start": start, "end": end, "by": by, "branch": branch}, format, lang)

    @routes.get("/engineer_daily", summary="Engineer's daily work report (技术员工作日报表)")
    def engineer_daily_report(request: Request, start: dt.date, end: dt.date | None = None,
                              engineer: str | None = None, branch: str | None = None,
                              format: Format = "json",
                              lang: str | None = lang_query):
        return _answer(request, "engineer_daily",
                       {"start": start, "end": end or start, "engineer": engineer,
                        "branch": branch}, format, lang)

    @routes.get("/supervisor_daily", summary="Supervisor's daily report (服务主任日报表)")
    def supervisor_daily_report(request: Request, day: dt.date, branch: str | None = None,
                                format: Format = "json",
                                lang: str | None = lang_query):
        return _answer(request, "supervisor_daily", {"day": day, "branch": branch},
                       format, lang)

    return routes
