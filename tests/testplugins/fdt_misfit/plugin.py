"""Test plugin: contributions the registry refuses, chosen by ``FDT_MISFIT`` at start.

Well-behaved (``FDT_MISFIT`` unset) it has a setting, a permission and an action on
repair's work order named by table in its own module (no part): that action is
inactive ("needs repair") while repair is off; and home-page cards and a chart.
"""

import os

from kernel import Action, Document, Part, Permission, Role, Setting, hookimpl


def _mode() -> str:
    return os.environ.get("FDT_MISFIT", "")


def _nothing(ctx, record, **params):
    return record


@hookimpl
def fixdesk_settings():
    if _mode() == "raises":
        raise RuntimeError("the settings file is on fire")
    settings = [Setting("fdt_misfit.level", int, 1, "A level")]
    if _mode() == "duplicate_setting":
        settings.append(Setting("fdt_misfit.level", int, 2, "The same key again"))
    if _mode() == "unprefixed":
        settings.append(Setting("level", int, 1, "No plugin name"))
    return settings


@hookimpl
def fixdesk_permissions():
    found = [Permission("fdt_misfit_thing", "read", ("front_desk",))]
    if _mode() == "duplicate_permission":
        found.append(Permission("fdt_note", "read", ("engineer",)))
    return found


@hookimpl
def fixdesk_roles():
    if _mode() == "duplicate_role":
        return [Role("engineer", "Engineer again")]
    return []


@hookimpl
def fixdesk_actions():
    found = [Action("repair_work_order", "fdt_misfit_poke", "Poke", _nothing,
                    "fdt_misfit_thing.read")]
    if _mode() == "missing_entity":
        found.append(Action("fdt_misfit_nothing", "poke", "Poke", _nothing,
                            "fdt_misfit_thing.read"))
    if _mode() == "typo_of_partner":
        found.append(Action("repair_wrok_order", "fdt_misfit_typo", "Typo", _nothing,
                            "fdt_misfit_thing.read"))
    if _mode() == "unprefixed_action":
        found.append(Action("fdt_notes_note", "poke", "Poke", _nothing, "fdt_misfit_thing.read"))
    return found


@hookimpl
def fixdesk_documents():
    if _mode() == "bad_document":
        return [Document("fdt_misfit.sheet", "Sheet", "customer", "x.html", dict, paper="A3")]
    if _mode() == "wrong_answer":
        return ["not a document"]
    return []


class _TagsGlue:
    """Glue for a plugin the manifest does not name as a partner."""


@hookimpl
def fixdesk_parts():
    if _mode() == "unlisted_partner":
        return [Part("tags", _TagsGlue(), needs=("fdt_tags",))]
    return []


def _customers(ctx):
    from sqlalchemy import func, select

    from kernel.models import Customer

    return ctx.session.scalar(select(func.count()).select_from(Customer))


def _broken_count(ctx):
    raise RuntimeError("the counter is on fire")


def _tiers(ctx):
    from sqlalchemy import func, select

    from kernel import ChartData
    from kernel.models import Customer

    rows = ctx.session.execute(select(Customer.tier, func.count()).group_by(Customer.tier)
                               .order_by(Customer.tier)).all()
    return ChartData("bar", "客户等级分布", tuple(f"等级{t}" for t, _n in rows),
                     (("客户数", tuple(n for _t, n in rows)),))


@hookimpl
def fixdesk_dashboard():
    """Well-behaved: a card for everyone who reads customers (linking to their list), one
    for the front desk only, one needing the plugin's own permission, a chart with
    Chinese labels and the same kept for a minute; ``FDT_MISFIT`` asks for a refused or
    failing one."""
    from kernel import DashboardCard, DashboardChart
    from kernel.list_links import list_url

    found = [
        DashboardCard("fdt_misfit.customers", "Customers", _customers,
                      url=lambda ctx: list_url("customer"), permission="customer.read"),
        DashboardCard("fdt_misfit.front_only", "Front desk only", lambda ctx: 7,
                      roles=("front_desk",), tone="danger"),
        DashboardCard("fdt_misfit.own", "Own permission", lambda ctx: 3,
                      permission="fdt_misfit_thing.read", order=5),
        DashboardChart("fdt_misfit.tiers", "Customer tiers", _tiers,
                       permission="customer.read"),
        DashboardChart("fdt_misfit.tiers_kept", "Customer tiers, kept", _tiers,
                       permission="customer.read", keep=60),
    ]
    if _mode() == "duplicate_card":
        found.append(DashboardCard("fdt_misfit.customers", "Again", lambda ctx: 1))
    if _mode() == "unprefixed_card":
        found.append(DashboardCard("customers", "No plugin name", lambda ctx: 1))
    if _mode() == "unknown_permission_card":
        found.append(DashboardCard("fdt_misfit.typo", "Typo", lambda ctx: 1,
                                   permission="customer.raed"))
    if _mode() == "wrong_dashboard_answer":
        found.append("not a card")
    if _mode() == "failing_card":
        found.append(DashboardCard("fdt_misfit.broken", "Broken", _broken_count, order=1))
    return found
