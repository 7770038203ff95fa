"""What the API and the desk know about each registered entity: fields, kinds, rules.

Built from the SQLAlchemy mapping of the classes plugins return from
``fixdesk_entities``. An entity class may refine it with class attributes:

``__expose__ = False``      internal table: no API, no desk (queues, counters, logs)
``__title__``               display name (an English msgid, marked with ``N_``)
``__permission__``          permission prefix (default: the table name)
``__readonly__``            fields the API and desk never write
``__hidden__``              fields never shown or returned (secrets)
``__translated__``          text fields holding msgids, shown translated (a role's name)
``__list_columns__``        columns of the desk's list view
``__search__``              text fields the search box looks in
``__deletable__ = False``   records are cancelled, never deleted
``__default_sort__``        list order without an explicit sort (``"-urgent,-reported_at"``)
``__operations__``          the generic operations offered (default ``("create", "update",
                            "delete")``): leave one out and the API, the desk and OpenAPI
                            leave it out too
``__new_permission__``      the entity is made by its plugin's own page at ``/desk/<entity>/new``
                            (served by the plugin's router): the desk's home, list and form
                            show "New" to users holding ``<permission>.<this action>``
                            (``"register"`` → ``repair_work_order.register``), even when no
                            field is writable
``__workflow__ = "status"`` the enum field that carries the record's workflow: its states, in
                            the enum's declaration order, are the status bar of the form
                            (``EntityInfo.workflow``; ``__workflow_side__`` names the states
                            shown only while current, such as ``"cancelled"``)
``__lines_of__``            ``("order_id", "repair_work_order")``: the records are lines of
                            a parent entity (named by table), shown as a table on its form
                            (``EntityInfo.lines_of``)

How a list opens and what its kanban does (``__default_filter__``, ``__card_fields__``,
``__workflow_target__``, ``__desk_views__``) is read by :mod:`kernel.list_prefs` and
:mod:`kernel.web.desk.kanban`; see docs/plugins.md, "Lists, kanban and boards".

How the desk lays a form out (``__header__``, ``__groups__``, ``__technical__``,
``__line_columns__``, ``__line_action__``, ``__row_actions__``) is read by
:mod:`kernel.web.desk.document`; see docs/plugins.md.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    String,
    Text,
    Time,
)

from kernel.db import Money, UTCDateTime
from kernel.links import RecordLink, link_of_column

AUTOMATIC = {"id", "created_at", "updated_at"}
#: the columns of an extension's companion table that are not its fields
COMPANION_KEYS = ("record_id", "created_at", "updated_at")


@dataclass(frozen=True)
class FieldInfo:
    """One column as forms and the API see it."""

    name: str
    kind: str  # string text integer boolean date datetime time money enum json link
    required: bool
    nullable: bool
    readonly: bool
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    foreign: str | None = None  # referenced table
    #: largest integer the column holds (32-bit INTEGER or 64-bit BIGINT)
    max_int: int | None = None
    #: a link's target tables (:func:`kernel.links.link_column`; empty: any entity)
    targets: tuple[str, ...] = ()
    #: the stored text is a msgid shown translated, as an enum's value is (a role name)
    translated: bool = False
    #: the text is an e-mail address: a column named ``email`` or ``…_email``, or one
    #: declared with ``info={"kind": "email"}`` (checked when written)
    email: bool = False

    @property
    def python_type(self) -> type:
        return {"string": str, "text": str, "integer": int, "boolean": bool, "date": dt.date,
                "datetime": dt.datetime, "time": dt.time, "money": Decimal, "enum": str,
                "json": object, "link": RecordLink}[self.kind]


@dataclass(frozen=True)
class ExtensionInfo:
    """Fields another plugin adds to an entity (:class:`kernel.contributions.Extension`),
    under that plugin's name: ``namespace`` is the plugin, ``model`` its companion table."""

    namespace: str
    model: type
    title: str
    permission: str
    fields: tuple[FieldInfo, ...]
    field_map: dict = field(default_factory=dict, compare=False, repr=False)
    #: the :class:`kernel.contributions.Extension` it describes (offered per branch)
    contribution: object = field(default=None, compare=False, repr=False)

    def field(self, name: str) -> FieldInfo | None:
        return self.field_map.get(name)


