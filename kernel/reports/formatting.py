"""A report's values for people (text), for spreadsheets (typed cells) and for JSON, and its
totals. Column kinds are :data:`kernel.reports.registry.COLUMN_KINDS`."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from kernel.i18n import _

from .registry import Column

#: kinds shown right-aligned
NUMERIC = frozenset({"int", "number", "money", "hours", "share"})


def header(columns) -> list[str]:
    """The columns' translated headers."""
    return [_(c.label) for c in columns]


def _words(kind: str, value: Any) -> str | None:
    """An enum's or a yes/no's translated text; None for other kinds."""
    if kind == "enum":
        return _(str(getattr(value, "value", value)))
    if kind == "bool":
        return _("yes") if value else _("no")
    return None


def cell_text(column: Column, value: Any, tz) -> str:
    """``value`` as the desk, the paper, CSV and the terminal show it: enums and yes/no
    translated, instants in the site's time zone, hours with two decimals, shares in %."""
    if value is None or value == "":
        return ""
    kind = column.kind
    if kind in ("enum", "bool"):
        return _words(kind, value)
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "hours":
        return f"{Decimal(value):.2f}"
    if kind == "share":
        return f"{Decimal(value) * 100:.1f}%"
    return str(value)


def cell_value(column: Column, value: Any, tz) -> Any:
    """``value`` as a spreadsheet cell: dates and numbers stay dates and numbers, enums and
    yes/no are translated, instants are shown in the site's time zone (Excel has no zones)."""
    if value is None:
        return None
    kind = column.kind
    if kind in ("enum", "bool"):
        return _words(kind, value)
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.astimezone(tz).replace(tzinfo=None)
    if kind in ("hours", "share"):
        return float(value)
    if kind in ("money", "number"):
        return Decimal(value)
    return value


def totals(columns, rows: list[dict]) -> dict[str, Any] | None:
    """The sum of each column marked ``total`` (None when no column is)."""
    wanted = [c for c in columns if c.total]
    if not wanted:
        return None
    sums: dict[str, Any] = {}
    for column in wanted:
        found = [row.get(column.key) for row in rows if row.get(column.key) is not None]
        sums[column.key] = sum(found, Decimal(0) if column.kind != "int" else 0)
    return sums


def text_table(columns, rows: list[dict], tz) -> list[list[str]]:
    """Every row as texts, in column order."""
    return [[cell_text(c, row.get(c.key), tz) for c in columns] for row in rows]


def totals_line(columns, rows: list[dict], tz) -> list[str] | None:
    """The totals as texts, ``Total`` in the first column that has none (None: no totals)."""
    sums = totals(columns, rows)
    if sums is None:
        return None
    line = [cell_text(c, sums[c.key], tz) if c.key in sums else "" for c in columns]
    first_free = next((i for i, c in enumerate(columns) if c.key not in sums), None)
    if first_free is not None:
        line[first_free] = _("Total")
    return line


def json_value(value: Any) -> Any:
    """A row value as JSON: decimals exact as strings, dates and instants in ISO form,
    enums as their value; lists and dicts value by value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value
