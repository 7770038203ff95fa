"""What the kernel itself puts on every record's timeline: audited field changes (for
users holding ``audit.read``), printed papers, notes and attachments, one query each.

Values of changed fields read as the form shows them: references by their record's
name, enums and yes/no translated, instants in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kernel.contributions import TimelineEvent
from kernel.entities import EntityInfo, FieldInfo
from kernel.i18n import N_, _
from kernel.labels import label_of

#: how an audit row's action reads on the timeline
AUDIT_TITLES = {"insert": N_("Record created"), "update": N_("Fields changed"),
                "delete": N_("Record deleted")}
#: fields the timeline never lists (the site has one company)
UNLISTED = frozenset({"id", "company_id"})


def kernel_events(ctx, entity: str, record: Any, before: dt.datetime | None,
                  limit: int) -> list[TimelineEvent]:
    """The kernel's entries of a record of an exposed entity (none for others)."""
    info = ctx.app.exposed.get(entity)
    if info is None:
        return []
    events = []
    if ctx.can("audit.read"):
        events += audit_events(ctx, info, record, before, limit)
    events += print_events(ctx, info, record, before, limit)
    events += note_events(ctx, info, record, before, limit)
    events += attachment_events(ctx, info, record, before, limit)
    return events


# --------------------------------------------------------------------------
# audited field changes
# --------------------------------------------------------------------------


def _spec(info: EntityInfo, name: str) -> FieldInfo | None:
    """The field ``name`` of ``info``: its own, or ``plugin.field`` of an extension."""
    if "." not in name:
        return info.field(name)
    namespace, _dot, field_name = name.partition(".")
    extension = info.extension(namespace)
    return extension.field(field_name) if extension is not None else None


def _instant(text: str, tz) -> str:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return (value.astimezone(tz) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")


def shown(spec: FieldInfo, value: Any, refs: dict, tz) -> str:
    """An audited value (as JSON keeps it) as people read it."""
    if value is None or value == "":
        return ""
    if spec.foreign:
        return refs.get(value) or f"#{value}"
    if spec.kind == "enum" or spec.translated:
        return _(str(value))
    if spec.kind == "boolean":
        return _("yes") if value else _("no")
    if spec.kind == "datetime" and isinstance(value, str):
        return _instant(value, tz)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def audit_events(ctx, info: EntityInfo, record: Any, before: dt.datetime | None,
                 limit: int) -> list[TimelineEvent]:
    """The record's audit rows (other plugins' fields of it included), newest first: what
    was created, changed or deleted, each field with its old and new value."""
    from kernel.audit import record_history
    from kernel.references import reference_labels

    tz = ctx.settings.tz
    entries = record_history(ctx, info, record.id, before=before, limit=limit,
                             newest_first=True)
    ids: dict[str, set] = {}
    for _entry, found in entries:
        for name, change in found.items():
            spec = _spec(info, name)
            if spec is not None and spec.foreign:
                ids.setdefault(name, set()).update(v for v in change if isinstance(v, int))
    refs = {name: reference_labels(ctx, ctx.app, _spec(info, name), found)
            for name, found in ids.items()}
    events = []
    for entry, found in entries:
        changes = []
        for name, (old, new) in found.items():
            spec = _spec(info, name)
            if spec is None or name in UNLISTED:
                continue
            known = refs.get(name, {})
            changes.append((label_of(info, name), shown(spec, old, known, tz),
                            shown(spec, new, known, tz)))
        if not changes and entry.action == "update":
            continue
        events.append(TimelineEvent(
            at=entry.at, kind="change", title=_(AUDIT_TITLES.get(entry.action, entry.action)),
            actor=entry.actor, user_id=entry.user_id, changes=tuple(changes),
            data={"action": entry.action}))
    return events


# --------------------------------------------------------------------------
# printed papers, notes, attachments
# --------------------------------------------------------------------------


def print_events(ctx, info: EntityInfo, record: Any, before: dt.datetime | None,
                 limit: int) -> list[TimelineEvent]:
    """Every paper printed for the record: which, by whom, and whether it was a copy."""
    from kernel.documents.registry import PrintLog

    query = select(PrintLog).where(PrintLog.record_id == str(record.id),
                                   PrintLog.entity == info.name)
    if before is not None:
        query = query.where(PrintLog.at < before)
    rows = ctx.session.scalars(query.order_by(PrintLog.at.desc(), PrintLog.id.desc())
                               .limit(limit))
    events = []
    for row in rows:
        document = ctx.app.documents.get(row.document)
        title = _(document.title) if document is not None else row.document
        events.append(TimelineEvent(
            at=row.at, kind="print", title=_("Printed: {document}").format(document=title),
            actor=row.actor, user_id=row.user_id,
            text=_("copy {n}").format(n=row.copy_number) if row.copy_number > 1 else None,
            data={"document": row.document, "copy_number": row.copy_number}))
    return events


def note_events(ctx, info: EntityInfo, record: Any, before: dt.datetime | None,
                limit: int) -> list[TimelineEvent]:
    """The notes written on the record, with whom they mention."""
    from kernel.notes import Note

    query = select(Note).where(Note.entity == info.name, Note.record_id == record.id)
    if before is not None:
        query = query.where(Note.created_at < before)
    rows = ctx.session.scalars(query.order_by(Note.created_at.desc(), Note.id.desc())
                               .limit(limit).options(selectinload(Note.mentions)))
    return [TimelineEvent(at=row.created_at, kind="note", title=_("Note"), actor=row.author,
                          user_id=row.author_id, text=row.body,
                          data={"note_id": row.id, "mentions": row.mentioned})
            for row in rows]


#: how an attachment reads on the timeline, by its kind (:data:`ATTACHED` for others)
ATTACHMENT_TITLES = {"signature": N_("Customer's signature: {filename}")}
ATTACHED = N_("Attached: {filename}")


def attachment_events(ctx, info: EntityInfo, record: Any, before: dt.datetime | None,
                      limit: int) -> list[TimelineEvent]:
    """The files attached to the record (photos, scans, signatures)."""
    from kernel.attachments import Attachment

    query = select(Attachment).where(Attachment.entity == info.name,
                                     Attachment.record_id == record.id)
    if before is not None:
        query = query.where(Attachment.uploaded_at < before)
    rows = ctx.session.scalars(query.order_by(Attachment.uploaded_at.desc(),
                                              Attachment.id.desc()).limit(limit))
    return [TimelineEvent(
        at=row.uploaded_at, kind="attachment",
        title=_(ATTACHMENT_TITLES.get(row.kind, ATTACHED)).format(
            filename=row.filename),
        actor=row.uploaded_by, user_id=row.uploaded_by_id,
        data={"attachment_id": row.id, "filename": row.filename, "kind": row.kind,
              "content_type": row.content_type, "size": row.size, "image": row.is_image})
        for row in rows]
