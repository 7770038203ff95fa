"""Fixtures of the billing plugin's tests: a site with billing alone (invoicing anything
by hand), and one with repair and billing (and inventory) beside it."""

from __future__ import annotations

import pytest


def _no_demo(ctx):
    """The demo loader of tests that make their own data: nothing (one function, so that
    the sites made with it are made once and copied)."""


@pytest.fixture
def quiet_site(make_site, monkeypatch):
    """``quiet_site(plugins)``: a site of SH with the kernel's demo staff, customers and
    machines, without the plugins' own demo data (price rules, stock, order history)."""
    import importlib

    for name in ("inventory", "repair", "billing"):
        monkeypatch.setattr(importlib.import_module(f"plugins.{name}.demo"), "load_demo",
                            _no_demo)

    def make(plugins):
        return make_site(plugins, demo=True, branch_code="SH", branch_name="上海服务中心")

    return make


@pytest.fixture
def billing_app(quiet_site, app_of):
    """A started site with billing alone and the kernel's demo staff and customers."""
    return app_of(quiet_site(["billing"]))


@pytest.fixture
def repair_billing_app(quiet_site, app_of):
    """A started site with repair and billing, the kernel's demo staff, customers and
    machines, without demo price rules or history."""
    return app_of(quiet_site(["repair", "billing"]))
