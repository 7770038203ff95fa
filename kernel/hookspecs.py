"""Every hook the kernel calls, with when, with what, and what it returns.

Plugins implement these with :data:`kernel.hookimpl`. Hooks are always called
with keyword arguments. Implementations of enabled plugins are called in
dependency order (a plugin after the plugins it depends on; the kernel's own
implementations first), so results lists come back in that order too.

A plugin that offers hooks of its own declares them in its ``hookspecs.py``
with :data:`hookspec` and adds them in :func:`fixdesk_addhooks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from kernel.context import Context

#: the name the kernel's own hook implementations are registered under
KERNEL = "kernel"
#: marker for hook specifications (kernel and plugin hookspecs)
hookspec = pluggy.HookspecMarker("fixdesk")
#: marker for hook implementations
hookimpl = pluggy.HookimplMarker("fixdesk")


# -------------------------------------------------------------------------
# Registration: called once when a site's plugin manager is built
# -------------------------------------------------------------------------


@hookspec(historic=True)
def fixdesk_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications that this plugin offers to other plugins.

    Called once for every registered plugin, also for plugins registered later
    (historic), so specs are known before anyone calls them.

    :param pluginmanager: the site's pluggy manager; call
        ``pluginmanager.add_hookspecs(my_plugin.hookspecs)``.
    """


@hookspec
def fixdesk_entities() -> list[type]:
    """Register the mapped classes (entities) this plugin owns.

    Called when the site starts. The kernel uses the answer to know which
    tables belong to which plugin (migrations, schema checks) and, later, to
    build the generic API and desk for them.

    :return: SQLAlchemy mapped classes declared on :class:`kernel.Base`.
    """


@hookspec
def fixdesk_documents() -> list[Any]:
    """Register printable documents (service voucher, repair card, ...).

    :return: :class:`kernel.contributions.Document` objects.
    """


@hookspec
def fixdesk_routers() -> list[Any]:
    """Register web routes.

    :return: FastAPI ``APIRouter`` objects, mounted on the site's app.
    """


@hookspec
def fixdesk_actions() -> list[Any]:
    """Register business operations on records (dispatch, complete, cancel, ...).

    Called once when the site starts. Each action becomes
    ``POST /api/v1/<entity>/<id>/<name>`` and a button on the record's desk
    form while ``available(record)`` is true.

    :return: :class:`kernel.contributions.Action` objects.
    """


@hookspec
def fixdesk_settings() -> list[Any]:
    """Declare the settings this plugin reads (key, type, default, scope).

    :return: :class:`kernel.contributions.Setting` objects. Keys are prefixed
        with the plugin name (``repair.urban_deadline_hours``).
    """


@hookspec
def fixdesk_permissions() -> list[Any]:
    """Declare permissions (entity x action) and which roles get them by default.

    :return: :class:`kernel.contributions.Permission` objects.
    """


@hookspec
def fixdesk_scheduled_jobs() -> list[Any]:
    """Declare jobs the worker runs on a schedule (interval or daily time).

    Each scheduled job is enqueued once per due time, however many workers
    run, and then runs like any queued job.

    :return: :class:`kernel.contributions.ScheduledJob` objects.
    """


@hookspec
def fixdesk_job_handlers() -> list[Any]:
    """Declare the code that runs queued jobs (``ctx.enqueue(name, payload)``).

    :return: :class:`kernel.contributions.JobHandler` objects; names are
        prefixed with the plugin name (``repair.flag_overdue``).
    """


@hookspec
def fixdesk_cli_commands() -> list[Any]:
    """Add commands to ``fixdesk`` (``fixdesk inventory check``): click commands or groups,
    each named after the plugin (``inventory``).

    Asked only when ``fixdesk`` is given a name none of its own commands has and a site is
    named (``--site`` or ``FIXDESK_SITE``); the command then runs like the kernel's: it
    opens the site through the :class:`kernel.cli.base.CliState` passed to it
    (``@kernel.cli.base.pass_state``), a :class:`kernel.FixdeskError` it raises is printed
    as one line with exit code 2.

    :return: :class:`click.Command` objects.
    """


@hookspec
def fixdesk_reports() -> list[Any]:
    """Register reports: tables computed from the database (daily reports, registers, rates).

    Called once when the site starts; the answers form the site's report registry
    (``app.reports``). Each report is offered as ``GET /api/v1/reports/<name>`` (JSON,
    Excel, CSV or PDF), on the desk at ``/desk/reports/<name>`` and by ``fixdesk report
    run``, always run as the caller: its permission and branches.

    :return: :class:`kernel.Report` objects; names are prefixed with the plugin name
        (``repair.engineer_daily``).
    """


