"""Counting records by the value of one field: a list's group-by and a kanban's columns.

``group_counts(ctx, info, "status", filters=..., q=...)`` answers ``[(value, count)]``
with one SQL ``GROUP BY`` over the same conditions a list uses
(:func:`kernel.records.matching_query`), so the user's branch scope applies and no
record is loaded into Python. A choice (enum), yes/no, a reference (the id) or a date
can be grouped by; a date-time is grouped by its day in the site's time zone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func

from kernel import records
from kernel.entities import EntityInfo, FieldInfo
from kernel.errors import ValidationError
from kernel.i18n import _

#: at most this many groups of a reference or a date (the largest or newest first)
MAX_GROUPS = 100
#: kinds of fields a list may be grouped by (and any reference)
GROUPABLE_KINDS = ("enum", "boolean", "date", "datetime")
#: fields never offered for grouping (one company per site)
NOT_GROUPABLE = frozenset({"company_id", "id"})


def groupable_fields(info: EntityInfo) -> list[FieldInfo]:
    """The entity's own fields a list may be grouped by, in the entity's order."""
    return [f for f in info.fields if f.name not in NOT_GROUPABLE
            and (f.kind in GROUPABLE_KINDS or f.foreign)]


def _day(ctx, column):
    """``column`` (an instant) as the date of its day in the site's time zone."""
    tz = ctx.settings.tz
    if ctx.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(getattr(tz, "key", "UTC"), column))
    # SQLite keeps UTC text: shift by the zone's current offset (exact for zones without
    # daylight saving time, such as Asia/Shanghai)
    offset = ctx.now().astimezone(tz).utcoffset() or dt.timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _plain(spec: FieldInfo, value):
    if value is None:
        return None
    if spec.kind == "enum":
        return str(getattr(value, "value", value))
    if spec.kind in ("date", "datetime") and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def group_counts(ctx, info: EntityInfo, name: str, *, filters: dict[str, str] | None = None,
                 q: str | None = None, limit: int = MAX_GROUPS) -> list[tuple[object, int]]:
    """How many records the user may see match ``filters`` and ``q``, per value of field
    ``name``: ``[(value, count)]``, one SQL aggregate.

    Values are plain: a choice's value, True/False, a reference's id, a
    :class:`datetime.date` (a date-time's day in the site's zone), None for empty.
    Choices come in their declared order, yes before no, days newest first, references
    the largest group first (at most ``limit`` groups of references and days).

    :raise ValidationError: ``name`` is not a field the list can be grouped by.
    """
    spec = info.field(name)
    if spec is None or "." in name or spec not in groupable_fields(info):
        raise ValidationError(_("cannot group by {name!r}").format(name=name), field="group")
    column = getattr(info.cls, name)
    key = _day(ctx, column) if spec.kind == "datetime" else column
    count = func.count(info.cls.id)
    query = records.matching_query(ctx, info, filters=filters, q=q)
    query = query.with_only_columns(key.label("value"), count.label("n")).group_by(key)
    if spec.kind in ("date", "datetime"):
        query = query.order_by(key.desc()).limit(limit)
    elif spec.foreign:
        query = query.order_by(count.desc(), key).limit(limit)
    found = [(_plain(spec, value), n) for value, n in ctx.session.execute(query)]
    if spec.kind == "enum":
        order = {c: i for i, c in enumerate(spec.choices)}
        found.sort(key=lambda pair: order.get(pair[0], len(order)))
    elif spec.kind == "boolean":
        found.sort(key=lambda pair: {True: 0, False: 1}.get(pair[0], 2))
    return found
