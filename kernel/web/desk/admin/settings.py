"""``/desk/admin/settings``: every declared setting with its site value and, for per-branch
settings, each branch's override; set them, or remove a stored value.

The same services as ``fixdesk settings list|set|unset``: :func:`kernel.settings.
setting_values` lists, :func:`kernel.settings.set_setting` validates and stores,
:func:`kernel.settings.clear_setting` removes (each audited). Each setting gets an input
of its type (yes/no, number, time, text) with its description as help; a refused value is
shown again with the reason next to its input (422) and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.masterdata import get_branch, list_branches
from kernel.settings import clear_setting, format_value, set_setting, setting_values, type_name
from kernel.web.desk.admin.shell import admin_context, read_form, render_admin, text_field, token
from kernel.web.desk.render import DeskRoute, redirect

#: the group of the kernel's own settings
KERNEL_GROUP = N_("System")
#: longest key or branch code a form may carry into a lookup (longer ones cannot exist)
MAX_NAME = 120

#: the input an admin types a value of each setting type into
INPUTS = {bool: "bool", int: "int", Decimal: "decimal", float: "float", dt.time: "time",
          list: "list", str: "str"}


#: what a setting's translated description names literally: ``{address}``, ``png``
CODE = re.compile(r"(\{\w+\}|[A-Za-z][\w.+-]*)")
CJK = re.compile(r"[\u3400-\u9fff]")


def description_parts(text: str) -> list[tuple[str, bool]]:
    """A description as (text, is it a code) pieces: in a translated (Chinese) sentence,
    the Latin tokens left are what the admin types as they are (``{address}``, ``png``),
    shown as codes; an English or untranslated description is one piece."""
    if not CJK.search(text):
        return [(text, False)]
    return [(piece, i % 2 == 1) for i, piece in enumerate(CODE.split(text)) if piece]


def readable(value) -> dict:
    """A value as people read it: yes/no translated, others as typed; ``latin`` when it is
    a code or pattern in Latin letters (marked so in the page, like a key)."""
    if isinstance(value, bool):
        return {"text": _("yes") if value else _("no"), "latin": False}
    text = format_value(value)
    return {"text": text, "latin": any("a" <= ch.lower() <= "z" for ch in text)}


def _group_title(app, plugin: str) -> str:
    if plugin == "kernel":
        return _(KERNEL_GROUP)
    meta = app.plugins.get(plugin)
    return _(meta.title) if meta is not None and meta.title else plugin


def groups(ctx, errors: dict | None = None, typed: dict | None = None) -> tuple[list, list]:
    """The branches and the settings grouped by the plugin that declared them, each with
    what its inputs show (``errors`` and ``typed``: (key, branch code or "") → the refusal
    and what was typed, shown again)."""
    errors, typed = errors or {}, typed or {}
    branches = list_branches(ctx)
    found: dict[str, dict] = {}
    for values in setting_values(ctx):
        setting = values.setting
        key = setting.key
        site_shown = format_value(values.site_value)
        entry = {
            "key": key, "description": description_parts(_(setting.description)),
            "type": type_name(setting.type),
            "input": INPUTS.get(setting.type, "str"), "per_branch": setting.per_branch,
            "default": readable(setting.default), "stored": values.site is not None,
            "value": typed.get((key, ""), site_shown), "error": errors.get((key, "")),
            "branches": []}
        if setting.per_branch:
            for branch in branches:
                own = branch.code in values.branches
                value = format_value(values.branches[branch.code]) if own else site_shown
                entry["branches"].append({
                    "code": branch.code, "name": branch.name, "stored": own,
                    "value": typed.get((key, branch.code), value),
                    "error": errors.get((key, branch.code))})
        group = found.setdefault(values.plugin, {"title": _group_title(ctx.app, values.plugin),
                                                 "settings": []})
        group["settings"].append(entry)
    return branches, list(found.values())


def _setting_name(ctx, key: str) -> str | None:
    setting = ctx.app.settings_registry.get(key)
    return _(setting.description) if setting is not None else None


def _done_notice(ctx, query) -> str | None:
    """The notice after a change: which setting, where."""
    done = query.get("done")
    if done not in ("set", "unset"):
        return None
    name = _setting_name(ctx, query.get("key", "")[:MAX_NAME])
    code = query.get("branch", "")[:MAX_NAME]
    if name is None:
        return _("Saved.")
    if done == "set":
        return (_("Saved “{setting}” for branch {branch}.") if code else
                _("Saved “{setting}” for the whole site.")).format(setting=name, branch=code)
    return (_("Removed branch {branch}'s own value of “{setting}”: the site value applies "
              "there again.") if code else
            _("Removed the site value of “{setting}”: the default applies again.")).format(
                setting=name, branch=code)


def _page(request: Request, ctx, *, status: int = 200, notice: str | None = None,
          problem: str | None = None, errors: dict | None = None, typed: dict | None = None):
    branches, found = groups(ctx, errors, typed)
    return render_admin(request, "settings.html", ctx, "settings", _("Settings"),
                        status=status, notice=notice, problem=problem, branches=branches,
                        groups=found)


def _placed(ctx, key: str, code: str) -> tuple[str, str] | None:
    """Where a refusal about (key, branch code) is shown: that branch's input, else the
    setting's site input, else nowhere (an unknown key: at the top of the page)."""
    setting = ctx.app.settings_registry.get(key)
    if setting is None:
        return None
    known = code and setting.per_branch and code in {b.code for b in list_branches(ctx)}
    return (key, code) if known else (key, "")


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/settings")
    def page(request: Request):
        with admin_context(request) as ctx:
            return _page(request, ctx, notice=_done_notice(ctx, request.query_params))

    @routes.post("/desk/admin/settings/set")
    async def set_one(request: Request):
        form = await read_form(request, max_fields=20)
        return await run_in_threadpool(_change, request, form, False)

    @routes.post("/desk/admin/settings/unset")
    async def unset_one(request: Request):
        form = await read_form(request, max_fields=20)
        return await run_in_threadpool(_change, request, form, True)

    def _change(request: Request, form: dict, clear: bool):
        key = text_field(form, "key", MAX_NAME)
        code = text_field(form, "branch", MAX_NAME).strip().upper()
        value = text_field(form, "value")
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                branch = get_branch(ctx, code) if code else None
                if clear:
                    clear_setting(ctx, key, branch)
                else:
                    set_setting(ctx, key, value, branch)
            query = urlencode({"done": "unset" if clear else "set", "key": key,
                               **({"branch": code} if code else {})})
            return redirect(f"/desk/admin/settings?{query}#setting-{key}")
        except (ValidationError, NotFound, Conflict) as exc:
            # refused: the page again with the reason by the input, nothing stored
            message, status = exc.message, 422 if isinstance(exc, NotFound) else exc.status
        with admin_context(request, csrf=token(form)) as ctx:
            where = _placed(ctx, key, code)
            if where is None:
                return _page(request, ctx, status=status, problem=message)
            shown = "".join(ch for ch in value[:2000] if ch.isprintable())
            typed = {} if clear else {where: shown}
            return _page(request, ctx, status=status, errors={where: message}, typed=typed,
                         problem=_("Not saved: see the message by the setting."))

    return routes