#: the generic operations an entity offers unless it says otherwise (``__operations__``)
OPERATIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class EntityInfo:
    """An exposed entity: its URL name, class, owner, permissions and fields."""

    name: str
    cls: type
    plugin: str
    title: str
    permission: str
    fields: tuple[FieldInfo, ...]
    list_columns: tuple[str, ...]
    search: tuple[str, ...]
    deletable: bool
    branch_scoped: bool
    company_scoped: bool
    #: action of the permission to make records on the plugin's own new-record page
    new_permission: str | None = None
    field_map: dict = field(default_factory=dict, compare=False, repr=False)
    #: other plugins' fields on this entity, in plugin order
    extensions: tuple[ExtensionInfo, ...] = ()
    #: the generic operations offered: create, update, delete (reading always is)
    operations: frozenset[str] = frozenset(OPERATIONS)
    #: the enum field holding the record's workflow state (``__workflow__``), or None
    workflow: str | None = None
    #: ``(column, parent table)`` when the records are lines of a parent (``__lines_of__``)
    lines_of: tuple[str, str] | None = None

    def field(self, name: str) -> FieldInfo | None:
        """The field ``name``: one of the entity's own, or ``plugin.field`` of an extension."""
        found = self.field_map.get(name)
        if found is None and "." in name:
            extension = self.extension(name.split(".", 1)[0])
            found = extension.field(name.split(".", 1)[1]) if extension else None
        return found

    def extension(self, namespace: str) -> ExtensionInfo | None:
        """The extension of plugin ``namespace``, if that plugin extends this entity."""
        return next((e for e in self.extensions if e.namespace == namespace), None)

    def offers(self, operation: str) -> bool:
        """Whether the generic API and desk offer ``operation`` (create, update, delete)."""
        return operation in self.operations

    def perm(self, action: str) -> str:
        return f"{self.permission}.{action}"


def _kind(column) -> tuple[str, dict]:
    col_type = column.type
    if isinstance(col_type, Money):
        return "money", {}
    if isinstance(col_type, UTCDateTime | DateTime):
        return "datetime", {}
    if isinstance(col_type, Enum):
        values = col_type.enums
        if col_type.enum_class is not None and issubclass(col_type.enum_class, enum.Enum):
            values = [m.value for m in col_type.enum_class]
        return "enum", {"choices": tuple(values)}
    if isinstance(col_type, Boolean):
        return "boolean", {}
    if isinstance(col_type, Date):
        return "date", {}
    if isinstance(col_type, Time):
        return "time", {}
    if isinstance(col_type, Integer):
        bits = 63 if isinstance(col_type, BigInteger) else 31
        return "integer", {"max_int": 2**bits - 1}
    if isinstance(col_type, Text):
        return "text", {}
    if isinstance(col_type, String):
        return "string", {"max_length": col_type.length}
    if isinstance(col_type, JSON):
        return "json", {}
    return "string", {}


def is_email(column) -> bool:
    """Whether a text column holds an e-mail address: its name says so (``email``,
    ``…_email``) or its ``info={"kind": "email"}`` does."""
    declared = (column.info or {}).get("kind")
    if declared is not None:
        return declared == "email"
    return column.key == "email" or column.key.endswith("_email")


def describe_fields(cls: type, skip=()) -> list[FieldInfo]:
    """The :class:`FieldInfo` of each column of a mapped class (hidden ones and ``skip``
    left out; the two columns of a link are one field of kind ``"link"``)."""
    table = cls.__table__
    readonly = set(getattr(cls, "__readonly__", ())) | AUTOMATIC
    readonly |= set(getattr(cls, "__lifecycle_fields__", ()))  # written by kernel.lifecycle
    hidden = set(getattr(cls, "__hidden__", ())) | set(skip)
    translated = set(getattr(cls, "__translated__", ()))
    fields = []
    for column in table.columns:
        if column.key in hidden:
            continue
        link = link_of_column(column)
        if link is not None:  # a link is one field; its two columns are not fields
            if link["part"] == "entity" and link["name"] not in hidden:
                fields.append(FieldInfo(
                    name=link["name"], kind="link", nullable=bool(column.nullable),
                    required=not column.nullable, readonly=link["name"] in readonly,
                    targets=link["targets"]))
            continue
        kind, extra = _kind(column)
        foreign = next(iter(column.foreign_keys)).column.table.name if column.foreign_keys \
            else None
        has_default = column.default is not None or column.server_default is not None
        fields.append(FieldInfo(
            name=column.key, kind=kind, nullable=bool(column.nullable),
            required=not column.nullable and not has_default and column.key not in AUTOMATIC
            and column.key not in ("company_id", "branch_id"),
            readonly=column.key in readonly, foreign=foreign,
            translated=column.key in translated, email=kind == "string" and is_email(column),
            **extra))
    return fields


