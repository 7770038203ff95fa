"""Database layer: the one declarative ``Base``, column types, mixins, engines.

Every table of the kernel and of every plugin hangs off :data:`Base`. Constraint
names follow one convention so that Alembic migrations are identical on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import threading
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    bindparam,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from kernel.errors import SiteError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every fixdesk table (kernel and plugins)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --------------------------------------------------------------------------
# column types
# --------------------------------------------------------------------------


class Money(TypeDecorator):
    """An exact amount of money: ``Decimal`` in Python, integer minor units in the database.

    SQLite stores ``NUMERIC`` as a float, so ``SUM`` over many amounts drifts
    there; integers add up exactly on every engine. Two decimal places (fen,
    cents). Floats are refused: they are already inexact when they arrive.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 100
    QUANT = Decimal("0.01")
    #: far below what the BIGINT column holds (9.2e16 in units); no invoice comes near
    LIMIT = Decimal("1e15")

    @classmethod
    def to_decimal(cls, value) -> Decimal:
        """Parse ``value`` (Decimal, int or str) into a Decimal with two places."""
        if isinstance(value, float | bool):
            raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not an amount of money: {value!r}") from exc
        if not amount.is_finite():
            raise ValueError(f"not an amount of money: {value!r}")
        if abs(amount) >= cls.LIMIT:
            raise ValueError(f"amount of money too large: {value!r}")
        if amount != amount.quantize(cls.QUANT):
            raise ValueError(f"money has at most two decimal places: {value!r}")
        return amount.quantize(cls.QUANT, rounding=ROUND_HALF_UP)

    @classmethod
    def of_sum(cls, total) -> Decimal:
        """A SQL ``SUM`` of a Money column — integer units from the database, None over no
        rows; a Decimal when the sum was already typed — as a Decimal amount."""
        if isinstance(total, Decimal):
            return total
        return (Decimal(int(total or 0)) / cls.SCALE).quantize(cls.QUANT)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int(self.to_decimal(value) * self.SCALE)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / self.SCALE).quantize(self.QUANT)

    @property
    def python_type(self):
        return Decimal


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant, stored in UTC on both engines.

    SQLite has no time zones and would hand back naive datetimes; this type
    refuses naive input and always returns aware UTC values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    @property
    def python_type(self):
        return dt.datetime


def choice_type(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A portable enum column type: VARCHAR + CHECK storing the member's value, the same on
    SQLite and PostgreSQL (``mapped_column(choice_type(Status, "status"))``)."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=length,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True)


def all_columns_readonly(cls):
    """Class decorator: every column of the entity is read-only for the generic API and
    desk (``__readonly__``); the plugin's services write the rows."""
    cls.__readonly__ = tuple(c.key for c in cls.__table__.columns)
    return cls


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------
# mixins
# --------------------------------------------------------------------------


class IdMixin:
    """Integer surrogate primary key ``id``."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    """``created_at`` / ``updated_at`` in UTC, maintained by the database layer."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class CompanyMixin:
    """Row belongs to one company (``company_id``)."""

    @declared_attr
    def company_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("company.id"), nullable=False, index=True)


class BranchMixin:
    """Row belongs to one branch (``branch_id``); branch scoping filters on it."""

    @declared_attr
    def branch_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("branch.id"), nullable=False, index=True)


# --------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL and pick our drivers (psycopg 3 for PostgreSQL).

    Raises :class:`SiteError` with a readable message for anything we do not run on.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise SiteError(f"bad database URL {str(url)!r}: expected sqlite:///FILE or "
                        "postgresql://USER@HOST/DB") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "postgresql"):
            raise SiteError(f"unsupported PostgreSQL driver {parsed.get_driver_name()!r}: "
                            "fixdesk uses psycopg 3 (postgresql+psycopg://)")
        parsed = parsed.set(drivername="postgresql+psycopg")
        if not parsed.database:
            raise SiteError(f"database URL {parsed.render_as_string()!r} names no database")
    elif backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SiteError("an SQLite site needs a file: sqlite:///FILE")
    else:
        raise SiteError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed


