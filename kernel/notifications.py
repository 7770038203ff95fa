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


def send_queued_notification(ctx, *, channel: str, to: str, template: str, context: dict,
                             locale: str) -> str:
    """Job handler: render and deliver one queued message; returns the delivery id."""
    from kernel.notify import Message, SmtpSettings, deliver, render_message

    subject, body = render_message(template, locale, context,
                                   extra_dirs=ctx.app.template_override_dirs())
    message = Message(channel=channel, to=to, subject=subject, body=body)
    return deliver(message, SmtpSettings.from_mapping(ctx.settings.smtp), ctx.hook)
