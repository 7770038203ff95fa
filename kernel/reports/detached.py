"""Running a report without holding the database's write lock (the CLI's ``report run``).

A report only reads; its paper is logged. So the run and the paper's HTML happen in a
reading transaction, the print log in a short writing one beside it, and WeasyPrint
lays the paper out after both ended (:mod:`kernel.documents.detached` for records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kernel.i18n import N_, _, use_locale

#: the steps :func:`render_detached` reports (``progress(label, done, total)``)
RUNNING = N_("Running the report")
STEPS = 3


def render_detached(app, requester, report: str, raw: Mapping[str, Any], fmt: str,
                    locale: str | None = None,
                    progress: Callable[[str, int, int], None] | None = None):
    """Run ``report`` as ``requester`` (:class:`~kernel.documents.detached.Requester`) and
    turn it into ``fmt`` like :func:`kernel.reports.service.render`; returns a
    :class:`~kernel.reports.service.Rendered`."""
    from kernel.documents.batch import render_many
    from kernel.documents.detached import requester_context
    from kernel.documents.registry import log_paper
    from kernel.documents.service import paper_locale, render_paper
    from kernel.errors import ValidationError

    from .printing import LOG_ENTITY, _branch_of, log_key, paper_data
    from .service import FORMATS, MEDIA, Rendered, filename, produce, run

    def step(done: int) -> None:
        if progress is not None:
            progress(RUNNING, done, STEPS)

    if fmt not in FORMATS:
        raise ValidationError(_("format must be one of: {choices}").format(
            choices=", ".join(FORMATS)), field="format")
    step(0)
    with requester_context(app, requester, write=False) as ctx:
        locale = paper_locale(ctx, locale)
        with use_locale(locale):
            outcome = run(ctx, report, raw)
            step(1)
            if fmt != "pdf":
                done = produce(ctx, outcome, fmt, locale)
                step(STEPS)
                return done
            branch = _branch_of(outcome)
            with requester_context(app, requester, write=True) as writing:
                copy_number = log_paper(writing, outcome.report.name, LOG_ENTITY,
                                        log_key(outcome.canonical),
                                        branch.id if branch is not None else None)
            job = render_paper(ctx, outcome.report.template,
                               paper_data(ctx, outcome, locale, copy_number), locale=locale,
                               paper=outcome.report.paper,
                               orientation=outcome.report.orientation)
            name = filename(outcome, "pdf")
    step(2)
    content = render_many([job], 1, app.site.path)
    step(STEPS)
    return Rendered(content, MEDIA["pdf"], name)
