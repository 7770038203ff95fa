"""What plugins contribute through registration hooks, as plain data.

Each class is the return type of one hook in :mod:`kernel.hookspecs`. A contribution
that is about an entity names it by its table (``"repair_work_order"``), never by its
class, so a plugin can extend another plugin's entities without importing it; the site's
registry (:mod:`kernel.registry`) checks every name when the site starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def collect(package: str, modules, name: str) -> list:
    """The lists called ``name`` in the ``modules`` of ``package`` (``"plugins.billing"``),
    joined in order: a plugin keeps each contribution beside its service, in a module
    list (``ACTIONS``, ``REPORTS``, ``SUBCOMMANDS``, ...), and its hooks answer with all of
    them. Modules are imported when first asked for."""
    import importlib

    found = []
    for module in modules:
        found += list(getattr(importlib.import_module(f"{package}.{module}"), name, ()))
    return found


def table_of(entity: str | type) -> str:
    """The table an entity is named by: a table name as it is, a mapped class's table."""
    if isinstance(entity, str):
        return entity
    table = getattr(entity, "__tablename__", None)
    if not isinstance(table, str):
        raise ValueError(f"{entity!r} is neither a table name nor a mapped class")
    return table


def _name_entity(contribution) -> None:
    object.__setattr__(contribution, "entity", table_of(contribution.entity))


