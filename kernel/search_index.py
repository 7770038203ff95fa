"""The search index of every entity with search fields: built, kept and asked by the kernel.

Each exposed entity whose ``__search__`` names fields gets a table of its own holding,
per record, the derived text of those fields and its terms (:mod:`kernel.search_terms`):

* SQLite: a table ``search__<entity>`` (``id``, ``body``) and a contentless FTS5 table
  ``search__<entity>_terms`` of the terms (its ``rowid`` the record's id; the ``ascii``
  tokenizer keeps our terms whole; no positions);
* PostgreSQL: a table ``search__<entity>`` (``record_id``, ``body``, ``terms`` as a
  ``tsvector`` made from the term list, never parsed) with a GIN index on ``terms``.

The kernel table ``search_index`` (migration kernel_0010) says which entities have one,
from which fields and terms version. ``fixdesk migrate`` (:func:`build_indexes`) makes
the missing ones and fills them from the records already there, with progress; a change
of an entity's search fields or of the terms rebuilds it; the index of an entity whose
table is gone (a plugin migrated down) is dropped. No plugin writes SQL for it.

Every session keeps the indexes in step in the same transaction: after each flush the
records it added, changed (in a search field) or deleted are written to their entity's
index, whoever changed them (the generic services, a plugin's own service, a raw ORM
change); an ORM bulk ``update()``/``delete()`` of an indexed entity re-reads the rows it
touches. SQL run outside the ORM is not seen (as by the audit trail).

:func:`search_condition` turns a list's ``q`` into a WHERE condition: the index gives the
candidates (at most :data:`CANDIDATES` ids), each confirmed by its derived text holding
``q``; a search that matches more (or is one letter long) is answered by the list's own
order, each row's derived text looked up by id, which finds a page after a few rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    event,
    exists,
    false,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, attributes, mapped_column

from kernel.db import Base, UTCDateTime, utcnow
from kernel.i18n import N_
from kernel.progress import report
from kernel.search_terms import VERSION, index_terms, like_pattern, query_terms, record_text

#: the step ``fixdesk migrate`` reports while it fills indexes (:mod:`kernel.progress`)
BUILDING = N_("Building the search index")
#: the most records a search takes by id from an index (:func:`search_condition`)
CANDIDATES = 5000
#: past this many matching records, a search reads the list in its order
COMMON = 20_000
#: records read and indexed at a time while building
BATCH = 5000
#: PostgreSQL's longest identifier
MAX_NAME = 63


class SearchIndex(Base):
    """One entity's search index: its table, the fields and terms version it was built
    from (a difference rebuilds it) and how many records it held when built."""

    __tablename__ = "search_index"
    __expose__ = False  # kept by ``fixdesk migrate``, not the generic API
    __audited__ = False  # derived data, not a business record

    entity: Mapped[str] = mapped_column(String(100), primary_key=True)
    index_table: Mapped[str] = mapped_column(String(MAX_NAME))
    fields: Mapped[str] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer)
    records: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def index_table_name(entity: str) -> str:
    """The index table of ``entity``: ``search__<entity>``, shortened with a hash of the
    name when longer than a PostgreSQL identifier may be."""
    name = f"search__{entity}"
    if len(name) + len("_terms") <= MAX_NAME:
        return name
    digest = hashlib.sha1(entity.encode()).hexdigest()[:8]
    return f"search__{entity[:MAX_NAME - len('search___terms') - 9]}_{digest}"


@dataclass(frozen=True)
class Spec:
    """An entity's index as this app sees it: the entity's class and search fields, and
    the index's tables as Core :class:`~sqlalchemy.Table` objects for queries: ``table``
    (``id``, ``body``; on PostgreSQL also ``terms``) and, on SQLite, ``fts`` (the FTS5
    table of the terms, ``<name>_terms``)."""

    entity: str
    cls: type
    fields: tuple[str, ...]
    name: str
    table: Table
    fts: Table | None

    def text_of(self, record) -> str:
        """The derived text of ``record`` (an instance of :attr:`cls`)."""
        return record_text(getattr(record, f) for f in self.fields)


def _spec(info, dialect: str) -> Spec:
    name = index_table_name(info.name)
    if dialect == "sqlite":
        table = Table(name, MetaData(), Column("id", Integer), Column("body", Text))
        fts_name = f"{name}_terms"
        fts = Table(fts_name, MetaData(), Column("rowid", Integer, key="id"),
                    Column("terms", Text), Column(fts_name, Text, key="command"))
    else:  # the PostgreSQL dialect is imported only where it serves (not on SQLite)
        from sqlalchemy.dialects.postgresql import TSVECTOR

        table = Table(name, MetaData(), Column("record_id", Integer, key="id"),
                      Column("body", Text), Column("terms", TSVECTOR))
        fts = None
    return Spec(info.name, info.cls, tuple(info.search), name, table, fts)


# --------------------------------------------------------------------------
# the statements of each database
# --------------------------------------------------------------------------


def _quoted(connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _create(connection, name: str) -> None:
    """Make an empty index (on PostgreSQL without its GIN index: :func:`_finish`).

    SQLite: the derived texts in a table of their own, the terms in a contentless FTS5
    table beside it (``ascii`` tokenizer: our terms stay whole; no positions kept)."""
    table = _quoted(connection, name)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, "
                                   "body TEXT NOT NULL)")
        connection.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {_quoted(connection, name + '_terms')} USING fts5(terms, "
            "content='', columnsize=0, tokenize='ascii', detail='none')")
        return
    connection.exec_driver_sql(f"CREATE TABLE {table} (record_id BIGINT PRIMARY KEY, "
                               "body TEXT NOT NULL, terms TSVECTOR NOT NULL)")


def _finish(connection, name: str) -> None:
    """Index a filled table's terms (PostgreSQL: a GIN index is made faster over the rows
    than row by row) and give the planner its statistics."""
    if connection.dialect.name == "sqlite":
        return
    table = _quoted(connection, name)
    connection.exec_driver_sql(f"CREATE INDEX {_quoted(connection, name + '_terms')} "
                               f"ON {table} USING gin (terms)")
    connection.exec_driver_sql(f"ANALYZE {table}")


def drop_index(connection, name: str) -> None:
    """Drop the index named ``name`` (its tables), if it is there."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_quoted(connection, name + '_terms')}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_quoted(connection, name)}")


