"""Routers included once per process and shared by every app built in it.

FastAPI analyses a route (its parameters, dependencies and pydantic models) when an
app includes its router — lazily, on the first request that walks past it, in recent
versions. A test run builds thousands of apps, and an app's routes are most of its cost;
the routes shared here hold nothing of one site (each request finds its site through
``request.app``), so the analysed routes of the first app serve every later one.

One consequence: ``app.dependency_overrides`` of a later app does not reach these routes
(FastAPI asks the app that included them first). fixdesk sets none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from fastapi import APIRouter, FastAPI

_included: dict[Hashable, list] = {}
_lock = threading.Lock()


def include(web: FastAPI, build: Callable[[], APIRouter], key: Hashable = None) -> None:
    """Include in ``web`` the router that ``build()`` makes, made and analysed once per
    process for ``key`` (its shape: equal keys must make equal routes; default ``build``
    itself, for a router that takes nothing)."""
    key = build if key is None else key
    with _lock:
        entries = _included.get(key)
        if entries is None:
            start = len(web.router.routes)
            web.include_router(build())
            _included[key] = web.router.routes[start:]
            return
    web.router.routes.extend(entries)
    changed = getattr(web.router, "_mark_routes_changed", None)  # FastAPI's own caches
    if changed is not None:
        changed()
