"""Generic services for any exposed entity: list, get, create, update, delete.

The API and the desk call these; each checks the user's permission
(``<entity>.read`` / ``create`` / ``update`` / ``delete``) and branch scope,
validates every value against the field it is for, and reports problems as
:class:`~kernel.errors.ValidationError` naming the field. Nothing is written
unless everything is valid.
"""

from __future__ import annotations

import operator
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from kernel.entities import EntityInfo
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import _
from kernel.values import coerce, plain

MAX_LIMIT = 500
OPERATORS = ("gte", "lte", "gt", "lt", "ne", "in", "contains")


class FieldErrors(ValidationError):
    """Several fields are invalid at once; ``fields`` maps each to its message."""

    def __init__(self, fields: dict[str, str]):
        name, message = next(iter(fields.items()))
        super().__init__(message, field=name)
        self.fields = fields


def to_dict(info: EntityInfo, record) -> dict:
    """A record as the API returns it."""
    return {f.name: plain(getattr(record, f.name)) for f in info.fields}


# --------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------


def _condition(info: EntityInfo, key: str, raw: str):
    name, _sep, op = key.partition("__")
    spec = info.field(name)
    if spec is None or (op and op not in OPERATORS):
        raise ValidationError(_("unknown filter {key!r}").format(key=key), field=key)
    column = getattr(info.cls, name)
    try:
        if op == "contains":
            return cast(column, String).ilike(f"%{raw}%")
        if op == "in":
            return column.in_([coerce(spec, v, for_filter=True)
                               for v in str(raw).split(",") if v != ""])
        value = coerce(spec, raw, for_filter=True)
    except ValueError as exc:
        raise ValidationError(f"{key}: {exc}", field=key) from exc
    if spec.kind == "boolean" and op not in ("", "ne"):
        raise ValidationError(_("{key}: yes/no fields compare only with = and !=").format(
            key=key), field=key)
    if value is None:  # an empty value: "is empty" / "is not empty"; no order on nothing
        if op in ("", "ne"):
            return column.is_(None) if op == "" else column.is_not(None)
        raise ValidationError(_("{key}: give a value to compare with").format(key=key),
                              field=key)
    compare = {"": operator.eq, "ne": operator.ne, "gte": operator.ge, "lte": operator.le,
               "gt": operator.gt, "lt": operator.lt}[op]
    return compare(column, value)


