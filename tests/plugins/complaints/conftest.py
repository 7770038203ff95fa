"""Fixtures of the complaints plugin's tests: a site with complaints alone (the kernel's
demo staff and customers), and one with repair beside it."""

from __future__ import annotations

import pytest


def _no_demo(ctx):
    """The demo loader of tests that make their own data: nothing (one function, so that
    the sites made with it are made once and copied)."""


@pytest.fixture
def quiet_site(make_site, monkeypatch):
    """``quiet_site(plugins)``: a site of SH with the kernel's demo staff, customers and
    machines, without the plugins' own demo data."""
    import importlib

    for name in ("inventory", "repair", "billing", "complaints"):
        monkeypatch.setattr(importlib.import_module(f"plugins.{name}.demo"), "load_demo",
                            _no_demo)

    def make(plugins):
        return make_site(plugins, demo=True, branch_code="SH", branch_name="上海服务中心")

    return make


@pytest.fixture
def complaints_app(quiet_site, app_of):
    """A started site with complaints alone and the kernel's demo staff and customers."""
    return app_of(quiet_site(["complaints"]))


@pytest.fixture
def repair_complaints_app(quiet_site, app_of):
    """A started site with repair and complaints, without repair's order history."""
    return app_of(quiet_site(["repair", "complaints"]))
