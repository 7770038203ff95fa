"""Generic services for any exposed entity: list, get, create, update, delete.

The API and the desk call these; each checks the user's permission
(``<entity>.read`` / ``create`` / ``update`` / ``delete``) and branch scope,
validates every value against the field it is for, and reports problems as
:class:`~kernel.errors.ValidationError` naming the field. Nothing is written
unless everything is valid.

Fields other plugins add to an entity (:class:`kernel.contributions.Extension`) are
read and written here too, under the plugin's name: ``{"billing": {"difficulty":
"major"}}`` in a record, ``billing.difficulty`` in a filter or a sort. They live in
the plugin's companion table (one row per record, its key ``record_id``); writing them
needs the extension's permission, and the audit trail records them in that table under
the record's id. An extension switched off for the user's branch is left out.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from kernel.branch_carry import carries_branch
from kernel.db import written_in
from kernel.entities import EntityInfo, ExtensionInfo, FieldInfo, column_default
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.labels import entity_title
from kernel.lifecycle import prepare_new, refuse_writing
from kernel.linked import link_problem
from kernel.links import link_condition
from kernel.page_rows import page_reader
from kernel.values import coerce, has_forbidden, plain

MAX_LIMIT = 500
OPERATORS = ("gte", "lte", "gt", "lt", "ne", "in", "contains", "empty")


class FieldErrors(ValidationError):
    """Several fields are invalid at once; ``fields`` maps each to its message."""

    def __init__(self, fields: dict[str, str]):
        name, message = next(iter(fields.items()))
        super().__init__(message, field=name)
        self.fields = fields


#: values that are JSON as they are (:func:`to_dict` passes them by :func:`plain`)
JSON_AS_IS = frozenset({str, int, bool, float, type(None)})


def to_dict(info: EntityInfo, record) -> dict:
    """A record's own fields as the API returns them."""
    # a loaded column's value sits in the instance's __dict__: reading it there skips
    # the ORM's attribute machinery (a list reads thousands); anything else by getattr
    loaded = record.__dict__
    data = {}
    for spec in info.fields:
        name = spec.name
        value = loaded[name] if name in loaded else getattr(record, name)
        data[name] = value if type(value) in JSON_AS_IS else plain(value)
    return data


def extensions_of(ctx, info: EntityInfo) -> list[ExtensionInfo]:
    """The extensions of ``info`` offered in the user's branch."""
    return [e for e in info.extensions if ctx.offers(e.contribution)]


def extension_rows(ctx, info: EntityInfo, ids,
                   offered: list[ExtensionInfo] | None = None) -> dict[str, dict[int, Any]]:
    """``{plugin: {record id: companion row}}`` for the records ``ids``: one query per
    extension (``offered``: :func:`extensions_of`, when known), never one per record."""
    ids = [i for i in ids if i is not None]
    found: dict[str, dict[int, Any]] = {}
    for extension in extensions_of(ctx, info) if offered is None else offered:
        model = extension.model
        rows = ctx.session.scalars(select(model).where(model.record_id.in_(ids))) if ids else []
        found[extension.namespace] = {row.record_id: row for row in rows}
    return found


def extension_value(extension: ExtensionInfo, spec: FieldInfo, row) -> Any:
    """The value of an extension field for a record: its companion row's, else the
    column's default (a record no one has extended yet)."""
    if row is not None:
        return getattr(row, spec.name)
    return column_default(extension.model, spec.name)  # None for a link's field


def record_dict(ctx, info: EntityInfo, record) -> dict:
    """A record as the API returns it: its fields, and each offered extension's fields
    under the plugin's name."""
    return _with_page_extensions(ctx, info, [to_dict(info, record)])[0]


def _with_extensions(data: dict, record_id: int, rows: dict,
                     offered: list[ExtensionInfo]) -> dict:
    """``data`` with each offered extension's fields of the record ``record_id``."""
    for extension in offered:
        row = rows.get(extension.namespace, {}).get(record_id)
        data[extension.namespace] = {
            spec.name: plain(extension_value(extension, spec, row))
            for spec in extension.fields}
    return data