def _write(connection, spec: Spec, removed: list[int], rows: list[tuple[int, str]]) -> None:
    """Remove the records ``removed`` from the index and write ``rows`` (id, derived
    text). A changed record is in both; a new one (or a fresh index's) only in ``rows``:
    nothing of it is there to remove."""
    table, fts = spec.table, spec.fts
    for start in range(0, len(removed), BATCH):
        chunk = table.c.id.in_(removed[start:start + BATCH])
        if fts is not None:  # a contentless FTS5 table forgets a row by its very terms
            old = connection.execute(select(table.c.id, table.c.body).where(chunk)).all()
            if old:
                connection.execute(fts.insert(), [
                    {"command": "delete", "id": i, "terms": " ".join(index_terms(body))}
                    for i, body in old])
        connection.execute(table.delete().where(chunk))
    if not rows:
        return
    if fts is not None:
        connection.execute(table.insert(), [{"id": i, "body": body} for i, body in rows])
        connection.execute(fts.insert(), [{"id": i, "terms": " ".join(index_terms(body))}
                                          for i, body in rows])
        return
    terms = func.array_to_tsvector(bindparam("term_list", type_=ARRAY(Text)))
    connection.execute(table.insert().values(terms=terms), [
        {"id": i, "body": body, "term_list": index_terms(body)} for i, body in rows])


