"""E-mail intake: a customer's message becomes a complaint with channel ``email``.

:func:`register_message` reads one RFC 822 message (any charset: GB2312, GBK, Big5,
UTF-8; the plain-text part preferred, else the HTML part as text), finds the customer
by the sender's address (a customer contact's e-mail, else the customer's own), and
registers the complaint through :func:`plugins.complaints.services.register` with
``origin_key = "mail:<Message-ID>"`` (a SHA-256 of the message when it has none), so a
message delivered twice makes one complaint. The customer is acknowledged with the
complaint's number (:func:`plugins.complaints.notices.acknowledge`).

It is reached from the mail server in two ways:

* ``fixdesk --site S complaints mail-in`` reads the message on standard input (a
  Postfix pipe or fetchmail's ``--mda``), prints the number, exits 2 on a bad message;
* ``POST /api/complaints/mail`` with the raw message as the body (``message/rfc822``),
  by a "mail gateway" user with the permission ``complaints_complaint.create``:
  201 ``{"number": ...}``, or 200 for a message registered before.

A known customer's complaint goes to the branch that serves the customer; any other to
the branch of the setting ``complaints.public_branch`` (else the first branch), as the
public form's.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from kernel.errors import ValidationError
from kernel.i18n import _
from kernel.models import Branch, Customer, CustomerContact
from kernel.settings import get_setting
from kernel.web.deps import request_context
from kernel.web.errors import ERROR_RESPONSES

from . import notices, services
from .models import Complaint
from .rules import Channel

LOGGER = logging.getLogger("fixdesk.complaints.intake")

#: the largest message taken (with its attachments, which are not kept)
MAX_MESSAGE = 10 * 1024 * 1024
#: the customer's words kept of a message (subject and body)
MAX_DESCRIPTION = 8000
#: origin keys are at most this long (``mail:`` and a Message-ID)
MAX_ORIGIN = 200
#: charsets that mail programs name for text that is really GBK / GB18030
GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb_2312-80", "csgb2312", "hz-gb-2312"}
#: senders that are mail systems, not people
SYSTEM_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)


# ---------------------------------------------------------------------------
# shared with the public form
# ---------------------------------------------------------------------------


def public_branch(ctx) -> Branch:
    """The branch complaints from the public form and unknown e-mail senders go to: the
    setting ``complaints.public_branch`` (a branch code), else the first branch."""
    code = (get_setting(ctx, "complaints.public_branch") or "").strip()
    branch = None
    if code:
        branch = ctx.session.scalar(select(Branch).where(Branch.code == code))
        if branch is None:
            LOGGER.warning("complaints.public_branch names no branch %r: using the first",
                           code)
    if branch is None:
        branch = ctx.session.scalars(select(Branch).order_by(Branch.id).limit(1)).first()
    if branch is None:
        raise ValidationError(_("the site has no branch to register complaints in"),
                              field="branch")
    return branch


def clean_text(text: str, *, multiline: bool = True) -> str:
    """``text`` without NUL and other control characters (tabs and line breaks kept in
    ``multiline`` text) and without bidirectional overrides, its line ends as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if not services.forbidden(ch, lines=multiline))


# ---------------------------------------------------------------------------
# reading a message
# ---------------------------------------------------------------------------


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes of a text part in its declared charset; GB2312 read as GB18030 (its superset,
    which mail programs send under the old name); an unknown or wrong charset falls back
    to UTF-8, then GB18030, never failing."""
    names = []
    if charset:
        charset = charset.strip().strip('"').lower()
        names.append("gb18030" if charset in GB_CHARSETS else charset)
    names += ["utf-8", "gb18030"]
    for name in names:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


class _Stripper:
    """HTML to text, simply: tags dropped, blocks and ``<br>`` as line breaks, scripts and
    styles left out, entities decoded."""

    BLOCK = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6]|p|div|tr|li)\b[^>]*>", re.I)
    HIDDEN = re.compile(r"<\s*(script|style|head)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
    TAG = re.compile(r"<[^>]*>", re.S)
    COMMENT = re.compile(r"<!--.*?-->", re.S)

    @classmethod
    def text(cls, markup: str) -> str:
        markup = cls.COMMENT.sub("", markup)
        markup = cls.HIDDEN.sub("", markup)
        markup = cls.BLOCK.sub("\n", markup)
        text = html.unescape(cls.TAG.sub("", markup)).replace("\xa0", " ")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part) -> str:
    data = part.get_payload(decode=True) or b""
    text = _decode(data, part.get_content_charset())
    return _Stripper.text(text) if part.get_content_type() == "text/html" else text


def message_body(message: EmailMessage) -> str:
    """The message's text: its plain-text part, else its HTML part as text."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError, ValueError):
        part = None
    if part is None and message.get_content_maintype() == "text":
        part = message
    return _part_text(part).strip() if part is not None else ""


