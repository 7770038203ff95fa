"""FastAPI application factory for a site: the JSON API and the staff desk.

``/api/v1/...`` (OpenAPI at ``/api/v1/openapi.json``, interactive docs at
``/api/docs``) and the desk at ``/`` are built from the entities, actions,
documents, reports and routers that the site's enabled plugins register.
"""

from __future__ import annotations

import gc
import os
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse

from kernel.health import health, readiness
from kernel.site import App, Site
from kernel.web import errors, observe, shared_routes
from kernel.web.api import (
    action_router,
    action_routes_shape,
    api_actions,
    entity_router,
    general_router,
)
from kernel.web.language import ApiLanguage
from kernel.web.limits import RequestLimits
from kernel.web.proxies import TrustedProxies
from kernel.web.reports_api import reports_router
from kernel.web.timeline_api import router as timeline_router


def create_app(site: Site, *, serving: bool = False) -> FastAPI:
    """The web application of ``site``; ``serving``: the one app of a server process
    (``fixdesk serve``), which freezes its start-up heap (:func:`freeze_startup_heap`)."""
    threads = site.config.threads
    # with the plugins' routers, checked; a request holds at most two connections at
    # once (its own and a short one beside it), so the pool never makes threads wait on
    # each other
    app_state: App = site.start(web=True, pool_size=threads, max_overflow=threads)

    @asynccontextmanager
    async def lifespan(_web: FastAPI):
        _limit_threads(threads)
        restore = _note_shutdown(web)
        if serving:
            freeze_startup_heap()
        try:
            yield
        finally:
            restore()
            if serving:
                gc.unfreeze()
                # uvicorn ends a stopped server with the signal again, past the exit handlers
                from kernel.documents.pdf import remove_font_copies

                remove_font_copies()
            app_state.close()

    web = FastAPI(title="fixdesk", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/api/v1/openapi.json",
                  description="The fixdesk API. Authenticate with `Authorization: Bearer "
                              "<token>` (`fixdesk user token add USERNAME`).")
    web.state.fixdesk = app_state
    web.state.shutting_down = False  # set on SIGTERM: /readyz then answers 503
    errors.install(web)
    errors.add_error_schemas(web)
    # inside ApiLanguage: a refusal speaks the caller's language
    web.add_middleware(RequestLimits, body_limit=site.config.body_limit,
                       upload_limit=site.config.upload_limit)
    web.add_middleware(ApiLanguage)
    observe.install(web)  # added last: outermost, so it times and logs the whole answer
    # outside even that: every layer sees the client behind the site's own proxies
    web.add_middleware(TrustedProxies, trusted=site.config.trusted_proxies,
                       header=site.config.proxy_header)

    _mount_api_docs(web)

    @web.get("/healthz", include_in_schema=False)
    def healthz():
        """Whether the site works, check by check (:func:`kernel.health.health`)."""
        ok, checks = health(app_state)
        return JSONResponse({"status": "ok" if ok else "unhealthy", "checks": checks,
                             "plugins": app_state.enabled_plugins},
                            status_code=200 if ok else 503, headers=NO_STORE)

    @web.get("/readyz", include_in_schema=False)
    def readyz():
        """Whether to send this server traffic: the database answers, its schema is
        current, and the server is not shutting down."""
        if web.state.shutting_down:
            return JSONResponse({"status": "shutting_down", "checks": {}}, status_code=503,
                                headers=NO_STORE)
        ok, checks = readiness(app_state)
        if ok:
            return JSONResponse({"status": "ready"}, headers=NO_STORE)
        return JSONResponse({"status": "not_ready", "checks": checks}, status_code=503,
                            headers=NO_STORE)

    shared_routes.include(web, general_router)
    shared_routes.include(web, reports_router)
    for info in app_state.exposed.values():
        shared_routes.include(web, partial(entity_router, info), key=info)
    actions = api_actions(app_state)
    shared_routes.include(web, partial(action_router, actions), key=action_routes_shape(actions))
    shared_routes.include(web, timeline_router)  # notes, attachments, timeline of any record
    for router in app_state.registry.routers:
        shared_routes.include_guarded(web, router)

    from kernel.web import desk

    desk.install(web, app_state)
    return web


NO_STORE = {"Cache-Control": "no-store"}


def _note_shutdown(web: FastAPI):
    """Until the server stops, have SIGTERM and SIGINT also mark the app as shutting down
    (then call uvicorn's own handler, which stops taking connections and lets the
    requests in flight finish). Returns what puts the handlers back. Signals can only be
    handled in the main thread: elsewhere (a test client) this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}

    def noted(signum, frame):
        web.state.shutting_down = True
        handler = previous.get(signum)
        if callable(handler):
            handler(signum, frame)
        else:  # nobody else handled it: what it did before
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            signal.raise_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, noted)

    def restore():
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def freeze_startup_heap() -> None:
    """Keep the garbage collector from walking what start-up made, for good.

    Modules, routes, models and templates live as long as the server process: ~170,000
    objects that every full collection walked again, about 0.2 ms of each request's CPU
    paid as a ~100 ms pause every few hundred requests. Frozen after a collection (so no
    garbage is kept), they are left out of every later one."""
    gc.collect()
    gc.freeze()


def _limit_threads(threads: int) -> None:
    """Let the server work on ``threads`` requests at once (``[web] threads``): the
    others wait on the event loop for a thread, holding no database connection."""
    from anyio import to_thread

    to_thread.current_default_thread_limiter().total_tokens = threads


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
    return create_app(Site.load(os.environ.get("FIXDESK_SITE")), serving=True)