@dataclass(frozen=True)
class Setting:
    """A configurable value a plugin reads (answer of ``fixdesk_settings``).

    ``validate`` (optional) receives the parsed value and raises
    :class:`kernel.ValidationError` when it is not acceptable.
    """

    key: str
    type: type
    default: Any
    description: str
    per_branch: bool = False
    validate: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Permission:
    """An action on an entity, and the roles that get it by default. ``title`` (an English
    msgid) names the action on the admin console's roles page when no action of the
    plugin's needs the permission (billing's ``billing_invoice.bill``: bill statements)."""

    entity: str
    action: str
    roles: tuple[str, ...] = ()
    title: str | None = None

    @property
    def name(self) -> str:
        return f"{self.entity}.{self.action}"


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every ``interval_seconds`` or daily at ``daily_at`` (HH:MM)."""

    name: str
    func: Callable[..., Any]
    interval_seconds: int | None = None
    daily_at: str | None = None


@dataclass(frozen=True)
class Document:
    """A printable document for records of one entity (named by its table; a mapped class
    is taken as its table). ``name`` starts with the plugin's name (``repair.voucher``).

    ``available(record)`` says whether the paper is for that record at all (the product
    receipt only for carry-in jobs): the desk offers it only then, and printing it for
    another record is refused, naming the record and ``unavailable`` (an English msgid
    saying when the paper is available, such as "only for carry-in jobs").

    ``preload`` names the relationships of the entity that ``gather`` reads (``("customer",
    "lines")``): a batch loads each with one query for all its records, not one per paper.
    """

    name: str
    title: str
    entity: str
    template: str
    gather: Callable[..., dict]
    paper: str = "A4"
    orientation: str = "portrait"
    options: dict = field(default_factory=dict)
    available: Callable[[Any], bool] = field(default=lambda record: True, compare=False)
    unavailable: str | None = None
    preload: tuple[str, ...] = ()

    def __post_init__(self):
        _name_entity(self)


@dataclass(frozen=True)
class JobHandler:
    """Code the worker runs for queued jobs named ``name``: ``func(ctx, **payload)``.

    A failing job is retried ``max_attempts`` times in all, waiting
    ``backoff_seconds`` × 2^(attempt-1) between tries, then marked failed. A
    worker holds a job for ``lease_seconds``; if it dies, another worker takes
    the job over after that.

    A ``detached`` handler keeps its own transactions: the worker calls
    ``func(run, **payload)`` outside any transaction with a :class:`kernel.jobs.JobRun`
    (the app, the job's id, user, branch and clock), so long work such as printing a
    batch never holds the database's write lock; the job is marked done afterwards.
    """

    name: str
    func: Callable[..., Any]
    max_attempts: int = 5
    backoff_seconds: int = 30
    lease_seconds: int = 300
    detached: bool = False


#: the kinds a :class:`Param` may have (what the desk shows and how input is read)
PARAM_KINDS = ("string", "text", "integer", "number", "money", "boolean", "date",
               "datetime", "choice", "reference")


@dataclass(frozen=True)
class Param:
    """One input of an action or a report: its name, kind and how the desk asks for it.

    ``kind`` is one of :data:`PARAM_KINDS`: ``text`` is a multi-line string,
    ``number`` a decimal, ``datetime`` a local date and time (the desk sends it with the
    site's time zone), ``choice`` one of ``choices``, ``reference`` a record of the
    exposed entity ``reference`` (a table name, such as ``"employee"``) given by id or
    code. ``label`` is an English msgid (default: the entity field's label, else the
    name). ``suggest(ctx, record)``, for an action's param, lists ``(value, text)`` pairs
    the desk offers under the input for that record, best first (the engineers to
    dispatch an order to, with the reasons). ``choices_for(ctx, record)``, for an action's
    param, lists the ``(value, text)`` pairs the input must be one of for that record
    (the part lines of an order to give one back): the desk draws a list of them instead
    of a box to type in. ``max_length`` bounds a text (default 300 characters for a
    ``string``, 10 000 for a ``text``). Services still validate every value: a param
    only shapes the form and the first check.
    """

    name: str
    kind: str = "string"
    label: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    reference: str | None = None
    help: str | None = None
    suggest: Callable[[Any, Any], list[tuple[str, str]]] | None = field(default=None,
                                                                         compare=False)
    max_length: int | None = None
    choices_for: Callable[[Any, Any], list[tuple[str, str]]] | None = field(default=None,
                                                                             compare=False)

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"param {self.name!r}: a name must be an identifier")
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"param {self.name}: a choice needs choices")
        if self.kind == "reference" and not self.reference:
            raise ValueError(f"param {self.name}: a reference names its entity")


@dataclass(frozen=True)
class Action:
    """A business operation on one record, offered as an API call and a desk button.

    ``func(ctx, record, **params)`` is the plugin's service; it checks the
    record's state (raising :class:`kernel.Conflict` with the reason) and
    writes. ``available(record)`` says whether the desk shows the button for
    the record's current state. Exposed as ``POST /api/v1/<entity>/<id>/<name>``.

    ``params`` are the inputs the service takes: :class:`Param` objects, or plain
    names whose kind :func:`kernel.params.action_params` infers from the entity's
    column of that name.

    ``entity`` is the table (a mapped class is taken as its table): a plugin adds
    actions to another plugin's entities by naming them, and names those actions with
    its own name first (``acme_file_claim`` on ``repair_work_order``). Other plugins and
    jobs run an action with ``ctx.run_action(entity, id, name, **params)``.

    ``next_for`` says when the action is the usual next step, whose button the desk's
    status bar shows first: the workflow states (values of the entity's ``__workflow__``
    field) in which it is, or ``next_for(record) -> bool``. ``order`` places the other
    buttons (lower first; equal ones keep the registration order).
    """

    entity: str
    name: str
    title: str
    func: Callable[..., Any]
    permission: str
    available: Callable[[Any], bool] = lambda record: True
    params: tuple[str | Param, ...] = ()
    next_for: tuple[str, ...] | Callable[[Any], bool] = field(default=(), compare=False)
    order: int = 100

    def __post_init__(self):
        _name_entity(self)
        if isinstance(self.next_for, str | list):
            object.__setattr__(self, "next_for", (self.next_for,) if isinstance(
                self.next_for, str) else tuple(self.next_for))

    def is_next(self, record, workflow: str | None = None) -> bool:
        """Whether this action is the usual next step for ``record`` (whose workflow state
        is its field ``workflow``)."""
        if callable(self.next_for):
            return bool(self.next_for(record))
        if not self.next_for or workflow is None:
            return False
        state = getattr(record, workflow, None)
        return str(getattr(state, "value", state)) in self.next_for

    @property
    def param_names(self) -> tuple[str, ...]:
        """The names of the accepted params, in order."""
        return tuple(p if isinstance(p, str) else p.name for p in self.params)


# --------------------------------------------------------------------------
# a plugin's parts, roles and extensions of other plugins' entities
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A named object of hook implementations inside a plugin (answer of ``fixdesk_parts``).

    Registered as ``<plugin>.<name>`` beside the plugin's own module, so an admin can
    switch one part's hooks off for a branch while the plugin's others stay on
    (``fixdesk hooks disable billing.invoicing repair_order_completed --branch JD``).
    ``hooks`` is the object (a class instance or a module) or the dotted name of a
    module of the plugin, imported only when the part is registered. A part that
    ``needs`` other plugins is glue: it is registered only when all of them are enabled,
    else it is listed as inactive ("needs repair").
    """

    name: str
    hooks: Any
    needs: tuple[str, ...] = ()
    title: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"part {self.name!r}: a name must be an identifier")
        object.__setattr__(self, "needs", tuple(self.needs))


@dataclass(frozen=True)
class Role:
    """A role a plugin brings (answer of ``fixdesk_roles``), granted to users like the
    kernel's roles. ``title`` is an English msgid; ``permissions`` are the permission
    names (``entity.action``) the role holds by default, besides those whose
    :class:`Permission` names the role."""

    name: str
    title: str
    permissions: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"role {self.name!r}: a name is lower-case letters, digits and _")
        object.__setattr__(self, "permissions", tuple(self.permissions))


