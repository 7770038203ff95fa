"""The kernel's own hook implementations: it registers its entities like any plugin."""

from __future__ import annotations

from kernel.hookspecs import hookimpl
from kernel.models import KERNEL_ENTITIES


@hookimpl
def fixdesk_entities():
    """Company, branches, employees, customers and their equipment."""
    return list(KERNEL_ENTITIES)


@hookimpl
def fixdesk_demo_data(ctx):
    """The demo company of ``SCENARIOS.md`` with its branches, staff, customers, machines."""
    from kernel.demo import load_master_data

    load_master_data(ctx)
