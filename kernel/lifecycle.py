"""Documents that are submitted: draft → submitted → cancelled, and amended (ERPNext's
``docstatus`` and ``amended_from``).

A stock entry, an invoice or a payment is written as a **draft**, changed and deleted
freely, then **submitted**: from then on nobody changes it. A mistake is put right by
**cancelling** it (with a reason; the owner posts reversing entries in the same
transaction) and **amending** the cancelled one: a new draft, a copy numbered after it
(``SE-SH-2026-0001-1``, then ``-2`` for an amendment of the amendment), that links the
cancelled document in ``amended_from_id``.

An entity takes part by using :class:`SubmittableMixin`. The kernel then

- offers the actions ``submit``, ``cancel`` (with a required ``reason``) and ``amend`` on
  it (API ``POST /api/v1/<table>/<id>/submit``, desk buttons, ``ctx.run_action``),
  needing the permissions ``<entity permission>.submit``, ``.cancel`` and ``.amend``,
  which the owning plugin declares with its roles;
- refuses, in every session of the site, a change of a submitted or cancelled row, a
  change of its state other than through :func:`submit`, :func:`cancel` and
  :func:`amend`, and deleting anything but a draft (:func:`install_guard`); child rows
  declaring ``__submittable_parent__ = ("entry_id", "<parent table>")`` are frozen with
  their parent, and an amendment copies them;
- calls the hooks ``fixdesk_document_submitted``, ``fixdesk_document_cancelled`` and
  ``fixdesk_document_amended`` after each change, in its transaction: an exception in
  any implementation undoes the change.

Each service checks the permission, that the user sees the record's branch and the
state, and locks the row first (``SELECT ... FOR UPDATE`` on PostgreSQL; an SQLite unit
of work that writes holds the database's write lock from its start), so of two
concurrent submits, cancels or amends of one document exactly one succeeds and the
others get a :class:`~kernel.errors.Conflict`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from contextlib import contextmanager

from sqlalchemy import Enum, ForeignKey, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, object_session

from kernel.contributions import Action, Param
from kernel.db import UTCDateTime
from kernel.errors import Conflict, ValidationError
from kernel.i18n import N_, _


class DocStatus(enum.StrEnum):
    """Where a submitted document is in its life."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"


#: the states as the desk's status line names them
STATE_TITLES = {DocStatus.DRAFT: N_("Draft"), DocStatus.SUBMITTED: N_("Submitted"),
                DocStatus.CANCELLED: N_("Cancelled")}
#: the states as values (lists, filters) and inside sentences ("... is submitted")
STATE_WORDS = {DocStatus.DRAFT: N_("draft"), DocStatus.SUBMITTED: N_("submitted"),
               DocStatus.CANCELLED: N_("cancelled")}
#: the columns only the lifecycle's services write
LIFECYCLE_FIELDS = ("docstatus", "submitted_at", "cancelled_at", "cancel_reason",
                    "amended_from_id", "amendment_no")
#: the generic actions the kernel offers on a submittable entity
LIFECYCLE_ACTIONS = ("submit", "cancel", "amend")
MAX_REASON = 500
#: where a session keeps the records a service is changing the state of right now
SANCTIONED_KEY = "fixdesk_lifecycle_sanctioned"


class SubmittableMixin:
    """A document that is submitted and then never edited: draft → submitted → cancelled.

    Use it with :class:`kernel.IdMixin` on an entity with a number column of its own::

        class StockEntry(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
            __tablename__ = "inventory_stock_entry"
            __naming_series__ = "inventory_stock_entry"   # numbers new drafts
            __readonly__ = ("number",)

            number: Mapped[str | None] = mapped_column(String(40), unique=True)

    Class attributes it reads:

    ``__number_field__``        the column holding the number (default ``"number"``);
                                amendments are numbered ``<number>-1``, ``-2``, ...
    ``__naming_series__``       a naming series (:mod:`kernel.numbering`): drafts made
                                through the generic API and desk get their number from it
    ``__lifecycle_actions__``   the generic actions offered (default all of ``submit``,
                                ``cancel``, ``amend``): leave one out to offer your own
    ``__update_after_submit__`` fields the owner's services may still change on a submitted
                                document (ERPNext's "allow on submit"): its progress, such as
                                a purchase order's receipt status or an approval; list them
                                in ``__readonly__`` too, so that only services write them
    """

    __lifecycle_fields__ = LIFECYCLE_FIELDS
    __number_field__ = "number"
    __naming_series__: str | None = None
    __lifecycle_actions__: tuple[str, ...] = LIFECYCLE_ACTIONS

    @declared_attr
    def docstatus(cls) -> Mapped[DocStatus]:
        return mapped_column(
            Enum(DocStatus, name="docstatus", native_enum=False, create_constraint=True,
                 length=10, values_callable=lambda members: [m.value for m in members]),
            default=DocStatus.DRAFT, nullable=False, index=True)

    @declared_attr
    def submitted_at(cls) -> Mapped[dt.datetime | None]:
        return mapped_column(UTCDateTime)

    @declared_attr
    def cancelled_at(cls) -> Mapped[dt.datetime | None]:
        return mapped_column(UTCDateTime)

    @declared_attr
    def cancel_reason(cls) -> Mapped[str | None]:
        return mapped_column(String(MAX_REASON))

    @declared_attr
    def amended_from_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"), index=True)

    @declared_attr
    def amendment_no(cls) -> Mapped[int]:
        """0 for an original, n for its n-th amendment (the suffix of its number)."""
        return mapped_column(Integer, default=0, nullable=False)