def page_dicts(ctx, info: EntityInfo, records: list) -> list[dict]:
    """A page of records as the API returns them (one query per extension, the branch's
    extensions looked up once)."""
    return _with_page_extensions(ctx, info, [to_dict(info, r) for r in records])


def _with_page_extensions(ctx, info: EntityInfo, dicts: list[dict]) -> list[dict]:
    """A page of records' own fields (:func:`to_dict`, or :mod:`kernel.page_rows`) with
    each offered extension's: one query per extension for the whole page."""
    if info.extensions and dicts:
        offered = extensions_of(ctx, info)
        rows = extension_rows(ctx, info, [d["id"] for d in dicts], offered)
        for data in dicts:
            _with_extensions(data, data["id"], rows, offered)
    return dicts


# --------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------


def _column(ctx, info: EntityInfo, name: str, joins: dict):
    """The field ``name`` (own, or ``plugin.field``) and its column; an extension's table
    is joined once (``joins``). (None, None) for a field the user cannot use."""
    if "." not in name:
        spec = info.field(name)
        return (spec, getattr(info.cls, name)) if spec is not None else (None, None)
    namespace, _dot, field_name = name.partition(".")
    extension = info.extension(namespace)
    if extension is None or not ctx.offers(extension.contribution):
        return None, None
    spec = extension.field(field_name)
    if spec is None:
        return None, None
    joins[namespace] = extension.model
    return spec, getattr(extension.model, field_name)


def _condition(ctx, info: EntityInfo, key: str, raw: str, joins: dict):
    name, _sep, op = key.partition("__")
    spec, column = _column(ctx, info, name, joins)
    if spec is not None and spec.kind == "link":
        try:
            return link_condition(column, op, raw)
        except ValueError as exc:
            raise ValidationError(f"{key}: {exc}", field=key) from exc
    if spec is None or (op and op not in OPERATORS):
        raise ValidationError(_("unknown filter {key!r}").format(key=key), field=key)
    if op == "empty":
        return _emptiness(spec, column, raw, key)
    raw = _relative(ctx, spec, raw)
    try:
        if op == "contains":
            return cast(column, String).ilike(f"%{raw}%")
        if op == "in":
            values = [coerce(spec, _relative(ctx, spec, v), for_filter=True)
                      for v in str(raw).split(",") if v != ""]
            return written_in(column, values) if spec.kind == "enum" else column.in_(values)
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


def _emptiness(spec: FieldInfo, column, raw, key: str):
    """``field__empty=true``: the field has no value (a text: nor an empty one);
    ``false``: it has one."""
    from kernel.values import parse_bool

    try:
        wanted = parse_bool(raw)
    except ValueError as exc:
        raise ValidationError(f"{key}: {exc}", field=key) from exc
    empty = or_(column.is_(None), column == "") if spec.kind in ("string", "text") \
        else column.is_(None)
    return empty if wanted else ~empty


def _relative(ctx, spec: FieldInfo, raw):
    """A date or date-time filter value relative to now (``today``, ``now``, ``today+1``,
    :mod:`kernel.relative_dates`) as the value it names now; any other value as it is."""
    from kernel.relative_dates import resolve

    found = resolve(raw, spec.kind, ctx.now(), ctx.settings.tz) \
        if spec.kind in ("date", "datetime") else None
    return raw if found is None else found


def _conditions(ctx, info: EntityInfo, filters: dict[str, str] | None, q: str | None,
                joins: dict) -> list:
    """The WHERE conditions of ``filters`` and the search ``q`` (extension tables they
    need are added to ``joins``)."""
    for key, raw in (filters or {}).items():
        _check_param(key, key)
        _check_param(key, raw)
    _check_param("q", q)
    conditions = [_condition(ctx, info, key, raw, joins) for key, raw in (filters or {}).items()]
    if q:  # some search field holds q, by the entity's search index (kernel.search_index)
        from kernel.search_index import search_condition

        conditions.append(search_condition(ctx, info, q))
    return conditions


def _check_param(name: str, value) -> None:
    """Refuse a filter, search or sort holding a control character (a NUL, which
    PostgreSQL cannot even compare), naming the parameter."""
    if isinstance(value, str) and has_forbidden(value):
        raise ValidationError(_("{key}: must not contain control characters").format(
            key=name), field=name)


