"""Fixtures of the inventory plugin's tests: a demo site with inventory alone, and one
with repair beside it; master data for stock tests made through the generic records."""

from __future__ import annotations

import pytest


@pytest.fixture
def inventory_app(staff_site, app_of):
    """A started site with only the inventory plugin (a parts shop) and the kernel's demo
    staff, without demo stock (tests make theirs with ``make_stock_data``)."""
    return app_of(staff_site(["inventory"]))


@pytest.fixture
def stock_app(staff_site, app_of):
    """A started site with inventory and repair, the kernel's demo staff, customers and
    machines, without demo stock or order history."""
    return app_of(staff_site(["repair", "inventory"]))


@pytest.fixture
def demo_stock_app(make_site, app_of):
    """The full demo of repair and inventory: parts, warehouses, stock history, orders."""
    return app_of(make_site(["repair", "inventory"], demo=True, branch_code="SH",
                            branch_name="上海服务中心"))


def _no_demo_stock(ctx):
    """The inventory (and repair) demo loader of tests that make their own stock: nothing
    (one function, so that the sites made with it are made once and copied)."""


@pytest.fixture
def staff_site(make_site, monkeypatch):
    """``staff_site(plugins)``: a site of SH with the kernel's demo staff, customers and
    machines, but without inventory's demo parts and stock (nor repair's order history),
    for tests that make their master data with ``make_stock_data``."""
    import importlib

    for name in ("inventory", "repair"):
        monkeypatch.setattr(importlib.import_module(f"plugins.{name}.demo"), "load_demo",
                            _no_demo_stock)

    def make(plugins):
        return make_site(plugins, demo=True, branch_code="SH", branch_name="上海服务中心")

    return make