@dataclass(frozen=True)
class Extension:
    """Fields a plugin adds to another plugin's (or the kernel's) entity (answer of
    ``fixdesk_extensions``).

    The fields are the columns of ``model``, a companion table the extending plugin
    owns (and returns from ``fixdesk_entities``): one row per record of ``entity``,
    whose primary key ``record_id`` is the record's id. The kernel shows them in the
    entity's API, lists, form and audit trail under the plugin's name
    (``"billing": {"difficulty": "major"}``, filter ``billing.difficulty=major``).
    Writing them needs ``permission`` (default: the entity's ``update``); ``title``
    heads their block on the form (default: the plugin's title).
    """

    entity: str
    model: type
    permission: str | None = None
    title: str | None = None

    def __post_init__(self):
        _name_entity(self)


@dataclass(frozen=True)
class SectionContent:
    """What a form section shows of one record: label and value pairs, a table of child
    rows (``columns`` are translated headers; each row a list of texts, or of
    ``(text, url)`` for a link), and a closing note. Every part is optional."""

    summary: tuple[tuple[str, str], ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    note: str | None = None
    empty: str | None = None


@dataclass(frozen=True)
class FormSection:
    """A titled block a plugin adds to an entity's desk form (answer of
    ``fixdesk_form_sections``): a read-only summary and child rows that
    ``build(ctx, record)`` returns as :class:`SectionContent` (None: nothing to show),
    and the plugin's extension fields listed in ``fields`` (``"difficulty"``), drawn as
    inputs when the user may write them. ``name`` starts with the plugin's name;
    sections are ordered by ``order``, then name. ``permission``, when given, is needed
    to see the section."""

    entity: str
    name: str
    title: str
    build: Callable[[Any, Any], SectionContent | None] | None = None
    fields: tuple[str, ...] = ()
    order: int = 100
    permission: str | None = None

    def __post_init__(self):
        _name_entity(self)
        object.__setattr__(self, "fields", tuple(self.fields))


#: how a list column's values are shown
LIST_COLUMN_KINDS = ("text", "integer", "money", "date", "datetime", "boolean")


@dataclass(frozen=True)
class ListColumn:
    """A column a plugin adds to an entity's desk list (answer of ``fixdesk_list_columns``).

    Either ``compute(ctx, records)``, called once per page with the page's records,
    returns ``{record id: value}`` (one query for the page, never one per row), or
    ``field`` names one of the plugin's extension fields (``"difficulty"``), which
    the list can then also sort by. ``name`` starts with the plugin's name; ``label``
    is an English msgid; ``kind`` (one of :data:`LIST_COLUMN_KINDS`) says how values
    are shown."""

    entity: str
    name: str
    label: str
    compute: Callable[[Any, list], dict] | None = None
    field: str | None = None
    kind: str = "text"

    def __post_init__(self):
        _name_entity(self)
        if (self.compute is None) == (self.field is None):
            raise ValueError(f"list column {self.name}: give either compute or field")
        if self.kind not in LIST_COLUMN_KINDS:
            raise ValueError(f"list column {self.name}: unknown kind {self.kind!r}")


# --------------------------------------------------------------------------
# a record's timeline
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    """One entry of a record's timeline (answer of ``fixdesk_timeline``): what happened to
    the record, when and by whom.

    ``at`` is an aware instant; ``kind`` a short word the desk styles the entry by (the
    kernel's are ``change``, ``print``, ``note`` and ``attachment``; a plugin's own, such
    as repair's ``status``, are its choice); ``title`` the translated line people read
    ("Dispatch"); ``actor`` who did it (a user name; ``user_id`` lets the desk show the
    person's full name); ``text`` a reason or a note's body; ``changes`` translated
    ``(label, old, new)`` triples ("Status", "Pending", "Dispatched"); ``url`` a page the
    entry links to; ``data`` anything else the desk needs (an attachment's id)."""

    at: Any
    kind: str
    title: str
    actor: str = ""
    user_id: int | None = None
    text: str | None = None
    changes: tuple[tuple[str, str, str], ...] = ()
    url: str | None = None
    data: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if getattr(self.at, "tzinfo", None) is None:
            raise ValueError(f"timeline event {self.title!r}: 'at' must be an aware datetime")
        object.__setattr__(self, "changes", tuple(tuple(c) for c in self.changes))


# --------------------------------------------------------------------------
# the home page's dashboard (kernel/web/desk/dashboard.py) and charts (kernel/charts.py)
# --------------------------------------------------------------------------

#: how a chart draws its series
CHART_KINDS = ("bar", "stacked_bar", "line", "pie")
#: how a card with a number above zero is coloured
CARD_TONES = ("neutral", "warning", "danger")


def _check_roles(what: str, roles) -> tuple[str, ...]:
    roles = (roles,) if isinstance(roles, str) else tuple(roles)
    for role in roles:
        if not str(role).isidentifier():
            raise ValueError(f"{what}: {role!r} is not a role name")
    return roles


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, drawn by :func:`kernel.charts.render_svg` the same way on the
    desk and on a printed paper: ``labels`` along the x axis (the slices of a pie),
    ``series`` as ``(label, values)`` pairs with one value per label (None: no value).
    ``kind`` is one of :data:`CHART_KINDS`. Texts are for people, already translated
    (the chart is built for one reader). ``unit`` follows each value shown ("%", "h");
    ``decimals`` says how many decimals values show; ``colours`` (``"#1e7a3c"``, ...)
    colour the series in order (on time green, late red), else the kernel's colours."""

    kind: str
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | int | None, ...]], ...]
    unit: str = ""
    decimals: int = 0
    colours: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart {self.title!r}: unknown kind {self.kind!r}")
        labels = tuple(str(label) for label in self.labels)
        series = tuple((str(name), tuple(values)) for name, values in self.series)
        for name, values in series:
            if len(values) != len(labels):
                raise ValueError(f"chart {self.title!r}: series {name!r} has {len(values)} "
                                 f"values for {len(labels)} labels")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "colours", tuple(self.colours))

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw (no label, or no value above zero)."""
        return not any(v for _name, values in self.series for v in values)


#: the longest a dashboard chart may be kept (:attr:`DashboardChart.keep`): an hour
MAX_KEEP = 3600
#: how long to keep a chart over weeks or months (:attr:`DashboardChart.keep`): its query
#: reads every record of the period, and five minutes change little in it
PERIOD_CHART_KEEP = 300


@dataclass(frozen=True)
class DashboardCard:
    """A number on the home page (answer of ``fixdesk_dashboard``): ``count(ctx)`` — one
    SQL ``COUNT``, as the user who looks (branch scope applies) — under ``title`` (an
    English msgid), linking to ``url(ctx)``, the list that shows exactly those records
    (None: no link). ``name`` starts with the plugin's name. ``permission`` (when given)
    is needed to see the card; ``roles`` (when given) says on whose home page it appears
    (users holding one of them; empty: everyone with the permission). Cards are ordered by
    ``order``, then name; a count above zero is coloured by ``tone`` (one of
    :data:`CARD_TONES`). ``help`` (an English msgid) says what is counted."""

    name: str
    title: str
    count: Callable[[Any], int]
    url: Callable[[Any], str | None] | None = None
    permission: str | None = None
    roles: tuple[str, ...] = ()
    order: int = 100
    tone: str = "neutral"
    help: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "roles", _check_roles(f"card {self.name}", self.roles))
        if self.tone not in CARD_TONES:
            raise ValueError(f"card {self.name}: unknown tone {self.tone!r}")


@dataclass(frozen=True)
class DashboardChart:
    """A chart on the home page (answer of ``fixdesk_dashboard``): ``build(ctx)`` returns
    its :class:`ChartData` (None: nothing to show), aggregated in SQL as the user who
    looks. ``name``, ``title`` (an English msgid), ``permission``, ``roles`` and ``order``
    as for a :class:`DashboardCard`; ``url(ctx)`` (optional) links to the report or list
    behind the chart.

    ``keep`` (seconds; 0: built each time the home page is shown) keeps a chart once built
    for the same user in the same language, in each server process (:mod:`kernel.kept`),
    as ERPNext keeps its dashboard charts: for charts over weeks or months, whose query
    grows with the business while a few minutes change little. The home page says when a
    kept chart was built and offers to build it again."""

    name: str
    title: str
    build: Callable[[Any], ChartData | None]
    permission: str | None = None
    roles: tuple[str, ...] = ()
    order: int = 100
    url: Callable[[Any], str | None] | None = None
    keep: int = 0

    def __post_init__(self):
        object.__setattr__(self, "roles", _check_roles(f"chart {self.name}", self.roles))
        if isinstance(self.keep, bool) or not isinstance(self.keep, int) or \
                not 0 <= self.keep <= MAX_KEEP:
            raise ValueError(f"chart {self.name}: keep is whole seconds from 0 to {MAX_KEEP}, "
                             f"not {self.keep!r}")


#: the attribute :func:`titled` sets on a hook implementation
TITLE_ATTRIBUTE = "fixdesk_title"


def titled(title: str) -> Callable[[Callable], Callable]:
    """Give a hook implementation a title for people: what it does, in a few words, as an
    English msgid translated in the plugin's own catalogue (mark it with ``N_``)::

        @hookimpl
        @titled(N_("Send the customer a satisfaction survey by SMS or e-mail"))
        def repair_order_closed(ctx, order):
            ...

    The admin console's "Hooks per branch" page shows it beside the plugin's title, so an
    admin knows what switching the implementation off for a branch stops; an untitled
    implementation is shown by its hook's name. Works on functions and on methods of a
    plugin object, in either order with ``@hookimpl``."""
    if not isinstance(title, str) or not title.strip():
        raise ValueError("titled() needs a title (an English msgid)")

    def mark(function: Callable) -> Callable:
        setattr(function, TITLE_ATTRIBUTE, title)
        return function

    return mark


def title_of(function: Callable) -> str | None:
    """The title :func:`titled` gave a hook implementation (untranslated), or None."""
    title = getattr(function, TITLE_ATTRIBUTE, None)
    return title if isinstance(title, str) and title else None