def is_submittable(cls_or_record) -> bool:
    """Whether an entity (class or record) uses :class:`SubmittableMixin`."""
    cls = cls_or_record if isinstance(cls_or_record, type) else type(cls_or_record)
    return issubclass(cls, SubmittableMixin)


def state_of(record) -> DocStatus:
    return DocStatus(record.docstatus)


def document_name(record) -> str:
    """How messages name a document: its entity's title and its number (``#id`` before it
    has one)."""
    cls = type(record)
    return _named(cls, record.id, getattr(record, getattr(cls, "__number_field__", "number"),
                                          None))


def _named(cls: type, record_id: int | None, number: str | None) -> str:
    title = getattr(cls, "__title__", None)
    shown = number if number not in (None, "") else f"#{record_id}"
    return f"{_(title) if title else cls.__table__.name} {shown}"


def permission_of(cls: type, action: str) -> str:
    """The permission a lifecycle action on ``cls`` needs: ``<entity permission>.<action>``."""
    return f"{getattr(cls, '__permission__', cls.__table__.name)}.{action}"


# --------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------


def submit(ctx, record):
    """Submit the draft ``record``: from now on it cannot be changed; then
    ``fixdesk_document_submitted`` is called.

    :raise PermissionDenied: without ``<entity permission>.submit``.
    :raise NotFound: a record of a branch the user cannot see.
    :raise Conflict: the record is not a draft (also when another user submitted it
        a moment ago).
    """
    entity = _entity(record)
    ctx.require(permission_of(type(record), "submit"), record)
    record = _locked(ctx, record)
    state = state_of(record)
    if state is DocStatus.SUBMITTED:
        raise Conflict(_("{document} is submitted already").format(
            document=document_name(record)))
    if state is DocStatus.CANCELLED:
        raise Conflict(_("{document} is cancelled: amend it to make a new draft").format(
            document=document_name(record)))
    with ctx.session.begin_nested():
        with _sanctioned(ctx.session, record):
            record.docstatus = DocStatus.SUBMITTED
            record.submitted_at = ctx.now()
        ctx.hook.fixdesk_document_submitted(ctx=ctx, entity=entity, record=record)
        ctx.session.flush()
    return record


