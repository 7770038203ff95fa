"""Finding a request's route: only the routers whose paths could be the request's are asked.

FastAPI keeps each included router as one entry of the app's routes and, for a request,
asks every route of every router before it in turn; with every plugin on, a site has
some 560 routes, and a route near the end cost milliseconds of CPU to find
(:func:`kernel.web.shared_routes.guard`).
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kernel.web.app import create_app

PLUGINS = ["repair", "inventory", "billing", "complaints"]


@pytest.fixture
def web(make_site):
    web = create_app(make_site(PLUGINS))
    yield web
    web.state.fixdesk.close()


def _asked(monkeypatch) -> list:
    """The paths of the routes asked whether they match, from now on."""
    asked = []
    matches = APIRoute.matches

    def counted(self, scope):
        asked.append(self.path)
        return matches(self, scope)

    monkeypatch.setattr(APIRoute, "matches", counted)
    return asked


@pytest.mark.parametrize("path, status", [
    ("/login", 200),  # a desk router near the end of the app's routes
    ("/api/v1/repair_work_order", 401),
    ("/desk/repair_work_order/1", 303),  # the generic form, in the last router
    ("/no/such/page", 404),
])
def test_a_request_asks_only_the_routers_that_could_hold_its_path(web, monkeypatch, path,
                                                                   status):
    with TestClient(web, follow_redirects=False) as client:
        client.get(path)  # FastAPI analyses a router's routes the first time it is asked
        asked = _asked(monkeypatch)
        assert client.get(path).status_code == status
    routes = sum(isinstance(r, APIRoute) for r in web.routes) + sum(
        len(r.original_router.routes) for r in web.routes if hasattr(r, "original_router"))
    assert routes > 400  # every plugin's: the request could have asked them all
    assert len(asked) < 40, sorted(set(asked))


def test_a_path_below_a_proxy_prefix_still_finds_its_route(web):
    """Behind a proxy that serves the site under a prefix (``root_path``), the path a route
    is matched on is the part after it."""
    with TestClient(web, root_path="/service", follow_redirects=False) as client:
        assert client.get("/service/healthz").status_code == 200
        assert client.get("/service/login").status_code == 200
