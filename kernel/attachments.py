"""Files attached to any record: photos of the fault, the signed voucher's scan, the
customer's signature drawn on the engineer's phone.

The bytes are kept in the site's folder, ``<site>/files/attachments/ab/<sha256>`` (the
same content is stored once), and a row per attachment says which record it belongs
to, its name, type, size and who uploaded it. A file is accepted when its *content* is
one of the allowed types (PNG, JPEG, WebP, PDF by default: the first bytes are checked,
never the name) and not larger than the site's limit (``kernel.attachment_max_mb``).
Attaching needs the record's read permission and ``attachment.create`` (every staff
role by default); reading a file needs the record's read permission in the user's
branches, else it is not found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import unicodedata
from pathlib import Path

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import Permission, Setting
from kernel.db import Base, IdMixin, UTCDateTime, utcnow
from kernel.errors import NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.record_access import branch_of, find_record
from kernel.values import BIDI_CONTROLS

#: the types a file may have, by what its first bytes say: name → (MIME type, test)
SIGNATURES = {
    "png": ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpeg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "webp": ("image/webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    "pdf": ("application/pdf", lambda head: head.startswith(b"%PDF-")),
}
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
              "application/pdf": ".pdf"}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
DEFAULT_MAX_MB = 10
MAX_FILENAME = 200
KIND = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
STORAGE_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}$")


class TooLarge(ValidationError):
    """A file over the site's size limit (HTTP 413)."""

    status = 413
    code = "too_large"


class Attachment(IdMixin, Base):
    """A file attached to one record (entity table + id), in the record's branch."""

    __tablename__ = "record_attachment"
    __expose__ = False  # read and written through the record it is about
    __table_args__ = (Index("ix_record_attachment_entity_record", "entity", "record_id",
                            "uploaded_at"),)

    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), index=True)
    #: what the file is for: ``file`` (anything uploaded), ``signature``, a plugin's word
    kind: Mapped[str] = mapped_column(String(20), default="file")
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: where the bytes are, under ``<site>/files/attachments/``: ``ab/<sha256>``
    storage_name: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


ATTACHMENT_ENTITIES = [Attachment]
#: every staff role may attach files (admins hold every permission)
ATTACHMENT_PERMISSIONS = [Permission("attachment", "create", (
    "branch_manager", "service_supervisor", "front_desk", "engineer", "warehouse_keeper",
    "accountant"))]


def _max_mb(value) -> None:
    if not 1 <= value <= 1024:
        raise ValidationError(_("must be from 1 to 1024"))


def _types(value) -> None:
    unknown = [v for v in value if v not in SIGNATURES]
    if unknown or not value:
        raise ValidationError(_("must be some of: {choices}").format(
            choices=", ".join(SIGNATURES)))


ATTACHMENT_SETTINGS = [
    Setting("kernel.attachment_max_mb", int, DEFAULT_MAX_MB,
            N_("Largest file that can be attached to a record (MB)"), validate=_max_mb),
    Setting("kernel.attachment_types", list, list(SIGNATURES),
            N_("Types of files that can be attached, checked by their content "
               "(png, jpeg, webp, pdf)"), validate=_types),
]


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------