@hookspec
def fixdesk_parts() -> list[Any]:
    """Register named objects of hook implementations besides the plugin's module.

    Called when the site's plugin manager is built, once per plugin, before any other
    hook. Each part is registered as ``<plugin>.<name>``: it implements hooks like the
    plugin's module does, and an admin can switch its implementations off per branch
    on their own (``fixdesk hooks disable billing.invoicing repair_order_completed
    --branch JD``). A part that ``needs`` other plugins (glue for a partner) is
    registered only when all of them are enabled and loaded, after them; otherwise
    ``fixdesk plugins list`` shows it as inactive ("needs repair").

    :return: :class:`kernel.contributions.Part` objects.
    """


@hookspec
def fixdesk_roles() -> list[Any]:
    """Declare the roles this plugin brings (trainer, ...), with their default permissions.

    Admins grant them to users and change their permissions like the kernel's roles. A
    role name is unique in the site: a role the kernel or another plugin declares
    already is refused at start.

    :return: :class:`kernel.contributions.Role` objects.
    """


@hookspec
def fixdesk_extensions() -> list[Any]:
    """Add fields to another plugin's (or the kernel's) entity, kept in a companion table
    this plugin owns.

    The fields appear in the entity's API (``"billing": {"difficulty": "major"}``),
    list filters and sorting (``billing.difficulty``), desk form and audit trail.
    An extension of an entity whose plugin is not enabled is skipped and listed as
    inactive; one naming an entity nobody has disables this plugin with the reason.

    :return: :class:`kernel.contributions.Extension` objects.
    """


@hookspec
def fixdesk_form_sections() -> list[Any]:
    """Add titled blocks to an entity's desk form: a summary, child rows, and this
    plugin's extension fields (inventory's reservations on a work order).

    Sections are built per record shown (``FormSection.build(ctx, record)``), as the
    user who looks; switching this hook off for a branch hides the plugin's sections
    there.

    :return: :class:`kernel.contributions.FormSection` objects.
    """


@hookspec
def fixdesk_list_columns() -> list[Any]:
    """Add columns to an entity's desk list, computed for a whole page of records at once.

    Switching this hook off for a branch hides the plugin's columns there.

    :return: :class:`kernel.contributions.ListColumn` objects.
    """


@hookspec
def fixdesk_dashboard() -> list[Any]:
    """Add cards (a live count linking to the list behind it) and charts to the desk's home
    page: open orders, overdue jobs, callbacks due; compliance by week, load per engineer.

    Called once when the site starts; each card's ``count(ctx)`` and each chart's
    ``build(ctx)`` run each time a home page is shown, as the user who looks (branch scope
    applies; one SQL query each, aggregated in SQL). A card or chart is shown to users
    holding its ``permission`` and, when it names ``roles``, one of them. Switching this
    hook off for a branch hides the plugin's cards and charts there.

    :return: :class:`kernel.contributions.DashboardCard` and
        :class:`kernel.contributions.DashboardChart` objects; names start with the
        plugin's name (``repair.overdue``).
    """


# -------------------------------------------------------------------------
# Events of the kernel's services
# -------------------------------------------------------------------------


@hookspec
def fixdesk_record_new(ctx: Context, entity: str, record: Any) -> None:
    """Called when the generic API or desk is about to insert a new record, after the
    values typed were checked and before the record is numbered and flushed: fill in the
    defaults a new record takes from settings (an invoice's VAT rate and due date), as
    Odoo's ``default_get`` does. Set only the fields left empty (None).

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the record's table (``"billing_invoice"``).
    :param record: the new, not yet flushed record.
    """


@hookspec
def fixdesk_record_created(ctx: Context, entity: str, record: Any) -> None:
    """Called after the generic API or desk inserted a new record (flushed: it has its id
    and number), in the same transaction: start what a new record of yours sets going (a
    critical complaint tells management at once), as Odoo's ``create`` override does.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the record's table (``"complaints_complaint"``); act only on yours.
    :param record: the new record.
    """


