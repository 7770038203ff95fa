"""``/desk/admin/hooks``: the plugins' hook implementations × branches, each cell a switch.

The same services as ``fixdesk hooks list|disable|enable``: :func:`kernel.hookswitch.
hook_matrix` draws the matrix, :func:`kernel.hookswitch.switch` turns one implementation
on or off for one branch (audited as a ``hook_switch`` row added or deleted). A switch
takes effect with the next request of that branch: each request's context reads the
branch's switches afresh. Each row shows the plugin's title and what the implementation
does (the title the plugin gave it with :func:`kernel.contributions.titled`), the hook's
technical name small beside it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel.errors import Conflict, NotFound, ValidationError
from kernel.hookswitch import hook_matrix, switch
from kernel.i18n import _
from kernel.masterdata import get_branch, list_branches
from kernel.web.desk.admin.shell import admin_context, read_form, render_admin, text_field, token
from kernel.web.desk.render import DeskRoute, redirect

#: longest name a form field may carry into a lookup (longer ones cannot exist)
MAX_NAME = 120


def _plugin_title(app, unit: str) -> str:
    """A plugin's title for people (the manifest's, translated) by a unit's name: the
    plugin's or one of its parts' (``billing.invoicing``)."""
    owner = unit.partition(".")[0]
    meta = app.plugins.get(owner)
    return _(meta.title) if meta is not None and meta.title else owner


def matrix(ctx) -> tuple[list, list[dict]]:
    """The branches and the matrix's rows grouped by plugin: ``[{"title", "rows"}]``."""
    branches = list_branches(ctx)
    groups: dict[str, dict] = {}
    for row in hook_matrix(ctx):
        group = groups.setdefault(row.plugin, {"title": _plugin_title(ctx.app, row.plugin),
                                               "part": row.plugin.partition(".")[2],
                                               "rows": []})
        group["rows"].append({
            "plugin": row.plugin, "hook": row.hook, "titled": row.title is not None,
            "title": _(row.title) if row.title else row.hook,
            "cells": [{"code": b.code, "name": b.name, "off": b.code in row.off}
                      for b in branches]})
    order = {name: i for i, name in enumerate(ctx.app.plugin_order)}
    ordered = sorted(groups.items(), key=lambda item: (
        order.get(item[0].partition(".")[0], len(order)), item[0]))
    return branches, [group for _unit, group in ordered]


def _done_notice(ctx, query) -> str | None:
    """The notice after a switch: which implementation is now on or off where."""
    state = query.get("done")
    if state not in ("on", "off"):
        return None
    plugin, hook, code = (query.get(k, "")[:MAX_NAME] for k in ("plugin", "hook", "branch"))
    found = next((r for r in hook_matrix(ctx) if (r.plugin, r.hook) == (plugin, hook)), None)
    if found is None:
        return _("Saved.")
    what = _(found.title) if found.title else found.hook
    template = _("“{what}” is on again for branch {branch}, from its next request.") \
        if state == "on" else _("“{what}” is off for branch {branch}, from its next request.")
    return template.format(what=what, branch=code)


def _page(request: Request, ctx, *, status: int = 200, notice: str | None = None,
          problem: str | None = None):
    branches, groups = matrix(ctx)
    return render_admin(request, "hooks.html", ctx, "hooks", _("Hooks per branch"),
                        status=status, notice=notice, problem=problem, branches=branches,
                        groups=groups)


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/hooks")
    def page(request: Request):
        with admin_context(request) as ctx:
            return _page(request, ctx, notice=_done_notice(ctx, request.query_params))

    @routes.post("/desk/admin/hooks/switch")
    async def switch_one(request: Request):
        form = await read_form(request, max_fields=20)
        return await run_in_threadpool(_switch, request, form)

    def _switch(request: Request, form: dict):
        plugin, hook, code = (text_field(form, k, MAX_NAME) for k in ("plugin", "hook", "branch"))
        enabled = text_field(form, "enabled", MAX_NAME)
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                if enabled not in ("0", "1"):
                    raise ValidationError(_("choose on or off"), field="enabled")
                branch = get_branch(ctx, code)
                switch(ctx, plugin, hook, branch, enabled == "1")
                code = branch.code
            state = "on" if enabled == "1" else "off"
            query = urlencode({"done": state, "plugin": plugin, "hook": hook, "branch": code})
            return redirect(f"/desk/admin/hooks?{query}#hook-{plugin}-{hook}")
        except (ValidationError, NotFound, Conflict) as exc:
            # the form named something that is not there: the page stays, nothing changed
            problem, status = exc.message, 422 if isinstance(exc, NotFound) else exc.status
        with admin_context(request, csrf=token(form)) as ctx:
            return _page(request, ctx, status=status, problem=problem)

    return routes
