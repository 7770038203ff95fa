"""Running reports: what the API, the desk and the CLI call.

A run checks the report's permission first, then reads the parameters (one error per
field), then calls the report's ``build`` as the acting user: the build's queries are
scoped to the user's branches like any other. Nothing is written, except the print log
when the report is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kernel.db import let_others_read
from kernel.errors import ValidationError
from kernel.i18n import _, use_locale

from .registry import Column, Report, get_report

#: what a report can be turned into
FORMATS = ("json", "xlsx", "csv", "pdf", "table")
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
         "table": "text/plain; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class Outcome:
    """One run of a report: the values ``build`` got, the same as text (``canonical``, for
    URLs and the print log), the rows and the columns shown."""

    report: Report
    params: dict[str, Any]
    canonical: dict[str, str]
    rows: list[dict]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Rendered:
    """A run turned into one format: the content (bytes, text, or a dict for JSON), its
    media type and a file name for downloads."""

    content: Any
    media_type: str
    filename: str


def run(ctx, report: Report | str, raw: Mapping[str, Any]) -> Outcome:
    """Run ``report`` (or the report of that name) with parameters given as text.

    :raise NotFound: no such report.
    :raise PermissionDenied: the user may not run it.
    :raise ValidationError: a parameter is unknown, missing or wrong (``fields`` names each).
    """
    from kernel.params import read_params

    report = report if isinstance(report, Report) else get_report(ctx.app, report)
    ctx.require(report.permission)
    return run_with(ctx, report, read_params(ctx, report.params, raw))


def run_with(ctx, report: Report, values: Mapping[str, Any]) -> Outcome:
    """Run ``report`` with values that are typed already (``None`` means not given)."""
    from kernel.params import canonical

    ctx.require(report.permission)
    let_others_read()  # a report may read for a while: SQLite's other readers go on
    values = {k: v for k, v in values.items() if v is not None}
    rows = list(report.build(ctx, **values))
    return Outcome(report, values, canonical(report.params, values), rows,
                   report.columns_shown(rows, values))


def render(ctx, report: Report | str, raw: Mapping[str, Any], fmt: str,
           locale: str | None = None) -> Rendered:
    """Run a report and turn it into ``fmt`` (one of :data:`FORMATS`) in ``locale`` (default:
    the user's language, else the site's); the report runs in that language too."""
    from kernel.documents.service import paper_locale

    if fmt not in FORMATS:
        raise ValidationError(_("format must be one of: {choices}").format(
            choices=", ".join(FORMATS)), field="format")
    locale = paper_locale(ctx, locale)
    with use_locale(locale):
        return produce(ctx, run(ctx, report, raw), fmt, locale)


def produce(ctx, outcome: Outcome, fmt: str, locale: str) -> Rendered:
    """Turn a run into ``fmt``; call it in ``locale`` (:func:`kernel.i18n.use_locale`)."""
    from . import export
    from .printing import print_report

    name = filename(outcome, "txt" if fmt == "table" else fmt)
    if fmt == "json":
        content: Any = as_json(outcome)
    elif fmt == "xlsx":
        content = export.to_xlsx(ctx, _(outcome.report.title), outcome.columns, outcome.rows,
                                 subtitle(ctx, outcome))
    elif fmt == "csv":
        content = export.to_csv(ctx, outcome.columns, outcome.rows)
    elif fmt == "table":
        content = export.to_text(ctx, outcome.columns, outcome.rows)
    else:
        content = print_report(ctx, outcome, locale)
    return Rendered(content, MEDIA[fmt], name)


def as_json(outcome: Outcome) -> dict:
    """The run as JSON: name, title, the parameters used, the columns with translated
    labels, every row (with all its keys) and the totals (or null)."""
    from .formatting import json_value, totals

    sums = totals(outcome.columns, outcome.rows)
    return {"name": outcome.report.name, "title": _(outcome.report.title),
            "params": outcome.canonical,
            "columns": [{"key": c.key, "label": _(c.label), "kind": c.kind}
                        for c in outcome.columns],
            "rows": [json_value(row) for row in outcome.rows],
            "totals": json_value(sums) if sums is not None else None}


def subtitle(ctx, outcome: Outcome) -> str:
    """The parameters used, for people: ``Date: 2026-11-17 · Branch: SH 上海服务中心``."""
    from kernel.params import describe

    return " · ".join(f"{label}: {text}" for label, text in
                      describe(outcome.report.params, outcome.params, ctx.settings.tz))


def filename(outcome: Outcome, extension: str) -> str:
    """A download's file name: ``repair-supervisor_daily-2026-11-17-SH.pdf`` (ASCII only)."""
    import re

    parts = [outcome.report.name.replace(".", "-"), *outcome.canonical.values()]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts)).strip("_")[:120]
    return f"{stem or 'report'}.{extension}"