def _sqlite_pragmas(dbapi_connection, _record):
    # let SQLAlchemy emit BEGIN itself (below): pysqlite would otherwise commit
    # before DDL, and a failed migration would be half-applied
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


#: seconds SQLite waits for its write lock (``busy_timeout`` above), and a writer of this
#: process for its turn
SQLITE_BUSY_SECONDS = 10


class SqliteWriters:
    """The turns of one process's writers on an SQLite database.

    A unit of work that will write (engine option ``fixdesk_writes``) takes the write
    lock at its start (IMMEDIATE): a deferred transaction that reads and then writes fails
    at once with "database is locked" when another writer got in between (a WAL snapshot
    cannot be upgraded). Plain reads stay deferred and never block writers.

    Before asking SQLite, a writer waits for its turn on a lock of this process, held until
    its transaction ends: SQLite's busy handler sleeps in growing steps and lets late comers
    in first, which gave some of 20 concurrent writers seconds of waiting; the lock hands
    over at once. Other processes (the CLI, a worker) still meet in the busy handler.
    """

    HELD = "fixdesk_write_turn"

    def __init__(self):
        self.lock = threading.Lock()
        self.readers = SqliteReaders()

    def begin(self, conn) -> None:
        immediate = conn.get_execution_options().get("fixdesk_writes")
        if not immediate:
            self.readers.begin(conn)
        elif not conn.info.get(self.HELD):
            let_others_read()  # a read of this thread that writes aside holds up no reader
            if self.lock.acquire(timeout=SQLITE_BUSY_SECONDS):
                conn.info[self.HELD] = True  # past the timeout: the busy handler decides
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    def end(self, conn) -> None:
        """The transaction committed or rolled back: the next writer's (or reader's) turn."""
        self._release(conn.info)
        self.readers.release(conn.info)

    def checkin(self, _dbapi_connection, record) -> None:
        """A connection back in the pool never keeps a turn (a BEGIN that failed)."""
        self._release(record.info)
        self.readers.release(record.info)

    def _release(self, info: dict) -> None:
        if info.pop(self.HELD, False):
            self.lock.release()


#: how long a read of SQLite may keep its turn before it lets the next one in (at its
#: next statement), and how long a read waits for its turn before it goes ahead anyway
SQLITE_READ_TURN_SECONDS = 0.05
SQLITE_READ_WAIT_SECONDS = 0.1


class SqliteReaders:
    """The turns of one process's reads of an SQLite database.

    Python runs one thread of a process at a time, and SQLite hands the interpreter over
    at every row it steps through. Reads side by side in several threads hand it to each
    other hundreds of times a request, each hand-over a wake-up of another thread; one
    after the other, they do the same work without them (a server's list of 50 customers:
    ~15 % more a second). So a read transaction waits for its turn before it begins, and
    gives it up when it ends. So that no read waits long for another:

    * a read that has had the turn for :data:`SQLITE_READ_TURN_SECONDS` gives it up at its
      next statement and goes on beside the next one (a report, a big export);
    * a read that has waited :data:`SQLITE_READ_WAIT_SECONDS` goes ahead without it;
    * a read begun in a thread that has the turn (a second session beside a request's)
      needs none of its own. Writers have their own turns (:class:`SqliteWriters`)."""

    HELD = "fixdesk_read_turn"

    def __init__(self):
        self.lock = threading.Lock()
        self.owner: int | None = None  # the thread that has the turn
        self.since = 0.0

    def begin(self, conn) -> None:
        me = threading.get_ident()
        if self.owner != me and self.lock.acquire(timeout=SQLITE_READ_WAIT_SECONDS):
            self.owner, self.since = me, time.monotonic()
            conn.info[self.HELD] = True
            _read_turn.held = (self, conn.info)

    def statement(self, conn, *_args) -> None:
        """Before each statement: a read that has had its turn long enough lets the next
        one in."""
        if conn.info.get(self.HELD) \
                and time.monotonic() - self.since > SQLITE_READ_TURN_SECONDS:
            self.release(conn.info)

    def release(self, info: dict) -> None:
        if info.pop(self.HELD, False):
            self.owner = None
            _read_turn.held = None
            self.lock.release()


