"""Admin console section: roles (placeholder until built)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kernel.i18n import _
from kernel.web.desk.admin.shell import admin_context, render_admin
from kernel.web.desk.render import DeskRoute


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/roles")
    def page(request: Request):
        with admin_context(request) as ctx:
            return render_admin(request, "index.html", ctx, "roles", _("Administration"))

    return routes
