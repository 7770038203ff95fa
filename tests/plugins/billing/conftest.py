"""Fixtures of the billing plugin's tests: a site with billing alone (invoicing anything
by hand), and one with repair and billing (and inventory) beside it."""

from __future__ import annotations

import pytest


@pytest.fixture
def billing_app(quiet_site, app_of):
    """A started site with billing alone and the kernel's demo staff and customers."""
    return app_of(quiet_site(["billing"]))


@pytest.fixture
def repair_billing_app(quiet_site, app_of):
    """A started site with repair and billing, the kernel's demo staff, customers and
    machines, without demo price rules or history."""
    return app_of(quiet_site(["repair", "billing"]))
