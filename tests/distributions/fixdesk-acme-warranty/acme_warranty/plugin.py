"""Manufacturer warranty claims: the claim categories on their own, and glue for repair.

The glue (:mod:`acme_warranty.repair_glue`) is a part that needs repair: registered only
when repair is enabled, listed as inactive ("needs repair") otherwise. Nothing here
imports repair.
"""

from kernel import Part, Permission, Role, Setting, hookimpl
from kernel.i18n import N_

STAFF = ("branch_manager", "service_supervisor", "front_desk", "engineer", "accountant")
CLERK = "warranty_clerk"
#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Manufacturer warranty claims")


@hookimpl
def fixdesk_parts():
    """Claims on repair work orders, when repair is enabled."""
    return [Part("repair", ".repair_glue", needs=("repair",),
                 title=N_("Claims on repair work orders"))]


@hookimpl
def fixdesk_entities():
    """The claim categories."""
    from .models import Category

    return [Category]


@hookimpl
def fixdesk_roles():
    """The warranty clerk files the claims."""
    return [Role(CLERK, N_("Warranty clerk"), (
        "acme_warranty_category.read", "acme_warranty_category.create",
        "acme_warranty_category.update", "acme_warranty_claim.update",
        "acme_warranty_claim.file", "repair_work_order.read"))]


@hookimpl
def fixdesk_permissions():
    """Everyone reads the categories; managers keep them; supervisors mark claims."""
    return [Permission("acme_warranty_category", "read", STAFF),
            Permission("acme_warranty_category", "create", ("branch_manager",)),
            Permission("acme_warranty_category", "update", ("branch_manager",)),
            Permission("acme_warranty_claim", "update", ("service_supervisor",)),
            Permission("acme_warranty_claim", "file", ("branch_manager",))]


@hookimpl
def fixdesk_settings():
    """How long after the repair a maker still takes a claim."""
    return [Setting("acme_warranty.claim_days", int, 30,
                    N_("Days after the repair within which a maker takes a claim"))]


@hookimpl
def fixdesk_demo_data(ctx):
    """The categories the demo company's makers accept."""
    from .models import Category

    ctx.session.add_all([Category(code="PARTS", name="整机保修（含配件）", reimbursed_percent=100),
                         Category(code="LABOUR", name="仅工时", reimbursed_percent=60)])
