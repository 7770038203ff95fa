"""The inventory plugin's hook implementations: short, delegating to the modules beside them.

Nothing here imports another plugin. The glue for repair is the part ``inventory.repair``
(:mod:`plugins.inventory.repair_glue`), registered only where repair is enabled.
"""

from __future__ import annotations

from kernel import Part, Permission, Setting, hookimpl
from kernel.i18n import N_
from kernel.numbering import series_setting

#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Inventory")

EVERYONE = ("branch_manager", "service_supervisor", "front_desk", "engineer",
            "warehouse_keeper", "accountant")
MANAGERS = ("branch_manager",)
SUPERVISORS = ("branch_manager", "service_supervisor")
KEEPERS = ("branch_manager", "warehouse_keeper")
EDIT = ("create", "update", "delete")
DOCUMENT = ("create", "update", "delete", "submit", "cancel", "amend")

#: entity → {actions: roles}; admins hold every permission
PERMISSIONS = {
    "inventory_category": {"read": EVERYONE, **dict.fromkeys(EDIT, KEEPERS)},
    "inventory_supplier": {"read": EVERYONE, "create": KEEPERS, "update": KEEPERS,
                           "approve": MANAGERS},
    "inventory_part": {"read": EVERYONE, **dict.fromkeys(EDIT, KEEPERS)},
    "inventory_warehouse": {"read": EVERYONE, "create": KEEPERS, "update": KEEPERS},
    "inventory_reserve_level": {"read": EVERYONE, **dict.fromkeys(EDIT, KEEPERS)},
    "inventory_stock": {"read": EVERYONE, "update": KEEPERS},
    "inventory_ledger_entry": {"read": EVERYONE},
    "inventory_reservation": {"read": EVERYONE},
    "inventory_stock_entry": {"read": EVERYONE, **dict.fromkeys(DOCUMENT, KEEPERS)},
    "inventory_purchase_request": {
        "read": EVERYONE, **dict.fromkeys(DOCUMENT, (*SUPERVISORS, "warehouse_keeper")),
        "approve": MANAGERS, "order": KEEPERS},
    "inventory_purchase_order": {"read": EVERYONE, **dict.fromkeys(DOCUMENT, KEEPERS),
                                 "close": KEEPERS},
    "inventory_purchase_receipt": {"read": EVERYONE, **dict.fromkeys(DOCUMENT, KEEPERS)},
    "inventory_supplier_return": {"read": EVERYONE},
    "inventory_requisition": {
        "read": EVERYONE, **dict.fromkeys(("create", "update", "delete", "submit"),
                                          (*SUPERVISORS, "engineer", "warehouse_keeper")),
        "cancel": (*SUPERVISORS, "warehouse_keeper"), "amend": (*SUPERVISORS, "engineer"),
        "approve": SUPERVISORS, "issue": KEEPERS, "write_off": (*KEEPERS, "service_supervisor")},
    "inventory_stock_count": {"read": EVERYONE, **dict.fromkeys(EDIT, KEEPERS),
                              "submit": SUPERVISORS, "cancel": SUPERVISORS,
                              "amend": KEEPERS},
    "inventory_customer_order": {"read": EVERYONE,
                                 "create": ("front_desk", *KEEPERS),
                                 "update": ("front_desk", *KEEPERS),
                                 "collect": ("front_desk", *KEEPERS),
                                 "cancel": ("front_desk", *KEEPERS)},
}

