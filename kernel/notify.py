"""Notifications: render a message from a template and send it by e-mail or a plugin channel.

This is the sending layer only: no database, no queue. :mod:`kernel.jobs` wraps
:func:`deliver` in durable jobs and decides about retries
(:attr:`NotificationError.temporary` says whether trying again may help).

``site.toml``::

    [smtp]
    host = "smtp.example.com"
    port = 587
    username = "fixdesk@example.com"
    password = "..."
    sender = "维修服务部 <fixdesk@example.com>"
    starttls = true          # or ssl = true (implicit TLS, port 465 when no port is given)
    timeout = 10

Message templates are ``templates/notifications/<name>.txt`` (a site folder or
a plugin folder may override the kernel's) and define two blocks::

    {% block subject %}{{ _("fixdesk test message") }}{% endblock %}
    {% block body %}{{ _("Hello %(name)s.", name=customer.name) }}{% endblock %}

They are rendered in Jinja2's sandbox, because administrators edit them. The
translations are gettext's new style, as in the desk: ``_()`` takes keyword
arguments and always applies ``%``, so a literal percent sign is written ``%%``.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from kernel.errors import FixdeskError, ValidationError
from kernel.i18n import _, normalize_locale, translations
from kernel.paths import template_dirs

__all__ = [
    "Message",
    "NotificationError",
    "SmtpSettings",
    "deliver",
    "render_message",
    "send_email",
]

#: the folder under every template directory that holds message templates
TEMPLATE_FOLDER = "notifications"
#: headers and bodies are sent 7-bit clean (RFC 2047 headers, base64/QP bodies), so
#: a Chinese message survives relays that do not speak 8BITMIME
_POLICY = SMTP_POLICY.clone(cte_type="7bit")


class NotificationError(FixdeskError):
    """A message could not be rendered or delivered.

    ``temporary`` is true when trying again later may succeed (the server is
    down or answered 4xx); false when a person has to fix something first
    (wrong password, unknown recipient, no plugin for the channel).
    """

    code = "notification_error"

    def __init__(self, message: str, *, field: str | None = None, temporary: bool = False):
        super().__init__(message, field=field)
        self.temporary = temporary


# -------------------------------------------------------------------------
# Settings and messages
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the outgoing mail server (the ``[smtp]`` table of ``site.toml``)."""

    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs
    sender: str = "fixdesk@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0

    @classmethod
    def from_mapping(cls, data: Mapping | None) -> SmtpSettings:
        """Validate the ``[smtp]`` table; a bad value raises :class:`ValidationError`.

        The error's ``field`` is ``smtp.<key>``. No table (``None`` or ``{}``)
        means the defaults. With ``ssl = true`` and no ``port``, the port is 465
        (implicit TLS); otherwise 25.
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ValidationError(_("[smtp] must be a table"), field="smtp")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValidationError(
                    _("unknown setting {key!r} in [smtp]; known: {known}").format(
                        key=key, known=", ".join(sorted(known))),
                    field=f"smtp.{key}")
        values: dict[str, Any] = {}
        for key in ("host", "sender"):
            if key in data:
                value = data[key]
                if not isinstance(value, str) or not value.strip():
                    raise _bad(key, _("a non-empty string"), value)
                values[key] = value.strip()
        for key in ("username", "password"):
            if key in data and data[key] is not None:
                if not isinstance(data[key], str) or not data[key]:
                    raise _bad(key, _("a non-empty string"), data[key])
                values[key] = data[key]
        for key in ("starttls", "ssl"):
            if key in data:
                if not isinstance(data[key], bool):
                    raise _bad(key, _("true or false"), data[key])
                values[key] = data[key]
        if "port" in data:
            port = data["port"]
            if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                raise _bad("port", _("a whole number from 1 to 65535"), port)
            values["port"] = port
        elif values.get("ssl"):
            values["port"] = 465
        if "timeout" in data:
            timeout = data["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) \
                    or not 0 < timeout <= 600:
                raise _bad("timeout", _("a number of seconds above 0 and at most 600"),
                           timeout)
            values["timeout"] = float(timeout)
        if values.get("ssl") and values.get("starttls"):
            raise ValidationError(
                _("choose either ssl (implicit TLS, usually port 465) or starttls "
                  "(usually port 587), not both"), field="smtp.starttls")
        if ("username" in values) != ("password" in values):
            missing = "password" if "username" in values else "username"
            raise ValidationError(
                _("username and password go together: {key} is missing").format(key=missing),
                field=f"smtp.{missing}")
        if "sender" in values and "@" not in parseaddr(values["sender"])[1]:
            raise _bad("sender", _("an e-mail address such as "
                                   "\"Service <fixdesk@example.com>\""), values["sender"])
        return cls(**values)


def _bad(key: str, expected: str, value: object) -> ValidationError:
    return ValidationError(
        _("smtp.{key} must be {expected}, not {value!r}").format(
            key=key, expected=expected, value=value),
        field=f"smtp.{key}")


@dataclass(frozen=True)
class Message:
    """One rendered notification, ready to go out on ``channel`` (``email``, ``sms``...)."""

    channel: str
    to: str
    subject: str
    body: str
    html: str | None = None
    #: the same key for every attempt at one message (a queued job's id and the site):
    #: a message sent again after a crash between sending and recording it carries the
    #: same Message-ID, so mail clients show it once
    key: str | None = None


# -------------------------------------------------------------------------
# Rendering
# -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _environment(locale: str, dirs: tuple[str, ...]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(list(dirs)),
        autoescape=False,  # plain-text messages: "A & B" stays "A & B"
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue = translations(locale)
    env.install_gettext_callables(catalogue.gettext, catalogue.ngettext, newstyle=True)
    return env


def render_message(template: str, locale: str, context: dict, *,
                   extra_dirs: Sequence[Path] = ()) -> tuple[str, str]:
    """Render ``templates/notifications/<template>.txt`` into ``(subject, body)``.

    ``extra_dirs`` (a site's ``templates/``, plugin template folders) are
    searched before the kernel's. The subject is folded onto one line; the body
    loses leading and trailing blank space. Sandbox violations raise
    :class:`jinja2.exceptions.SecurityError`.
    """
    dirs = tuple(str(Path(d).resolve()) for d in (*extra_dirs, *template_dirs()))
    env = _environment(normalize_locale(locale), dirs)
    name = f"{TEMPLATE_FOLDER}/{template.removesuffix('.txt')}.txt"
    try:
        tmpl = env.get_template(name)
    except TemplateNotFound as exc:
        raise NotificationError(
            _("no message template {name!r} (looked in {dirs})").format(
                name=name, dirs=", ".join(dirs) or "-"),
            field="template") from exc
    parts = []
    for block in ("subject", "body"):
        if block not in tmpl.blocks:
            raise NotificationError(
                _("message template {name!r} has no block named {block!r}").format(
                    name=name, block=block),
                field="template")
        parts.append("".join(tmpl.blocks[block](tmpl.new_context(dict(context)))))
    subject, body = parts
    return " ".join(subject.split()), body.strip()


# -------------------------------------------------------------------------
# Sending
# -------------------------------------------------------------------------


def _email_message(settings: SmtpSettings, message: Message) -> EmailMessage:
    recipients = getaddresses([message.to])
    if not recipients or any("@" not in addr for _name, addr in recipients):
        raise ValidationError(
            _("not an e-mail address: {value!r}").format(value=message.to), field="to")
    msg = EmailMessage(policy=_POLICY)
    try:
        msg["From"] = settings.sender
        msg["To"] = message.to
    except (ValueError, IndexError) as exc:  # CR/LF in a header, unparsable address
        raise ValidationError(
            _("not an e-mail address: {value!r}").format(value=message.to),
            field="to") from exc
    msg["Subject"] = " ".join(message.subject.split())
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    try:
        Address(domain=domain)  # an IDN or odd domain falls back to a safe one
    except (ValueError, IndexError):
        domain = "localhost"
    msg["Message-ID"] = (f"<fixdesk.{message.key}@{domain}>" if message.key
                         else make_msgid(domain=domain))
    msg.set_content(message.body)
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    return msg


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _tls_error(exc: ssl.SSLError) -> str:
    return getattr(exc, "verify_message", None) or exc.reason or str(exc)


def _smtp_reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}".strip()


def send_email(settings: SmtpSettings, message: Message) -> str:
    """Send ``message`` through the SMTP server in ``settings``; return its Message-ID.

    Every failure raises :class:`NotificationError` (the original exception is
    chained as ``__cause__``).
    """
    msg = _email_message(settings, message)
    server = f"{settings.host}:{settings.port}"
    context = ssl.create_default_context()
    try:
        if settings.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except ConnectionRefusedError as exc:
        raise NotificationError(
            _("cannot connect to the mail server {server}: connection refused").format(
                server=server), temporary=True) from exc
    except socket.gaierror as exc:
        raise NotificationError(
            _("cannot connect to the mail server {server}: unknown host").format(
                server=server)) from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
            raise NotificationError(  # accepted the connection, then hung up
                _("cannot connect to the mail server {server}: {error}").format(
                    server=server, error=exc), temporary=True) from exc
        raise NotificationError(  # smtplib wraps a silent server in SMTPServerDisconnected
            _("cannot connect to the mail server {server}: no answer within {seconds} s")
            .format(server=server, seconds=settings.timeout), temporary=True) from exc
    except ssl.SSLError as exc:
        raise NotificationError(
            _("TLS with the mail server {server} failed: {error}").format(
                server=server, error=_tls_error(exc))) from exc
    except smtplib.SMTPConnectError as exc:
        raise NotificationError(
            _("the mail server {server} refused the connection: {reply}").format(
                server=server, reply=_smtp_reply(exc)),
            temporary=400 <= exc.smtp_code < 500) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise NotificationError(
            _("cannot connect to the mail server {server}: {error}").format(
                server=server, error=exc), temporary=True) from exc

    try:
        step = "STARTTLS"
        try:
            if settings.starttls:
                smtp.starttls(context=context)
            step = "AUTH"
            if settings.username is not None:
                _login(smtp, settings.username, settings.password or "")
            step = "SMTPUTF8"  # the one extension send_message may find missing
            refused = smtp.send_message(msg)
        except smtplib.SMTPNotSupportedError as exc:
            raise NotificationError(
                _("the mail server {server} does not support {feature}: check the [smtp] "
                  "settings").format(server=server, feature=step)) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise NotificationError(
                _("the mail server {server} rejected the login of {username!r}: {reply}")
                .format(server=server, username=settings.username, reply=_smtp_reply(exc)),
                field="smtp.password") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients, message.to) from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 530 and settings.username is None:
                raise NotificationError(
                    _("the mail server {server} requires a login: set username and password "
                      "in [smtp] ({reply})").format(server=server, reply=_smtp_reply(exc)),
                    field="smtp.username") from exc
            raise NotificationError(
                _("the mail server {server} refused the sender {sender!r}: {reply}").format(
                    server=server, sender=settings.sender, reply=_smtp_reply(exc)),
                field="smtp.sender", temporary=400 <= exc.smtp_code < 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise NotificationError(
                _("the mail server {server} answered: {reply}").format(
                    server=server, reply=_smtp_reply(exc)),
                temporary=400 <= exc.smtp_code < 500) from exc
        except ssl.SSLError as exc:
            raise NotificationError(
                _("TLS with the mail server {server} failed: {error}").format(
                    server=server, error=_tls_error(exc))) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise NotificationError(
                _("lost the connection to the mail server {server}: {error}").format(
                    server=server, error=exc), temporary=True) from exc
    finally:
        _quit(smtp)
    if refused:  # some recipients were accepted, these were not
        raise _refused(refused, message.to)
    return str(msg["Message-ID"])


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """``smtp.login``, but also for non-ASCII credentials (smtplib encodes them as ASCII).

    Those go as ``AUTH PLAIN`` in UTF-8 (RFC 4616).
    """
    if f"{username}{password}".isascii():
        smtp.login(username, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    if "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPAuthenticationError(
            504, "a user name or password with non-ASCII characters needs AUTH PLAIN, "
                 "which the server does not offer")
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say QUIT, ignoring a failure: once the message is accepted, it has been sent."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _refused(recipients: dict, to: str) -> NotificationError:
    codes = [code for code, _reply in recipients.values()]
    replies = "; ".join(f"{addr}: {code} {_text(reply)}"
                        for addr, (code, reply) in recipients.items())
    return NotificationError(
        _("the mail server refused the recipient {to!r}: {reply}").format(to=to, reply=replies),
        field="to", temporary=all(400 <= code < 500 for code in codes))


def deliver(message: Message, settings: SmtpSettings, hook) -> str:
    """Send ``message`` on its channel and return a delivery id.

    ``email`` goes through :func:`send_email` (the id is the Message-ID); any
    other channel is offered to plugins through ``hook.fixdesk_send_notification``
    (first result wins). Nobody answering raises :class:`NotificationError`.
    """
    if message.channel == "email":
        return send_email(settings, message)
    send = getattr(hook, "fixdesk_send_notification", None)
    answer = send(message=message) if send is not None else None
    if not answer:
        raise NotificationError(
            _("no plugin delivers channel {channel!r}").format(channel=message.channel),
            field="channel")
    return str(answer)
