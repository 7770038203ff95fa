"""What plugins contribute through registration hooks, as plain data.

Each class is the return type of one hook in :mod:`kernel.hookspecs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
    """An action on an entity, and the roles that get it by default."""

    entity: str
    action: str
    roles: tuple[str, ...] = ()

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
    """A printable document for records of one entity."""

    name: str
    title: str
    entity: type
    template: str
    gather: Callable[..., dict]
    paper: str = "A4"
    orientation: str = "portrait"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JobHandler:
    """Code the worker runs for queued jobs named ``name``: ``func(ctx, **payload)``.

    A failing job is retried ``max_attempts`` times in all, waiting
    ``backoff_seconds`` × 2^(attempt-1) between tries, then marked failed. A
    worker holds a job for ``lease_seconds``; if it dies, another worker takes
    the job over after that.
    """

    name: str
    func: Callable[..., Any]
    max_attempts: int = 5
    backoff_seconds: int = 30
    lease_seconds: int = 300


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
    dispatch an order to, with the reasons). Services still validate every value: a
    param only shapes the form.
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
    """

    entity: type
    name: str
    title: str
    func: Callable[..., Any]
    permission: str
    available: Callable[[Any], bool] = lambda record: True
    params: tuple[str | Param, ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        """The names of the accepted params, in order."""
        return tuple(p if isinstance(p, str) else p.name for p in self.params)