def _header(message: EmailMessage, name: str) -> str:
    """A header as text (encoded words decoded), empty when missing or unreadable."""
    try:
        value = message.get(name)
    except (IndexError, LookupError, ValueError, TypeError):  # a malformed header
        return ""
    return clean_text(str(value or ""), multiline=False).strip()


def _sender(message: EmailMessage) -> tuple[str, str]:
    """``(display name, address)`` of the message's author (Reply-To wins, as a reply
    goes there)."""
    for name in ("Reply-To", "From", "Sender"):
        raw = _header(message, name)
        if not raw:
            continue
        try:
            found = message[name].addresses
        except (AttributeError, IndexError, ValueError, TypeError):
            found = [Address(display_name=n, addr_spec=a) for n, a in getaddresses([raw])
                     if "@" in a]
        for address in found:
            if address.addr_spec and "@" in address.addr_spec:
                display = address.display_name
                if not display and name == "Reply-To":
                    display = _sender_name(message)
                return display.strip(), address.addr_spec.strip()
    return "", ""


def _sender_name(message: EmailMessage) -> str:
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, IndexError, ValueError, TypeError):
        return ""
    return next((a.display_name for a in addresses if a.display_name), "")


def is_automatic(message: EmailMessage, address: str) -> bool:
    """Whether the message was sent by a program (an out-of-office reply, a bounce, a
    mailing list): never a complaint, and never acknowledged (no mail loops)."""
    auto = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (bool(auto) and auto != "no") or precedence in ("bulk", "junk", "list") or \
        bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond")) or \
        _header(message, "Return-Path") == "<>" or bool(SYSTEM_SENDERS.match(address))


def origin_key(message: EmailMessage, raw: bytes) -> str:
    """``mail:<Message-ID>``, or ``mail:sha256:<hex>`` of the message when it has no
    Message-ID (or one too long to keep)."""
    message_id = _header(message, "Message-ID").strip().strip("<>").strip()
    key = f"mail:{message_id}"
    if not message_id or len(key) > MAX_ORIGIN or " " in message_id:
        key = "mail:sha256:" + hashlib.sha256(raw).hexdigest()
    return key