def _joined(query, info: EntityInfo, joins: dict):
    """``query`` with the extension tables of ``joins`` outer-joined to ``info``'s table."""
    for model in joins.values():
        query = query.outerjoin(model, model.record_id == info.cls.id)
    return query


def matching_query(ctx, info: EntityInfo, *, filters: dict[str, str] | None = None,
                   q: str | None = None):
    """The SELECT of ``info``'s records matching ``filters`` and ``q`` (as
    :func:`list_records` takes them), without order or paging. The user's branch scope
    applies when it runs, like any query of the session; aggregates build on it
    (:mod:`kernel.grouping`)."""
    ctx.require(info.perm("read"))
    joins: dict[str, type] = {}
    conditions = _conditions(ctx, info, filters, q, joins)
    return _joined(select(info.cls), info, joins).where(*conditions)


@dataclass
class RecordPage:
    """One page of a list (:func:`list_records`)."""

    rows: list
    #: how many records match; None unless counting was asked for
    total: int | None
    #: the cursor to pass as ``after`` for the next page; None on the last page
    next: str | None = None
    #: the cursor to pass as ``before`` for the previous page; None on the first page
    previous: str | None = None


def sort_keys(ctx, info: EntityInfo, sort: str | None, joins: dict) -> list:
    """The order ``sort`` (``"-created_at,name"``; default: the entity's
    ``__default_sort__``, else ``-id``) as :class:`kernel.keyset.SortKey` parts, the id
    last (in the first part's direction) so that every row has one place."""
    from kernel.keyset import SortKey
    from kernel.links import link_columns

    _check_param("sort", sort)
    sort = sort or getattr(info.cls, "__default_sort__", None) or "-id"
    keys = []
    for part in sort.split(","):
        name = part.strip().lstrip("-")
        descending = part.strip().startswith("-")
        if name == "id":  # unique: nothing after it matters
            return [*keys, SortKey(info.cls.id, descending)]
        if not name:
            continue
        spec, column = _column(ctx, info, name, joins)
        if spec is None:
            raise ValidationError(_("cannot sort by {name!r}").format(name=name), field="sort")
        # empty values last either way, on both engines (they disagree by default)
        columns = link_columns(column) if spec.kind == "link" else (column,)
        keys += [SortKey(c, descending, spec.nullable) for c in columns]
    return [*keys, SortKey(info.cls.id, sort.strip().startswith("-"))]


#: the deepest ``offset`` served: skipping rows costs as much as reading them, so deeper
#: pages are reached by cursor (``after``), in constant time
MAX_OFFSET = 10_000


