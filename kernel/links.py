"""Links to any record: an entity (named by its table) and an id, where a foreign key
would force one plugin to depend on another (a complaint about a work order, an
invoice or a training contract).

A plugin declares a link on a model in one line::

    from kernel import RecordLink, link_column

    class Complaint(IdMixin, TimestampMixin, BranchMixin, Base):
        __tablename__ = "complaints_complaint"

        about: Mapped[RecordLink | None] = link_column(
            "about", targets=("repair_work_order", "billing_invoice"))

The link is two columns, ``about_entity`` (the table) and ``about_id``, indexed
together, read and written as one :class:`RecordLink` (None when empty). The API
and the desk show it as one field of kind ``"link"``; the kernel checks on every
write that the record exists and that the user may see it (:mod:`kernel.linked`),
and refuses to delete a record while a link points to it.

This module is the declaration, the value and the SQL; it imports nothing of the
kernel's entities, so :mod:`kernel.entities` can describe links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, Integer, String, and_, false, or_, tuple_
from sqlalchemy.orm import composite, mapped_column

from kernel.i18n import _

#: key of the ``info`` of a link's two columns
LINK_INFO = "fixdesk_link"
#: the largest id a link holds (the INTEGER column)
MAX_ID = 2**31 - 1
#: what a table name looks like
ENTITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
#: the filter operators a link field knows: equal, not equal, one of, links to that entity
LINK_OPERATORS = ("", "ne", "in", "entity")


@dataclass(frozen=True)
class RecordLink:
    """A link to one record of any entity: the entity's table and the record's id."""

    entity: str
    id: int

    def __str__(self) -> str:
        return f"{self.entity}:{self.id}"


@dataclass(frozen=True)
class Link:
    """A link field of a model, as :func:`link_column` declared it."""

    #: the attribute (and the field the API and the desk show)
    name: str
    #: the keys of its two columns
    entity_column: str
    id_column: str
    #: the tables it may point to (empty: any entity of the site)
    targets: tuple[str, ...]
    nullable: bool

    def allows(self, table: str) -> bool:
        """Whether this link may point to records of ``table``."""
        return not self.targets or table in self.targets


def _empty(*values) -> bool:
    return all(v is None for v in values)


def link_column(name: str, *, targets: tuple[str, ...] | list[str] = (),
                nullable: bool = True, doc: str | None = None):
    """A link to a record of any entity (or of ``targets``, tables), for a model's
    attribute ``name``: ``about: Mapped[RecordLink | None] = link_column("about")``.

    Makes the columns ``<name>_entity`` (String(60)) and ``<name>_id`` (Integer) with
    an index on the pair; the attribute reads and takes a :class:`RecordLink` or None.
    A target whose plugin is not enabled is simply not offered.
    """
    targets = tuple(targets)
    for target in targets:
        if not ENTITY_NAME.match(target):
            raise ValueError(f"link {name!r}: target {target!r} is not a table name")
    declared = {"name": name, "targets": targets}
    entity = mapped_column(f"{name}_entity", String(60), nullable=nullable,
                           info={LINK_INFO: {**declared, "part": "entity"}})
    record_id = mapped_column(f"{name}_id", Integer, nullable=nullable,
                              info={LINK_INFO: {**declared, "part": "id"}})
    Index(None, entity.column, record_id.column)
    return composite(RecordLink, entity, record_id, return_none_on=_empty, doc=doc,
                     info={LINK_INFO: declared})


def link_of_column(column) -> dict | None:
    """What :func:`link_column` declared on ``column`` (``name``, ``targets``, ``part``:
    ``"entity"`` or ``"id"``), or None for any other column."""
    return column.info.get(LINK_INFO)


def links_of(cls) -> list[Link]:
    """The links declared on the mapped class ``cls``, in column order."""
    found: dict[str, dict] = {}
    for column in cls.__table__.columns:
        declared = link_of_column(column)
        if declared is not None:
            found.setdefault(declared["name"], {"targets": declared["targets"],
                                                "nullable": bool(column.nullable)})[
                declared["part"]] = column.key
    links = []
    for name, parts in found.items():
        if not hasattr(cls, name):
            raise TypeError(f"{cls.__table__.name}: link_column({name!r}) must be the "
                            f"attribute {name!r}")
        links.append(Link(name=name, entity_column=parts["entity"], id_column=parts["id"],
                          targets=parts["targets"], nullable=parts["nullable"]))
    return links


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------


def _problem() -> ValueError:
    return ValueError(_("must name a record by its entity and id, like customer:12"))


def _record_id(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _problem()
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise _problem() from None
    if not 1 <= number <= MAX_ID:
        raise ValueError(_("the id must be a whole number from 1 to {n}").format(n=MAX_ID))
    return number


def _entity(value: Any) -> str:
    text = str(value).strip() if isinstance(value, str) else None
    if not text or not ENTITY_NAME.match(text):
        raise _problem()
    return text


def parse_link(value: Any) -> RecordLink:
    """``value`` as a :class:`RecordLink`: one already, an object ``{"entity": "customer",
    "id": 12}``, or the text ``customer:12``; ValueError (for people) otherwise. Says
    nothing about whether the record exists."""
    if isinstance(value, RecordLink):
        return RecordLink(_entity(value.entity), _record_id(value.id))
    if isinstance(value, Mapping):
        if set(value) != {"entity", "id"}:
            raise _problem()
        return RecordLink(_entity(value["entity"]), _record_id(value["id"]))
    if isinstance(value, str):
        entity, colon, record_id = value.strip().partition(":")
        if not colon:
            raise _problem()
        return RecordLink(_entity(entity), _record_id(record_id))
    raise _problem()


# --------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------


def link_columns(attribute) -> tuple:
    """The entity and id columns of a link attribute (``Complaint.about``)."""
    entity, record_id = attribute.property.columns
    return entity, record_id


def link_condition(attribute, op: str, raw: str):
    """The SQL condition of a filter on the link ``attribute`` with the operator ``op``
    (``""``, ``"ne"``, ``"in"``, ``"entity"``) and the query-string value ``raw``.

    ``about=customer:12`` links to that record, ``about__ne=customer:12`` to another one,
    ``about__in=customer:12,fdt_notes_note:3`` to one of them, ``about__entity=customer``
    (or ``customer,branch``) to any record of that entity; an empty value means "no
    link" (``about=``) or "some link" (``about__ne=``). Other operators and malformed
    values raise ValueError (for people).
    """
    entity, record_id = link_columns(attribute)
    if op not in LINK_OPERATORS:
        raise ValueError(_("links compare only with =, !=, in and entity"))
    text = str(raw).strip()
    if op == "entity":
        names = [_entity(part) for part in text.split(",") if part.strip()]
        if not names:
            raise _problem()
        return entity.in_(names)
    if op == "in":
        pairs = [parse_link(part) for part in text.split(",") if part.strip()]
        if not pairs:
            return false()
        return tuple_(entity, record_id).in_([(p.entity, p.id) for p in pairs])
    if text == "":
        return entity.is_(None) if op == "" else entity.is_not(None)
    link = parse_link(text)
    if op == "ne":
        return or_(entity != link.entity, record_id != link.id)
    return and_(entity == link.entity, record_id == link.id)