def _matching(connection, spec: Spec, terms: tuple[str, ...]):
    """The condition that the terms of ``spec``'s index hold all of ``terms`` (which are
    letters and digits only: nothing to quote), and the table it is on."""
    if spec.fts is not None:
        match = " AND ".join(f'"{t}"' for t in terms)
        return literal_column(_quoted(connection, spec.fts.name)).op("MATCH")(match), spec.fts
    from sqlalchemy.dialects.postgresql import TSQUERY

    match = " & ".join(f"'{t}'" for t in terms)
    return spec.table.c.terms.op("@@")(cast(literal(match), TSQUERY)), spec.table


def _count(connection, spec: Spec, terms: tuple[str, ...], most: int) -> int:
    """How many records' terms hold all of ``terms``, counted up to ``most``."""
    matching, table = _matching(connection, spec, terms)
    found = select(table.c.id).where(matching).limit(most)
    return connection.execute(select(func.count()).select_from(found.subquery())).scalar()


def _planned(connection, spec: Spec, terms: tuple[str, ...]) -> int:
    """How many records' terms hold all of ``terms``, as PostgreSQL's planner estimates
    it from the index table's statistics (counting would read every matching row)."""
    matching, table = _matching(connection, spec, terms)
    query = select(table.c.id).where(matching).compile(
        connection, compile_kwargs={"literal_binds": True})  # terms: letters and digits
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {query}").scalar()
    return int(plan[0]["Plan"]["Plan Rows"])


def _estimate(connection, spec: Spec, terms: tuple[str, ...]) -> tuple[int, int]:
    """The planner's estimate of the records holding all of ``terms``, and of those
    holding the rarest of them: a bound, as terms often come together (``220`` and
    ``206`` of ``2206``) where the planner takes them for independent."""
    together = _planned(connection, spec, terms)
    if len(terms) == 1:
        return together, together
    return together, min(_planned(connection, spec, (term,)) for term in terms)


def _candidates(connection, spec: Spec, terms: tuple[str, ...], pattern: str,
                most: int) -> list[int]:
    """The ids of the records (up to ``most``) whose terms hold all of ``terms`` and whose
    derived text matches the LIKE ``pattern``."""
    matching, table = _matching(connection, spec, terms)
    query = select(spec.table.c.id).where(matching, spec.table.c.body.like(pattern, escape="\\"))
    if table is not spec.table:
        query = query.join_from(spec.table, table, table.c.id == spec.table.c.id)
    return list(connection.execute(query.limit(most)).scalars())


# --------------------------------------------------------------------------
# which indexes a running site has
# --------------------------------------------------------------------------