def cancel(ctx, record, reason: str):
    """Cancel the submitted ``record`` for ``reason``; then ``fixdesk_document_cancelled``
    is called, where the owner posts reversing entries. When an implementation raises,
    the record stays submitted and nothing of the cancel is written.

    :raise ValidationError: no reason, or a reason longer than 500 characters.
    :raise Conflict: the record is a draft or cancelled already.
    """
    entity = _entity(record)
    ctx.require(permission_of(type(record), "cancel"), record)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError(_("give the reason for cancelling"), field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(_("at most {n} characters").format(n=MAX_REASON), field="reason")
    record = _locked(ctx, record)
    state = state_of(record)
    if state is DocStatus.DRAFT:
        raise Conflict(_("{document} is a draft: only a submitted document can be "
                         "cancelled").format(document=document_name(record)))
    if state is DocStatus.CANCELLED:
        raise Conflict(_("{document} is cancelled already").format(
            document=document_name(record)))
    with ctx.session.begin_nested():
        with _sanctioned(ctx.session, record):
            record.docstatus = DocStatus.CANCELLED
            record.cancelled_at = ctx.now()
            record.cancel_reason = reason
        ctx.hook.fixdesk_document_cancelled(ctx=ctx, entity=entity, record=record)
        ctx.session.flush()
    return record


def amend(ctx, record):
    """A new draft copied from the cancelled ``record``: its own columns (keys, number,
    state and timestamps aside) and its child rows (entities whose
    ``__submittable_parent__`` names it, unless they set ``__amend_copy__ = False``),
    numbered ``<original number>-<n>`` and linking ``record`` in ``amended_from_id``;
    then ``fixdesk_document_amended`` is called.

    :return: the new draft.
    :raise Conflict: the record is not cancelled, or was amended already.
    """
    entity = _entity(record)
    cls = type(record)
    ctx.require(permission_of(cls, "amend"), record)
    record = _locked(ctx, record)
    if state_of(record) is not DocStatus.CANCELLED:
        raise Conflict(_("{document} is not cancelled: only a cancelled document can be "
                         "amended").format(document=document_name(record)))
    existing = amendment_of(ctx.session, record)
    if existing is not None:
        raise Conflict(_("{document} was amended already as {amendment}").format(
            document=document_name(record), amendment=document_name(existing)))
    with ctx.session.begin_nested():
        draft = cls(**_copied(record, skip=LIFECYCLE_FIELDS))
        draft.docstatus = DocStatus.DRAFT
        draft.amended_from_id = record.id
        draft.amendment_no = (record.amendment_no or 0) + 1
        number_field = getattr(cls, "__number_field__", "number")
        number = getattr(record, number_field, None) if number_field in _columns(cls) \
            else None
        if number:
            base = _base_number(number, record.amendment_no or 0)
            setattr(draft, number_field, f"{base}-{draft.amendment_no}")
        ctx.session.add(draft)
        ctx.session.flush()
        for child, column in children_of(ctx.app.registry.classes, cls):
            if not getattr(child, "__amend_copy__", True):
                continue
            key = getattr(child, column)
            rows = ctx.session.scalars(select(child).where(key == record.id)
                                       .order_by(*inspect(child).primary_key))
            for row in list(rows):
                copy = child(**_copied(row, skip=(column,)))
                setattr(copy, column, draft.id)
                ctx.session.add(copy)
        ctx.session.flush()
        ctx.hook.fixdesk_document_amended(ctx=ctx, entity=entity, record=draft,
                                          amended_from=record)
        ctx.session.flush()
    return draft


def amendment_of(session, record):
    """The amendment made of the cancelled ``record``, if any (the session's branch scope
    applies)."""
    cls = type(record)
    return session.scalars(select(cls).where(cls.amended_from_id == record.id)
                           .order_by(cls.id).limit(1)).first()


def refuse_writing(ctx, record, *, deleting: bool = False) -> None:
    """Refuse with :class:`Conflict`, before anything is written, to change (or delete)
    ``record`` when it is a submitted or cancelled document, or a child row of one (the
    generic update and delete ask this first; the flush would refuse anyway)."""
    if is_submittable(record) and record.id is not None:
        state = state_of(record)
        if state is not DocStatus.DRAFT:
            message = _("{document} is {state}: only drafts can be deleted") if deleting \
                else _("{document} is {state} and cannot be changed")
            raise Conflict(message.format(document=document_name(record),
                                          state=_(STATE_WORDS[state])))
    declared = getattr(type(record), "__submittable_parent__", None)
    if declared is not None:
        column, parent = declared
        if isinstance(parent, str):
            parent = ctx.app.entity_class(parent)
        parent_id = getattr(record, column)
        found = ctx.session.get(parent, parent_id) if parent_id is not None else None
        if found is not None and state_of(found) is not DocStatus.DRAFT:
            raise Conflict(_child_refusal(document_name(found), state_of(found),
                                          type(record)))


def prepare_new(ctx, record) -> None:
    """Before the generic create adds ``record``: a child row of a submitted document is
    refused, a new record (draft) of an entity with a ``__naming_series__`` gets its
    number."""
    refuse_writing(ctx, record)
    number_new_draft(ctx, record)


def number_new_draft(ctx, record) -> None:
    """Give a new draft of an entity with a ``__naming_series__`` its number, unless it has
    one (the generic create calls this; call it in your own services too)."""
    cls = type(record)
    series = getattr(cls, "__naming_series__", None)
    field = getattr(cls, "__number_field__", "number")
    if not series or getattr(record, field, None) not in (None, ""):
        return
    from kernel.models import Branch
    from kernel.numbering import next_number

    branch_id = getattr(record, "branch_id", None)
    branch = ctx.session.get(Branch, branch_id) if branch_id is not None else ctx.branch
    setattr(record, field, next_number(ctx, series, branch=branch))


def _entity(record) -> str:
    if not is_submittable(record):
        raise TypeError(f"{type(record).__name__} does not use SubmittableMixin")
    return type(record).__table__.name


def _locked(ctx, record):
    """``record`` as it is in the database now, its row locked until the transaction ends
    (pending changes are flushed first: a draft's last edits are kept)."""
    cls = type(record)
    ctx.session.flush()
    found = ctx.session.scalars(
        select(cls).where(cls.id == record.id).with_for_update()
        .execution_options(populate_existing=True)).first()
    if found is None:  # deleted meanwhile
        raise Conflict(_("{document} does not exist any more").format(
            document=document_name(record)))
    return found


@contextmanager
def _sanctioned(session, record):
    """Let the block's changes of ``record``'s state through the guard (flushed at the
    end of the block)."""
    allowed = session.info.setdefault(SANCTIONED_KEY, set())
    allowed.add(id(record))
    try:
        yield
        session.flush()
    finally:
        allowed.discard(id(record))


def _columns(cls) -> set[str]:
    return {attr.key for attr in inspect(cls).column_attrs}


def _copied(row, skip: Iterable[str] = ()) -> dict:
    """The values of ``row``'s own columns to copy: keys, timestamps and ``skip`` aside,
    and the number of a document."""
    cls = type(row)
    left_out = {"created_at", "updated_at", *skip}
    if is_submittable(cls):
        left_out.add(getattr(cls, "__number_field__", "number"))
    values = {}
    for attr in inspect(cls).column_attrs:
        if attr.key in left_out or any(c.primary_key for c in attr.columns):
            continue
        values[attr.key] = getattr(row, attr.key)
    return values


def _base_number(number: str, amendment_no: int) -> str:
    """The original's number of an amendment's (``SE-1-2`` of the 2nd amendment: ``SE-1``)."""
    suffix = f"-{amendment_no}"
    if amendment_no and number.endswith(suffix):
        return number[: -len(suffix)]
    return number


def children_of(classes: dict[str, type], parent: type) -> list[tuple[type, str]]:
    """The child entities of the submittable ``parent`` among ``classes`` (table → class):
    ``[(child class, column holding the parent's id)]``."""
    table = parent.__table__.name
    return [(cls, declared[0]) for cls in classes.values()
            if (declared := getattr(cls, "__submittable_parent__", None)) is not None
            and (declared[1] if isinstance(declared[1], str)
                 else declared[1].__table__.name) == table]


# --------------------------------------------------------------------------
# the generic actions
# --------------------------------------------------------------------------


def _is(state: DocStatus):
    return lambda record: record.docstatus == state


def _amendable(record) -> bool:
    if record.docstatus != DocStatus.CANCELLED:
        return False
    session = object_session(record)
    return session is None or amendment_of(session, record) is None


def lifecycle_actions(classes: dict[str, type]) -> list[Action]:
    """The actions ``submit``, ``cancel`` and ``amend`` of every submittable entity among
    ``classes`` (table → class), as the kernel registers them."""
    found = []
    for table, cls in classes.items():
        if not is_submittable(cls):
            continue
        offered = getattr(cls, "__lifecycle_actions__", LIFECYCLE_ACTIONS)
        if "submit" in offered:
            found.append(Action(table, "submit", N_("Submit"), submit,
                                permission_of(cls, "submit"),
                                available=_is(DocStatus.DRAFT)))
        if "cancel" in offered:
            found.append(Action(table, "cancel", N_("Cancel document"), cancel,
                                permission_of(cls, "cancel"),
                                available=_is(DocStatus.SUBMITTED),
                                params=(Param("reason", "text", label=N_("Reason for cancelling"),
                                              required=True, max_length=MAX_REASON),)))
        if "amend" in offered:
            found.append(Action(table, "amend", N_("Amend"), amend,
                                permission_of(cls, "amend"), available=_amendable))
    return found


# --------------------------------------------------------------------------
# the guard: submitted rows never change
# --------------------------------------------------------------------------


def submittable_parents(classes: dict[str, type]) -> dict[type, tuple[str, type]]:
    """Child entities frozen with their parent, among ``classes`` (table → class):
    ``{class: (column holding the parent's id, parent class)}``."""
    from kernel.entities import declared_parents

    return declared_parents(classes, "__submittable_parent__", is_submittable)


def install_guard(sessions, classes: dict[str, type]) -> None:
    """Refuse, in sessions of ``sessions`` (a sessionmaker), to flush a change of a
    submitted or cancelled row of ``classes`` (table → class) or of a child row of one, a
    state change the lifecycle's services did not make, and deleting anything but a
    draft: the flush raises :class:`~kernel.errors.Conflict` naming the document."""
    parents = submittable_parents(classes)
    if not parents and not any(is_submittable(c) for c in classes.values()):
        return

    def refuse_changing_submitted(session, _flush_context, _instances) -> None:
        sanctioned = session.info.get(SANCTIONED_KEY, ())
        stored: dict[tuple[type, int], DocStatus | None] = {}
        for obj in session.dirty:
            changed = _changed(obj)
            if not changed:
                continue
            if isinstance(obj, SubmittableMixin):
                state = _stored_state(session, obj)
                if changed & set(LIFECYCLE_FIELDS) and id(obj) not in sanctioned:
                    raise Conflict(_("{document}: its state changes only by submitting, "
                                     "cancelling or amending it").format(
                                         document=document_name(obj)))
                kept = set(LIFECYCLE_FIELDS) | set(getattr(type(obj), "__update_after_submit__",
                                                           ()))
                if changed - kept and state is not DocStatus.DRAFT:
                    raise Conflict(_("{document} is {state} and cannot be changed").format(
                        document=document_name(obj), state=_(STATE_WORDS[state])))
            if type(obj) in parents:
                _check_child(session, obj, parents[type(obj)], stored)
        for obj in session.deleted:
            if isinstance(obj, SubmittableMixin):
                state = _stored_state(session, obj)
                if state is not DocStatus.DRAFT:
                    raise Conflict(_("{document} is {state}: only drafts can be deleted")
                                   .format(document=document_name(obj),
                                           state=_(STATE_WORDS[state])))
            if type(obj) in parents:
                _check_child(session, obj, parents[type(obj)], stored)
        for obj in session.new:
            if type(obj) in parents:
                _check_child(session, obj, parents[type(obj)], stored)

    event.listen(sessions, "before_flush", refuse_changing_submitted)


def _changed(obj) -> set[str]:
    """The columns and collections of ``obj`` this flush would change."""
    state = inspect(obj)
    mapper = state.mapper
    keys = [attr.key for attr in mapper.column_attrs]
    keys += [rel.key for rel in mapper.relationships if rel.uselist]
    return {key for key in keys if state.attrs[key].history.has_changes()}


def _stored_state(session, obj) -> DocStatus:
    """The state of ``obj`` as written (before this flush's changes)."""
    history = inspect(obj).attrs.docstatus.history
    known = history.deleted or history.unchanged
    if known and known[0] is not None:
        return DocStatus(known[0])
    table = type(obj).__table__
    found = session.connection().execute(
        select(table.c.docstatus).where(table.c.id == obj.id)).scalar()
    return DocStatus(found) if found is not None else DocStatus.DRAFT


def _check_child(session, obj, declared: tuple[str, type], stored: dict) -> None:
    """Refuse writing the child row ``obj`` when its parent (before or after the change)
    is submitted or cancelled."""
    column, parent = declared
    for parent_id in _parent_ids(obj, column, parent):
        key = (parent, parent_id)
        if key not in stored:
            table = parent.__table__
            found = session.connection().execute(
                select(table.c.docstatus, table.c.id,
                       *([table.c[parent.__number_field__]]
                         if parent.__number_field__ in table.c else []))
                .where(table.c.id == parent_id)).first()
            stored[key] = found
        found = stored[key]
        if found is None or DocStatus(found[0]) is DocStatus.DRAFT:
            continue
        document = _named(parent, found[1], found[2] if len(found) > 2 else None)
        raise Conflict(_child_refusal(document, DocStatus(found[0]), type(obj)))


def _child_refusal(document: str, state: DocStatus, child: type) -> str:
    title = getattr(child, "__title__", None)
    return _("{document} is {state}: its {child} cannot be changed").format(
        document=document, state=_(STATE_WORDS[state]),
        child=_(title) if title else child.__table__.name)


def _parent_ids(obj, column: str, parent: type) -> set[int]:
    """The ids of the parents the child row ``obj`` had and has: by its column, and by a
    relationship to the parent (set before the flush fills the column in)."""
    state = inspect(obj)
    history = state.attrs[column].history
    ids = {*history.added, *history.unchanged, *history.deleted}
    for rel in state.mapper.relationships:
        if rel.uselist or not issubclass(rel.mapper.class_, parent):
            continue
        related = state.attrs[rel.key].history
        for other in (*related.added, *related.unchanged, *related.deleted):
            identity = inspect(other).identity if other is not None else None
            if identity:
                ids.add(identity[0])
    return ids - {None}
