"""The report contract (:class:`Report`, :class:`Column`) and the site's report registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kernel.contributions import Param
from kernel.errors import NotFound
from kernel.i18n import _

#: how a column's values are shown: ``enum`` values and ``bool`` are translated,
#: ``datetime`` is shown in the site's time zone, ``hours`` has two decimals,
#: ``share`` is a fraction shown as a percentage (0.75 → 75.0%)
COLUMN_KINDS = ("text", "enum", "bool", "date", "datetime", "int", "number", "money", "hours",
                "share")
#: kinds that add up (a column may ask for a total only if it is one of these)
SUMMABLE = ("int", "number", "money", "hours")
#: query and form names the kernel uses itself: no report parameter may take them
RESERVED_PARAMS = frozenset({"format", "lang", "download", "run", "csrf"})
ORIENTATIONS = ("portrait", "landscape")
#: the kernel's generic paper for reports without a template of their own
GENERIC_TEMPLATE = "print/report.html"


@dataclass(frozen=True)
class Column:
    """A report column: the row key, its header (an English msgid), how to show it
    (one of :data:`COLUMN_KINDS`) and whether the table ends with its total."""

    key: str
    label: str
    kind: str = "text"
    total: bool = False

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")
        if self.total and self.kind not in SUMMABLE:
            raise ValueError(f"column {self.key}: a {self.kind} column has no total")


@dataclass(frozen=True)
class Report:
    """A report a plugin offers (answer of ``fixdesk_reports``).

    ``build(ctx, **params)`` returns the rows (dicts of plain values; keys that are not
    columns are kept for papers and JSON); it may raise :class:`kernel.ValidationError`
    naming a parameter. ``params`` are :class:`kernel.Param` objects: the kernel reads
    and checks them before ``build`` runs and leaves out the optional ones not given (a
    ``reference`` arrives as the record, checked against the user's branches).
    ``permission`` defaults to ``<name>.read``. ``columns_for(rows, **params)``, when
    given, picks the columns shown for one run. ``template`` is the paper's Jinja2
    template (default: the kernel's generic ``print/report.html``). ``charts(ctx, rows,
    **params)``, when given, returns :class:`kernel.ChartData` objects drawn on the paper
    above the table (as SVG, :mod:`kernel.charts`) and on the desk's report page: the
    same charts a plugin shows on the home page.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    build: Callable[..., list[dict]]
    params: tuple[Param, ...] = ()
    permission: str | None = None
    columns_for: Callable[..., tuple[Column, ...]] | None = None
    template: str = GENERIC_TEMPLATE
    paper: str = "A4"
    orientation: str = "portrait"
    charts: Callable[..., list] | None = None

    def __post_init__(self):
        if "." not in self.name:
            raise ValueError(f"report {self.name}: prefix the name with the plugin's")
        if self.permission is None:
            object.__setattr__(self, "permission", f"{self.name}.read")
        if self.orientation not in ORIENTATIONS:
            raise ValueError(f"report {self.name}: unknown orientation {self.orientation!r}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"report {self.name}: a parameter name is used twice")
        clash = RESERVED_PARAMS.intersection(names)
        if clash:
            raise ValueError(f"report {self.name}: parameter name {sorted(clash)[0]!r} is "
                             "reserved")

    @property
    def module(self) -> str:
        """The plugin that offers the report (the name's prefix)."""
        return self.name.split(".", 1)[0]

    def charts_of(self, ctx, rows: list[dict], params: dict[str, Any]) -> list:
        """The charts of one run (:class:`kernel.ChartData`): ``charts``' answer, else none."""
        if self.charts is None:
            return []
        return [c for c in self.charts(ctx, rows, **params) or [] if c is not None]

    def columns_shown(self, rows: list[dict], params: dict[str, Any]) -> tuple[Column, ...]:
        """The columns of one run: ``columns_for``'s answer, else every column."""
        if self.columns_for is None:
            return self.columns
        return tuple(self.columns_for(rows, **params))


def get_report(app, name: str) -> Report:
    """The registered report ``name``, or :class:`NotFound` (see: fixdesk report list)."""
    report = app.reports.get(name)
    if report is None:
        raise NotFound(_("no report {name!r} (see: fixdesk report list)").format(name=name),
                       field="report")
    return report


def reports_for(ctx) -> list[Report]:
    """The reports the acting user may run, by name."""
    return [r for r in ctx.app.reports.values() if ctx.can(r.permission)]
