"""Fixtures of the complaints plugin's tests: a site with complaints alone (the kernel's
demo staff and customers), and one with repair beside it."""

from __future__ import annotations

import pytest


@pytest.fixture
def complaints_app(quiet_site, app_of):
    """A started site with complaints alone and the kernel's demo staff and customers."""
    return app_of(quiet_site(["complaints"]))


@pytest.fixture
def repair_complaints_app(quiet_site, app_of):
    """A started site with repair and complaints, without repair's order history."""
    return app_of(quiet_site(["repair", "complaints"]))
