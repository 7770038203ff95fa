"""Admin console section: roles and permissions.

``/desk/admin/roles`` is the table of every permission the kernel and the enabled
plugins declare (rows, by module and entity) against every role (columns, the
plugins' roles too): a tick where the role holds it, marked whether it holds it by
default or because an admin granted it, and the defaults an admin revoked. Saving the
table calls :func:`kernel.auth.set_permissions`, which writes a
:func:`kernel.auth.set_grant` (an audited ``role_grant`` row) for each change, as
``fixdesk role grant`` / ``revoke`` do.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel.auth import (
    ADMIN,
    DEFAULT,
    GRANTED,
    REVOKED,
    permission_states,
    role_title,
    set_permissions,
    site_roles,
)
from kernel.errors import Conflict, ValidationError
from kernel.i18n import N_, _
from kernel.labels import entity_title
from kernel.web.desk.admin.shell import MAX_FIELDS, admin_context, read_form, render_admin, token
from kernel.web.desk.render import DeskRoute, redirect

BASE = "/desk/admin/roles"
#: what the kernel's permissions on things other than a table are about
KERNEL_SUBJECTS = {"user": N_("Users"), "audit": N_("Audit trail"), "settings": N_("Settings"),
                   "hooks": N_("Hooks per branch"), "job": N_("Background jobs"),
                   "note": N_("Notes"), "attachment": N_("Attached files")}
#: actions every module uses; a plugin's own are named by its actions of that permission
ACTION_TITLES = {"read": N_("View"), "create": N_("Create"), "update": N_("Change"),
                 "delete": N_("Delete"), "submit": N_("Submit"), "cancel": N_("Cancel"),
                 "amend": N_("Amend"), "register": N_("Register"), "edit": N_("Change"),
                 "file": N_("File"),
                 # repair's field work on jobs dispatched to others (no action of its own)
                 "others_jobs": N_("Field work on others' jobs")}
#: the modules' name for the kernel's permissions
KERNEL_TITLE = N_("Master data and system")
STATE_TEXT = {DEFAULT: N_("default"), GRANTED: N_("granted"), REVOKED: N_("revoked")}
DONE = {"saved": N_("The permissions were saved."),
        "unchanged": N_("Nothing was changed.")}


def subject_title(app, entity: str) -> str:
    """What a permission's entity part is called: the entity's, a report's or the kernel's
    own subject's title (the name itself when none is known)."""
    if getattr(app.entity_class(entity), "__title__", None):
        return entity_title(app, entity)
    report = app.reports.get(entity)
    if report is not None:
        return _(report.title)
    subject = KERNEL_SUBJECTS.get(entity)
    return _(subject) if subject else entity_title(app, entity)


def action_title(app, entity: str, action: str) -> str:
    """What a permission's action part is called: the entity's action of that name, a
    common verb, or the titles of the actions needing that permission."""
    found = app.registry.actions.get((entity, action))
    if found is not None:
        return _(found.title)
    if action in ACTION_TITLES:
        return _(ACTION_TITLES[action])
    name = f"{entity}.{action}"
    titles = list(dict.fromkeys(_(a.title) for a in app.registry.actions.values()
                                if a.permission == name))
    if titles:
        return " / ".join(titles[:3]) + (" …" if len(titles) > 3 else "")
    declared = next((p.title for p in app.declared_permissions
                     if p.name == name and p.title), None)
    return _(declared) if declared else action.replace("_", " ")


def module_title(app, owner: str | None) -> str:
    info = app.plugins.get(owner) if owner else None
    if info is None:
        return _(KERNEL_TITLE)
    return _(info.title or owner)


def version(app) -> str:
    """A fingerprint of the table's rows and columns: a form made for another table (a
    module enabled meanwhile) is refused rather than read as revoking the new rows."""
    text = "|".join(site_roles(app)) + "#" + "|".join(sorted(
        p.name for p in app.declared_permissions))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def matrix(ctx) -> tuple[list[dict], list[dict]]:
    """(columns: the roles, groups: a module's entities, each with its rows of cells)."""
    app = ctx.app
    states = permission_states(ctx)
    roles = [{"role": r, "title": role_title(app, r), "admin": r == ADMIN}
             for r in site_roles(app)]
    groups: dict[str, dict] = {}
    for permission in app.declared_permissions:
        owner = app.registry.owner(permission)
        group = groups.setdefault(owner or "", {"title": module_title(app, owner),
                                                "subjects": {}})
        subject = group["subjects"].setdefault(permission.entity, {
            "title": subject_title(app, permission.entity), "rows": []})
        cells = []
        for column in roles:
            if column["admin"]:
                cells.append({"admin": True})
                continue
            state = states[permission.name][column["role"]]
            cells.append({"admin": False, "value": f"{column['role']}:{permission.name}",
                          "held": state in (DEFAULT, GRANTED), "state": state or "none",
                          "text": _(STATE_TEXT[state]) if state in STATE_TEXT else "",
                          "label": f"{column['title']}: {subject['title']} · "
                                   f"{action_title(app, permission.entity, permission.action)}"})
        subject["rows"].append({"permission": permission.name,
                                "title": action_title(app, permission.entity,
                                                      permission.action),
                                "cells": cells})
    kernel_first = sorted(groups.items(), key=lambda item: (item[0] != "kernel", item[0]))
    return roles, [{"title": g["title"], "subjects": list(g["subjects"].values())}
                   for _owner, g in kernel_first]


def _page(request: Request, ctx, *, status: int = 200, problem: str | None = None,
          notice: str | None = None):
    roles, groups = matrix(ctx)
    return render_admin(request, "roles.html", ctx, "roles", _("Roles and permissions"),
                        status=status, problem=problem, notice=notice, roles=roles,
                        groups=groups, version=version(ctx.app))


def _held(form: dict) -> set[tuple[str, str]]:
    values = form.get("held", [])
    held = set()
    for value in values if isinstance(values, list) else [values]:
        role, sep, permission = value.partition(":")
        if not sep or not role or not permission:
            raise ValidationError(_("unknown permission {permission!r}").format(
                permission=value[:100]), field="permission")
        held.add((role, permission))
    return held


def _save(request: Request, form: dict):
    try:
        with admin_context(request, csrf=token(form)) as ctx:
            if form.get("version") != version(ctx.app):
                raise Conflict(_("The modules or roles changed since this page was loaded: "
                                 "reload it and make your changes again."))
            changed = set_permissions(ctx, _held(form))
        return redirect(f"{BASE}?done={'saved' if changed else 'unchanged'}")
    except (ValidationError, Conflict) as exc:
        failure = exc
    with admin_context(request, csrf=token(form)) as ctx:
        return _page(request, ctx, status=failure.status, problem=failure.message)


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(BASE)
    def page(request: Request, done: str = ""):
        with admin_context(request) as ctx:
            return _page(request, ctx, notice=_(DONE[done]) if done in DONE else None)

    @routes.post(BASE)
    async def save(request: Request):
        form = await read_form(request, MAX_FIELDS)
        return await run_in_threadpool(_save, request, form)

    return routes