def list_records(ctx, info: EntityInfo, *, filters: dict[str, str] | None = None,
                 q: str | None = None, sort: str | None = None, limit: int = 50,
                 offset: int = 0, after: str | None = None, before: str | None = None,
                 count: bool = False, as_dicts: bool = False) -> RecordPage:
    """A page of the records the user may see, filtered, searched and sorted
    (:class:`RecordPage`).

    ``filters``: ``{"tier": "corporate", "created_at__gte": "2026-01-01T00:00+08:00",
    "branch_id__in": "1,2", "name__contains": "物流", "billing.difficulty": "major"}``;
    a link (:mod:`kernel.links`) as ``{"about": "customer:12"}``, ``about__ne``,
    ``about__in`` (``customer:12,fdt_notes_note:3``) or ``about__entity`` (``customer``).
    ``engineer_id__empty``: ``true`` (no value) or ``false``; dates and date-times may be
    relative to now: ``{"deadline_at__lt": "now", "due_at__gte": "today-7"}``
    (:mod:`kernel.relative_dates`). ``sort``: ``"-created_at,name"``.

    Pages follow each other by cursor (:mod:`kernel.keyset`): ``after=page.next`` gives
    the next page, ``before=page.previous`` the one before, each as fast as the first.
    ``offset`` (at most :data:`MAX_OFFSET`) skips rows the slow way. The total is counted
    only when ``count`` asks for it.

    ``as_dicts``: the page's rows as the API returns records (:func:`page_dicts`), read
    as plain rows, not as records.
    """
    from kernel import keyset

    ctx.require(info.perm("read"))
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(_("limit must be between 1 and {n}").format(n=MAX_LIMIT),
                              field="limit")
    if offset < 0:
        raise ValidationError(_("offset must not be negative"), field="offset")
    if offset > MAX_OFFSET:
        raise ValidationError(_("offset must be at most {n}: page on with the cursor "
                                "in after").format(n=MAX_OFFSET), field="offset")
    if after and before:
        raise ValidationError(_("give after or before, not both"), field="before")
    joins: dict[str, type] = {}
    conditions = _conditions(ctx, info, filters, q, joins)
    keys = sort_keys(ctx, info, sort, joins)
    scope = f"{info.name}:{sort or ''}"
    cursor, field = (after, "after") if after else (before, "before")
    if cursor:
        try:
            values = keyset.decode(ctx.app, scope, cursor, len(keys))
        except keyset.BadCursor:
            raise ValidationError(_("not a cursor of this list: start again from its first "
                                    "page"), field=field) from None
    reader = page_reader(info) if as_dicts else None
    query = _joined(reader.query if reader else select(info.cls), info, joins).where(
        *conditions)
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery())) \
        if count else None
    reverse = bool(before)
    query = query.add_columns(*[k.column for k in keys])
    if cursor:
        query = query.where(keyset.beyond(keys, values, reverse))
    found = ctx.session.execute(query.order_by(*keyset.order_by(keys, reverse))
                                .limit(limit + 1).offset(offset)).all()
    more = len(found) > limit
    found = found[:limit]
    if reverse:
        found.reverse()

    def mark(row) -> str:
        return keyset.encode(ctx.app, scope, list(row[-len(keys):]))  # the sort keys, last

    if reverse:
        following = mark(found[-1]) if found else before
        preceding = mark(found[0]) if found and more else None
    else:
        following = mark(found[-1]) if found and more else None
        preceding = mark(found[0]) if found and (after or offset) else \
            (after if after and not found else None)
    rows = _with_page_extensions(ctx, info, [reader.record(row) for row in found]) \
        if reader else [row[0] for row in found]
    return RecordPage(rows, total, following, preceding)


def get_record(ctx, info: EntityInfo, record_id: int, action: str = "read"):
    """One record, or :class:`NotFound` (also for a record of a branch the user may not see)."""
    record = ctx.session.get(info.cls, record_id)
    if record is None:
        raise NotFound(_("no {entity} {id}").format(entity=_(info.title), id=record_id))
    ctx.require(info.perm(action), record)
    return record


# --------------------------------------------------------------------------
# writes
# --------------------------------------------------------------------------


def _check_value(ctx, spec: FieldInfo, raw: Any, key: str, values: dict,
                 errors: dict) -> None:
    """Read one written value of ``spec`` into ``values[spec.name]``, or its problem into
    ``errors[key]``."""
    if spec.readonly:
        errors[key] = _("cannot be changed")
        return
    try:
        value = coerce(spec, raw)
    except ValueError as exc:
        errors[key] = str(exc)
        return
    if spec.foreign and value is not None and _foreign(ctx, spec.foreign, value) is None:
        errors[key] = _("no {entity} {id}").format(entity=entity_title(ctx.app, spec.foreign),
                                                     id=value)
        return
    problem = link_problem(ctx, spec, value) if spec.kind == "link" and value else None
    if problem:
        errors[key] = problem
        return
    values[spec.name] = value


