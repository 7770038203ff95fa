"""The documents the enabled plugins register, and the log of every print."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import Document
from kernel.db import Base, IdMixin, UTCDateTime, utcnow
from kernel.errors import NotFound
from kernel.i18n import _

PAPERS = {
    "A4": ("210mm", "297mm"),
    "A5": ("148mm", "210mm"),
    "receipt80": ("80mm", "200mm"),
    "label60x40": ("60mm", "40mm"),  # a thermal label printer's label
}


class PrintLog(IdMixin, Base):
    """One printed copy of one document for one record (who, when, which copy)."""

    __tablename__ = "print_log"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False  # the log is itself the audit of printing

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100))
    document: Mapped[str] = mapped_column(String(100), index=True)
    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(100), index=True)
    copy_number: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int | None] = mapped_column(Integer)


def get_document(app, name: str) -> Document:
    """The registered document ``name``, or :class:`NotFound` naming the choices."""
    document = app.documents.get(name)
    if document is None:
        raise NotFound(_("no document {name!r} (see: fixdesk print --list)").format(name=name),
                       field="document")
    return document


def log_print(ctx, document: Document, record) -> int:
    """Record one print of ``record``; returns its copy number (1 = the original)."""
    return log_paper(ctx, document.name, document.entity, str(record.id),
                     getattr(record, "branch_id", None))


def log_paper(ctx, name: str, entity: str, record_id: str, branch_id: int | None) -> int:
    """Record one print of paper ``name`` about ``record_id`` (a record's id, or for a
    paper that is not about a record a stable key of what it shows); returns its copy
    number: 1 for the first print of that paper about that key."""
    previous = ctx.session.scalar(select(func.count()).select_from(PrintLog).where(
        PrintLog.document == name, PrintLog.record_id == record_id))
    user_id, actor = ctx.session.info.get("fixdesk_actor", (None, "system"))
    ctx.session.add(PrintLog(at=ctx.now(), user_id=user_id, actor=actor, document=name,
                             entity=entity, record_id=record_id, copy_number=previous + 1,
                             branch_id=branch_id))
    return previous + 1
