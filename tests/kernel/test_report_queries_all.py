"""No report and no list of any plugin runs a query per row (issue #16): each report and
each entity's list page, on the desk and in the API, of repair, inventory, billing and
complaints sends as many SELECTs over the full demo — a year of orders, stock movements,
invoices and complaints — as over a site with the same staff and customers and none of
that history. Counted (:mod:`tests.support.query_count`), never timed; the repair reports
are also counted at 5 and 50 orders in ``tests/plugins/repair/test_report_queries.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from api_tokens import bearer_headers
from desk_sessions import demo_sessions
from query_count import counting

from kernel.reports.service import run
from kernel.web.app import create_app

PLUGINS = ["repair", "inventory", "billing", "complaints"]
#: a report may load the labels of what its rows refer to, one query per kind of record,
#: only when it has rows: never one per row
LABEL_QUERIES = 4
#: every branch, and one branch's scope (its rows, and the parents of lines checked)
USERS = ("admin", "wufang")

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _grown(quiet: dict, full: dict) -> dict:
    """What sends more SELECTs over the full demo than over the quiet site (beyond the
    labels): ``{key: ((rows, SELECTs) quiet, (rows, SELECTs) full)}``."""
    return {key: (quiet[key], full[key]) for key in full
            if full[key][1] > quiet[key][1] + LABEL_QUERIES}


def _params(report) -> dict[str, str]:
    """The widest period each parameter allows: a year up to today."""
    today = dt.date.today()
    year = {"start": (today - dt.timedelta(days=365)).isoformat(), "end": today.isoformat(),
            "day": today.isoformat(), "month": today.strftime("%Y-%m"),
            "months": "12"}
    return {p.name: year[p.name] for p in report.params if p.name in year}


def _queries(app) -> dict[str, tuple[int, int]]:
    """(rows, SELECTs) of every report, run by the admin in a fresh transaction each."""
    found = {}
    for report in app.reports.values():
        with app.context(user="admin") as ctx, counting(app.engine) as statements:
            rows = run(ctx, report, _params(report)).rows
        found[report.name] = (len(rows), len(statements))
    return found


def test_no_report_of_any_plugin_runs_a_query_per_row(make_site, app_of, request):
    full = _queries(app_of(make_site(PLUGINS, demo=True, branch_code="SH",
                                     branch_name="上海服务中心")))
    quiet = _queries(app_of(request.getfixturevalue("quiet_site")(PLUGINS)))
    assert set(full) == set(quiet) and len(full) >= 20, sorted(full)
    grown = _grown(quiet, full)
    assert not grown, grown
    # the demo really is bigger: most reports have more rows over it
    assert sum(full[name][0] > quiet[name][0] for name in full) >= len(full) // 2, (quiet, full)


def _list_queries(site) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(rows, SELECTs) of the first page of 50 of every entity, on the desk and in the
    API, as the admin and as a supervisor who sees one branch (each page asked once
    before, so that what is cached per process is cached)."""
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        tokens = bearer_headers(ctx, *USERS)
    found = {}
    with demo_sessions(web) as open_session:
        for username in USERS:
            desk = open_session(username)
            for name in app.exposed:
                for where, url, headers in (
                        ("desk", f"/desk/{name}?limit=50", {}),
                        ("api", f"/api/v1/{name}?limit=50", tokens[username])):
                    if desk.get(url, headers=headers).status_code != 200:
                        continue
                    with counting(app.engine) as statements:
                        page = desk.get(url, headers=headers)
                    rows = page.text.count('name="ids"') if where == "desk" else \
                        len(page.json()["items"])
                    found[where, username, name] = (rows, len(statements))
    app.close()
    return found


def test_no_list_of_any_plugin_runs_a_query_per_row(make_site, request):
    full = _list_queries(make_site(PLUGINS, demo=True, branch_code="SH",
                                   branch_name="上海服务中心"))
    quiet = _list_queries(request.getfixturevalue("quiet_site")(PLUGINS))
    assert set(full) == set(quiet) and len(full) >= 120, sorted(full)
    grown = _grown(quiet, full)
    assert not grown, grown
    assert sum(full[key][0] >= 20 for key in full) >= 20  # long lists, for both users