def parse(raw: bytes) -> EmailMessage:
    """The message in ``raw`` (RFC 822 bytes), refused when empty or too large."""
    if not raw or not raw.strip():
        raise ValidationError(_("the message is empty"), field="message")
    if len(raw) > MAX_MESSAGE:
        raise ValidationError(_("the message is larger than {mb} MB").format(
            mb=MAX_MESSAGE // (1024 * 1024)), field="message")
    return BytesParser(policy=policy.default).parsebytes(raw)


def describe(subject: str, body: str) -> str:
    """The complaint's description: the subject, an empty line, the body; trimmed."""
    body = clean_text(body).strip()
    text = f"{subject}\n\n{body}" if subject and body else (subject or body)
    if len(text) > MAX_DESCRIPTION:
        text = text[:MAX_DESCRIPTION - 1].rstrip() + "…"
    return text


# ---------------------------------------------------------------------------
# the customer
# ---------------------------------------------------------------------------


def customer_for(ctx, address: str) -> tuple[Customer | None, CustomerContact | None]:
    """The customer whose contact (else whose own record) has the e-mail ``address``
    (compared without case), and that contact."""
    address = address.strip().lower()
    if not address:
        return None, None
    contact = ctx.session.scalars(
        select(CustomerContact).where(func.lower(CustomerContact.email) == address)
        .order_by(CustomerContact.is_primary.desc(), CustomerContact.id).limit(1)).first()
    if contact is not None:
        return contact.customer, contact
    customer = ctx.session.scalars(
        select(Customer).where(func.lower(Customer.email) == address)
        .order_by(Customer.id).limit(1)).first()
    return customer, None


# ---------------------------------------------------------------------------
# registering
# ---------------------------------------------------------------------------


def register_message(ctx, raw: bytes) -> tuple[Complaint, bool]:
    """Register the complaint of one e-mail message (RFC 822 bytes); returns the complaint
    and whether it is new (False: the same message was registered before, nothing is
    written and nobody is told again).

    Refused (:class:`kernel.ValidationError`, nothing written): an empty or oversize
    message, one without a sender address, one sent by a program (auto-reply, bounce,
    mailing list), one without words.
    """
    message = parse(raw)
    key = origin_key(message, raw)
    found = ctx.session.scalar(select(Complaint).where(Complaint.origin_key == key))
    if found is not None:
        return found, False
    name, address = _sender(message)
    if not address:
        raise ValidationError(_("the message has no sender address"), field="from")
    if is_automatic(message, address):
        raise ValidationError(_("an automatic message (auto-reply, bounce or mailing "
                                "list): not registered"), field="from")
    description = describe(_header(message, "Subject"), message_body(message))
    if not description:
        raise ValidationError(_("the message has neither a subject nor text"),
                              field="message")
    customer, contact = customer_for(ctx, address)
    branch = customer.branch if customer is not None else public_branch(ctx)
    values = {"branch_id": branch.id, "channel": Channel.EMAIL.value,
              "email": address[:200], "description": description,
              "contact_name": (name or (contact.name if contact is not None else ""))[:100]
              or None}
    if customer is not None:
        values["customer_id"] = customer.id
        phone = (contact.mobile or contact.phone) if contact is not None else customer.phone
        if phone:
            values["phone"] = phone[:50]
    complaint = services.register(ctx, origin_key=key, **values)
    notices.acknowledge(ctx, complaint)
    return complaint, True


# ---------------------------------------------------------------------------
# POST /api/complaints/mail
# ---------------------------------------------------------------------------


async def _read_body(request: Request) -> bytes:
    """The request body, refused early (413) when it is larger than a message may be."""
    from kernel.web.uploads import declared_length

    if declared_length(request) > MAX_MESSAGE:
        raise _TooLarge(MAX_MESSAGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise _TooLarge(MAX_MESSAGE)
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(ValidationError):
    """A body larger than :data:`MAX_MESSAGE` (413)."""

    status = 413

    def __init__(self, limit: int):
        super().__init__(_("the message is larger than {mb} MB").format(
            mb=limit // (1024 * 1024)), field="message")


def _register_from_api(request: Request, raw: bytes) -> JSONResponse:
    with request_context(request) as ctx:
        ctx.require("complaints_complaint.create")
        complaint, created = register_message(ctx, raw)
        body = {"id": complaint.id, "number": complaint.number, "created": created}
    return JSONResponse(body, status_code=201 if created else 200)


router = APIRouter(prefix="/api/complaints", tags=["complaints"], responses=ERROR_RESPONSES)


@router.post("/mail", status_code=201, summary="Register the complaint of one e-mail message",
             max_body_size=MAX_MESSAGE,  # above the site's body limit (kernel.web.limits)
             description="The body is the raw message (``Content-Type: message/rfc822``), "
                         "as a mail server delivers it. 201 with the new complaint's "
                         "number; 200 with the same number when the message (its "
                         "Message-ID) was registered before. Needs the permission "
                         "``complaints_complaint.create``.",
             response_description='{"id": 12, "number": "CP-SH-2026-00012", '
                                  '"created": true}')
async def mail_in(request: Request):
    """``POST /api/complaints/mail``: one raw message → one complaint."""
    from starlette.concurrency import run_in_threadpool

    raw = await _read_body(request)
    return await run_in_threadpool(_register_from_api, request, raw)


ROUTERS = [router]
