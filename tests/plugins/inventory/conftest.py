"""Fixtures of the inventory plugin's tests: a demo site with inventory alone, and one
with repair beside it; master data for stock tests made through the generic records."""

from __future__ import annotations

import pytest


@pytest.fixture
def inventory_app(make_site, app_of):
    """A started demo site with only the inventory plugin (a parts shop)."""
    return app_of(make_site(["inventory"], demo=True, branch_code="SH",
                            branch_name="上海服务中心"))


@pytest.fixture
def stock_app(make_site, app_of):
    """A started demo site with inventory and repair."""
    return app_of(make_site(["repair", "inventory"], demo=True, branch_code="SH",
                            branch_name="上海服务中心"))