_read_turn = threading.local()  # (readers, connection info) of the turn this thread has


def let_others_read() -> None:
    """Give up this thread's turn to read SQLite (:class:`SqliteReaders`), if it has one,
    before long work that runs no statement (laying out papers, waiting for the print
    workers, a report's Python). A no-op on PostgreSQL."""
    held = getattr(_read_turn, "held", None)
    if held is not None:
        held[0].release(held[1])


def written_in(column, values):
    """``column IN (values)`` with the values written into the statement (quoted by
    SQLAlchemy), not bound: a partial index over some of a column's values (the open work
    orders) serves only a query whose condition it can compare with its own, and SQLite
    compares no bound value. For the few values of a choice column, never for user text
    in bulk."""
    return column.in_(bindparam(None, list(values), expanding=True, literal_execute=True))


def make_engine(url: str | URL, **kwargs) -> Engine:
    """Create an engine: SQLite gets WAL, foreign keys and a busy timeout on every connection,
    and its writers take turns (:class:`SqliteWriters`)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        writers = SqliteWriters()
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)
        event.listen(engine.pool, "checkin", writers.checkin)
        event.listen(engine, "before_cursor_execute", writers.readers.statement)
        return engine
    engine = create_engine(parsed, **kwargs)
    if not kwargs.get("pool_pre_ping") and not isinstance(engine.pool, NullPool):
        IdlePing(engine.dialect).listen(engine.pool)
    return engine


#: a pooled PostgreSQL connection that has waited longer than this in the pool is pinged
#: before a request uses it (:class:`IdlePing`)
PING_AFTER_IDLE_SECONDS = 10.0


class IdlePing:
    """Ping a pooled connection before use only when it has been idle a while.

    A connection can die in the pool: the server restarted, a proxy or firewall dropped it
    after minutes of silence. SQLAlchemy's ``pool_pre_ping`` asks the server before every
    use, one round trip more per request; under load, when a connection comes back to the
    pool and leaves again within milliseconds, that round trip is all it buys. So a
    connection idle for less than :data:`PING_AFTER_IDLE_SECONDS` is used as it is: when
    the server went away in those seconds, the request that meets the dead connection fails
    (503, *the database is unavailable*) and the pool drops every connection older than
    it, as SQLAlchemy does on any lost connection, so the next request connects afresh.
    """

    RETURNED = "fixdesk_returned_at"

    def __init__(self, dialect):
        self.dialect = dialect

    def listen(self, pool) -> None:
        event.listen(pool, "checkin", self.checkin)
        event.listen(pool, "checkout", self.checkout)

    def checkin(self, dbapi_connection, record) -> None:
        if dbapi_connection is not None:  # None: it was dropped (invalidated)
            record.info[self.RETURNED] = time.monotonic()

    def checkout(self, dbapi_connection, record, _proxy) -> None:
        """Ping a connection that waited too long; a dead one makes the pool connect again
        (and drop the others connected before it)."""
        returned = record.info.get(self.RETURNED)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # new, or used moments ago
        try:
            self.dialect.do_ping(dbapi_connection)
        except self.dialect.loaded_dbapi.Error as exc:
            if self.dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(str(exc)) from exc
            raise


def make_sessionmaker(engine: Engine) -> sessionmaker:
    """Session factory; use ``with factory.begin() as session:`` for one transaction.
    Its sessions check every text and date before they write it
    (:mod:`kernel.value_guard`)."""
    from sqlalchemy import event

    from kernel.value_guard import before_flush

    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "before_flush", _refuse_a_flush_in_a_read)
    event.listen(factory, "do_orm_execute", _refuse_a_write_in_a_read)
    return factory


class WriteInRead(RuntimeError):
    """Code running in a read-only transaction wrote (:func:`refuse_writes`)."""


def refuse_writes(session) -> None:
    """Make ``session`` (a request that only reads) refuse to write: a flush with changes,
    or an ORM insert, update or delete statement, raises :class:`WriteInRead`. On SQLite
    such a read would fail only when another request wrote meanwhile, so the mistake
    would hide until the desk is busy; refused every time, it shows in the tests.
    (The session's factory, :func:`make_sessionmaker`, checks: listening per session
    would cost every read request more than its own query.)"""
    session.info["read_only"] = True


def _refuse_a_flush_in_a_read(session, _context, _instances) -> None:
    if session.info.get("read_only") and (session.new or session.deleted or any(
            session.is_modified(obj) for obj in session.dirty)):
        raise WriteInRead("a read request wrote: open its context with writes=True")


def _refuse_a_write_in_a_read(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) \
            and state.session.info.get("read_only"):
        raise WriteInRead("a read request wrote: open its context with writes=True")


def is_read_only(session) -> bool:
    """Whether ``session`` refuses to write (:func:`refuse_writes`)."""
    return bool(session.info.get("read_only"))


def upsert_insert(dialect: str):
    """The ``insert`` of ``dialect`` (``postgresql`` or ``sqlite``), which has
    ``on_conflict_do_update`` and ``on_conflict_do_nothing``; imported when first used, so
    that an SQLite site's commands never load the PostgreSQL dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


