"""Admin console section: the audit trail (R32).

``/desk/admin/audit`` searches the trail by user, record type, record and days (the
query string: ``user``, ``entity``, ``record``, ``from``, ``to``; ``before`` is the
keyset cursor of an older page) and shows each change with its old and new values;
``/desk/admin/audit/export.xlsx`` is the same search as an Excel workbook. Both call
:func:`kernel.audit.search_audit` / :func:`kernel.audit_view.export_audit`, as
``fixdesk audit-search`` does. A bad filter is shown above the form (422), never a 500.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kernel.audit import (
    PAGE,
    audit_entities,
    audit_people,
    format_cursor,
    parse_cursor,
    search_audit,
)
from kernel.audit_view import export_audit, read_entries
from kernel.errors import ValidationError
from kernel.i18n import _
from kernel.web.desk.admin.shell import admin_context, render_admin
from kernel.web.desk.render import DeskRoute
from kernel.web.downloads import file_response

#: the search's query-string names (``from``/``to``: the days) and the service's
FILTERS = {"user": "user", "entity": "entity", "record": "record_id", "from": "start",
           "to": "end"}
#: the form's fields by the service's field names (to show a refusal next to its field)
FIELD_OF = {service: name for name, service in FILTERS.items()}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _typed(request: Request) -> dict[str, str]:
    """The filters as typed in the query string ("" for those not given)."""
    return {name: request.query_params.get(name, "") for name in (*FILTERS, "before")}


def _filters(typed: dict[str, str]) -> dict:
    """The service's keyword arguments of the typed filters."""
    return {service: typed[name] or None for name, service in FILTERS.items()}


def _query(typed: dict[str, str], **extra) -> str:
    pairs = {name: typed[name] for name in FILTERS if typed[name]}
    pairs.update({k: v for k, v in extra.items() if v})
    return urlencode(pairs)


def _entries(ctx, rows) -> list[dict]:
    """The rows as the table draws them, each with a link to its record's form."""
    shown = []
    for entry in read_entries(ctx, rows):
        url = None
        if entry.target and entry.exists:
            url = f"/desk/{entry.target}/{entry.record_id}"
        shown.append({
            "at": entry.at.strftime("%Y-%m-%d %H:%M:%S"), "iso": entry.at.isoformat(),
            "actor": entry.actor, "username": entry.username, "entity": entry.entity_title,
            "record_id": entry.record_id, "record": entry.record, "url": url,
            "action": entry.action, "action_title": entry.action_title,
            "changes": [{"label": label, "old": old, "new": new}
                        for label, old, new in entry.changes]})
    return shown


def _page(request: Request, ctx, typed: dict[str, str], *, problem: str | None = None,
          field: str | None = None, status: int = 200):
    """The search form and, unless the search was refused, one page of what it finds."""
    entries, older_url = [], None
    if problem is None:  # a refused export has its problem already
        try:
            found = search_audit(ctx, **_filters(typed), before=parse_cursor(typed["before"]),
                                 limit=PAGE)
        except ValidationError as exc:
            problem, field, status = exc.message, exc.field, exc.status
        else:
            entries = _entries(ctx, found.rows)
            if found.older is not None:
                older_url = "/desk/admin/audit?" + _query(typed,
                                                          before=format_cursor(found.older))
    query = _query(typed)
    error_field = FIELD_OF.get(field) if problem else None
    return render_admin(
        request, "audit.html", ctx, "audit", _("Audit trail"), status=status,
        problem=problem if error_field is None else None, field_problem=problem,
        typed=typed, error_field=error_field, entries=entries,
        entities=audit_entities(ctx.app), people=audit_people(ctx), older_url=older_url,
        newest_url=("/desk/admin/audit" + (f"?{query}" if query else ""))
        if typed["before"] else None,
        export_url=None if problem else "/desk/admin/audit/export.xlsx"
        + (f"?{query}" if query else ""),
        searched=any(typed[name] for name in FILTERS), refused=problem is not None)


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/audit")
    def page(request: Request):
        typed = _typed(request)
        with admin_context(request) as ctx:
            return _page(request, ctx, typed)

    @routes.get("/desk/admin/audit/export.xlsx")
    def export(request: Request):
        typed = _typed(request)
        try:
            with admin_context(request) as ctx:
                data = export_audit(ctx, **_filters(typed))
                stamp = ctx.now().astimezone(ctx.settings.tz).strftime("%Y%m%d-%H%M")
        except ValidationError as exc:
            problem, field, status = exc.message, exc.field, exc.status
        else:
            return file_response(data, XLSX, f"audit-{stamp}.xlsx")
        with admin_context(request) as ctx:
            return _page(request, ctx, typed, problem=problem, field=field, status=status)

    return routes