#: numbering patterns of the documents
SERIES = (
    ("inventory_stock_entry", "SE-{branch}-{YYYY}-{#####}", N_("Numbers of stock entries")),
    ("inventory_purchase_request", "PR-{branch}-{YYYY}-{####}",
     N_("Numbers of purchase requests")),
    ("inventory_purchase_order", "PO-{branch}-{YYYY}-{####}", N_("Numbers of purchase orders")),
    ("inventory_purchase_receipt", "GR-{branch}-{YYYY}-{####}",
     N_("Numbers of receipt and inspection notes")),
    ("inventory_supplier_return", "RT-{branch}-{YYYY}-{####}",
     N_("Numbers of supplier return notes")),
    ("inventory_requisition", "RQ-{branch}-{YYYY}-{#####}", N_("Numbers of requisition slips")),
    ("inventory_stock_count", "SC-{branch}-{YYYY}-{###}", N_("Numbers of stock count sheets")),
    ("inventory_customer_order", "CO-{branch}-{YYYY}-{####}",
     N_("Numbers of customer pre-orders")),
)


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """The hooks inventory offers: ``inventory_stock_arrived`` (see :mod:`.hookspecs`)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """Categories, suppliers, parts with their compatible models, warehouses and reserve
    levels; stock, ledger and reservations; stock entries, purchase requests, orders,
    receipts and return notes, requisition slips, count sheets, customer pre-orders."""
    from .models import ENTITIES

    return ENTITIES


@hookimpl
def fixdesk_permissions():
    """Warehouse keepers keep the stock and buy, branch managers approve suppliers and
    purchases, engineers ask for parts, supervisors approve requisitions and counts."""
    return [Permission(entity, action, roles)
            for entity, actions in PERMISSIONS.items() for action, roles in actions.items()]


@hookimpl
def fixdesk_settings():
    """The documents' numbering patterns; per branch, the warehouse repair jobs take their
    parts from (``inventory.job_warehouse``)."""
    job_warehouse = Setting(
        "inventory.job_warehouse", str, "",
        N_("Code of the warehouse repair jobs take parts from (empty: the branch's first "
           "parts warehouse); an engineer's van comes first when it has the part"),
        per_branch=True)
    return [series_setting(series, pattern, description) for series, pattern, description
            in SERIES] + [job_warehouse]


@hookimpl
def fixdesk_parts():
    """``inventory.repair``: parts lines of work orders reserve and issue stock, jobs wait
    for parts and resume when they arrive (only where repair is enabled);
    ``inventory.billing``: billing's markup knows each part's category (only where
    billing is enabled)."""
    return [Part("repair", "plugins.inventory.repair_glue", needs=("repair",),
                 title=N_("Parts and stock for repair jobs")),
            Part("billing", "plugins.inventory.billing_glue", needs=("billing",),
                 title=N_("Part categories for billing's parts markup"))]


#: the modules that own documents and actions: each has ``ACTIONS`` (a list of
#: :class:`kernel.Action`), ``ON_SUBMIT`` and ``ON_CANCEL`` (entity table → ``func(ctx,
#: record)`` called when such a document is submitted or cancelled)
DOCUMENT_MODULES = ("stock_entries", "purchasing", "requisitions", "counts",
                    "customer_orders")


#: the modules that only add blocks to forms (their ``FORM_SECTIONS``)
VIEW_MODULES = ("warehouse_view",)


def _modules():
    import importlib

    return [importlib.import_module(f"plugins.inventory.{name}") for name in DOCUMENT_MODULES]


@hookimpl
def fixdesk_actions():
    """Approve suppliers, purchase requests and requisitions; order, receive, issue, return,
    write off; count by barcode; collect pre-orders (the modules beside this one)."""
    return [action for module in _modules() for action in module.ACTIONS]


@hookimpl
def fixdesk_document_submitted(ctx, entity, record):
    """A submitted stock entry, receipt, requisition issue or count posts to the ledger."""
    for module in _modules():
        if (handler := module.ON_SUBMIT.get(entity)) is not None:
            handler(ctx, record)


@hookimpl
def fixdesk_document_cancelled(ctx, entity, record):
    """A cancelled document's ledger entries are reversed (and its reservations let go)."""
    for module in _modules():
        if (handler := module.ON_CANCEL.get(entity)) is not None:
            handler(ctx, record)


@hookimpl
def fixdesk_document_amended(ctx, entity, record):
    """The new draft of an amended document starts afresh (a requisition slip's progress
    and approval are not copied): the modules' ``ON_AMEND``."""
    for module in _modules():
        if (handler := getattr(module, "ON_AMEND", {}).get(entity)) is not None:
            handler(ctx, record)


@hookimpl
def fixdesk_form_sections():
    """What is still to come and the receipts on a purchase order's form, the stock on
    the forms of warehouses and parts (:mod:`.warehouse_view`), and the blocks the other
    modules list in their ``FORM_SECTIONS``."""
    import importlib

    views = [importlib.import_module(f"plugins.inventory.{name}") for name in VIEW_MODULES]
    return [section for module in (*_modules(), *views)
            for section in getattr(module, "FORM_SECTIONS", ())]


@hookimpl
def fixdesk_documents():
    """Requisition slip, purchase order, receipt and inspection note, transfer note, count
    sheet, part barcode labels (templates in ``templates/inventory/``)."""
    from .documents import DOCUMENTS

    return DOCUMENTS


@hookimpl
def fixdesk_reports():
    """Stock on hand and value, movements, reorder suggestions, slow movers, shelf-life
    expiry, emergency reserve shortfalls."""
    from .reports import REPORTS

    return REPORTS


@hookimpl
def fixdesk_dashboard():
    """Stock value, parts below their reorder level, jobs waiting for parts, expiring
    stock on the home page."""
    from .dashboard import dashboard

    return dashboard()


@hookimpl
def fixdesk_scheduled_jobs():
    """The emergency reserve check (daily at 07:00): shortfalls reported to the keepers."""
    from .reserve import SCHEDULED

    return SCHEDULED


@hookimpl
def fixdesk_job_handlers():
    """Telling customers their pre-ordered parts arrived (through the kernel's
    notifications)."""
    from .customer_orders import JOB_HANDLERS

    return JOB_HANDLERS


@hookimpl
def fixdesk_cli_commands():
    """``fixdesk inventory check`` (the ledger proves the stock), ``stock``, ``reorder``."""
    from .cli import COMMANDS

    return COMMANDS


@hookimpl
def fixdesk_demo_data(ctx):
    """Parts, suppliers, warehouses of both demo branches with realistic stock and a few
    months of movements (made by the services)."""
    from .demo import load_demo

    load_demo(ctx)
