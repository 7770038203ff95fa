"""``GET /api/repair/reports/<report>``: the repair reports (:mod:`plugins.repair.reports`)
as JSON (title, translated columns, rows) or, with ``?format=xlsx``, as an Excel
workbook (R33). Each runs as the calling user: ``repair_work_order.read`` and the
user's branches."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from kernel import records
from kernel.web.deps import request_context
from kernel.web.errors import ERROR_RESPONSES

from . import reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "xlsx"]


def _answer(request: Request, name: str, options: dict, fmt: str, lang: str | None,
            stamp: str):
    """Run report ``name`` as the caller and answer JSON (title, columns, rows) or a
    workbook, in the caller's language (``lang`` overrides)."""
    from kernel.i18n import _, use_locale
    from kernel.web.desk.render import user_locale

    report = reports.REPORTS[name]
    with request_context(request) as ctx, use_locale(lang or user_locale(request, ctx.user)):
        rows = report.build(ctx, **options)
        columns = reports.columns_for(report, rows, **options)
        title = _(report.title)
        if fmt == "xlsx":
            data = reports.to_xlsx(ctx, title, columns, rows, stamp)
            return Response(data, media_type=XLSX, headers={
                "Content-Disposition": f'attachment; filename="repair-{name}-{stamp}.xlsx"',
                "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
        return {"title": title,
                "columns": [{"key": c.key, "label": _(c.label), "kind": c.kind}
                            for c in columns],
                "rows": [{k: records.plain(v) for k, v in row.items()} for row in rows]}


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
                       format, lang, f"{start}-{end}")

    @routes.get("/compliance", summary="Deadline compliance by branch or engineer")
    def compliance_report(request: Request, start: dt.date, end: dt.date,
                          by: Literal["branch", "engineer"] = "branch",
                          branch: str | None = None, format: Format = "json",
                          lang: str | None = lang_query):
        return _answer(request, "compliance",
                       {"start": start, "end": end, "by": by, "branch": branch},
                       format, lang, f"{by}-{start}-{end}")

    @routes.get("/engineer_daily", summary="Engineer's daily work report (技术员工作日报表)")
    def engineer_daily_report(request: Request, start: dt.date, end: dt.date | None = None,
                              engineer: str | None = None, branch: str | None = None,
                              format: Format = "json",
                              lang: str | None = lang_query):
        end = end or start
        return _answer(request, "engineer_daily",
                       {"start": start, "end": end, "engineer": engineer, "branch": branch},
                       format, lang, f"{start}-{end}")

    @routes.get("/supervisor_daily", summary="Supervisor's daily report (服务主任日报表)")
    def supervisor_daily_report(request: Request, day: dt.date, branch: str | None = None,
                                format: Format = "json",
                                lang: str | None = lang_query):
        return _answer(request, "supervisor_daily", {"day": day, "branch": branch},
                       format, lang, f"{day}")

    return routes
