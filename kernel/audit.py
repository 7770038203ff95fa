"""Append-only audit trail (R32): who changed what, when, old → new, in the same transaction.

A session listener turns every flushed insert, update and delete of a mapped
entity (kernel or plugin) into one ``audit_log`` row, written on the same
connection, so a rolled-back transaction leaves no audit row and a committed
change always has one. Audit rows cannot be changed or deleted through the
application: the ORM refuses, and database triggers refuse as well.

An entity opts fields out with ``__audit_exclude__`` (secrets, counters) and
opts out entirely with ``__audited__ = False`` (queues and counters, which are
not business records).

:func:`search_audit` searches the whole trail by user, table, record and days,
newest first, page by page by key (the admin console and ``fixdesk audit-search``);
:mod:`kernel.audit_view` reads its rows as people do and exports them to Excel.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base, IdMixin, UTCDateTime, utcnow
from kernel.errors import FixdeskError, ValidationError
from kernel.i18n import N_, _

ACTOR_KEY = "fixdesk_actor"
#: session.info key of the audit rows kept back while loading in bulk (:func:`written_in_bulk`)
BULK_KEY = "fixdesk_audit_bulk"


class AuditLog(IdMixin, Base):
    """One change of one record."""

    __tablename__ = "audit_log"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False
    #: a record's history (the form's timeline) is found by its id and table, newest
    #: first (kernel_0011: with only its id and table, SQLite took ``(entity, at)`` for the
    #: order and read a table's whole trail); a search of the trail by table or by user,
    #: newest first, by the table or user and the instant (:func:`search_audit`; the
    #: instant alone has the index of ``at``)
    __table_args__ = (Index("ix_audit_log_record_at", "record_id", "entity", "at", "id"),
                      Index("ix_audit_log_entity_at", "entity", "at"),
                      Index("ix_audit_log_user_at", "user_id", "at"))

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
    if not rows:
        return
    kept = session.info.get(BULK_KEY)
    if kept is not None:
        kept.extend(rows)
    else:
        session.connection().execute(insert(AuditLog.__table__), rows)


@contextmanager
def written_in_bulk(session: Session, batch: int = 2000) -> Iterator[None]:
    """Within the block, keep the audit rows of each flush and write them in a few
    statements of ``batch`` rows at its end, in the order they were made: for loading
    many records (demo data), where a statement per flush costs more than the change it
    records. Nothing may read the session's audit trail inside the block; on an error
    nothing is written (the transaction is rolled back anyway)."""
    if BULK_KEY in session.info:  # nested: the outer block writes them
        yield
        return
    session.info[BULK_KEY] = kept = []
    try:
        yield
        session.flush()
    finally:
        session.info.pop(BULK_KEY, None)
    for start in range(0, len(kept), batch):
        session.connection().execute(insert(AuditLog.__table__), kept[start:start + batch])


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


def record_change(session: Session, entity: str, record_id: str, action: str,
                  changes: dict[str, list], branch_id: int | None = None) -> AuditLog:
    """Audit a change that is not a row (a file, such as a site's print template) in the
    session's transaction, as the session's actor: ``entity`` names what kind of thing
    changed, ``action`` is ``insert``, ``update`` or ``delete`` and ``changes`` maps each
    field to ``[old, new]`` (as the listener writes for rows)."""
    user_id, actor = session.info.get(ACTOR_KEY, (None, "system"))
    row = AuditLog(at=utcnow(), user_id=user_id, actor=actor, entity=entity,
                   record_id=str(record_id), action=action, changes=_plain(changes),
                   branch_id=branch_id)
    session.add(row)
    session.flush()
    return row


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


# --------------------------------------------------------------------------
# searching the trail (R32): by user, table, record and days, newest first
# --------------------------------------------------------------------------

#: rows on a page of a search, and the most one page may hold
PAGE = 50
MAX_LIMIT = 1000
#: the most rows one Excel export holds; they are read this many at a time
EXPORT_MAX = 100_000
EXPORT_CHUNK = 1000
#: the days a search may name
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: the largest record id (a 64-bit integer)
MAX_ID = 2**63 - 1
#: a user list longer than this is typed, not chosen
MAX_PEOPLE = 500

#: what people call the kernel's audited tables that have no desk page of their own (the
#: others are called by their class's ``__title__``)
TABLE_TITLES = {
    "user_account": N_("User account"),
    "user_role": N_("User's role"),
    "user_branch": N_("User's extra branch"),
    "api_token": N_("API token"),
    "role_grant": N_("Role permission"),
    "hook_switch": N_("Hook switched off for a branch"),
    "branch_day": N_("Branch calendar day"),
    "branch_hours": N_("Branch working hours"),
    "setting_value": N_("Site setting"),
    "branch_setting_value": N_("Branch setting"),
    "record_note": N_("Note on a record"),
    "record_attachment": N_("Attachment"),
    # not a table: a site's copy of a print template (kernel.documents.template_files)
    "print_template": N_("Print template"),
}
#: what the search's fields are called in its messages
_FIELD_NAMES = {"user": N_("User"), "entity": N_("Record type"), "record_id": N_("Record ID"),
                "start": N_("From date"), "end": N_("To date")}

#: a keyset cursor: the instant and id of the last row of a page
Cursor = tuple[dt.datetime, int]


@dataclass(frozen=True)
class AuditFilter:
    """A search of the trail, checked: who, which table, which record, which days (local,
    inclusive) and the instants they are (UTC; ``until`` excluded)."""

    user: str | None = None
    user_id: int | None = None
    entity: str | None = None
    record_id: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """Audit rows of one page, newest first; ``older`` is the cursor of the next page
    (pass it as ``before``), None when there is nothing older."""

    rows: list[AuditLog]
    older: Cursor | None


def _what(field: str) -> str:
    return _(_FIELD_NAMES.get(field, field))


def _clean(value, field: str, limit: int) -> str | None:
    """A search term as typed (outer blanks removed; None when empty); refuses what is not
    text, is longer than ``limit`` or holds control characters, naming ``field``."""
    import unicodedata

    from kernel.values import BIDI_CONTROLS

    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(_("{what} must be text").format(what=_what(field)), field=field)
    text = value.strip()
    if len(text) > limit:
        raise ValidationError(_("{what} must have at most {n} characters").format(
            what=_what(field), n=limit), field=field)
    if any(ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError(_("{what} must not contain control characters").format(
            what=_what(field)), field=field)
    return text or None


def _day(value, field: str) -> dt.date | None:
    """A day of a search: a date, or its text ``YYYY-MM-DD``, between :data:`FIRST_DAY`
    and :data:`LAST_DAY`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = _clean(value, field, 10)
        if text is None:
            return None
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationError(_("{what} must be a date like 2026-03-31").format(
                what=_what(field)), field=field) from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(_("{what} must be a date between {first} and {last}").format(
            what=_what(field), first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()),
            field=field)
    return value


def _local_midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def format_cursor(cursor: Cursor) -> str:
    """A keyset cursor as the text of a page link: ``<microseconds since 1970>.<id>``."""
    at, row_id = cursor
    delta = at.astimezone(dt.UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{row_id}"


def parse_cursor(text) -> Cursor | None:
    """The cursor a page link carries (:func:`format_cursor`), None for the newest page;
    anything else is refused naming ``before``."""
    if text is None or text == "":
        return None
    problem = ValidationError(_("the page link is broken: start again from the newest "
                                "changes"), field="before")
    if not isinstance(text, str) or len(text) > 40:
        raise problem
    micros, dot, row_id = text.partition(".")
    if not dot or not micros.isascii() or not micros.isdigit() or not row_id.isascii() \
            or not row_id.isdigit():
        raise problem
    try:
        at = _EPOCH + dt.timedelta(microseconds=int(micros))
    except OverflowError:
        raise problem from None
    return _check_cursor((at, int(row_id)))


def _check_cursor(cursor) -> Cursor | None:
    if cursor is None:
        return None
    problem = ValidationError(_("the page link is broken: start again from the newest "
                                "changes"), field="before")
    if not isinstance(cursor, tuple) or len(cursor) != 2:
        raise problem
    at, row_id = cursor
    if not isinstance(at, dt.datetime) or at.tzinfo is None or isinstance(row_id, bool) \
            or not isinstance(row_id, int) or not 0 < row_id <= MAX_ID \
            or not _local_midnight(FIRST_DAY, dt.UTC) <= at \
            <= _local_midnight(LAST_DAY, dt.UTC):
        raise problem
    return at.astimezone(dt.UTC), row_id


def extension_tables(app) -> dict[str, tuple]:
    """The companion tables of extensions (other plugins' fields of an entity):
    table → (the entity's :class:`~kernel.entities.EntityInfo`, the
    :class:`~kernel.entities.ExtensionInfo`)."""
    return {e.model.__table__.name: (info, e) for info in app.exposed.values()
            for e in info.extensions}


def audit_title(app, table: str, companions: dict | None = None) -> str:
    """What people call the records of an audited ``table``, translated: its class's title,
    the kernel's name for it (:data:`TABLE_TITLES`), "<entity> · <plugin's fields>" for
    another plugin's fields of an entity; the table's name for a table the site does not
    know (a disabled plugin's)."""
    from kernel.labels import entity_title

    cls = app.entity_class(table)
    if getattr(cls, "__title__", None):
        return entity_title(app, table)
    if table in TABLE_TITLES:
        return _(TABLE_TITLES[table])
    companion = (companions if companions is not None else extension_tables(app)).get(table)
    if companion is not None:
        info, extension = companion
        return f"{_(info.title)} · {_(extension.title)}"
    return table


def audit_entities(app) -> list[tuple[str, str]]:
    """Every table whose changes the trail keeps on this site (the kernel's and the enabled
    plugins'), as ``(table, title)`` sorted by title: the choices of a search by record
    type."""
    companions = extension_tables(app)
    tables = {table for table, cls in app.registry.classes.items()
              if getattr(cls, "__audited__", True)}
    tables |= set(TABLE_TITLES)
    found = [(table, audit_title(app, table, companions)) for table in tables]
    return sorted(found, key=lambda item: (item[1], item[0]))


def audit_people(ctx) -> list[tuple[str, str]] | None:
    """The users a search may name, ``(username, full name)`` by user name; None when there
    are more than :data:`MAX_PEOPLE` (the name is typed then)."""
    from kernel.auth import User

    ctx.require("audit.read")
    rows = ctx.session.execute(select(User.username, User.full_name).order_by(User.username)
                               .limit(MAX_PEOPLE + 1)).all()
    return None if len(rows) > MAX_PEOPLE else [(u, n) for u, n in rows]


def audit_filter(ctx, *, user=None, entity=None, record_id=None, start=None,
                 end=None) -> AuditFilter:
    """A search of the trail, checked (:class:`AuditFilter`): ``user`` a user name, ``entity``
    a table the trail keeps (:func:`audit_entities`), ``record_id`` a record's id, ``start``
    and ``end`` days (dates or ``YYYY-MM-DD``, the site's zone, both included). Each refusal
    is a :class:`ValidationError` naming its field: unknown user or table, text too long or
    with control characters, a day that is no date or out of range, ``start`` after ``end``."""
    from kernel.auth import User

    username = _clean(user, "user", 60)
    table = _clean(entity, "entity", 100)
    record = _clean(record_id, "record_id", 100)
    first, last = _day(start, "start"), _day(end, "end")
    user_id = None
    if username is not None:
        user_id = ctx.session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise ValidationError(_("there is no user {name}").format(name=username),
                                  field="user")
    if table is not None and table not in dict(audit_entities(ctx.app)):
        raise ValidationError(_("the audit trail keeps no record type {name}").format(
            name=table), field="entity")
    if first is not None and last is not None and first > last:
        raise ValidationError(_("the first day ({start}) is after the last day ({end})").format(
            start=first.isoformat(), end=last.isoformat()), field="end")
    tz = ctx.settings.tz
    return AuditFilter(
        user=username, user_id=user_id, entity=table, record_id=record, start=first, end=last,
        since=_local_midnight(first, tz) if first else None,
        until=_local_midnight(last + dt.timedelta(days=1), tz) if last else None)


def _query(ctx, wanted: AuditFilter):
    """The rows ``wanted`` matches that the user may see: a user who does not see every
    branch sees the changes of his branches' records only."""
    query = select(AuditLog)
    user_id, entity = AuditLog.user_id, AuditLog.entity
    if wanted.record_id is not None:
        # a record has a few rows: find them by its index, never by scanning all the rows of
        # the table or the user in order (SQLite prefers an index that saves the sort)
        query = query.where(AuditLog.record_id == wanted.record_id)
        user_id, entity = user_id + 0, entity.concat("")
    if wanted.user_id is not None:
        query = query.where(user_id == wanted.user_id)
    if wanted.entity is not None:
        query = query.where(entity == wanted.entity)
    if wanted.since is not None:
        query = query.where(AuditLog.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditLog.at < wanted.until)
    user = ctx.user
    if user is not None and not user.sees_all_branches:
        query = query.where(AuditLog.branch_id.in_(sorted(user.branch_ids)))
    return query


def _page(ctx, wanted: AuditFilter, before: Cursor | None, limit: int) -> AuditPage:
    """One page by key: never an offset, so the millionth row costs what the first does
    (each filter has its index: ``at``, ``(entity, at)``, ``(user_id, at)``,
    ``(record_id, entity)``)."""
    from sqlalchemy import or_

    query = _query(ctx, wanted)
    if before is not None:
        at, row_id = before
        query = query.where(AuditLog.at <= at, or_(AuditLog.at < at, AuditLog.id < row_id))
    rows = list(ctx.session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return AuditPage(rows, None)
    last = rows[limit - 1]
    return AuditPage(rows[:limit], (last.at, last.id))


def search_audit(ctx, *, user=None, entity=None, record_id=None, start=None, end=None,
                 before=None, limit: int = PAGE) -> AuditPage:
    """Search the audit trail (R32): the changes made by ``user`` (a user name), of records
    of the table ``entity``, of the record ``record_id``, between the days ``start`` and
    ``end`` (the site's zone, both included), newest first, ``limit`` rows older than the
    cursor ``before`` (``(at, id)``, a page's ``older``). Any filter may be left out.

    Needs ``audit.read``; a user who does not see every branch finds the changes of his
    branches' records only. Bad filters are refused (:func:`audit_filter`), so are a
    malformed cursor and a ``limit`` outside 1..:data:`MAX_LIMIT`."""
    ctx.require("audit.read")
    wanted = audit_filter(ctx, user=user, entity=entity, record_id=record_id, start=start,
                          end=end)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(_("limit must be between 1 and {n}").format(n=MAX_LIMIT),
                              field="limit")
    return _page(ctx, wanted, _check_cursor(before), limit)


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
#: TRUNCATE fires no row trigger: a statement trigger refuses it (kernel_0009). SQLite has
#: no TRUNCATE (its "truncate optimisation" of a bare DELETE is off while a DELETE
#: trigger exists, so the trigger above refuses that too).
POSTGRES_NO_TRUNCATE = [
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
