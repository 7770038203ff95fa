"""Links to an entity's desk list with filters, for dashboard cards and anything else that
sends people to "the list of exactly these records".

A filter row is ``(field, operator, value)`` as the list's filter form has it
(``/desk/<entity>?f=<field>&op=<op>&v=<value>``, repeated; operators ``eq``, ``ne``,
``contains``, ``gte``, ``lte``, ``gt``, ``lt``, ``in``, ``empty``, ``notempty``). Values are
what people would type, so links read well in the filter form: :func:`labels` gives the
translated labels of choice values (the list reads them back), and
:func:`kernel.relative_dates.phrase` the words for days relative to today.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from kernel.i18n import _


def list_url(entity: str, *rows: tuple[str, str, str]) -> str:
    """``/desk/<entity>`` filtered by ``rows``: ``list_url("repair_work_order",
    ("status", "eq", "pending"), ("engineer_id", "empty", ""))``."""
    pairs = []
    for name, op, value in rows:
        pairs += [("f", name), ("op", op), ("v", str(value))]
    query = urlencode(pairs)
    return f"/desk/{entity}?{query}" if query else f"/desk/{entity}"


def labels(values: Iterable) -> str:
    """Choice values as the reader's translated labels, comma-separated (for ``in``)."""
    return ",".join(_(str(getattr(v, "value", v))) for v in values)
