"""Two third-party plugins that extend repair's work order without importing it.

``acme_warranty`` (manufacturer warranty claims) and ``acme_rating`` (job difficulty)
are separate distributions (``tests/distributions``), pip-installed for the run by
``tests/conftest.py``. Each adds to ``repair_work_order`` a field block, a list column,
an action and a printed document, from a part that needs repair; each also stands
alone with a ``Category`` entity of its own.
"""

from __future__ import annotations

import pytest
from partner_sites import ALL, Web, a_few_orders


@pytest.fixture(autouse=True)
def _a_few_orders(monkeypatch):
    """Repair's demo data here is a handful of orders, not two months of history."""
    import plugins.repair.demo

    monkeypatch.setattr(plugins.repair.demo, "load_demo", a_few_orders)


@pytest.fixture
def open_web(make_site):
    """``open_web(plugins)``: the ASGI app of a demo site with those plugins."""
    made = []

    def start(plugins, site=None):
        found = Web(site or make_site(plugins, demo=True, branch_code="SH",
                                      branch_name="上海服务中心"))
        made.append(found)
        return found

    yield start
    for web in made:
        web.close()


@pytest.fixture
def both(open_web):
    """Repair with both partner plugins, on the demo company with its order history."""
    return open_web(ALL)