@hookspec
def fixdesk_action_done(ctx: Context, entity: str, record: Any, action: str,
                        params: dict) -> None:
    """Called after an action ran on a record, in its transaction, whoever ran it (the
    API, the desk, another plugin through ``ctx.run_action``, a job).

    Like every event, it may reach an implementation twice for the same record (the
    same action run again later): act idempotently.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the record's table (``"repair_work_order"``).
    :param record: the record after the action.
    :param action: the action's name (``"dispatch"``).
    :param params: the inputs the action was given, as read (records for references).
    """


# -------------------------------------------------------------------------
# A record's timeline (kernel/timeline.py)
# -------------------------------------------------------------------------


@hookspec
def fixdesk_timeline(ctx: Context, entity: str, record: Any, before: Any,
                     limit: int) -> list[Any]:
    """Add entries to a record's timeline, the history beside its desk form: status
    changes, messages sent, stock moved for it — whatever this plugin keeps about it.

    Called each time a timeline is shown (the form, its older pages), as the user who
    looks, after the record was read with its read permission. The kernel adds audited
    field changes (to users holding ``audit.read``), printed papers, notes and
    attachments itself; all answers are merged, newest first, and cut into pages. One
    query per source: never one per entry.

    :param ctx: the :class:`kernel.Context` of the request.
    :param entity: the record's table (``"repair_work_order"``); answer only for yours
        (return an empty list for others).
    :param record: the record, already checked for the user's branch and permission.
    :param before: an aware datetime: return only entries strictly older (None: the
        newest).
    :param limit: return at most this many entries, the newest of those asked for.
    :return: :class:`kernel.TimelineEvent` objects.
    """


# -------------------------------------------------------------------------
# Documents that are submitted (kernel/lifecycle.py)
# -------------------------------------------------------------------------


@hookspec
def fixdesk_document_submitted(ctx: Context, entity: str, record: Any) -> None:
    """Called after a draft of a submittable entity was submitted, in its transaction
    (by :func:`kernel.lifecycle.submit`: the action ``submit`` of the API, the desk or
    ``ctx.run_action``). The record cannot be changed any more: post what it stands for
    (stock ledger moves, the invoice's receivable). Raising refuses the submit: the
    record stays a draft and nothing of the submit is written.

    Like every event it may reach an implementation twice for the same record (a
    retried request, a replayed job): check what was posted already.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the record's table (``"inventory_stock_entry"``); act only on yours.
    :param record: the submitted record (``docstatus`` ``"submitted"``).
    """


@hookspec
def fixdesk_document_cancelled(ctx: Context, entity: str, record: Any) -> None:
    """Called after a submitted document was cancelled, in its transaction (by
    :func:`kernel.lifecycle.cancel`). The owner posts the reversing entries here (a
    reversing stock move for each line, a credit note); an exception undoes the cancel,
    and the record stays submitted.

    Like every event it may reach an implementation twice for the same record: post a
    reversal only when the record has none yet.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the record's table; act only on yours.
    :param record: the cancelled record (``cancel_reason`` says why).
    """


@hookspec
def fixdesk_document_amended(ctx: Context, entity: str, record: Any,
                             amended_from: Any) -> None:
    """Called after a cancelled document was amended, in its transaction (by
    :func:`kernel.lifecycle.amend`): ``record`` is the new draft, a copy of
    ``amended_from`` with its child rows, numbered ``<number>-<n>``. Adjust the draft
    here (it is a draft: it may change); raising undoes the amendment.

    Like every event it may reach an implementation twice for the same pair of records:
    act idempotently.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param entity: the records' table; act only on yours.
    :param record: the new draft (``amended_from_id`` is ``amended_from.id``).
    :param amended_from: the cancelled document it replaces.
    """


# -------------------------------------------------------------------------
# Notifications
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def fixdesk_send_notification(message: Any) -> str | None:
    """Deliver a notification on a channel other than e-mail (SMS, webhook, ...).

    Called by the worker for each queued notification whose channel is not
    ``email``. Stops at the first non-None result.

    :param message: a :class:`kernel.notify.Message` (channel, to, subject, body).
    :return: a delivery id when this plugin delivered the message, else None.
    """


# -------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------


@hookspec
def fixdesk_demo_data(ctx: Context) -> None:
    """Load this plugin's demo data into a new demo site.

    Called by ``fixdesk new-site --demo`` after the
    kernel's demo master data (company, branches SH and JD, employees,
    customers, equipment) exists, in dependency order, inside one transaction.

    :param ctx: context whose ``session`` writes the rows.
    """
