"""How a user's lists open: the entity's default filter, his saved filters and his columns.

An entity declares the filter its list opens with (``__default_filter__``): a
:class:`DefaultFilter`, or a function ``(ctx) -> DefaultFilter | None`` deciding per
user (repair's work orders: the open orders of my branch; an engineer's own open jobs).
Filter rows are written as in the list's address, ``(field, operator, value)``; values
may name the user's ``{branch}`` (home branch id), ``{employee}`` (the employee linked
to his account), ``{user}`` (his id) or ``{today}`` (the site's date): a row naming one
the user lacks is left out.

Saved filters belong to one user and one entity: a name and the list's query string
(filters, search, order, grouping); one of them may be his default, used instead of the
entity's default filter. A user's chosen columns of a list are kept beside them
(:class:`ListPreference`). Nobody sees or changes another user's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, IdMixin, UTCDateTime
from kernel.entities import EntityInfo
from kernel.errors import NotFound, ValidationError
from kernel.i18n import _

MAX_NAME = 100
MAX_QUERY = 2000
#: saved filters a user may keep per list
MAX_SAVED = 50


@dataclass(frozen=True)
class DefaultFilter:
    """The filter a list opens with (``__default_filter__``): ``label`` (an English
    msgid, shown on the removable chip), ``filters`` (``(field, operator, value)`` rows as
    in the list's address, placeholders allowed) and the order it lists in (``sort``,
    default: the entity's ``__default_sort__``)."""

    label: str
    filters: tuple[tuple[str, str, str], ...] = ()
    sort: str | None = None


@dataclass(frozen=True)
class Preset:
    """A default filter resolved for one user: the rows he gets and where it came from
    (``saved``: the id of his default saved filter, None for the entity's own)."""

    label: str
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    sort: str = ""
    saved: int | None = None


class SavedFilter(IdMixin, Base):
    """A user's named filter of one list (the list's query string)."""

    __tablename__ = "saved_filter"
    __expose__ = False
    __audited__ = False
    __table_args__ = (UniqueConstraint("user_id", "entity", "name"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    entity: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    query: Mapped[str] = mapped_column(String(MAX_QUERY))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ListPreference(IdMixin, Base):
    """A user's columns of one list, in order."""

    __tablename__ = "list_preference"
    __expose__ = False
    __audited__ = False
    __table_args__ = (UniqueConstraint("user_id", "entity"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    entity: Mapped[str] = mapped_column(String(100))
    columns: Mapped[list] = mapped_column(JSON, default=list)


LIST_PREF_ENTITIES = [SavedFilter, ListPreference]


# --------------------------------------------------------------------------
# the entity's default filter
# --------------------------------------------------------------------------


def _placeholders(ctx) -> dict[str, str | None]:
    user = ctx.user
    today = ctx.now().astimezone(ctx.settings.tz).date().isoformat()
    return {"branch": str(user.home_branch_id) if user is not None else None,
            "employee": str(user.employee_id) if user is not None and user.employee_id
            else None,
            "user": str(user.id) if user is not None else None,
            "today": today}


def _filled(value: str, known: dict[str, str | None]) -> str | None:
    for name, text in known.items():
        token = "{" + name + "}"
        if token in value:
            if text is None:
                return None
            value = value.replace(token, text)
    return value


def entity_default(ctx, info: EntityInfo) -> Preset | None:
    """The entity's default filter (``__default_filter__``) for the acting user, with its
    placeholders filled in; None when the entity declares none (or none applies)."""
    declared = getattr(info.cls, "__default_filter__", None)
    if callable(declared):
        declared = declared(ctx)
    if declared is None:
        return None
    known = _placeholders(ctx)
    rows = []
    for name, op, value in declared.filters:
        value = _filled(str(value), known)
        if value is not None:
            rows.append((name, op, value))
    if not rows and not declared.sort:
        return None
    return Preset(label=_(declared.label), filters=rows, sort=declared.sort or "")


def preset_for(ctx, info: EntityInfo) -> Preset | None:
    """What the list opens with when the user asked for no filter: his default saved
    filter, else the entity's default filter, else nothing."""
    mine = default_saved(ctx, info.name)
    if mine is not None:
        pairs = parse_qsl(mine.query)
        rows = list(zip([v for k, v in pairs if k == "f"], [v for k, v in pairs if k == "op"],
                        [v for k, v in pairs if k == "v"], strict=False))
        sort = next((v for k, v in pairs if k == "sort"), "")
        return Preset(label=mine.name, filters=rows, sort=sort, saved=mine.id)
    return entity_default(ctx, info)


# --------------------------------------------------------------------------
# saved filters
# --------------------------------------------------------------------------


def _me(ctx) -> int:
    if ctx.user is None:
        raise ValidationError(_("only a logged-in user keeps saved filters"), field="user")
    return ctx.user.id


def _check_entity(ctx, entity: str) -> None:
    info = ctx.app.exposed.get(entity)
    if info is None:
        raise NotFound(_("no entity {name!r}").format(name=entity), field="entity")
    ctx.require(info.perm("read"))


def saved_filters(ctx, entity: str) -> list[SavedFilter]:
    """The acting user's saved filters of list ``entity``, by name (nobody else's)."""
    _check_entity(ctx, entity)
    return list(ctx.session.scalars(select(SavedFilter).where(
        SavedFilter.user_id == _me(ctx), SavedFilter.entity == entity)
        .order_by(SavedFilter.name).limit(MAX_SAVED)))


def default_saved(ctx, entity: str) -> SavedFilter | None:
    """The acting user's default saved filter of list ``entity``, if he chose one."""
    if ctx.user is None:
        return None
    return ctx.session.scalar(select(SavedFilter).where(
        SavedFilter.user_id == ctx.user.id, SavedFilter.entity == entity,
        SavedFilter.is_default.is_(True)).limit(1))


def _clear_default(ctx, entity: str, keep: int | None = None) -> None:
    for row in ctx.session.scalars(select(SavedFilter).where(
            SavedFilter.user_id == _me(ctx), SavedFilter.entity == entity,
            SavedFilter.is_default.is_(True))):
        if row.id != keep:
            row.is_default = False


def save_filter(ctx, entity: str, name: str, query: str, default: bool = False
                ) -> SavedFilter:
    """Save the list's ``query`` (its query string) as the acting user's filter ``name``
    of list ``entity``; a filter of that name is replaced. ``default``: the list opens
    with it from now on (instead of any other default)."""
    _check_entity(ctx, entity)
    me = _me(ctx)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("give the filter a name"), field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(_("at most {n} characters").format(n=MAX_NAME), field="name")
    query = (query or "").lstrip("?")
    if len(query) > MAX_QUERY:
        raise ValidationError(_("this filter is too long to save"), field="query")
    query = "&".join(part for part in query.split("&") if not part.startswith("page="))
    row = ctx.session.scalar(select(SavedFilter).where(
        SavedFilter.user_id == me, SavedFilter.entity == entity, SavedFilter.name == name))
    if row is None:
        if len(saved_filters(ctx, entity)) >= MAX_SAVED:
            raise ValidationError(_("at most {n} saved filters per list").format(
                n=MAX_SAVED), field="name")
        row = SavedFilter(user_id=me, entity=entity, name=name, created_at=ctx.now())
        ctx.session.add(row)
    row.query = query
    row.is_default = bool(default)
    ctx.session.flush()
    if default:
        _clear_default(ctx, entity, keep=row.id)
    return row


def _own(ctx, entity: str, filter_id: int) -> SavedFilter:
    row = ctx.session.get(SavedFilter, filter_id) if isinstance(filter_id, int) else None
    if row is None or row.user_id != _me(ctx) or row.entity != entity:
        raise NotFound(_("no saved filter {id}").format(id=filter_id), field="filter")
    return row


def delete_filter(ctx, entity: str, filter_id: int) -> None:
    """Delete the acting user's saved filter ``filter_id`` of list ``entity`` (another
    user's is "not found")."""
    _check_entity(ctx, entity)
    ctx.session.delete(_own(ctx, entity, filter_id))
    ctx.session.flush()


def set_default(ctx, entity: str, filter_id: int | None) -> None:
    """Make the acting user's saved filter ``filter_id`` the one list ``entity`` opens
    with; None: open with the entity's own default again."""
    _check_entity(ctx, entity)
    if filter_id is None:
        _clear_default(ctx, entity)
        return
    row = _own(ctx, entity, filter_id)
    row.is_default = True
    _clear_default(ctx, entity, keep=row.id)
    ctx.session.flush()


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def column_choices(ctx, info: EntityInfo) -> list[str]:
    """The columns a user may show in ``info``'s list: the entity's own fields, then the
    list columns other plugins contribute (by their names)."""
    own = [f.name for f in info.fields if f.name != "company_id"
           and (f.name != "id" or "id" in info.list_columns)]
    contributed = [c.name for c in ctx.app.registry.columns.get(info.name, [])]
    return own + [c for c in contributed if c not in own]


def chosen_columns(ctx, entity: str) -> list[str] | None:
    """The acting user's columns of list ``entity``, in order; None: the default ones."""
    if ctx.user is None:
        return None
    row = ctx.session.scalar(select(ListPreference).where(
        ListPreference.user_id == ctx.user.id, ListPreference.entity == entity))
    return list(row.columns) if row is not None and row.columns else None


def save_columns(ctx, entity: str, names: list[str] | None) -> None:
    """Keep the acting user's columns of list ``entity`` (in this order); an empty list
    or None goes back to the entity's default columns."""
    _check_entity(ctx, entity)
    me = _me(ctx)
    info = ctx.app.exposed[entity]
    allowed = set(column_choices(ctx, info))
    names = list(dict.fromkeys(n for n in (names or []) if n))
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValidationError(_("unknown column {name!r}").format(name=unknown[0]),
                              field="columns")
    row = ctx.session.scalar(select(ListPreference).where(
        ListPreference.user_id == me, ListPreference.entity == entity))
    if not names:
        if row is not None:
            ctx.session.delete(row)
        ctx.session.flush()
        return
    if row is None:
        row = ListPreference(user_id=me, entity=entity)
        ctx.session.add(row)
    row.columns = names
    ctx.session.flush()
