"""A report as a printed paper: the template's variables, the print log, the PDF.

The paper goes through the documents' pipeline (:func:`kernel.documents.service.
render_paper`: the loader chain site → plugins → kernel and the sandbox; then
WeasyPrint), so a site overrides a report's template like any paper's. A report is not
a record: the print log names the entity ``report`` and, as the record, the parameters
the report ran with (``day=2026-11-17&branch=SH``); printing the same report with the
same parameters again is a copy.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from kernel.i18n import translations
from kernel.params import describe

from .formatting import NUMERIC, text_table, totals, totals_line

#: the print log's ``entity`` for reports
LOG_ENTITY = "report"
#: the print log keeps at most this many characters of the parameters
LOG_KEY_LENGTH = 100


def log_key(canonical: dict[str, str]) -> str:
    """The parameters as the print log's record key: the query string itself, or when it
    is too long its start and a digest (so the same parameters always give the same key)."""
    text = urlencode(list(canonical.items())) or "-"
    if len(text) <= LOG_KEY_LENGTH:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    return f"{text[:LOG_KEY_LENGTH - 21]}#{digest}"


def _branch_of(outcome):
    """The branch the report is about, when a parameter names one (for the letterhead)."""
    from kernel.models import Branch

    return next((v for v in outcome.params.values() if isinstance(v, Branch)), None)


def _keeps_together(column, texts: list[str]) -> bool:
    """Whether a column's cells stay on one line: numbers, dates, choices, codes (short
    Latin texts without spaces, such as ``WO-SH-2026-00001``, which would break at the
    hyphens) and short names (李明)."""
    if column.kind != "text":
        return True
    return all(not any(ch.isspace() for ch in text) and
               (len(text) <= 4 or (len(text) <= 24 and text.isascii())) for text in texts)


def paper_charts(ctx, outcome) -> list[dict]:
    """The run's charts as ``{"title", "svg"}`` (the SVG as markup, safe to embed)."""
    from markupsafe import Markup

    from kernel.charts import render_svg

    return [{"title": chart.title, "svg": Markup(render_svg(chart))}
            for chart in outcome.report.charts_of(ctx, outcome.rows, outcome.params)]


def paper_data(ctx, outcome, locale: str, copy_number: int) -> dict:
    """The variables of a report's paper: those of every paper (``company``, ``branch``,
    ``issued_at``, copy mark, ...), the report and its parameters, the columns (each with
    its ``width`` in percent, :mod:`.layout`) and the table's ``font_size``, the raw
    ``rows``, and the same as text (``cells``, ``totals``); ``charts`` (title and SVG)
    when the report draws any."""
    from kernel.documents.service import paper_context

    from .layout import plan

    report, tz = outcome.report, ctx.settings.tz
    title = translations(locale).gettext(report.title)
    columns = outcome.columns
    cells = text_table(columns, outcome.rows, tz)
    shown = [{"key": c.key, "label": translations(locale).gettext(c.label),
              "kind": c.kind, "numeric": c.kind in NUMERIC,
              "nowrap": _keeps_together(c, [line[i] for line in cells])}
             for i, c in enumerate(columns)]
    widths, font_size = plan(shown, cells, report.paper, report.orientation)
    for column, width in zip(shown, widths, strict=True):
        column["width"] = width
    return {
        **paper_context(ctx, branch=_branch_of(outcome), locale=locale,
                        copy_number=copy_number),
        "document": {"name": report.name, "title": title, "paper": report.paper},
        "report": {"name": report.name, "title": title},
        "record": None,
        "number": " ".join(outcome.canonical.values()) or report.name,
        "params": outcome.params,
        "parameters": describe(report.params, outcome.params, tz),
        "columns": shown,
        "font_size": font_size,
        "rows": outcome.rows,
        "cells": cells,
        "totals": totals_line(columns, outcome.rows, tz),
        "sums": totals(columns, outcome.rows) or {},
        "charts": paper_charts(ctx, outcome),
    }


def print_report(ctx, outcome, locale: str) -> bytes:
    """The report's paper as PDF in ``locale`` (run the report in that language too); the
    print is logged in the caller's transaction."""
    from kernel.documents.batch import render_many
    from kernel.documents.registry import log_paper
    from kernel.documents.service import render_paper

    report = outcome.report
    branch = _branch_of(outcome)
    copy_number = log_paper(ctx, report.name, LOG_ENTITY, log_key(outcome.canonical),
                            branch.id if branch is not None else None)
    job = render_paper(ctx, report.template, paper_data(ctx, outcome, locale, copy_number),
                       locale=locale, paper=report.paper, orientation=report.orientation)
    return render_many([job], 1, ctx.app.site.path)