def describe(cls: type, plugin: str, extensions: tuple[ExtensionInfo, ...] = ()) -> EntityInfo:
    """The :class:`EntityInfo` of a mapped class, with the other plugins' ``extensions``."""
    table = cls.__table__
    fields = describe_fields(cls)
    names = [f.name for f in fields]
    operations = frozenset(op for op in getattr(cls, "__operations__", OPERATIONS)
                           if op != "delete" or getattr(cls, "__deletable__", True))
    default_columns = [n for n in ("code", "number", "name", "title") if n in names][:2] + [
        n for n in names if n not in ("id", "created_at", "updated_at", "company_id")
        and n not in ("code", "number", "name", "title")][:4]
    return EntityInfo(
        name=table.name, cls=cls, plugin=plugin,
        title=getattr(cls, "__title__", table.name.replace("_", " ").capitalize()),
        permission=getattr(cls, "__permission__", table.name),
        fields=tuple(fields),
        list_columns=tuple(getattr(cls, "__list_columns__", ["id", *default_columns])),
        search=tuple(getattr(cls, "__search__", [f.name for f in fields
                                                 if f.kind in ("string", "text")][:4])),
        deletable="delete" in operations,
        branch_scoped="branch_id" in names,
        company_scoped="company_id" in names,
        new_permission=getattr(cls, "__new_permission__", None),
        field_map={f.name: f for f in fields},
        extensions=extensions,
        operations=operations,
        workflow=getattr(cls, "__workflow__", None),
        lines_of=tuple(getattr(cls, "__lines_of__", None) or ()) or None,
    )


def describe_extension(extension, namespace: str, title: str,
                       target_permission: str) -> ExtensionInfo:
    """The :class:`ExtensionInfo` of a :class:`kernel.contributions.Extension` of plugin
    ``namespace`` (its companion's keys, :data:`COMPANION_KEYS`, are not fields)."""
    fields = tuple(describe_fields(extension.model, skip=COMPANION_KEYS))
    return ExtensionInfo(namespace=namespace, model=extension.model,
                         title=extension.title or title,
                         permission=extension.permission or f"{target_permission}.update",
                         fields=fields, field_map={f.name: f for f in fields},
                         contribution=extension)


def collect(registry, titles: dict[str, str]) -> dict[str, EntityInfo]:
    """The exposed entities of a site (:class:`kernel.registry.Registry`), by URL name,
    with the fields other plugins add to them (headed by the plugin's title in
    ``titles``, an English msgid)."""
    found = {}
    for plugin, classes in registry.entities.items():
        for cls in classes:
            if not getattr(cls, "__expose__", True):
                continue
            table = cls.__table__.name
            permission = getattr(cls, "__permission__", table)
            extensions = tuple(
                describe_extension(e, registry.owner(e),
                                   titles.get(registry.owner(e), registry.owner(e)), permission)
                for e in registry.extensions.get(table, []))
            info = describe(cls, plugin, extensions)
            found[info.name] = info
    return found


def column_default(cls: type, name: str):
    """The scalar default of the column ``name`` of a mapped class (what a new record
    holds when nobody gives a value), or None."""
    column = cls.__table__.columns.get(name)
    default = getattr(column, "default", None)
    if default is None or not getattr(default, "is_scalar", False):
        return None
    return default.arg


def declared_parents(classes: dict[str, type], attribute: str,
                     accept=lambda parent: True) -> dict[type, tuple[str, type]]:
    """The entities among ``classes`` (table → class) that declare their parent in
    ``attribute`` as ``("customer_id", "customer")`` (a column holding the parent's id,
    the parent's table): ``{class: (column, parent class)}``. Parents are found by table
    among the site's own entities, never by class name; one that is not there (or that
    ``accept`` refuses) is a :class:`ValueError`."""
    found = {}
    for cls in classes.values():
        declared = getattr(cls, attribute, None)
        if declared is None:
            continue
        column, parent = declared
        parent_cls = classes.get(parent) if isinstance(parent, str) else parent
        if parent_cls is None or not accept(parent_cls):
            raise ValueError(f"{cls.__tablename__}: {attribute} names {parent!r}, which is "
                             "not such an entity of this site")
        found[cls] = (column, parent_cls)
    return found
