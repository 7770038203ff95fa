"""Keyset paging: a list's order as sort keys, the cursor that marks a row in that order,
and the condition for the rows after (or before) it.

A page deep in a list costs as much as the first one: instead of skipping ``OFFSET`` rows
the query starts right after the last row the client saw, by the values of its sort keys
(the record's id breaks ties, so every row has one place). Empty values sort last in
either direction on both databases; the condition is the lexicographic OR-chain

    k1 after v1  OR  (k1 = v1 AND k2 after v2)  OR  …  OR  (k1 = v1 AND … AND id after i)

where "after" respects each key's direction and where its empty values are, led by a
redundant bound on the first key (``k1 >= v1``) so that an index on the order can seek.

A cursor is opaque to clients: the key values, the entity and the order it was made for,
signed with the site's secret (:mod:`kernel.signing`), so a forged or altered one, or one
made for another list or order, is refused (:class:`BadCursor`).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, literal, or_

from kernel import signing

#: what cursors are signed for (:func:`kernel.signing.sign`)
PURPOSE = "list-cursor"


class BadCursor(ValueError):
    """A cursor this site did not make for this list and order."""


@dataclass(frozen=True)
class SortKey:
    """One part of a list's order: a column, its direction, and whether it may be empty."""

    column: Any
    descending: bool = False
    nullable: bool = False

    def ordered(self, reverse: bool = False):
        """The ORDER BY term; ``reverse`` walks the list backwards (empty values first)."""
        descending = self.descending != reverse
        term = self.column.desc() if descending else self.column.asc()
        if not self.nullable:
            return term
        return term.nulls_first() if reverse else term.nulls_last()

    def bound(self, value):
        """``value`` as a parameter of the column's type (a yes/no value too, which
        SQLAlchemy compares only with ``=`` when it is given as ``True``/``False``)."""
        return literal(value, self.column.type)

    def equal(self, value):
        """The column holds ``value`` (an empty value too)."""
        return self.column.is_(None) if value is None else self.column == self.bound(value)

    def beyond(self, value, reverse: bool = False):
        """The column's value comes strictly after ``value`` in the order (before it when
        ``reverse``); None when no value can."""
        descending = self.descending != reverse
        if value is None:  # empty values are last; walking back, they are first
            return self.column.is_not(None) if reverse else None
        value = self.bound(value)
        later = self.column < value if descending else self.column > value
        return or_(later, self.column.is_(None)) if self.nullable and not reverse else later

    def seek(self, value, reverse: bool = False):
        """A bound implied by :meth:`beyond` or :meth:`equal` that an index can seek with
        (None: no such simple bound)."""
        descending = self.descending != reverse
        if value is None:
            return None if reverse else self.column.is_(None)
        if self.nullable and not reverse:
            return None  # "≥ v or empty": an OR, no help to the index
        value = self.bound(value)
        return self.column <= value if descending else self.column >= value


def order_by(keys: Sequence[SortKey], reverse: bool = False) -> list:
    """The ORDER BY terms of ``keys`` (``reverse``: backwards)."""
    return [key.ordered(reverse) for key in keys]


def beyond(keys: Sequence[SortKey], values: Sequence, reverse: bool = False):
    """The rows strictly after the row whose keys hold ``values`` (before it when
    ``reverse``), as one condition."""
    terms = []
    for i, key in enumerate(keys):
        later = key.beyond(values[i], reverse)
        if later is None:
            continue
        terms.append(and_(*[k.equal(v) for k, v in zip(keys[:i], values[:i], strict=True)],
                          later))
    chain = or_(*terms) if terms else false()
    bound = keys[0].seek(values[0], reverse) if keys else None
    return chain if bound is None else and_(bound, chain)


# --------------------------------------------------------------------------
# cursors
# --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A key value as JSON that says its type."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"t": value.isoformat()}
    return value


def _typed(value: Any) -> Any:
    """A key value read back from :func:`_plain`."""
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    return {"n": Decimal, "dt": dt.datetime.fromisoformat, "d": dt.date.fromisoformat,
            "t": dt.time.fromisoformat}[tag](text)


def encode(app, scope: str, values: Sequence) -> str:
    """The cursor of the row whose sort keys hold ``values`` in the list ``scope`` (the
    entity and its order)."""
    body = json.dumps([scope, [_plain(v) for v in values]], separators=(",", ":"),
                      ensure_ascii=False)
    token = base64.urlsafe_b64encode(body.encode()).decode("ascii").rstrip("=")
    return signing.sign(app, PURPOSE, token)


def decode(app, scope: str, cursor: str, size: int) -> list:
    """The key values in ``cursor``, which must have been made for ``scope`` with ``size``
    keys; :class:`BadCursor` otherwise."""
    token = signing.unsign(app, PURPOSE, str(cursor)) if cursor else None
    if token is None:
        raise BadCursor(cursor)
    try:
        made_for, values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        values = [_typed(v) for v in values]
    except (ValueError, TypeError, KeyError) as exc:
        raise BadCursor(cursor) from exc
    if made_for != scope or len(values) != size:
        raise BadCursor(cursor)
    return values