def list_records(ctx, info: EntityInfo, *, filters: dict[str, str] | None = None,
                 q: str | None = None, sort: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list, int]:
    """Records the user may see, filtered, searched, sorted and paged; and the total count.

    ``filters``: ``{"tier": "corporate", "created_at__gte": "2026-01-01T00:00+08:00",
    "branch_id__in": "1,2", "name__contains": "物流"}``. ``sort``: ``"-created_at,name"``.
    """
    ctx.require(info.perm("read"))
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(_("limit must be between 1 and {n}").format(n=MAX_LIMIT),
                              field="limit")
    if offset < 0:
        raise ValidationError(_("offset must not be negative"), field="offset")
    query = select(info.cls)
    for key, raw in (filters or {}).items():
        query = query.where(_condition(info, key, raw))
    if q:
        query = query.where(or_(*[cast(getattr(info.cls, f), String).ilike(f"%{q}%")
                                  for f in info.search] or [False]))
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery()))
    sort = sort or getattr(info.cls, "__default_sort__", None)
    order = []
    for part in (sort or "-id").split(","):
        name = part.strip().lstrip("-")
        if not name:
            continue
        if info.field(name) is None:
            raise ValidationError(_("cannot sort by {name!r}").format(name=name), field="sort")
        column = getattr(info.cls, name)
        order.append(column.desc() if part.strip().startswith("-") else column.asc())
    order.append(info.cls.id.desc() if (sort or "-id").startswith("-") else info.cls.id.asc())
    rows = list(ctx.session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    return rows, total


def get_record(ctx, info: EntityInfo, record_id: int, action: str = "read"):
    """One record, or :class:`NotFound` (also for a record of a branch the user may not see)."""
    record = ctx.session.get(info.cls, record_id)
    if record is None:
        raise NotFound(_("no {entity} {id}").format(entity=info.name, id=record_id))
    ctx.require(info.perm(action), record)
    return record


# --------------------------------------------------------------------------
# writes
# --------------------------------------------------------------------------


def _validated(ctx, info: EntityInfo, data: dict, *, creating: bool) -> dict:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, raw in data.items():
        spec = info.field(name)
        if spec is None:
            errors[name] = _("unknown field")
            continue
        if spec.readonly:
            errors[name] = _("cannot be changed")
            continue
        try:
            values[name] = coerce(spec, raw)
        except ValueError as exc:
            errors[name] = str(exc)
    if creating:
        for spec in info.fields:
            if spec.required and spec.name not in data and spec.name not in errors:
                errors[spec.name] = _("is required")
    for name, value in values.items():
        spec = info.field(name)
        if spec.foreign and value is not None and name not in errors:
            target = _foreign(ctx, spec.foreign, value)
            if target is None:
                errors[name] = _("no {entity} {id}").format(entity=spec.foreign, id=value)
    if errors:
        raise FieldErrors(errors)
    return values


def _foreign(ctx, table: str, record_id: int):
    """The referenced record, if it exists and the user may see it."""
    cls = ctx.app.entity_class(table)
    if cls is None:
        return True
    record = ctx.session.get(cls, record_id)
    return record if record is not None and ctx.can_see(record) else None


def _conflict(exc: IntegrityError) -> Conflict:
    import re

    text = str(exc.orig)
    if "unique" in text.lower() or "duplicate" in text.lower():
        # SQLite: "UNIQUE constraint failed: customer.company_id, customer.code"
        # PostgreSQL: "DETAIL:  Key (company_id, code)=(1, C9) already exists."
        match = re.search(r"failed: (.+)$", text, re.M) or re.search(r"Key \(([^)]+)\)", text)
        columns = [c.strip().split(".")[-1] for c in match.group(1).split(",")] if match else []
        columns = [c for c in columns if c not in ("company_id",)] or columns
        message = _("a record with these values exists already")
        conflict = Conflict(message, field=columns[0] if columns else None)
        conflict.fields = {c: message for c in columns}
        return conflict
    return Conflict(_("the change conflicts with other records: {error}").format(
        error=str(exc.orig).splitlines()[0]))


def create_record(ctx, info: EntityInfo, data: dict):
    """Validate and insert a record; company and branch default to the user's."""
    ctx.require(info.perm("create"))
    values = _validated(ctx, info, data, creating=True)
    if info.company_scoped and values.get("company_id") is None:
        from kernel.masterdata import the_company

        values["company_id"] = the_company(ctx).id
    if info.branch_scoped and values.get("branch_id") is None:
        if ctx.branch is None:
            raise FieldErrors({"branch_id": _("is required")})
        values["branch_id"] = ctx.branch.id
    record = info.cls(**values)
    ctx.require(info.perm("create"), record)
    ctx.session.add(record)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return record


def update_record(ctx, info: EntityInfo, record_id: int, data: dict):
    """Validate and apply a partial update."""
    record = get_record(ctx, info, record_id, "update")
    values = _validated(ctx, info, data, creating=False)
    for name, value in values.items():
        setattr(record, name, value)
    ctx.require(info.perm("update"), record)  # moving to an invisible branch is refused
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return record


def delete_record(ctx, info: EntityInfo, record_id: int) -> None:
    """Delete a record the entity allows deleting and nothing else refers to."""
    record = get_record(ctx, info, record_id, "delete")
    if not info.deletable:
        raise Conflict(_("{entity} records cannot be deleted").format(entity=info.name))
    ctx.session.delete(record)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("other records still refer to this {entity}").format(
            entity=info.name)) from exc