__all__ = [
    "Base",
    "BranchMixin",
    "CompanyMixin",
    "IdMixin",
    "Money",
    "TimestampMixin",
    "UTCDateTime",
    "func",
    "make_engine",
    "make_sessionmaker",
    "normalize_url",
    "utcnow",
]


# --------------------------------------------------------------------------
# creating and dropping whole databases (new-site, tests)
# --------------------------------------------------------------------------


def _server_engine(url: URL) -> Engine:
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                         poolclass=NullPool)


def create_database(url: str | URL) -> bool:
    """Create the database named by ``url`` unless it exists; True when it was created.

    SQLite files are created on first connection; only the parent folder is made.
    """
    from sqlalchemy import text

    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        path = Path(parsed.database)
        existed = path.exists()
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        if not existed:
            # made here, owner-only (SQLite makes its -wal and -shm files with the same
            # mode), rather than by the first connection with the umask's 0644
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return not existed
    engine = _server_engine(parsed)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": parsed.database}).scalar()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted} ENCODING 'UTF8' TEMPLATE template0")
            return True
    finally:
        engine.dispose()


def drop_database(url: str | URL) -> None:
    """Drop the database named by ``url`` (closing other sessions on PostgreSQL), and the
    roles :func:`kernel.dbroles.create_roles` made for it."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = _server_engine(parsed)
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            drop_site_roles(conn, parsed.database)  # its owner and runtime roles, if any
    finally:
        engine.dispose()


#: the comment on a site's PostgreSQL roles (:mod:`kernel.dbroles`): how they are found
ROLE_COMMENT = "fixdesk site role of database {database}"


def site_roles(conn, database: str) -> list[str]:
    """The roles :func:`kernel.dbroles.create_roles` made for ``database`` (by their
    comment, :data:`ROLE_COMMENT`)."""
    from sqlalchemy import text

    return list(conn.execute(text(
        "SELECT r.rolname FROM pg_roles r JOIN pg_shdescription d ON d.objoid = r.oid "
        "AND d.classoid = 'pg_authid'::regclass WHERE d.description = :comment "
        "ORDER BY r.rolname"), {"comment": ROLE_COMMENT.format(database=database)}).scalars())


def drop_site_roles(conn, database: str) -> None:
    """Drop the roles of ``database`` (after the database itself: what they own or were
    granted there is gone with it; roles are the server's and would outlive it)."""
    for role in site_roles(conn, database):
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {conn.dialect.identifier_preparer.quote(role)}")
