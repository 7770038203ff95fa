"""The audit trail as people read it (R32): each row's time in the site's zone, who, the
record type's title, the record's name, the action and each field's label with its old
and new value as the forms show them; and the Excel export of a search.

Searching is :func:`kernel.audit.search_audit`; the admin console, ``fixdesk
audit-search`` and the export read its rows through :func:`read_entries` (a few queries
per page of rows, none per row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from kernel import audit
from kernel.audit import AuditLog
from kernel.errors import ValidationError
from kernel.i18n import N_, _

#: the longest text an Excel cell holds
_CELL_MAX = 32_000
#: how an audit row's action reads
ACTIONS = {"insert": N_("created"), "update": N_("changed"), "delete": N_("deleted")}
#: labels of those tables' fields where :mod:`kernel.labels` has none
TABLE_FIELD_LABELS = {
    "username": N_("User name"),
    "full_name": N_("Full name"),
    "password_hash": N_("Password"),
    "company_wide": N_("Sees every branch"),
    "home_branch_id": N_("Home branch"),
    "employee_id": N_("Employee"),
    "locale": N_("Language"),
    "role": N_("Role"),
    "permission": N_("Permission"),
    "granted": N_("Granted"),
    "plugin": N_("Module"),
    "hook": N_("Hook"),
    "day": N_("Day"),
    "working": N_("Working day"),
    "weekday": N_("Weekday"),
    "start": N_("Start time"),
    "end": N_("End time"),
    "key": N_("Setting"),
    "value": N_("Value"),
    "lookup": N_("Token prefix"),
    "token_hash": N_("Token"),
    "expires_at": N_("Expires"),
    "revoked_at": N_("Revoked"),
    "entity": N_("Record type"),
    "record_id": N_("Record"),
    "body": N_("Text"),
    "author_id": N_("Author"),
    "author": N_("Author"),
    "kind": N_("Kind"),
    "filename": N_("File name"),
    "content_type": N_("File type"),
    "size": N_("Size"),
    "sha256": N_("Checksum"),
    "storage_name": N_("Stored as"),
    "uploaded_by_id": N_("Uploaded by"),
    "uploaded_by": N_("Uploaded by"),
    "uploaded_at": N_("Uploaded at"),
    "template": N_("Template (checksum)"),
}
#: fields a change never lists (the site has one company; a row's id is its record's)
UNLISTED = frozenset({"id", "company_id"})


@dataclass(frozen=True)
class AuditEntry:
    """An audit row as people read it (the admin console, ``fixdesk audit-search`` and the
    Excel export): the instant in the site's zone, who, what kind of record (its title),
    the record's name, the action and each field's label with its old and new value."""

    id: int
    at: dt.datetime
    actor: str
    username: str
    entity: str
    entity_title: str
    record_id: str
    #: the record's name where it still exists ("WO-SH-2026-000123"), else ""
    record: str
    #: whether the record still exists (and the reader may see it)
    exists: bool
    #: the exposed entity whose form shows the record (its table), None when none does
    target: str | None
    action: str
    action_title: str
    #: ``(field label, old value, new value)``, values as the form shows them ("" for none)
    changes: tuple[tuple[str, str, str], ...]

    def change_lines(self) -> list[str]:
        """Each change as a line: ``label: old → new`` (a created record's values alone,
        a deleted one's old values alone)."""
        if self.action == "insert":
            return [f"{label}: {new}" for label, _old, new in self.changes]
        if self.action == "delete":
            return [f"{label}: {old}" for label, old, _new in self.changes]
        return [f"{label}: {old or '—'} → {new or '—'}" for label, old, new in self.changes]


def _actor(names: dict, row: AuditLog) -> str:
    if row.user_id in names:
        return names[row.user_id]
    if row.actor in ("", "system"):
        return _("system")
    if row.actor.startswith("cli:"):
        return _("command line ({user})").format(user=row.actor[4:])
    return row.actor


class _Reading:
    """How the rows of the tables on a page read: titles, field labels, values and the
    names of records (one query per table a page refers to, none per row)."""

    def __init__(self, ctx):
        self.ctx, self.app = ctx, ctx.app
        self.companions = audit.extension_tables(ctx.app)
        self._fields: dict[str, dict] = {}
        self._titles: dict[str, str] = {}
        self._labels: dict[tuple[str, str], str] = {}

    def title(self, table: str) -> str:
        if table not in self._titles:
            self._titles[table] = audit.audit_title(self.app, table, self.companions)
        return self._titles[table]

    def target(self, table: str) -> str | None:
        if table in self.app.exposed:
            return table
        companion = self.companions.get(table)
        return companion[0].name if companion else None

    def fields(self, table: str) -> dict:
        found = self._fields.get(table)
        if found is None:
            from kernel.entities import describe_fields

            companion = self.companions.get(table)
            if companion is not None:
                found = dict(companion[1].field_map)
            elif table in self.app.exposed:
                found = dict(self.app.exposed[table].field_map)
            else:
                cls = self.app.entity_class(table)
                found = {f.name: f for f in describe_fields(cls)} if cls is not None else {}
            self._fields[table] = found
        return found

    def label(self, table: str, name: str) -> str:
        found = self._labels.get((table, name))
        if found is None:
            found = self._labels[(table, name)] = self._label(table, name)
        return found

    def _label(self, table: str, name: str) -> str:
        from types import SimpleNamespace

        from kernel.labels import FIELD_LABELS, extension_label, label

        spec = self.fields(table).get(name)
        companion = self.companions.get(table)
        if companion is not None and spec is not None:
            return extension_label(companion[1], spec)
        info = self.app.exposed.get(table)
        if info is not None:
            return label(info, name)
        cls = self.app.entity_class(table)
        own = getattr(cls, "__labels__", {}).get(name) if cls is not None else None
        if own is None and name not in FIELD_LABELS and name in TABLE_FIELD_LABELS:
            return _(TABLE_FIELD_LABELS[name])
        return label(SimpleNamespace(cls=cls or object, name=table), name)

    def value(self, spec, value, refs: dict) -> str:
        import json

        from kernel.timeline_sources import shown

        if value is None or value == "":
            return ""
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if spec is not None:
            return shown(spec, value, refs.get(spec.foreign, {}) if spec.foreign else {},
                         self.ctx.settings.tz)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def names(self, table: str, ids: set[int]) -> dict[int, str]:
        """The names of the records ``ids`` of ``table`` that still exist (one query): for
        a user who sees every branch straight from the table, else as he may see them."""
        from kernel.labels import record_label
        from kernel.references import record_labels

        user = self.ctx.user
        if user is not None and not user.sees_all_branches:
            return record_labels(self.ctx, self.app, table, ids)
        cls = self.app.entity_class(table)
        if cls is None or "id" not in cls.__table__.columns:
            return {}
        return {r.id: record_label(r) for r in self.ctx.session.scalars(
            select(cls).where(cls.id.in_(sorted(ids))))}

    def entries(self, rows: list[AuditLog]) -> list[AuditEntry]:
        from kernel.auth import User

        wanted: dict[str, set[int]] = {}
        for row in rows:
            fields = self.fields(row.entity)
            for name, change in (row.changes or {}).items():
                spec = fields.get(name)
                if spec is not None and spec.foreign:
                    wanted.setdefault(spec.foreign, set()).update(_ids(change))
            target = self.target(row.entity) or row.entity
            wanted.setdefault(target, set()).update(_ids([row.record_id]))
        refs = {table: self.names(table, ids) for table, ids in wanted.items() if ids}
        people = {r.user_id for r in rows if r.user_id is not None}
        names = {i: n for i, n in self.ctx.session.execute(
            select(User.id, User.full_name).where(User.id.in_(people)))} if people else {}
        tz = self.ctx.settings.tz
        found = []
        for row in rows:
            fields = self.fields(row.entity)
            changes = tuple(
                (self.label(row.entity, name), self.value(fields.get(name), old, refs),
                 self.value(fields.get(name), new, refs))
                for name, (old, new) in (row.changes or {}).items() if name not in UNLISTED)
            target = self.target(row.entity)
            record_ids = _ids([row.record_id])
            names_of = refs.get(target or row.entity, {})
            exists = bool(record_ids) and record_ids[0] in names_of
            record = names_of[record_ids[0]] if exists else ""
            if record == f"#{row.record_id}":  # a record without a name
                record = ""
            found.append(AuditEntry(
                id=row.id, at=row.at.astimezone(tz), actor=_actor(names, row),
                username=row.actor, entity=row.entity, entity_title=self.title(row.entity),
                record_id=row.record_id, record=record, exists=exists, target=target,
                action=row.action,
                action_title=_(ACTIONS.get(row.action, row.action)), changes=changes))
        return found


def _ids(values) -> list[int]:
    """The record ids among ``values`` (numbers, or digits as text)."""
    found = []
    for value in values:
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= audit.MAX_ID:
            found.append(value)
    return found


def read_entries(ctx, rows: list[AuditLog]) -> list[AuditEntry]:
    """Audit rows as people read them (:class:`AuditEntry`), in the same order: the record
    types' titles, the users' full names, field labels, values as the forms show them
    (references by their record's name, enums and yes/no translated, instants in the
    site's zone; redacted secrets stay ``***``). A few queries per call, none per row."""
    ctx.require("audit.read")
    return _Reading(ctx).entries(rows)


def export_audit(ctx, *, user=None, entity=None, record_id=None, start=None, end=None,
                 max_rows: int | None = None) -> bytes:
    """An Excel workbook (.xlsx) of what :func:`kernel.audit.search_audit` finds for these
    filters, newest first, at most ``max_rows`` rows (default and most:
    :data:`kernel.audit.EXPORT_MAX`): time, user, record type, record id and name, action,
    and the changes (a line each), under a translated header. Read
    :data:`kernel.audit.EXPORT_CHUNK` rows at a time, by key."""
    from kernel.spreadsheet import SheetColumn, workbook

    ctx.require("audit.read")
    wanted = audit.audit_filter(ctx, user=user, entity=entity, record_id=record_id, start=start,
                          end=end)
    max_rows = audit.EXPORT_MAX if max_rows is None else max_rows
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) \
            or not 1 <= max_rows <= audit.EXPORT_MAX:
        raise ValidationError(_("limit must be between 1 and {n}").format(n=audit.EXPORT_MAX),
                              field="limit")
    reading = _Reading(ctx)

    def chunks():
        cursor, left = None, max_rows
        while left > 0:
            page = audit._page(ctx, wanted, cursor, min(audit.EXPORT_CHUNK, left))
            yield reading.entries(page.rows)
            left -= len(page.rows)
            if page.older is None:
                return
            cursor = page.older

    columns = [SheetColumn(_("Time"), 20, "yyyy-mm-dd hh:mm:ss"), SheetColumn(_("User"), 16),
               SheetColumn(_("Record type"), 22), SheetColumn(_("Record ID"), 10),
               SheetColumn(_("Record"), 24), SheetColumn(_("Action"), 8),
               SheetColumn(_("Changes"), 80)]
    rows = ([entry.at.replace(tzinfo=None), entry.actor, entry.entity_title, entry.record_id,
             entry.record, entry.action_title, "\n".join(entry.change_lines())[:_CELL_MAX]]
            for chunk in chunks() for entry in chunk)
    return workbook(_("Audit trail"), columns, rows)
