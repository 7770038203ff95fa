"""The desk's view of documents that are submitted (:mod:`kernel.lifecycle`): the status
line of a form, and whether the form may still be edited."""

from __future__ import annotations

from kernel.i18n import _
from kernel.lifecycle import (
    STATE_TITLES,
    DocStatus,
    amendment_of,
    document_name,
    is_submittable,
    state_of,
)
from kernel.web.desk import fields


def frozen(record) -> bool:
    """Whether ``record`` is a submitted or cancelled document (its form is read-only and
    it cannot be deleted)."""
    return record is not None and is_submittable(record) and \
        state_of(record) is not DocStatus.DRAFT


def document_state(ctx, info, record) -> dict | None:
    """The status line of a submittable record's form (None for other records): its
    state, when it was submitted or cancelled and why, the cancelled document it amends
    and the amendment that replaced it, as links."""
    if record is None or not is_submittable(record):
        return None
    tz = ctx.settings.tz
    state = state_of(record)

    def when(value):
        return fields.local(value, tz).strftime("%Y-%m-%d %H:%M") if value else None

    def link(other):
        return {"text": document_name(other), "url": f"/desk/{info.name}/{other.id}"}

    found = {"state": state.value, "title": _(STATE_TITLES[state]),
             "submitted_at": when(record.submitted_at),
             "cancelled_at": when(record.cancelled_at),
             "reason": record.cancel_reason if state is DocStatus.CANCELLED else None,
             "amended_from": None, "amended_by": None}
    if record.amended_from_id is not None:
        original = ctx.session.get(type(record), record.amended_from_id)
        if original is not None and ctx.can_see(original):
            found["amended_from"] = link(original)
    if state is DocStatus.CANCELLED:
        amendment = amendment_of(ctx.session, record)
        if amendment is not None:
            found["amended_by"] = link(amendment)
    return found
