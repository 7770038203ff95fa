"""FastAPI application factory for a site: the JSON API and the staff desk.

``/api/v1/...`` (OpenAPI at ``/api/v1/openapi.json``, interactive docs at
``/api/docs``) and the desk at ``/`` are built from the entities, actions,
documents, reports and routers that the site's enabled plugins register.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from sqlalchemy import text

from kernel.site import App, Site
from kernel.web import errors
from kernel.web.api import action_router, entity_router, general_router
from kernel.web.language import ApiLanguage
from kernel.web.reports_api import reports_router
from kernel.web.timeline_api import router as timeline_router


def create_app(site: Site) -> FastAPI:
    """The web application of ``site``."""
    app_state: App = site.start()

    @asynccontextmanager
    async def lifespan(_web: FastAPI):
        yield
        app_state.close()

    web = FastAPI(title="fixdesk", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/api/v1/openapi.json",
                  description="The fixdesk API. Authenticate with `Authorization: Bearer "
                              "<token>` (`fixdesk user token add USERNAME`).")
    web.state.fixdesk = app_state
    errors.install(web)
    web.add_middleware(ApiLanguage)

    _mount_api_docs(web)

    @web.get("/healthz", include_in_schema=False)
    def healthz():
        with app_state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "plugins": app_state.enabled_plugins}

    web.include_router(general_router())
    web.include_router(reports_router())
    for info in app_state.exposed.values():
        web.include_router(entity_router(info))
    web.include_router(action_router(app_state))
    web.include_router(timeline_router())  # notes, attachments, timeline of any record
    for router in app_state.registry.routers:
        web.include_router(router)

    from kernel.web import desk

    desk.install(web, app_state)
    return web


def _mount_api_docs(web: FastAPI) -> None:
    """Interactive API docs at /api/docs, with Swagger UI served from the fastapi-offline
    package (installed from PyPI; no CDN, nothing copied into the repository)."""
    import fastapi_offline
    from fastapi.staticfiles import StaticFiles

    assets = os.path.join(os.path.dirname(fastapi_offline.__file__), "static")
    web.mount("/api/docs/static", StaticFiles(directory=assets), name="api-docs-static")

    @web.get("/api/docs", include_in_schema=False)
    def api_docs():
        return get_swagger_ui_html(
            openapi_url=web.openapi_url, title="fixdesk API",
            swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/static/swagger-ui.css",
            swagger_favicon_url="/api/docs/static/favicon.png")


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn: the site named by ``FIXDESK_SITE``."""
    return create_app(Site.load(os.environ.get("FIXDESK_SITE")))
