"""The last check before anything is written: every text and date a flush would store.

:func:`kernel.values.coerce` checks what the generic services, the desk and the CLI
read; plugins' own services build records themselves. So every session checks, before
each flush, the text and date columns of the records it adds or changes, whoever set
them: the same rule on SQLite and PostgreSQL (PostgreSQL cannot store a NUL; SQLite
would), refused as :class:`~kernel.errors.ValidationError` naming the column, and
nothing is written.

* text: no control character other than tab and line breaks, no lone surrogate, no
  bidirectional override (:func:`kernel.text_rules.forbidden`; the generic services are
  stricter with one-line ``String`` fields: no tab or line break either), at most the
  column's length (``String(n)``; :data:`kernel.text_rules.TEXT_MAX_LENGTH` for a
  ``Text``), as PostgreSQL enforces it and SQLite would not;
* dates and date-times: from :data:`kernel.text_rules.EARLIEST_DATE` to
  :data:`kernel.text_rules.LATEST_DATE`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import Date, DateTime, String, Text, inspect
from sqlalchemy.orm import attributes

from kernel.errors import ValidationError
from kernel.i18n import _
from kernel.text_rules import TEXT_MAX_LENGTH, check_date_range, has_forbidden


@cache
def _checked_columns(cls: type) -> tuple[tuple[str, str, int | None], ...]:
    """``(attribute, kind, length)`` of the text and date columns of a mapped class."""
    found = []
    for prop in inspect(cls).column_attrs:
        column = prop.columns[0]
        col_type = column.type
        if isinstance(col_type, Text):
            found.append((prop.key, "text", TEXT_MAX_LENGTH))
        elif isinstance(col_type, String) and not getattr(col_type, "enums", None):
            found.append((prop.key, "string", col_type.length or TEXT_MAX_LENGTH))
        elif isinstance(col_type, Date | DateTime) or (
                hasattr(col_type, "impl") and isinstance(col_type.impl, Date | DateTime)):
            found.append((prop.key, "date", None))
    return tuple(found)


def check_record(record, *, changed_only: bool) -> None:
    """Refuse a forbidden text or an implausible date in ``record``'s columns (only those
    changed since it was loaded when ``changed_only``)."""
    state = inspect(record)
    for key, kind, length in _checked_columns(type(record)):
        if changed_only and not attributes.get_history(record, key).has_changes():
            continue
        value = state.dict.get(key)
        if value is None:
            continue
        if kind == "date":
            if isinstance(value, dt.date):
                try:
                    check_date_range(value)
                except ValueError as exc:
                    raise ValidationError(str(exc), field=key) from None
            continue
        if not isinstance(value, str):
            continue
        if has_forbidden(value, lines=True):
            raise ValidationError(_("must not contain control characters"), field=key)
        if len(value) > length:
            raise ValidationError(_("at most {n} characters").format(n=length), field=key)


def before_flush(session, _flush_context, _instances) -> None:
    """The session event: checks the records the flush is about to write."""
    for record in session.new:
        check_record(record, changed_only=False)
    for record in session.dirty:
        if session.is_modified(record, include_collections=False):
            check_record(record, changed_only=True)
