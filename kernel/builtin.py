"""The kernel's own hook implementations: it registers its entities like any plugin."""

from __future__ import annotations

from kernel.hookspecs import hookimpl


@hookimpl
def fixdesk_entities():
    """Master data, users and roles, audit, settings, hook switches, counters, jobs, calendars,
    saved list filters, notes and attachments of records, the list of search indexes."""
    from kernel.attachments import ATTACHMENT_ENTITIES
    from kernel.audit import AuditLog
    from kernel.auth import AUTH_ENTITIES
    from kernel.branch_calendar import CALENDAR_ENTITIES
    from kernel.documents.registry import PrintLog
    from kernel.hookswitch import HookSwitch
    from kernel.jobs import JOB_ENTITIES
    from kernel.list_prefs import LIST_PREF_ENTITIES
    from kernel.login import LOGIN_ENTITIES
    from kernel.models import KERNEL_ENTITIES
    from kernel.notes import NOTE_ENTITIES
    from kernel.numbering import SeriesCounter
    from kernel.search_index import SearchIndex
    from kernel.settings import SETTING_ENTITIES

    return [*KERNEL_ENTITIES, *AUTH_ENTITIES, AuditLog, *SETTING_ENTITIES, HookSwitch,
            SeriesCounter, *JOB_ENTITIES, *CALENDAR_ENTITIES, PrintLog, *LOGIN_ENTITIES,
            *LIST_PREF_ENTITIES, *NOTE_ENTITIES, *ATTACHMENT_ENTITIES, SearchIndex]


@hookimpl
def fixdesk_permissions():
    """Who may read and change master data, users, the audit trail, settings and hooks;
    who may write notes on records and attach files to them."""
    from kernel.attachments import ATTACHMENT_PERMISSIONS
    from kernel.auth import KERNEL_PERMISSIONS
    from kernel.notes import NOTE_PERMISSIONS

    return [*KERNEL_PERMISSIONS, *NOTE_PERMISSIONS, *ATTACHMENT_PERMISSIONS]


@hookimpl
def fixdesk_documents():
    """The equipment record (设备档案)."""
    from kernel.documents.kernel_documents import EQUIPMENT_RECORD

    return [EQUIPMENT_RECORD]


@hookimpl
def fixdesk_settings():
    """Login lockout limits; the size and types of files attached to records."""
    from kernel.attachments import ATTACHMENT_SETTINGS
    from kernel.auth import KERNEL_SETTINGS

    return [*KERNEL_SETTINGS, *ATTACHMENT_SETTINGS]


@hookimpl
def fixdesk_job_handlers():
    """Sending queued notifications; printing a batch of papers (detached: it keeps its
    own short transactions, never the write lock while it lays papers out); backups."""
    from kernel import backup
    from kernel.contributions import JobHandler
    from kernel.documents.print_jobs import JOB_NAME, run_batch_print
    from kernel.notifications import send_queued_notification

    return [JobHandler("kernel.notify", send_queued_notification, max_attempts=5,
                       backoff_seconds=60),
            JobHandler(JOB_NAME, run_batch_print, max_attempts=1, lease_seconds=3600,
                       detached=True),
            # detached: a long backup never holds the write lock; scheduled only on sites
            # whose site.toml turns it on (kernel.backup.schedules)
            JobHandler(backup.JOB_NAME, backup.scheduled_backup, max_attempts=1,
                       lease_seconds=6 * 3600, detached=True)]


@hookimpl
def fixdesk_dashboard():
    """The administrators' cards: failed background jobs, plugins not loaded or inactive,
    active users."""
    from kernel.dashboard_cards import KERNEL_CARDS

    return KERNEL_CARDS


@hookimpl
def fixdesk_timeline(ctx, entity, record, before, limit):
    """Audited field changes (to users holding ``audit.read``), printed papers, notes and
    attachments of any record."""
    from kernel.timeline_sources import kernel_events

    return kernel_events(ctx, entity, record, before, limit)


@hookimpl(tryfirst=True)
def fixdesk_demo_data(ctx):
    """The demo company of ``SCENARIOS.md`` with its branches, staff, customers, machines."""
    from kernel.demo import load_master_data

    load_master_data(ctx)
