"""FastAPI application factory for a site.

Until the desk lands this serves a status page (company, branches, enabled
plugins and any plugin that failed to load) and ``/healthz``.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select, text

from kernel.i18n import gettext_for
from kernel.models import Branch, Company
from kernel.paths import template_dirs
from kernel.site import App, Site


def create_app(site: Site) -> FastAPI:
    """The web application of ``site``; plugin routers are mounted from ``fixdesk_routers``."""
    app_state: App = site.start()

    @asynccontextmanager
    async def lifespan(_web: FastAPI):
        yield
        app_state.close()

    web = FastAPI(title="fixdesk", docs_url=None, redoc_url=None, lifespan=lifespan)
    web.state.fixdesk = app_state
    env = Environment(loader=FileSystemLoader([str(d) for d in template_dirs()]),
                      autoescape=select_autoescape(), extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext_for(site.config.locale),
                                  lambda s, p, n: s if n == 1 else p, newstyle=True)

    @web.get("/", response_class=HTMLResponse)
    def home(request: Request):
        with app_state.sessions() as session:
            company = session.scalars(select(Company).order_by(Company.id)).first()
            branches = list(session.scalars(select(Branch).order_by(Branch.code)))
            return env.get_template("web/home.html").render(
                company=company, branches=branches, plugins=app_state.enabled_plugins,
                failed=app_state.failed_plugins, locale=site.config.locale,
            )

    @web.get("/healthz")
    def healthz():
        with app_state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "plugins": app_state.enabled_plugins}

    for routers in app_state.pm.hook.fixdesk_routers():
        for router in routers or []:
            web.include_router(router)

    return web


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn: the site named by ``FIXDESK_SITE``."""
    return create_app(Site.load(os.environ.get("FIXDESK_SITE")))
