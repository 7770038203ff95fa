"""The kernel's own hook implementations: it registers its entities like any plugin."""

from __future__ import annotations

from kernel.hookspecs import hookimpl


@hookimpl
def fixdesk_entities():
    """Master data, users and roles, audit, settings, hook switches, counters, jobs, calendars."""
    from kernel.audit import AuditLog
    from kernel.auth import AUTH_ENTITIES
    from kernel.branch_calendar import CALENDAR_ENTITIES
    from kernel.documents.registry import PrintLog
    from kernel.hookswitch import HookSwitch
    from kernel.jobs import JOB_ENTITIES
    from kernel.login import LOGIN_ENTITIES
    from kernel.models import KERNEL_ENTITIES
    from kernel.numbering import SeriesCounter
    from kernel.settings import SETTING_ENTITIES

    return [*KERNEL_ENTITIES, *AUTH_ENTITIES, AuditLog, *SETTING_ENTITIES, HookSwitch,
            SeriesCounter, *JOB_ENTITIES, *CALENDAR_ENTITIES, PrintLog, *LOGIN_ENTITIES]


@hookimpl
def fixdesk_permissions():
    """Who may read and change master data, users, the audit trail, settings and hooks."""
    from kernel.auth import KERNEL_PERMISSIONS

    return KERNEL_PERMISSIONS


@hookimpl
def fixdesk_documents():
    """The equipment record (设备档案)."""
    from kernel.documents.kernel_documents import EQUIPMENT_RECORD

    return [EQUIPMENT_RECORD]


@hookimpl
def fixdesk_settings():
    """Login lockout limits."""
    from kernel.auth import KERNEL_SETTINGS

    return KERNEL_SETTINGS


@hookimpl
def fixdesk_job_handlers():
    """Sending queued notifications."""
    from kernel.contributions import JobHandler
    from kernel.notifications import send_queued_notification

    return [JobHandler("kernel.notify", send_queued_notification, max_attempts=5,
                       backoff_seconds=60)]


@hookimpl(tryfirst=True)
def fixdesk_demo_data(ctx):
    """The demo company of ``SCENARIOS.md`` with its branches, staff, customers, machines."""
    from kernel.demo import load_master_data

    load_master_data(ctx)
