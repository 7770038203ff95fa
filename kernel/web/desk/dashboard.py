"""The home page's dashboard: the cards and charts of the kernel and the plugins
(``fixdesk_dashboard``) that the user may see, counted and drawn for this request.

A card or chart is shown when its plugin's ``fixdesk_dashboard`` is not switched off for
the user's branch, the user holds its permission and, when it names roles, one of them.
Each count and each chart runs as the user (branch scope applies) inside a savepoint, so
one that fails is shown as unavailable (and logged) while the page and the rest still
show.
"""

from __future__ import annotations

import logging

from kernel.charts import drawn_uri, table_of
from kernel.contributions import DashboardCard, DashboardChart
from kernel.i18n import _, current_locale

LOGGER = logging.getLogger("fixdesk.desk")
#: what a count or chart that failed gives
FAILED = object()


def visible(ctx, item: DashboardCard | DashboardChart) -> bool:
    """Whether the user sees ``item`` on the home page: offered in the branch, permitted,
    and for one of the user's roles (when it names roles)."""
    if not ctx.offers(item):
        return False
    if item.permission and not ctx.can(item.permission):
        return False
    return not item.roles or bool(set(item.roles) & set(ctx.user.roles if ctx.user else ()))


def _guarded(ctx, item, run):
    """``run()`` in a savepoint; :data:`FAILED` (logged) when it fails."""
    try:
        with ctx.session.begin_nested():
            return run()
    except Exception:  # a plugin's count must not take the home page down
        LOGGER.exception("dashboard %s failed", item.name)
        return FAILED


def cards(ctx) -> list[dict]:
    """The user's cards: ``name``, ``title``, ``count`` (None: unavailable), ``url``,
    ``tone`` (the card's, when the count is above zero, else ``neutral``), ``help``."""
    found = []
    for item in ctx.app.registry.dashboard:
        if not isinstance(item, DashboardCard) or not visible(ctx, item):
            continue
        count = _guarded(ctx, item, lambda item=item: int(item.count(ctx)))
        count = None if count is FAILED else count
        url = _guarded(ctx, item, lambda item=item: item.url(ctx)) if item.url else None
        url = None if url is FAILED else url
        found.append({"name": item.name, "title": _(item.title), "count": count, "url": url,
                      "tone": item.tone if count else "neutral",
                      "help": _(item.help) if item.help else None})
    return found


def charts(ctx, refresh: str | None = None) -> list[dict]:
    """The user's charts: ``name``, ``title``, ``src`` (the SVG as a ``data:`` URI; None
    when unavailable or empty), ``table`` (the numbers, :func:`kernel.charts.table_of`),
    ``url``, ``empty`` (nothing to draw), ``failed`` (unavailable), ``built`` (when a kept
    chart was built, the site's time ``HH:MM``; None for the others).

    A chart with :attr:`~kernel.contributions.DashboardChart.keep` is drawn once for the
    user in his language and kept that long in this process (:mod:`kernel.kept`); the one
    named ``refresh`` is drawn again. A chart that failed is not kept."""
    found = []
    for item in ctx.app.registry.dashboard:
        if not isinstance(item, DashboardChart) or not visible(ctx, item):
            continue
        if not item.keep:
            found.append(_chart(ctx, item))
            continue
        key = ("dashboard", item.name, ctx.user.id, ctx.user.updated_at, current_locale())
        kept = None if refresh == item.name else ctx.app.kept.get(key)
        if kept is None:
            built = ctx.now()
            entry = _chart(ctx, item)
            kept = ctx.app.kept.put(key, entry, 0 if entry["failed"] else item.keep, built)
        found.append({**kept.value,
                      "built": kept.built.astimezone(ctx.settings.tz).strftime("%H:%M")})
    return found


def _chart(ctx, item: DashboardChart) -> dict:
    """One chart built and drawn for the user now (see :func:`charts`)."""
    data = _guarded(ctx, item, lambda: item.build(ctx))
    url = _guarded(ctx, item, lambda: item.url(ctx)) if item.url else None
    failed, data = data is FAILED, None if data is FAILED else data
    entry = {"name": item.name, "title": _(item.title), "url": None if url is FAILED else url,
             "src": None, "table": None, "empty": not failed and (data is None or data.empty),
             "failed": failed, "built": None}
    if data is not None and not data.empty:
        try:
            entry["src"] = drawn_uri(data)
            entry["table"] = table_of(data)
        except Exception:  # a chart that cannot be drawn is left out, not the page
            LOGGER.exception("dashboard chart %s could not be drawn", item.name)
            entry["failed"] = True
    return entry


def dashboard(ctx, refresh: str | None = None) -> dict:
    """What the home page shows above the modules: ``{"cards": [...], "charts": [...]}``
    (``refresh``: a kept chart to draw again)."""
    return {"cards": cards(ctx), "charts": charts(ctx, refresh)}
