"""Job difficulty: the difficulty classes on their own, and glue for repair.

The glue (:mod:`acme_rating.repair_glue`) is a part that needs repair: registered only
when repair is enabled, listed as inactive ("needs repair") otherwise. Nothing here
imports repair.
"""

from kernel import Part, Permission, Role, hookimpl
from kernel.i18n import N_

STAFF = ("branch_manager", "service_supervisor", "front_desk", "engineer", "accountant")
REVIEWER = "difficulty_reviewer"
#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Job difficulty")


@hookimpl
def fixdesk_parts():
    """Difficulty of repair work orders, when repair is enabled."""
    return [Part("repair", ".repair_glue", needs=("repair",),
                 title=N_("Difficulty of repair work orders"))]


@hookimpl
def fixdesk_entities():
    """The difficulty classes."""
    from .models import Category

    return [Category]


@hookimpl
def fixdesk_roles():
    """The difficulty reviewer rates the jobs."""
    return [Role(REVIEWER, N_("Difficulty reviewer"), (
        "acme_rating_category.read", "acme_rating_rating.update", "repair_work_order.read",
        "repair_work_order.edit"))]


@hookimpl
def fixdesk_permissions():
    """Everyone reads the classes; managers keep them; supervisors rate jobs."""
    return [Permission("acme_rating_category", "read", STAFF),
            Permission("acme_rating_category", "create", ("branch_manager",)),
            Permission("acme_rating_category", "update", ("branch_manager",)),
            Permission("acme_rating_rating", "update", ("service_supervisor",))]


@hookimpl
def fixdesk_demo_data(ctx):
    """Three difficulty classes."""
    from .models import Category

    ctx.session.add_all([Category(code="ROUTINE", name="常规维修", weight_percent=100),
                         Category(code="BOARD", name="主板级维修", weight_percent=150),
                         Category(code="OVERHAUL", name="整机大修", weight_percent=200)])
