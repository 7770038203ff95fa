"""The customer's signature on a work order, drawn on the engineer's phone.

The phone page posts the drawing as a PNG ``data:`` URL; :func:`record_signature` checks
it (a real PNG of sensible size with something drawn on it), stores it through the
kernel's attachment service as an attachment of kind ``signature`` of the order, and
writes a ``signature`` event in the order's history. Signing again keeps the earlier
drawing and the newest one counts. The service voucher prints the newest in the
customer's signature box with its date (:func:`signature_of`, a ``data:`` URI: the
print URL fetcher loads nothing else).
"""

from __future__ import annotations

import base64
import binascii
import io

from kernel.attachments import add_attachment, attachments_of, read_attachment
from kernel.errors import Conflict, ValidationError
from kernel.i18n import _

from .events import load_order, record_event
from .own_jobs import may_work_on
from .rules import Status

ENTITY = "repair_work_order"
KIND = "signature"
PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: the largest drawing taken, and the largest form field carrying it (base64)
MAX_PNG = 512 * 1024
MAX_FIELD = 1024 * 1024
#: the smallest and largest drawing, in pixels a side
MIN_SIDE, MAX_SIDE = 40, 4000
#: the order is signed for a visit: from dispatch until it is repaired
SIGNABLE = frozenset({Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR,
                      Status.WAITING_PARTS, Status.HARD_TO_REPAIR, Status.COMPLETED,
                      Status.READY_FOR_PICKUP})


def may_sign(ctx, order) -> bool:
    """Whether the user may take the customer's signature for ``order`` now."""
    return ctx.can("repair_work_order.complete") and Status(order.status) in SIGNABLE \
        and may_work_on(ctx, order)


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, field="signature")


def _has_ink(image) -> bool:
    """Whether anything is drawn: some pixel clearly darker than white once the drawing
    lies on white paper."""
    from PIL import Image

    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    grey = Image.alpha_composite(paper, rgba).convert("L")
    return grey.point(lambda v: 255 if v < 200 else 0).getbbox() is not None


def read_png(data_url: str) -> bytes:
    """The PNG in ``data_url`` (``data:image/png;base64,…``), checked; else
    :class:`ValidationError` naming ``signature``."""
    from PIL import Image, UnidentifiedImageError

    text = (data_url or "").strip()
    if not text:
        raise _refuse(_("the customer has not signed yet"))
    if not text.startswith(PREFIX) or len(text) > MAX_FIELD:
        raise _refuse(_("the signature must be a PNG image of at most {size} KB").format(
            size=MAX_PNG // 1024))
    try:
        data = base64.b64decode(text[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(_("the signature is not a readable PNG image")) from None
    if len(data) > MAX_PNG:
        raise _refuse(_("the signature must be a PNG image of at most {size} KB").format(
            size=MAX_PNG // 1024))
    if not data.startswith(PNG_MAGIC):
        raise _refuse(_("the signature is not a readable PNG image"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise _refuse(_("the signature is not a readable PNG image"))
            width, height = image.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise _refuse(_("the signature must be between {low} and {high} pixels a "
                                "side").format(low=MIN_SIDE, high=MAX_SIDE))
            image.load()
            inked = _has_ink(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise _refuse(_("the signature is not a readable PNG image")) from None
    if not inked:
        raise _refuse(_("the signature is empty: let the customer sign in the box"))
    return data


def record_signature(ctx, order, data_url: str):
    """Store the customer's signature (a PNG ``data:`` URL) on ``order`` (object, id or
    number): permission ``repair_work_order.complete`` on the user's own job (or a
    supervisor's), while the visit is on or just repaired. Returns the attachment."""
    order = load_order(ctx, order, "complete")
    if Status(order.status) not in SIGNABLE:
        raise Conflict(_("order {number} is {status}: it is not signed any more").format(
            number=order.number, status=_(Status(order.status).value)), field="status")
    png = read_png(data_url)
    attachment = add_attachment(ctx, ENTITY, order.id, f"signature-{order.number}.png", png,
                                "image/png", kind=KIND)
    record_event(ctx, order, "signature", order.status, None,
                 {"attachment_id": attachment.id})
    return attachment


def signature_of(ctx, order) -> dict | None:
    """The newest signature of ``order``: ``{"src": data URI, "signed_at": aware time}``,
    or None when the customer has not signed."""
    found = attachments_of(ctx, ENTITY, order.id, kind=KIND, limit=1)  # newest first
    if not found:
        return None
    attachment, data = read_attachment(ctx, found[0].id)
    return {"src": PREFIX + base64.b64encode(data).decode("ascii"),
            "signed_at": attachment.uploaded_at, "id": attachment.id}
