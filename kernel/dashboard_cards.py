"""The kernel's own cards on the administrators' home page (``fixdesk_dashboard``): failed
background jobs, plugins that did not load or wait for a partner, and active users."""

from __future__ import annotations

from sqlalchemy import func, select

from kernel.auth import ADMIN
from kernel.contributions import DashboardCard
from kernel.i18n import N_


def failed_jobs(ctx) -> int:
    """Background jobs that failed after their last try (one COUNT)."""
    from kernel.jobs import FAILED, Job

    return ctx.session.scalar(select(func.count()).select_from(Job)
                              .where(Job.status == FAILED)) or 0


def plugin_problems(ctx) -> int:
    """Plugins that failed to load, and contributions waiting for a partner (the app's
    state, no query)."""
    return len(ctx.app.failed_plugins) + len(ctx.app.inactive)


def active_users(ctx) -> int:
    """Accounts that may log in (one COUNT)."""
    from kernel.auth import User

    return ctx.session.scalar(select(func.count()).select_from(User)
                              .where(User.active.is_(True))) or 0


KERNEL_CARDS = [
    DashboardCard("kernel.failed_jobs", N_("Failed background jobs"), failed_jobs,
                  permission="job.read", roles=(ADMIN,), order=900, tone="danger",
                  help=N_("Background jobs that failed after every retry; an administrator "
                          "retries them on the command line")),
    DashboardCard("kernel.plugin_problems", N_("Plugins not loaded or inactive"),
                  plugin_problems, url=lambda ctx: "#plugins-title", permission="hooks.update",
                  roles=(ADMIN,), order=910, tone="warning",
                  help=N_("Listed under Enabled plugins below, with the reasons")),
    DashboardCard("kernel.active_users", N_("Active users"), active_users,
                  permission="user.read", roles=(ADMIN,), order=920),
]
