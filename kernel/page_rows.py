"""A page of records read as plain rows and written as the API answers records.

A list is read many times more often than it is changed, and building an ORM object for
each of its rows, then reading each field back off it, was a third of a list request's
CPU. :func:`page_reader` selects an entity's columns instead, and turns each row straight
into what :func:`kernel.records.to_dict` makes of a record: the same keys in the same
order, the same JSON values.

Instants (:class:`kernel.db.UTCDateTime`) are read as text, past the type's own
conversion, and rewritten into the API's form without making a datetime of them: on
SQLite the text SQLAlchemy stored, on PostgreSQL the same form written by ``to_char``
(:class:`InstantText`).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Integer, Select, String, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from kernel.db import UTCDateTime
from kernel.entities import EntityInfo
from kernel.links import link_columns
from kernel.values import plain

#: the column types whose values are JSON as the database driver hands them over
JSON_TYPES = (String, Integer, Boolean, JSON)
#: the kinds of field whose values are JSON as they are (when their column's type is one
#: of :data:`JSON_TYPES`: a column of a type fields do not name is a "string" too)
AS_THEY_ARE = frozenset({"string", "text", "integer", "boolean", "json"})
#: how SQLAlchemy stores an instant on SQLite: ``2026-05-04 03:02:01.000000``
SQLITE_INSTANT_LENGTH = 26


class InstantText(FunctionElement):
    """An instant column as the text SQLAlchemy stores on SQLite (``2026-05-04
    03:02:01.000000``, UTC), read as it is there and written so by PostgreSQL: no datetime
    is made of it (with its zone) only to be written as text again."""

    type = String()
    inherit_cache = True


@compiles(InstantText)
def _stored_text(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(InstantText, "postgresql")
def _utc_text(element, compiler, **kw):
    return (f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS.US')")


def stores_values(column_type) -> bool:
    """Whether a column of ``column_type`` is a choice (:func:`kernel.db.choice_type`) that
    stores its members' values: read as text, it needs no member made of it and taken
    apart again."""
    members = getattr(column_type, "enum_class", None)
    return isinstance(column_type, Enum) and members is not None \
        and list(column_type.enums) == [member.value for member in members]


def instant_text(value: Any) -> str:
    """An instant as :func:`kernel.values.plain` writes it (``2026-05-04T03:02:01Z``,
    with microseconds when there are some), from what the database handed over."""
    if type(value) is str:
        if len(value) == SQLITE_INSTANT_LENGTH and value[10] == " ":
            fraction = value[20:]
            return f"{value[:10]}T{value[11:19]}{'' if fraction == '000000' else '.' + fraction}Z"
        value = dt.datetime.fromisoformat(value)  # any other form of text (written by hand)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return plain(value)


@dataclass(frozen=True)
class PageReader:
    """How the rows of :attr:`query` become records as the API answers them."""

    #: the SELECT of the entity's own fields (a link's two columns for it), to add to
    query: Select
    #: the fields' names, in the entity's order
    names: tuple[str, ...]
    #: the column of each field (a link's first) in the row
    take: Any
    #: (place of the field, conversion) for values that are not JSON as they are
    converted: tuple[tuple[int, Any], ...]
    #: the place of each link field (its id is in the column after its entity's)
    links: tuple[int, ...]

    def record(self, row) -> dict:
        """One row as :func:`kernel.records.to_dict` makes the record."""
        values = list(self.take(row))
        for at, convert in self.converted:
            value = values[at]
            if value is not None:
                values[at] = convert(value)
        for at in self.links:
            entity, record_id = values[at]
            values[at] = None if entity is None and record_id is None else \
                {"entity": entity, "id": record_id}
        return dict(zip(self.names, values, strict=True))


@functools.lru_cache(maxsize=1024)  # an EntityInfo compares by its fields
def page_reader(info: EntityInfo) -> PageReader:
    """The :class:`PageReader` of ``info``'s records."""
    columns: list = []
    places: list = []
    converted, links = [], []
    for at, spec in enumerate(info.fields):
        attribute = getattr(info.cls, spec.name)
        if spec.kind == "link":
            links.append(at)
            places.append(slice(len(columns), len(columns) + 2))
            columns += link_columns(attribute)
            continue
        places.append(len(columns))
        if isinstance(attribute.type, UTCDateTime):
            # as text, past the type's conversion (instant_text reads it)
            columns.append(InstantText(attribute))
            converted.append((at, instant_text))
            continue
        if stores_values(attribute.type):
            # the stored text is the member's value, what the API answers
            columns.append(type_coerce(attribute, String()))
            continue
        columns.append(attribute)
        if spec.kind not in AS_THEY_ARE or not isinstance(attribute.type, JSON_TYPES):
            converted.append((at, plain))
    getter = operator.itemgetter(*places)  # a link's place is a slice: its two columns
    take = (lambda row: (getter(row),)) if len(places) == 1 else getter
    return PageReader(select(*columns), tuple(f.name for f in info.fields), take,
                      tuple(converted), tuple(links))
