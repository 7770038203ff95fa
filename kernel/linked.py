"""Records that links point to (:mod:`kernel.links`): checked when a link is written,
named for people in one query per entity, and kept while a link points to them.

- :func:`link_problem`: a link may only point to an entity of the site (among the
  link's targets, when it names some), to a record that exists, that the user may
  read and that belongs to a branch the user may see; otherwise it names the problem
  exactly as for a missing record, so nothing leaks about other branches.
- :func:`link_labels`: the labels of the linked records of a page, one query per
  linked entity, never one per row.
- :func:`install_link_guard`: a session listener, per site, that refuses deleting a
  record while a link points to it, naming the record that refers to it. It holds for
  the generic API and desk and for any service that deletes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, event, or_, select
from sqlalchemy import inspect as sa_inspect

from kernel.errors import Conflict
from kernel.i18n import _
from kernel.labels import record_label
from kernel.links import Link, RecordLink, links_of
from kernel.references import record_labels

# --------------------------------------------------------------------------
# writing a link
# --------------------------------------------------------------------------


def link_targets(app, spec) -> list[str]:
    """The entities the link field ``spec`` may point to on this site: its targets that
    are exposed here, or every exposed entity when it names none."""
    if spec.targets:
        return [t for t in spec.targets if t in app.exposed]
    return list(app.exposed)


def link_problem(ctx, spec, link: RecordLink) -> str | None:
    """Why ``link`` cannot be written into the link field ``spec``, or None when it can."""
    app = ctx.app
    if spec.targets and link.entity not in spec.targets:
        return _("cannot link to {entity}: this link goes to {targets}").format(
            entity=link.entity, targets=", ".join(link_targets(app, spec)))
    info = app.exposed.get(link.entity)
    if info is None:
        return _("no entity {entity!r} on this site").format(entity=link.entity)
    record = ctx.session.get(info.cls, link.id)
    if record is None or not ctx.can_see(record) or not ctx.can(info.perm("read")):
        return _("no {entity} {id}").format(entity=_(info.title), id=link.id)
    return None


# --------------------------------------------------------------------------
# showing links
# --------------------------------------------------------------------------


class Unreadable(str):
    """The label of a linked record the user may not read: its entity's title and id
    (``工单 #254``), never a link to follow."""


def link_labels(ctx, links: Iterable[RecordLink | None]) -> dict[RecordLink, str]:
    """Labels of the linked records the user may read and see (one query per entity);
    records of an entity the user may not read are named by the entity's title and id
    (:class:`Unreadable`); links to anything else are left out."""
    wanted: dict[str, set[int]] = {}
    for link in links:
        if link is not None:
            wanted.setdefault(link.entity, set()).add(link.id)
    found: dict[RecordLink, str] = {}
    for entity, ids in wanted.items():
        info = ctx.app.exposed.get(entity)
        if info is None:
            continue
        if not ctx.can(info.perm("read")):
            found.update({RecordLink(entity, record_id): Unreadable(
                f"{_(info.title)} #{record_id}") for record_id in ids})
            continue
        for record_id, text in record_labels(ctx, ctx.app, entity, ids).items():
            found[RecordLink(entity, record_id)] = text
    return found


# --------------------------------------------------------------------------
# deleting a linked record
# --------------------------------------------------------------------------


def install_link_guard(sessions, classes: dict[str, type]) -> None:
    """Refuse, in sessions of ``sessions`` (a sessionmaker), to delete a record a link of
    one of ``classes`` (table → class) points to: the flush raises
    :class:`~kernel.errors.Conflict` naming the record that refers to it. One query per
    link field per flush that deletes records of entities it may point to."""
    holders = [(cls, link) for cls in classes.values() for link in links_of(cls)]
    linkable = {table for table, cls in classes.items() if getattr(cls, "__expose__", True)}
    if not holders:
        return

    def refuse_deleting_linked(session, _flush_context, _instances) -> None:
        deleted = _deleted(session, linkable)
        if not deleted:
            return
        for cls, link in holders:
            wanted = {t: ids for t, ids in deleted.items() if link.allows(t)}
            if wanted:
                found = _referrer(session, cls, link, wanted)
                if found is not None:
                    raise Conflict(_refusal(session, cls, *found))

    event.listen(sessions, "before_flush", refuse_deleting_linked)


def _deleted(session, linkable: set[str]) -> dict[str, set[int]]:
    """The ids of the records this flush deletes, by table (linkable tables only)."""
    found: dict[str, set[int]] = {}
    for obj in session.deleted:
        table = type(obj).__table__.name
        identity = sa_inspect(obj).identity
        if table in linkable and identity is not None and len(identity) == 1:
            found.setdefault(table, set()).add(identity[0])
    return found


def _referrer(session, cls, link: Link, wanted: dict[str, set[int]]):
    """A record of ``cls`` whose ``link`` points to one of the ``wanted`` records once
    this flush is done: ``(record or its primary key, the link)``, or None."""
    changing = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, cls) and obj not in session.deleted:
            value = getattr(obj, link.name)
            if value is not None and value.id in wanted.get(value.entity, ()):
                return obj, value
    for obj in (*session.dirty, *session.deleted):
        identity = sa_inspect(obj).identity
        if isinstance(obj, cls) and identity is not None:
            changing.add(tuple(identity))  # the database holds its old link
    table = cls.__table__
    key = list(table.primary_key.columns)
    entity, record_id = table.c[link.entity_column], table.c[link.id_column]
    condition = or_(*[and_(entity == t, record_id.in_(sorted(ids)))
                      for t, ids in sorted(wanted.items())])
    # read past the user's branch scope: a link from a branch the user cannot see
    # holds the record all the same
    rows = session.connection().execute(
        select(*key, entity, record_id).where(condition).order_by(*key)
        .limit(len(changing) + 1))
    for row in rows:
        identity = tuple(row[:len(key)])
        if identity not in changing:
            return identity, RecordLink(row[-2], row[-1])
    return None


def _refusal(session, cls, found, link: RecordLink) -> str:
    """The message refusing to delete ``link``'s record, which ``found`` (a record of
    ``cls``, or the primary key of one) refers to; a referrer of a branch the user
    cannot see is not named."""
    table = cls.__table__.name
    title = _(getattr(cls, "__title__", table.replace("_", " ").capitalize()))
    record = found if isinstance(found, cls) else \
        session.get(cls, found[0] if len(found) == 1 else found)  # scoped by branch
    if record is None:
        return _("cannot delete {entity} {id}: a {referrer} of a branch you cannot see "
                 "refers to it").format(entity=link.entity, id=link.id, referrer=title)
    identity = sa_inspect(record).identity
    number = "/".join(str(part) for part in identity) if identity else ""
    referrer = " ".join(part for part in (title, number) if part)
    if hasattr(record, "id"):  # not a companion row, named by its record's id
        label = record_label(record)
        if label != f"#{record.id}":
            referrer = f"{referrer} ({label})"
    return _("cannot delete {entity} {id}: {referrer} refers to it").format(
        entity=link.entity, id=link.id, referrer=referrer)
