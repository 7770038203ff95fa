"""The billing plugin's hook implementations: short, delegating to the modules beside them.

Nothing here imports another plugin. The glue for repair is in parts registered only
where repair is enabled, so that an admin can switch each off per branch:
``billing.repair`` (quotes priced by the rules, job charges, billing's fields and blocks
on the work order, on-site collection), ``billing.invoicing`` (an invoice for each job on
completion — JD switches it off and bills by monthly statement), ``billing.commission``
(R28) and ``billing.contracts`` (fee plans of maintenance contracts).
"""

from __future__ import annotations

from decimal import Decimal

from kernel import Part, Permission, Setting, ValidationError, hookimpl
from kernel.contributions import collect
from kernel.i18n import N_, _
from kernel.numbering import series_setting

#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Billing")

EVERYONE = ("branch_manager", "service_supervisor", "front_desk", "engineer",
            "warehouse_keeper", "accountant")
MONEY = ("branch_manager", "accountant")
OFFICE = ("branch_manager", "service_supervisor", "front_desk", "accountant")
EDIT = ("create", "update", "delete")
DOCUMENT = ("create", "update", "delete", "submit", "cancel", "amend")

#: what the roles page calls the permissions no action of billing's needs
PERMISSION_TITLES = {"billing_invoice.bill": N_("Bill monthly statements")}

#: entity → {actions: roles}; admins hold every permission
PERMISSIONS = {
    "billing_labour_rate": {"read": EVERYONE, **dict.fromkeys(EDIT, MONEY)},
    "billing_markup_rule": {"read": EVERYONE, **dict.fromkeys(EDIT, MONEY)},
    "billing_travel_zone": {"read": EVERYONE, **dict.fromkeys(EDIT, MONEY)},
    "billing_commission_rate": {"read": OFFICE, **dict.fromkeys(EDIT, MONEY)},
    "billing_job_charge": {"read": OFFICE},
    "billing_invoice": {"read": OFFICE, **dict.fromkeys(DOCUMENT, MONEY),
                        "bill": MONEY},
    "billing_payment": {"read": OFFICE,
                        **dict.fromkeys(("create", "update", "delete", "submit"),
                                        (*MONEY, "front_desk")),
                        "cancel": MONEY, "amend": MONEY, "hand_in": MONEY,
                        "collect": ("engineer", "service_supervisor", *MONEY)},
    "billing_contract_plan": {"read": OFFICE, "update": MONEY, "bill": MONEY},
    "billing_commission_entry": {"read": ("branch_manager", "service_supervisor",
                                          "accountant")},
}

#: numbering patterns of the documents
SERIES = (
    ("billing_invoice", "INV-{branch}-{YYYY}-{#####}", N_("Numbers of invoices")),
    ("billing_credit_note", "CN-{branch}-{YYYY}-{####}", N_("Numbers of credit notes")),
    ("billing_payment", "PAY-{branch}-{YYYY}-{#####}", N_("Numbers of payments")),
)

#: the modules whose contributions this plugin collects: each may define ``ACTIONS``,
#: ``FORM_SECTIONS``, ``LIST_COLUMNS``, ``DOCUMENTS``, ``REPORTS``, ``DASHBOARD``,
#: ``SCHEDULED_JOBS``, ``JOB_HANDLERS`` and ``CLI_COMMANDS`` (lists)
MODULES = ("actions", "statements", "contracts", "commission", "papers", "reports",
           "dashboard", "views", "cli")


def _collect(name: str) -> list:
    return collect("plugins.billing", MODULES, name)


def _choice(enum_class):
    def check(value) -> None:
        if value not in {m.value for m in enum_class}:
            raise ValidationError(_("must be one of: {choices}").format(
                choices=", ".join(m.value for m in enum_class)))
    return check


def _not_negative(value) -> None:
    if value < 0:
        raise ValidationError(_("must not be negative"))


def _rate(value) -> None:
    if not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise ValidationError(_("must be from 0 to 100, with at most two decimals"))


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """The questions billing asks others: ``billing_part_category`` (see :mod:`.hookspecs`)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """Price rules, billing's fields on work orders, job charges, invoices and credit notes
    with their lines, payments with their allocations, contract fee plans and their billed
    periods, commission lines."""
    from .invoices import install_totals
    from .models import ENTITIES

    install_totals()
    return ENTITIES


@hookimpl
def fixdesk_permissions():
    """Accountants and branch managers bill and keep the price rules; the front desk
    takes payments at the counter; engineers collect small amounts on site."""
    return [Permission(entity, action, roles, PERMISSION_TITLES.get(f"{entity}.{action}"))
            for entity, actions in PERMISSIONS.items() for action, roles in actions.items()]


@hookimpl
def fixdesk_settings():
    """VAT and payment terms, the default difficulty, contract billing frequency, the
    on-site collection limit and the commission deductions; the documents' numbering."""
    from .models import Difficulty, Frequency

    return [series_setting(series, pattern, description)
            for series, pattern, description in SERIES] + [
        Setting("billing.vat_rate", Decimal, Decimal("13"),
                N_("VAT rate in percent charged on invoices"), validate=_rate),
        Setting("billing.prices_include_tax", bool, True,
                N_("Prices and rates are entered including VAT")),
        Setting("billing.payment_terms_days", int, 30,
                N_("Days from the invoice date to the due date"), per_branch=True,
                validate=_not_negative),
        Setting("billing.default_difficulty", str, Difficulty.MEDIUM.value,
                N_("Difficulty of a job whose difficulty was not set (labour rate)"),
                per_branch=True, validate=_choice(Difficulty)),
        Setting("billing.contract_frequency", str, Frequency.MONTHLY.value,
                N_("How often a new maintenance contract's fee is billed"),
                per_branch=True, validate=_choice(Frequency)),
        Setting("billing.on_site_limit", Decimal, Decimal("1000"),
                N_("Largest amount an engineer may collect on site"), per_branch=True,
                validate=_not_negative),
        Setting("billing.commission_overdue_deduction", Decimal, Decimal("20"),
                N_("Commission deducted for a job that missed its arrival deadline"),
                per_branch=True, validate=_not_negative),
        Setting("billing.commission_rating_deduction", Decimal, Decimal("30"),
                N_("Commission deducted for a survey with a poor rating"),
                per_branch=True, validate=_not_negative),
        Setting("billing.commission_poor_rating", int, 2,
                N_("A survey rating at or below this (of 4) counts as poor"),
                per_branch=True),
        Setting("billing.commission_complaint_deduction", Decimal, Decimal("50"),
                N_("Commission deducted for a complaint the engineer answers for"),
                per_branch=True, validate=_not_negative),
    ]


