"""Append-only audit trail (R32): who changed what, when, old → new, in the same transaction.

A session listener turns every flushed insert, update and delete of a mapped
entity (kernel or plugin) into one ``audit_log`` row, written on the same
connection, so a rolled-back transaction leaves no audit row and a committed
change always has one. Audit rows cannot be changed or deleted through the
application: the ORM refuses, and database triggers refuse as well.

An entity opts fields out with ``__audit_exclude__`` (secrets, counters) and
opts out entirely with ``__audited__ = False`` (queues and counters, which are
not business records).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base, IdMixin, UTCDateTime, utcnow
from kernel.errors import FixdeskError
from kernel.i18n import _

ACTOR_KEY = "fixdesk_actor"


class AuditLog(IdMixin, Base):
    """One change of one record."""

    __tablename__ = "audit_log"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False
    #: a record's history (the form's timeline) is found by its id and table
    __table_args__ = (Index("ix_audit_log_record", "record_id", "entity"),)

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict] = mapped_column(JSON)
    branch_id: Mapped[int | None] = mapped_column(Integer)


class AuditTamperError(FixdeskError):
    """Someone tried to change or delete an audit row."""

    status = 403
    code = "forbidden"


def _plain(value: Any) -> Any:
    """A JSON-friendly rendering of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _audited(obj) -> bool:
    return getattr(type(obj), "__audited__", True)


def _record_id(state) -> str:
    identity = state.identity or inspect(state.object).mapper.primary_key_from_instance(
        state.object)
    return "/".join(str(part) for part in identity)


def _changes(obj, action: str) -> dict:
    state = inspect(obj)
    cls = type(obj)
    excluded = getattr(cls, "__audit_exclude__", frozenset())
    redacted = getattr(cls, "__audit_redact__", frozenset())
    changes: dict[str, list] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded or key in ("created_at", "updated_at"):
            continue
        if action == "insert":
            old, new = None, getattr(obj, key)
        elif action == "delete":
            old, new = state.dict.get(key), None
        else:
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
        if old is None and new is None or old == new:
            continue
        if key in redacted:  # say that a secret changed, never what it is
            old, new = ("***" if old else None), ("***" if new else None)
        changes[key] = [_plain(old), _plain(new)]
    return changes


def _after_flush(session: Session, _flush_context) -> None:
    user_id, actor = session.info.get(ACTOR_KEY, (None, "system"))
    now = utcnow()
    rows = []
    for action, objects in (("insert", session.new), ("update", session.dirty),
                            ("delete", session.deleted)):
        for obj in objects:
            if not _audited(obj):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append({"at": now, "user_id": user_id, "actor": actor,
                         "entity": inspect(obj).mapper.local_table.name,
                         "record_id": _record_id(inspect(obj)), "action": action,
                         "changes": changes, "branch_id": getattr(obj, "branch_id", None)})
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


def _refuse_tampering(session: Session, _flush_context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog):
            raise AuditTamperError(_("audit rows cannot be changed or deleted"))


def _refuse_bulk_tampering(execute_state) -> None:
    if execute_state.is_update or execute_state.is_delete:
        mapper = execute_state.bind_mapper
        if mapper is not None and mapper.local_table is AuditLog.__table__:
            raise AuditTamperError(_("audit rows cannot be changed or deleted"))


def install_audit(sessions) -> None:
    """Audit every change made through sessions of ``sessions`` (a sessionmaker)."""
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "before_flush", _refuse_tampering)
    event.listen(sessions, "do_orm_execute", _refuse_bulk_tampering)


def set_actor(session: Session, user) -> None:
    """Record who acts in this session (``None``: the system)."""
    if user is None:
        session.info[ACTOR_KEY] = (None, session.info.get("fixdesk_system_actor", "system"))
    else:
        session.info[ACTOR_KEY] = (user.id, user.username)


def history(session: Session, entity: str, record_id: str | int) -> list[AuditLog]:
    """The audit rows of one record, oldest first."""
    return list(session.scalars(
        select(AuditLog).where(AuditLog.entity == entity, AuditLog.record_id == str(record_id))
        .order_by(AuditLog.id)))


def record_history(ctx, info, record_id: str | int, *, before: dt.datetime | None = None,
                   limit: int | None = None, newest_first: bool = False
                   ) -> list[tuple[AuditLog, dict]]:
    """The audit rows of one record of an exposed entity, oldest first (newest first with
    ``newest_first``; only those before ``before``, at most ``limit`` rows when given), with
    the changes of the fields other plugins add to it (their companion rows share the
    record's id): ``[(row, {"field" or "plugin.field": [old, new]})]``. Extensions switched
    off for the user's branch are left out."""
    companions = {e.model.__table__.name: e.namespace for e in info.extensions
                  if ctx.offers(e.contribution)}
    tables = [info.cls.__table__.name, *companions]
    query = select(AuditLog).where(AuditLog.record_id == str(record_id),
                                   AuditLog.entity.in_(tables))
    if before is not None:
        query = query.where(AuditLog.at < before)
    query = query.order_by(*((AuditLog.at.desc(), AuditLog.id.desc()) if newest_first
                             else (AuditLog.id,)))
    rows = ctx.session.scalars(query.limit(limit) if limit else query)
    found = []
    for row in rows:
        namespace = companions.get(row.entity)
        if namespace is None:
            found.append((row, row.changes or {}))
            continue
        changes = {f"{namespace}.{name}": change for name, change in (row.changes or {}).items()
                   if name != "record_id"}
        if changes:
            found.append((row, changes))
    return found


# database-level guard, created by the kernel's migration
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]
