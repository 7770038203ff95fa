"""A record's timeline: everything that happened to it, newest first, page by page.

Every plugin (and the kernel itself, :mod:`kernel.timeline_sources`) answers the
``fixdesk_timeline`` hook with :class:`kernel.TimelineEvent` objects for a record;
this module merges the answers and cuts them into pages. Each source is asked for one
entry more than a page holds, older than the page's cursor, so a page costs one query
per source however long the record's history is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kernel.contributions import TimelineEvent
from kernel.errors import ValidationError
from kernel.i18n import _

PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class TimelinePage:
    """Entries of one page, newest first; ``older`` is the cursor of the next page
    (pass it as ``before``), None when there is nothing older."""

    events: list[TimelineEvent]
    older: dt.datetime | None


def parse_cursor(text: str | None) -> dt.datetime | None:
    """The ``before`` cursor from its ISO text (a page link's), or None for the newest;
    a malformed or naive one is refused naming ``before``."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError(_("must be a date and time with its zone"), field="before")
    return value


def timeline(ctx, entity: str, record: Any, *, before: dt.datetime | None = None,
             limit: int = PAGE) -> TimelinePage:
    """The entries of ``record`` (of the table ``entity``) older than ``before``, newest
    first: about ``limit`` of them (entries sharing the last one's instant stay on the
    same page). The caller has read the record as the user (``records.get_record``)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(_("limit must be between 1 and {n}").format(n=MAX_PAGE),
                              field="limit")
    answers = ctx.hook.fixdesk_timeline(ctx=ctx, entity=entity, record=record, before=before,
                                        limit=limit + 1)
    events = [e for found in answers for e in (found or [])
              if isinstance(e, TimelineEvent) and (before is None or e.at < before)]
    events.sort(key=lambda e: e.at, reverse=True)
    if len(events) <= limit:
        return TimelinePage(events, None)
    cutoff = events[limit - 1].at
    return TimelinePage([e for e in events if e.at >= cutoff], cutoff)