def max_bytes(ctx) -> int:
    """The site's size limit for one file, in bytes."""
    return int(ctx.setting("kernel.attachment_max_mb")) * 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The MIME type ``data`` is by its first bytes, among :data:`SIGNATURES`; None for
    anything else (an HTML page named ``photo.png`` is None)."""
    head = bytes(data[:16])
    for mime, test in SIGNATURES.values():
        if test(head):
            return mime
    return None


def clean_filename(name, content_type: str) -> str:
    """A file name safe to store and to hand back: no folders, no control or direction
    characters, no characters Windows refuses, not hidden, at most :data:`MAX_FILENAME`
    characters (the extension kept); a name that is nothing after that becomes
    ``file.<extension of the type>``."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text
                   if unicodedata.category(ch)[0] != "C" and ch not in BIDI_CONTROLS)
    text = re.sub(r'[<>:"|?*]', "_", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip()
    if not text:
        text = "file" + EXTENSIONS.get(content_type, "")
    if len(text) > MAX_FILENAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[:MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_FILENAME]
    return text


def _check(ctx, data: bytes, kind: str) -> str:
    """The content type of ``data``, or the problem naming ``file`` (``kind``)."""
    if not isinstance(kind, str) or not KIND.match(kind):
        raise ValidationError(_("must be lower-case letters, digits or _ (at most 20)"),
                              field="kind")
    if not isinstance(data, bytes):
        raise ValidationError(_("must be a file"), field="file")
    if not len(data):
        raise ValidationError(_("the file is empty"), field="file")
    limit = max_bytes(ctx)
    if len(data) > limit:
        raise TooLarge(_("the file is larger than {mb} MB").format(mb=limit // (1024 * 1024)),
                       field="file")
    mime = sniff(data)
    allowed = ctx.setting("kernel.attachment_types")
    if mime is None or not any(SIGNATURES[t][0] == mime for t in allowed if t in SIGNATURES):
        names = ", ".join(t.upper() for t in allowed if t in SIGNATURES)
        raise ValidationError(_("only these types of file can be attached: {types}").format(
            types=names), field="file")
    return mime


# --------------------------------------------------------------------------
# storage
# --------------------------------------------------------------------------


def storage_root(app) -> Path:
    """The folder the site keeps attached files in."""
    return app.site.path / "files" / "attachments"


def _make_folders(site_path: Path, folder: Path) -> None:
    """Make ``folder`` and its missing parents below the site folder with mode 0750 (a
    parent made by ``mkdir(parents=True)`` would get the umask's 0755): customers' files
    are for the site's owner and group only."""
    missing = []
    while folder not in (site_path, folder.parent) and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o750, exist_ok=True)


def _path(app, storage_name: str) -> Path:
    if not STORAGE_NAME.match(storage_name or ""):
        raise NotFound(_("the file of this attachment is missing"), field="attachment")
    return storage_root(app) / storage_name


#: an attached file and its thumbnail: the site's owner and group only, like their folders
FILE_MODE = 0o640


def _write_private(site_path: Path, target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` with mode :data:`FILE_MODE` (its missing folders 0750),
    through a temporary name of this writer's, so a crash never leaves half a file."""
    _make_folders(site_path, target.parent)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, FILE_MODE)  # whatever the umask took away or left
    os.replace(tmp, target)


def _store(app, data: bytes, digest: str) -> str:
    """Write ``data`` under its digest unless the same content is there already."""
    name = f"{digest[:2]}/{digest}"
    target = storage_root(app) / name
    if target.is_file() and target.stat().st_size == len(data):
        return name
    _write_private(app.site.path, target, data)
    return name


# --------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------


def add_attachment(ctx, entity: str, record_id: int, filename: str, data: bytes,
                   content_type: str, *, kind: str = "file") -> Attachment:
    """Attach ``data`` to the record ``entity`` / ``record_id`` as the acting user.

    ``content_type`` is what the sender says; the type stored is the one the content
    has (:func:`sniff`), and a file whose content is not one of the site's allowed types
    is refused (:class:`ValidationError` naming ``file``), as is an empty one; a file
    over the site's limit raises :class:`TooLarge` (413). ``filename`` is cleaned
    (:func:`clean_filename`); ``kind`` says what the file is for (``file``,
    ``signature``). Needs the record's read permission (else :class:`NotFound`) and
    ``attachment.create``. The bytes are written to the site's folder before the row:
    a rolled-back transaction leaves at most a file nobody refers to.
    """
    info, record = find_record(ctx, entity, record_id)
    ctx.require("attachment.create", record)
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    mime = _check(ctx, data, kind)
    digest = hashlib.sha256(data).hexdigest()
    storage_name = _store(ctx.app, data, digest)
    user_id, actor = (ctx.user.id, ctx.user.username) if ctx.user else (None, "system")
    row = Attachment(entity=info.name, record_id=record.id, branch_id=branch_of(ctx, record),
                     kind=kind, filename=clean_filename(filename, mime), content_type=mime,
                     size=len(data), sha256=digest, storage_name=storage_name,
                     uploaded_by_id=user_id, uploaded_by=actor, uploaded_at=ctx.now())
    ctx.session.add(row)
    ctx.session.flush()
    return row


def attachments_of(ctx, entity: str, record_id: int, kind: str | None = None, *,
                   before: dt.datetime | None = None, limit: int = 200) -> list[Attachment]:
    """The attachments of a record the user may read, newest first (only those of
    ``kind`` when given; older than ``before`` when given; at most ``limit``)."""
    info, record = find_record(ctx, entity, record_id)
    query = select(Attachment).where(Attachment.entity == info.name,
                                     Attachment.record_id == record.id)
    if kind is not None:
        query = query.where(Attachment.kind == kind)
    if before is not None:
        query = query.where(Attachment.uploaded_at < before)
    return list(ctx.session.scalars(query.order_by(
        Attachment.uploaded_at.desc(), Attachment.id.desc()).limit(max(1, limit))))


def get_attachment(ctx, attachment_id: int) -> Attachment:
    """The attachment ``attachment_id`` if the user may read its record, else
    :class:`NotFound` (also for a record of a branch the user may not see)."""
    row = ctx.session.get(Attachment, attachment_id) if isinstance(attachment_id, int) and \
        not isinstance(attachment_id, bool) and 1 <= attachment_id <= 2**31 - 1 else None
    if row is None:
        raise NotFound(_("no attachment {id}").format(id=attachment_id), field="attachment")
    try:
        find_record(ctx, row.entity, row.record_id)
    except NotFound:
        raise NotFound(_("no attachment {id}").format(id=attachment_id),
                       field="attachment") from None
    return row


def read_attachment(ctx, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, if the user may read its record (else
    :class:`NotFound`, as if it did not exist)."""
    row = get_attachment(ctx, attachment_id)
    path = _path(ctx.app, row.storage_name)
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound(_("the file of this attachment is missing"),
                       field="attachment") from None
    return row, data


THUMBNAIL_PX = 320


def read_thumbnail(ctx, attachment_id: int) -> tuple[Attachment, bytes, str] | None:
    """A small picture of an image attachment (:data:`THUMBNAIL_PX` wide at most) as
    ``(attachment, bytes, MIME type)``, made once and kept beside the files; None for a
    file that is not an image or cannot be read as one. Checks like
    :func:`read_attachment`."""
    row = get_attachment(ctx, attachment_id)
    if not row.is_image:
        return None
    folder = ctx.app.site.path / "files" / "thumbnails" / row.sha256[:2]
    for suffix, mime in ((".jpg", "image/jpeg"), (".png", "image/png")):
        kept = folder / f"{row.sha256}-{THUMBNAIL_PX}{suffix}"
        if kept.is_file():
            return row, kept.read_bytes(), mime
    _row, data = read_attachment(ctx, attachment_id)
    made = _thumbnail(data)
    if made is None:
        return None
    picture, suffix, mime = made
    _write_private(ctx.app.site.path, folder / f"{row.sha256}-{THUMBNAIL_PX}{suffix}",
                   picture)
    return row, picture, mime


def _thumbnail(data: bytes) -> tuple[bytes, str, str] | None:
    """``data`` (an image) scaled down with Pillow: PNG when it has transparency (a
    signature), else JPEG; None when Pillow cannot read it or it is a decompression
    bomb."""
    import io
    import warnings

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with WeasyPrint
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX * 2))
                out = io.BytesIO()
                if image.mode in ("RGBA", "LA", "P") or "transparency" in image.info:
                    image.convert("RGBA").save(out, "PNG", optimize=True)
                    return out.getvalue(), ".png", "image/png"
                image.convert("RGB").save(out, "JPEG", quality=80)
                return out.getvalue(), ".jpg", "image/jpeg"
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None