def _validated(ctx, info: EntityInfo, data: dict, *, creating: bool
               ) -> tuple[dict, dict[str, dict]]:
    """The values of ``data`` for the record's own fields, and for each extension's
    (``{plugin: {field: value}}``); every problem at once as :class:`FieldErrors`."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    extended: dict[str, dict] = {}
    offered = {e.namespace: e for e in extensions_of(ctx, info)}
    for name, raw in data.items():
        extension = offered.get(name)
        if extension is not None:
            if not isinstance(raw, dict):
                errors[name] = _("must be an object of {plugin}'s fields").format(plugin=name)
                continue
            found = extended.setdefault(name, {})
            for field_name, field_raw in raw.items():
                spec = extension.field(str(field_name))
                key = f"{name}.{field_name}"
                if spec is None:
                    errors[key] = _("unknown field")
                else:
                    _check_value(ctx, spec, field_raw, key, found, errors)
            continue
        spec = info.field_map.get(name)
        if spec is None:
            errors[name] = _("unknown field")
            continue
        _check_value(ctx, spec, raw, name, values, errors)
    if creating:
        for spec in info.fields:
            if (spec.required and not spec.readonly and spec.name not in data
                    and spec.name not in errors):
                errors[spec.name] = _("is required")
    if errors:
        raise FieldErrors(errors)
    return values, extended


def _write_extensions(ctx, info: EntityInfo, record, extended: dict[str, dict]) -> None:
    """Write each extension's values into its companion row of ``record`` (made on first
    write), as a user holding the extension's permission."""
    for namespace, values in extended.items():
        extension = info.extension(namespace)
        ctx.require(extension.permission, record)
        row = ctx.session.get(extension.model, record.id)
        if row is None:
            row = extension.model(record_id=record.id)
            ctx.session.add(row)
        for name, value in values.items():
            setattr(row, name, value)


def _flush(ctx) -> None:
    """Write what is pending; a duplicate or a missing reference as :class:`Conflict`.
    (No savepoint: after a conflict the request's transaction ends, and its caller
    starts another.)"""
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        raise _conflict(exc) from exc


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


def _offered(info: EntityInfo, operation: str) -> None:
    if not info.offers(operation):
        raise Conflict(_("{entity} records are not {done} this way").format(
            entity=info.name, done=_(OPERATION_DONE[operation])))


#: how a refused generic operation reads ("customer records are not created this way")
OPERATION_DONE = {"create": N_("created"), "update": N_("changed"), "delete": N_("deleted")}


def create_record(ctx, info: EntityInfo, data: dict):
    """Validate and insert a record; company and branch default to the user's."""
    _offered(info, "create")
    ctx.require(info.perm("create"))
    values, extended = _validated(ctx, info, data, creating=True)
    if info.company_scoped and values.get("company_id") is None:
        from kernel.masterdata import company_id

        values["company_id"] = company_id(ctx)
    if info.branch_scoped and values.get("branch_id") is None and \
            not carries_branch(info.cls):  # a child's is its parent's (kernel.branch_carry)
        if ctx.branch is None:
            raise FieldErrors({"branch_id": _("is required")})
        values["branch_id"] = ctx.branch.id
    record = info.cls(**values)
    ctx.require(info.perm("create"), record)
    ctx.hook.fixdesk_record_new(ctx=ctx, entity=info.cls.__table__.name, record=record)
    prepare_new(ctx, record)
    ctx.session.add(record)
    _flush(ctx)
    if extended:
        _write_extensions(ctx, info, record, extended)
        _flush(ctx)
    ctx.hook.fixdesk_record_created(ctx=ctx, entity=info.cls.__table__.name, record=record)
    return record


def update_record(ctx, info: EntityInfo, record_id: int, data: dict):
    """Validate and apply a partial update of a record's fields and of its extensions'.

    Changing the record's own fields needs ``<entity>.update`` (and the operation being
    offered); changing an extension's needs that extension's permission.
    """
    record = get_record(ctx, info, record_id)
    values, extended = _validated(ctx, info, data, creating=False)
    if values or not extended:
        _offered(info, "update")
        ctx.require(info.perm("update"), record)
    if values:
        refuse_writing(ctx, record)
    for name, value in values.items():
        setattr(record, name, value)
    if values:
        ctx.require(info.perm("update"), record)  # moving to an invisible branch is refused
    _write_extensions(ctx, info, record, extended)
    _flush(ctx)
    return record


def delete_record(ctx, info: EntityInfo, record_id: int) -> None:
    """Delete a record the entity allows deleting and nothing else refers to, with its
    extensions' companion rows."""
    record = get_record(ctx, info, record_id, "delete")
    if not info.deletable:
        raise Conflict(_("{entity} records cannot be deleted").format(entity=info.name))
    refuse_writing(ctx, record, deleting=True)
    for extension in info.extensions:
        row = ctx.session.get(extension.model, record.id)
        if row is not None:
            ctx.session.delete(row)
    ctx.session.delete(record)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("other records still refer to this {entity}").format(
            entity=info.name)) from exc