class SearchIndexes:
    """The search indexes of one app: which of its entities have one that is current,
    read from ``search_index`` once (and again after :meth:`forget`)."""

    def __init__(self, exposed: dict):
        self._exposed = exposed
        self._active: dict[str, Spec] | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Read the indexes again on next use (after ``fixdesk migrate`` built some)."""
        self._active = None

    def active(self, connection) -> dict[str, Spec]:
        """The entities whose index is current (built from their search fields and this
        terms version), by entity name."""
        found = self._active
        if found is None:
            with self._lock:
                found = self._active = self._read(connection)
        return found

    def _read(self, connection) -> dict[str, Spec]:
        if not inspect(connection).has_table(SearchIndex.__tablename__):
            return {}  # a site not migrated to kernel_0010 yet: no index, plain search
        dialect = connection.dialect.name
        found = {}
        for row in connection.execute(select(SearchIndex.__table__)):
            info = self._exposed.get(row.entity)
            if info is None or row.version != VERSION or row.fields != ",".join(info.search):
                continue
            spec = _spec(info, dialect)
            if spec.name == row.index_table:
                found[spec.entity] = spec
        return found

    def install(self, sessions) -> None:
        """Keep the indexes in step with every change made through sessions of
        ``sessions`` (a sessionmaker)."""
        event.listen(sessions, "after_flush", self._after_flush)
        event.listen(sessions, "do_orm_execute", self._bulk_change)

    # -- keeping them in step ----------------------------------------------

    def _after_flush(self, session, _flush_context) -> None:
        """The session event: writes the flushed records' derived texts."""
        active = self.active(session.connection())
        if not active:
            return
        removed: dict[str, list[int]] = {}
        written: dict[str, list[tuple[int, str]]] = {}
        for record in session.new:
            spec = active.get(type(record).__table__.name)
            if spec is not None and isinstance(record, spec.cls):
                written.setdefault(spec.entity, []).append((record.id, spec.text_of(record)))
        for record in session.dirty:
            spec = active.get(type(record).__table__.name)
            if spec is None or not isinstance(record, spec.cls) or not any(
                    attributes.get_history(record, f).has_changes() for f in spec.fields):
                continue
            removed.setdefault(spec.entity, []).append(record.id)
            written.setdefault(spec.entity, []).append((record.id, spec.text_of(record)))
        for record in session.deleted:
            spec = active.get(type(record).__table__.name)
            if spec is not None and isinstance(record, spec.cls):
                removed.setdefault(spec.entity, []).append(record.id)
        connection = session.connection()
        for entity in {*removed, *written}:
            _write(connection, active[entity], removed.get(entity, []),
                   written.get(entity, []))

    def _bulk_change(self, execute_state):
        """The session event: an ORM ``update()`` or ``delete()`` of an indexed entity
        re-indexes the rows it touches (found before it runs, read again after)."""
        if not (execute_state.is_update or execute_state.is_delete):
            return None
        mapper = execute_state.bind_mapper
        if mapper is None:
            return None
        connection = execute_state.session.connection()
        spec = self.active(connection).get(mapper.local_table.name)
        if spec is None:
            return None
        where = execute_state.statement.whereclause
        given = execute_state.parameters
        if where is None and isinstance(given, list) and given and \
                all("id" in row for row in given):  # an update by primary key, row by row
            ids = [row["id"] for row in given]
        else:
            ids_query = select(mapper.local_table.c.id)
            ids = list(connection.execute(ids_query if where is None else
                                          ids_query.where(where)).scalars())
        result = execute_state.invoke_statement()
        rows = []
        if execute_state.is_update and ids:
            columns = [getattr(spec.cls, f) for f in spec.fields]
            for start in range(0, len(ids), BATCH):
                chunk = ids[start:start + BATCH]
                found = connection.execute(select(spec.cls.id, *columns)
                                           .where(spec.cls.id.in_(chunk)))
                rows += [(row[0], record_text(row[1:])) for row in found]
        _write(connection, spec, ids, rows)
        return result


# --------------------------------------------------------------------------
# searching
# --------------------------------------------------------------------------


def plain_condition(info, q: str):
    """The search without an index (a site not migrated yet): some search field holds
    ``q``, case-insensitively as the database compares, by a scan."""
    pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*[cast(getattr(info.cls, f), String).ilike(f"%{pattern}%", escape="\\")
                 for f in info.search] or [false()])


def search_condition(ctx, info, q: str):
    """The WHERE condition of a list's search ``q`` over ``info``'s records: some search
    field holds ``q`` (case-folded, :mod:`kernel.search_terms`); answered by the entity's
    index when it has a current one.

    How depends on how many records hold the search's terms: up to :data:`CANDIDATES`,
    their ids, each confirmed; up to :data:`COMMON`, on SQLite the list read in its own
    order, each row kept when it is among them and its text holds ``q``, on PostgreSQL
    their ids too; more (or a search of one letter), the list read in its own order,
    each row kept when its text holds ``q``: a page is full after a few rows. SQLite
    counts them in its index (up to :data:`COMMON`); PostgreSQL's planner estimates them
    (:func:`_estimate`: counting would read each row).
    """
    if not info.search:
        return false()
    indexes = getattr(ctx.app, "search_indexes", None)
    connection = ctx.session.connection()
    spec = indexes.active(connection).get(info.name) if indexes is not None else None
    if spec is None:
        return plain_condition(info, q)
    terms = query_terms(q)
    pattern = like_pattern(q)
    index = spec.table
    holds = exists(select(literal(1)).select_from(index).where(
        index.c.id == info.cls.id, index.c.body.like(pattern, escape="\\")))
    if not terms:
        return holds
    if spec.fts is not None:  # SQLite: FTS5 counts fast
        found = _count(connection, spec, terms, COMMON + 1)
        if found > COMMON:
            return holds
        if found > CANDIDATES:
            # "+ 0": the list's order drives the query, the ids are only looked up
            matching, table = _matching(connection, spec, terms)
            return and_((info.cls.id + 0).in_(select(table.c.id).where(matching)), holds)
        most = CANDIDATES
    else:  # PostgreSQL: estimated; taking ids past a short estimate costs CANDIDATES rows
        found, bound = _estimate(connection, spec, terms)
        if found > COMMON:
            return holds
        most = COMMON if bound <= COMMON else CANDIDATES
    ids = _candidates(connection, spec, terms, pattern, most + 1) if found else []
    if len(ids) > most:
        return holds
    return info.cls.id.in_(ids) if ids else false()


