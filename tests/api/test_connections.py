"""Database connections under load: a request holds one connection at a time, and a
server given more concurrent requests than its pool holds answers them all.

Before: the user cache read a user it did not keep yet in a session of its own, from the
pool, while the request held its own connection. Twenty concurrent requests of users not
yet kept (a worker just started) held the pool's fifteen connections and waited for a
second one each, until the pool gave up 30 s later.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from kernel.auth import add_user, create_token
from kernel.models import Branch
from kernel.web.app import create_app

#: more than the old pool's 15 connections: its requests waited for each other
USERS = 24


def _tokens(site, count: int) -> list[str]:
    app = site.start()
    try:
        with app.context() as ctx:
            home = ctx.session.scalars(select(Branch).order_by(Branch.id)).first()
            tokens = []
            for n in range(count):
                user = add_user(ctx, f"load{n}", f"并发用户 {n}", None, home,
                                roles=["service_supervisor"])
                tokens.append(create_token(ctx, user, "load")[1])
            return tokens
    finally:
        app.close()


class HeldConnections:
    """The most connections one thread held from ``engine``'s pool at once."""

    def __init__(self, engine):
        self.held = threading.local()
        self.most = 0
        event.listen(engine.pool, "checkout", self.checkout)
        event.listen(engine.pool, "checkin", self.checkin)

    def checkout(self, *_args):
        self.held.count = getattr(self.held, "count", 0) + 1
        self.most = max(self.most, self.held.count)

    def checkin(self, *_args):
        self.held.count = getattr(self.held, "count", 1) - 1


def test_a_request_of_a_user_not_yet_kept_holds_one_connection(make_site):
    site = make_site()
    token = _tokens(site, 1)[0]
    web = create_app(site)
    held = HeldConnections(web.state.fixdesk.engine)
    with TestClient(web) as client:
        answer = client.get("/api/v1/customer?limit=5",
                            headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert held.most == 1


def test_more_concurrent_requests_than_connections_all_answer(make_site):
    threads = 2
    site = make_site()
    site.config.threads = threads
    tokens = _tokens(site, USERS)
    web = create_app(site)
    pool = web.state.fixdesk.engine.pool
    busiest = [0]  # the most connections checked out at once
    event.listen(pool, "checkout",
                 lambda *_a: busiest.__setitem__(0, max(busiest[0], pool.checkedout())))

    with TestClient(web) as client, ThreadPoolExecutor(USERS) as callers:
        answers = list(callers.map(
            lambda token: client.get("/api/v1/customer?limit=5",
                                     headers={"Authorization": f"Bearer {token}"}),
            tokens))
    assert [a.status_code for a in answers] == [200] * USERS
    assert pool.checkedout() == 0
    # the requests ran side by side, no more of them at once than the server's threads
    assert busiest == [threads]
    assert (pool.size(), pool._max_overflow) == (threads, threads)  # two for each thread


def test_site_toml_sets_the_threads_and_refuses_nonsense():
    from kernel.errors import SiteError
    from kernel.site import SiteConfig

    assert SiteConfig.from_toml({}).threads == 4
    config = SiteConfig.from_toml({"web": {"threads": 16}})
    assert config.to_toml()["web"] == {"threads": 16}
    for bad in (0, 257, "8", 2.5, True):
        with pytest.raises(SiteError, match=r"\[web\] threads must be a whole number"):
            SiteConfig.from_toml({"web": {"threads": bad}})


def test_a_server_freezes_its_start_up_heap_and_thaws_it_at_the_end(make_site):
    """``fixdesk serve``'s app (``serving=True``) leaves what start-up made out of the
    garbage collector's full passes; an app of a test or a script does not."""
    import gc

    site = make_site()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(site)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
    with TestClient(create_app(site, serving=True)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 50_000  # modules, routes, models, templates
    assert gc.get_freeze_count() == 0
