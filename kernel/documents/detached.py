"""Printing without holding the database's write lock.

On SQLite a writing transaction holds the one write lock of the database until it ends;
laying out 200 papers takes a minute, and nobody could save or even log in meanwhile.
So a print here runs in three steps, each in a transaction of its own:

1. a short writing transaction checks the document, the records and the user's rights
   and logs the prints (their copy numbers);
2. a reading transaction (never blocks writers) gathers each record's data and renders
   its HTML, handing it on to WeasyPrint as it goes;
3. WeasyPrint lays the papers out outside any transaction.

If rendering fails, the logged prints are taken back (nothing came out). A preview logs
nothing. The CLI, the API, the desk's single print and its batch-print job use this;
:func:`kernel.documents.service.print_records` prints in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, select

from kernel.documents.registry import PrintLog, log_print
from kernel.errors import NotFound
from kernel.i18n import _
from kernel.labels import entity_title


@dataclass(frozen=True)
class Requester:
    """Who prints, as plain values that cross transactions and threads: the user's and
    the branch's ids (``None`` user: the system) and, for the system, how the print log
    names it (``cli:alice``)."""

    user_id: int | None = None
    branch_id: int | None = None
    system_actor: str | None = None

    @classmethod
    def of(cls, ctx) -> Requester:
        """The requester of a context (its user and branch)."""
        return cls(ctx.user.id if ctx.user is not None else None,
                   ctx.branch.id if ctx.branch is not None else None,
                   ctx.session.info.get("fixdesk_system_actor"))


@contextmanager
def requester_context(app, requester: Requester, *, write: bool):
    """A context as ``requester`` in a transaction of its own: a writing one (on SQLite it
    takes the write lock at once) or a plain read."""
    from kernel.auth import User
    from kernel.models import Branch

    factory = app.write_sessions if write else app.sessions
    with factory.begin() as session:
        if requester.system_actor:
            session.info["fixdesk_system_actor"] = requester.system_actor
        user = session.get(User, requester.user_id) if requester.user_id else None
        branch = session.get(Branch, requester.branch_id) if requester.branch_id else None
        yield app.context_in(session, user, branch)


def print_detached(app, requester: Requester, name: str, ids: list[int], *,
                   locale: str | None = None, workers: int | None = None,
                   progress: Callable[[int], None] | None = None,
                   preview: bool = False) -> bytes:
    """Print document ``name`` for the records ``ids`` as one PDF (the same checks, log
    and copy marks as :func:`~kernel.documents.service.print_records`), holding the write
    lock only to log the prints. ``progress(n)``: ``n`` more papers laid out."""
    from kernel.documents.batch import render_many
    from kernel.documents.service import load_records, offered_document, paper_locale, prepare

    with requester_context(app, requester, write=not preview) as ctx:
        document = offered_document(ctx, name)
        locale = paper_locale(ctx, locale)
        records = load_records(ctx, document, ids)
        copies = {r.id: 0 if preview else log_print(ctx, document, r) for r in records}
        entity = type(records[0])
    order = [r.id for r in records]

    def jobs():
        with requester_context(app, requester, write=False) as ctx:
            found = {r.id: r for r in ctx.session.scalars(
                select(entity).where(entity.id.in_(order)))}
            for record_id in order:
                if record_id not in found:  # deleted since it was logged
                    raise NotFound(_("no {entity} {id}").format(
                        entity=entity_title(ctx.app, document.entity), id=record_id), field="ids")
                yield prepare(ctx, document, found[record_id], locale, copies[record_id])

    try:
        return render_many(jobs(), len(order), app.site.path, workers=workers,
                           progress=progress)
    except BaseException:
        if not preview:
            _take_back(app, document.name, copies)
        raise


def _take_back(app, name: str, copies: dict[int, int]) -> None:
    """Remove the log lines of prints that never came out."""
    with app.write_sessions.begin() as session:
        for record_id, copy_number in copies.items():
            session.execute(delete(PrintLog).where(
                PrintLog.document == name, PrintLog.record_id == str(record_id),
                PrintLog.copy_number == copy_number))