# --------------------------------------------------------------------------
# building them (fixdesk migrate)
# --------------------------------------------------------------------------


def _fill(connection, spec: Spec, progress) -> int:
    """Index every record of ``spec``'s entity, a batch at a time; how many there were."""
    cls = spec.cls
    columns = [getattr(cls, f) for f in spec.fields]
    last, count = None, 0
    while True:
        query = select(cls.id, *columns).order_by(cls.id).limit(BATCH)
        rows = connection.execute(query if last is None else query.where(cls.id > last)).all()
        if not rows:
            return count
        _write(connection, spec, [], [(row[0], record_text(row[1:])) for row in rows])
        last, count = rows[-1][0], count + len(rows)
        progress(len(rows))


def build_indexes(app, connection) -> list[tuple[str, int]]:
    """Make the search index of every entity of ``app`` with search fields that has no
    current one, filled from its records; drop those of entities whose table is gone.
    Runs in ``fixdesk migrate``'s transaction; returns ``(entity, records)`` built."""
    dialect = connection.dialect.name
    registry = SearchIndex.__table__
    drop_orphans(connection)
    known = {row.entity: row for row in connection.execute(select(registry))}
    wanted = [_spec(info, dialect) for info in app.exposed.values() if info.search]
    stale = [spec for spec in wanted
             if (row := known.get(spec.entity)) is None or row.version != VERSION
             or row.fields != ",".join(spec.fields) or row.index_table != spec.name]
    if not stale:
        return []
    totals = {spec.entity: connection.execute(
        select(func.count()).select_from(spec.cls.__table__)).scalar() for spec in stale}
    total, done = sum(totals.values()), 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        report(BUILDING, done, total)

    report(BUILDING, 0, total)
    built = []
    for spec in stale:
        old = known.get(spec.entity)
        if old is not None:
            drop_index(connection, old.index_table)
            connection.execute(registry.delete().where(registry.c.entity == spec.entity))
        drop_index(connection, spec.name)
        _create(connection, spec.name)
        count = _fill(connection, spec, progress)
        _finish(connection, spec.name)
        connection.execute(registry.insert().values(
            entity=spec.entity, index_table=spec.name, fields=",".join(spec.fields),
            version=VERSION, records=count, built_at=utcnow()))
        built.append((spec.entity, count))
    report(BUILDING, total, total)
    return built


def drop_orphans(connection) -> list[str]:
    """Drop the indexes of entities whose table is gone (their plugin migrated down);
    returns those entities."""
    inspector = inspect(connection)
    if not inspector.has_table(SearchIndex.__tablename__):
        return []
    registry = SearchIndex.__table__
    tables = set(inspector.get_table_names())
    gone = [row for row in connection.execute(select(registry)) if row.entity not in tables]
    for row in gone:
        drop_index(connection, row.index_table)
        connection.execute(registry.delete().where(registry.c.entity == row.entity))
    return [row.entity for row in gone]
