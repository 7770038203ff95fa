"""Routers included once per process and shared by every app built in it.

FastAPI analyses a route (its parameters, dependencies and pydantic models) when an
app includes its router — lazily, on the first request that walks past it, in recent
versions. A test run builds thousands of apps, and an app's routes are most of its cost;
the routes shared here hold nothing of one site (each request finds its site through
``request.app``), so the analysed routes of the first app serve every later one.

One consequence: ``app.dependency_overrides`` of a later app does not reach these routes
(FastAPI asks the app that included them first). fixdesk sets none.

Every included router also turns away at once a request whose path cannot be one of its
routes' (:func:`guard`): FastAPI asks each route of each included router in turn, at
several microseconds a route, which made finding one of the ~560 routes of a site with
every plugin cost milliseconds per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from fastapi import APIRouter, FastAPI
from starlette.routing import Match

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
            _included[key] = include_guarded(web, build())
            return
    web.router.routes.extend(entries)
    changed = getattr(web.router, "_mark_routes_changed", None)  # FastAPI's own caches
    if changed is not None:
        changed()


def include_guarded(web: FastAPI, router: APIRouter) -> list:
    """``web.include_router(router)``, its entries in ``web``'s routes guarded
    (:func:`guard`); returns those entries."""
    start = len(web.router.routes)
    web.include_router(router)
    entries = web.router.routes[start:]
    prefixes = literal_prefixes(router)
    if prefixes is not None:
        for entry in entries:
            guard(entry, prefixes)
    return entries


def literal_prefixes(router: APIRouter) -> tuple[str, ...] | None:
    """What every path a route of ``router`` matches starts with: each route's path up to
    its first parameter. None when a route has no path of its own (a router included in
    it), which could match anything."""
    prefixes = set()
    for route in router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            return None
        prefixes.add(path.split("{", 1)[0])
    return tuple(sorted(prefixes))


def guard(entry, prefixes: tuple[str, ...]) -> None:
    """Have the route ``entry`` answer "no match" at once for a path starting with none of
    ``prefixes``, and ask the route itself otherwise."""
    asked = entry.matches

    def matches(scope):
        path = scope["path"]
        if not path.startswith(prefixes):
            root = scope.get("root_path", "")  # a path below a proxy's prefix
            if not (root and path.startswith(root) and path[len(root):].startswith(prefixes)):
                return Match.NONE, {}
        return asked(scope)

    entry.matches = matches