@hookimpl
def fixdesk_parts():
    """The glue for repair, each part switchable per branch: ``billing.repair``,
    ``billing.invoicing``, ``billing.commission``, ``billing.contracts``; for complaints,
    ``billing.complaints`` (commission deducted for a complaint)."""
    return [
        Part("repair", "plugins.billing.repair_glue", needs=("repair",),
             title=N_("Quotes, job charges and on-site collection for repair jobs")),
        Part("invoicing", "plugins.billing.invoicing_glue", needs=("repair",),
             title=N_("Invoice each repair job when it is completed")),
        Part("commission", "plugins.billing.commission_glue", needs=("repair",),
             title=N_("Engineer commission from audited jobs")),
        Part("contracts", "plugins.billing.contracts_glue", needs=("repair",),
             title=N_("Billing plans of maintenance contracts")),
        Part("complaints", "plugins.billing.complaints_glue", needs=("complaints",),
             title=N_("Complaints the engineer answers for deduct from his commission")),
    ]


@hookimpl
def fixdesk_actions():
    """Credit, apply credit, hand in collections, bill statements and contract periods
    (the modules listed in ``MODULES``)."""
    return _collect("ACTIONS")


@hookimpl
def fixdesk_record_new(ctx, entity, record):
    """A new invoice typed in the desk or API takes today's date, the site's VAT rate and
    the branch's payment terms; a new payment today's date (what was typed wins)."""
    if entity in ("billing_invoice", "billing_payment"):
        from .invoices import fill_defaults

        fill_defaults(ctx, record)


@hookimpl
def fixdesk_document_submitted(ctx, entity, record):
    """A submitted invoice owes its total (a credit note takes its own off the invoice it
    credits); a submitted payment pays invoices, the rest is the customer's credit."""
    from . import invoices, payments

    if entity == "billing_invoice":
        invoices.on_submit(ctx, record)
        ctx.hook.billing_invoice_submitted(ctx=ctx, invoice=record)
    elif entity == "billing_payment":
        payments.on_submit(ctx, record)


@hookimpl
def fixdesk_document_cancelled(ctx, entity, record):
    """A cancelled invoice frees what it billed; a cancelled credit note gives the amount
    back to its invoice; a cancelled payment takes its money off the invoices."""
    from . import invoices, payments

    if entity == "billing_invoice":
        invoices.on_cancel(ctx, record)
    elif entity == "billing_payment":
        payments.on_cancel(ctx, record)


@hookimpl
def fixdesk_document_amended(ctx, entity, record):
    """The new draft of an amended invoice or payment starts unpaid and unallocated."""
    from .amounts import ZERO
    from .models import PaymentState

    if entity == "billing_invoice":
        record.paid_total = record.credited_total = record.outstanding = ZERO
        record.payment_state = PaymentState.UNPAID
    elif entity == "billing_payment":
        record.allocated = record.unallocated = ZERO
        record.handed_in_at, record.handed_in_by = None, None


@hookimpl
def fixdesk_form_sections():
    """Totals, payments and credit notes on an invoice; allocations on a payment; the
    receivables on a customer (:mod:`.views`)."""
    return _collect("FORM_SECTIONS")


@hookimpl
def fixdesk_list_columns():
    """Receivables columns in the customer list (:mod:`.views`)."""
    return _collect("LIST_COLUMNS")


@hookimpl
def fixdesk_documents():
    """Invoice (sales receipt), credit note, on-site collection receipt, statement of
    account, commission statement (templates in ``templates/billing/``)."""
    return _collect("DOCUMENTS")


@hookimpl
def fixdesk_reports():
    """Revenue by branch and service type by month, receivables aging, commission by
    engineer, free work at internal cost."""
    return _collect("REPORTS")


@hookimpl
def fixdesk_dashboard():
    """Revenue this month, receivables overdue, collections to hand in, commission."""
    return _collect("DASHBOARD")


@hookimpl
def fixdesk_scheduled_jobs():
    """Monthly statements of unbilled jobs and contract fees due (daily, idempotent)."""
    return _collect("SCHEDULED_JOBS")


@hookimpl
def fixdesk_job_handlers():
    """Jobs billing queues (none yet besides the scheduled ones)."""
    return _collect("JOB_HANDLERS")


@hookimpl
def fixdesk_cli_commands():
    """``fixdesk billing ...``: statements, contract fees, receivables, commission."""
    return _collect("CLI_COMMANDS")


@hookimpl
def fixdesk_demo_data(ctx):
    """Price rules of both demo branches, an accountant, invoices, payments, a commission
    month (made by the services)."""
    from .demo import load_demo

    load_demo(ctx)
