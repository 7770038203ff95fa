"""Queueing notifications (e-mail, and SMS or webhooks through plugins) as durable jobs.

``notify(ctx, ...)`` queues the message in the caller's transaction; the worker
renders it in the recipient's language and delivers it (``kernel.notify``).
Because a job is claimed by exactly one worker, two workers never send the
same message.
"""

from __future__ import annotations

from kernel.i18n import normalize_locale


def notify(ctx, *, channel: str, to: str, template: str, context: dict | None = None,
           locale: str | None = None):
    """Queue a message from ``templates/notifications/<template>.txt`` to ``to``."""
    payload = {"channel": channel, "to": to, "template": template, "context": context or {},
               "locale": normalize_locale(locale or ctx.settings.locale)}
    return ctx.enqueue("kernel.notify", payload)


def branch_recipients(ctx, branch_id: int, roles) -> list:
    """Active users of a branch (their home branch or an extra one) holding one of
    ``roles`` who have an e-mail address, by id."""
    from sqlalchemy import or_, select

    from kernel.auth import User, UserBranch, UserRole

    return list(ctx.session.scalars(select(User).where(
        User.active.is_(True), User.email.is_not(None), User.email != "",
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(tuple(roles)))),
        or_(User.home_branch_id == branch_id,
            User.id.in_(select(UserBranch.user_id).where(UserBranch.branch_id == branch_id))))
        .order_by(User.id)))


def tell_branch(ctx, branch_id: int, roles, template: str, context: dict) -> int:
    """Queue an e-mail from ``template`` to each of the branch's people holding one of
    ``roles`` (:func:`branch_recipients`), in his language, with his name as
    ``recipient``; returns how many were queued."""
    recipients = branch_recipients(ctx, branch_id, roles)
    for user in recipients:
        notify(ctx, channel="email", to=user.email, template=template,
               context={**context, "recipient": user.full_name}, locale=user.locale)
    return len(recipients)


def site_key(site) -> str:
    """A short name of ``site`` safe inside a Message-ID (its folder name may hold any
    character): the first 12 hex digits of its path's SHA-256."""
    import hashlib

    return hashlib.sha256(str(site.path).encode()).hexdigest()[:12]


def send_queued_notification(ctx, *, channel: str, to: str, template: str, context: dict,
                             locale: str) -> str:
    """Job handler: render and deliver one queued message; returns the delivery id."""
    from kernel.notify import Message, SmtpSettings, deliver, render_message

    subject, body = render_message(template, locale, context,
                                   extra_dirs=ctx.app.template_override_dirs())
    from kernel.logs import JOB_ID

    job = JOB_ID.get()
    key = f"{site_key(ctx.app.site)}.job{job}" if job is not None else None
    message = Message(channel=channel, to=to, subject=subject, body=body, key=key)
    return deliver(message, SmtpSettings.from_mapping(ctx.settings.smtp), ctx.hook)
