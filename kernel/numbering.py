"""Naming series: document numbers such as ``WO-SH-2026-00042``, safe under concurrency.

A series has a pattern with these fields:

``{branch}``  the branch code          ``{YYYY}`` / ``{YY}``  year of the document date
``{MM}`` / ``{DD}``  month / day       ``{#####}``  the counter, zero-padded to the number of ``#``

Counters are kept per series and per rendered prefix (so per branch and year in
the example) and incremented with one ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING``: the row stays locked until the transaction ends, so concurrent
creators queue on it, no number repeats, and a rolled-back transaction gives its
number back (no gaps among committed documents).

Plugins declare the default pattern of each of their series as a setting
``numbering.<series>``; an admin changes it with ``fixdesk settings set``.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import Setting
from kernel.db import Base, upsert_insert
from kernel.errors import ValidationError
from kernel.i18n import _

FIELD = re.compile(r"\{([^{}]*)\}")
KNOWN = {"branch", "YYYY", "YY", "MM", "DD"}


class SeriesCounter(Base):
    """The last number given out in one series for one prefix."""

    __tablename__ = "series_counter"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False

    series: Mapped[str] = mapped_column(String(100), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def series_setting(series: str, default: str, description: str) -> Setting:
    """The setting that holds a series' pattern (declare it in ``fixdesk_settings``)."""
    validate_pattern(default)
    return Setting(key=f"numbering.{series}", type=str, default=default,
                   description=description, validate=validate_pattern)


def validate_pattern(pattern: str) -> None:
    """Refuse a pattern without exactly one counter field or with unknown fields."""
    fields = FIELD.findall(pattern)
    counters = [f for f in fields if f and set(f) == {"#"}]
    unknown = [f for f in fields if f not in KNOWN and f not in counters]
    if len(counters) != 1 or unknown:
        raise ValidationError(_("a numbering pattern needs exactly one {{###}} counter and only "
                                "{{branch}} {{YYYY}} {{YY}} {{MM}} {{DD}}: {pattern!r}")
                              .format(pattern=pattern), field="pattern")


def render(pattern: str, *, branch_code: str, on, counter: int | None) -> str:
    """The pattern filled in; with ``counter=None`` the counter field stays as ``#``."""
    validate_pattern(pattern)
    values = {"branch": branch_code, "YYYY": f"{on.year:04d}", "YY": f"{on.year % 100:02d}",
              "MM": f"{on.month:02d}", "DD": f"{on.day:02d}"}

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return "#" if counter is None else f"{counter:0{len(name)}d}"

    return FIELD.sub(fill, pattern)


def next_number(ctx, series: str, *, branch=None, on=None) -> str:
    """The next number of ``series`` for ``branch`` (default: the context's) and date ``on``.

    The pattern is the setting ``numbering.<series>``. Call it inside the
    transaction that saves the document.
    """
    pattern = ctx.setting(f"numbering.{series}")
    branch = branch or ctx.branch
    if on is None:
        on = ctx.now().astimezone(ctx.settings.tz).date()
    prefix = render(pattern, branch_code=branch.code if branch else "", on=on, counter=None)
    table = SeriesCounter.__table__
    dialect = ctx.session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    statement = insert(table).values(series=series, prefix=prefix, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.series, table.c.prefix],
        set_={"value": table.c.value + 1},
    ).returning(table.c.value)
    value = ctx.session.execute(statement).scalar_one()
    return render(pattern, branch_code=branch.code if branch else "", on=on, counter=value)
