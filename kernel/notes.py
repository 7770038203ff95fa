"""Notes staff write on any record, and the colleagues they @mention.

A note belongs to one record of any exposed entity (its table and id) and takes the
record's branch, so it is seen by exactly those who see the record. ``@username`` in
a note mentions that colleague: the note is listed on his home page until he opens
the record. Writing a note needs the record's read permission and ``note.create``
(every staff role by default); reading notes needs the record's read permission.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from kernel.contributions import Permission
from kernel.db import Base, IdMixin, UTCDateTime, is_read_only, utcnow
from kernel.errors import ValidationError
from kernel.i18n import _
from kernel.record_access import branch_of, find_record, may_read
from kernel.values import BIDI_CONTROLS

#: the longest note people may write (characters)
MAX_NOTE_LENGTH = 4000
#: how many mentions the home page lists at most
MENTIONS_SHOWN = 20
#: ``@name`` not preceded by a letter, a digit or a dot (so e-mail addresses are not it)
MENTION = re.compile(r"(?<![\w.@])@([\w.-]{1,60})")


class Note(IdMixin, Base):
    """A note a user wrote on one record (entity table + id), in the record's branch."""

    __tablename__ = "record_note"
    __expose__ = False  # read and written through the record it is about
    __table_args__ = (Index("ix_record_note_entity_record", "entity", "record_id",
                            "created_at"),)

    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentions: Mapped[list[NoteMention]] = relationship(
        lambda: NoteMention, back_populates="note", cascade="all, delete-orphan",
        order_by=lambda: NoteMention.id)

    @property
    def mentioned(self) -> list[str]:
        """The user names this note mentions, in the order written."""
        return [m.username for m in self.mentions]


class NoteMention(IdMixin, Base):
    """One colleague a note mentions; ``seen_at`` is set when he opens the record."""

    __tablename__ = "record_note_mention"
    __expose__ = False
    __audited__ = False  # "seen" is not a business change
    __table_args__ = (UniqueConstraint("note_id", "user_id"),
                      Index("ix_record_note_mention_user_seen", "user_id", "seen_at"))

    note_id: Mapped[int] = mapped_column(ForeignKey("record_note.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(60))
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    note: Mapped[Note] = relationship(lambda: Note, back_populates="mentions")


NOTE_ENTITIES = [Note, NoteMention]
#: every staff role may write notes (admins hold every permission)
NOTE_PERMISSIONS = [Permission("note", "create", ("branch_manager", "service_supervisor",
                                                  "front_desk", "engineer",
                                                  "warehouse_keeper", "accountant"))]


# --------------------------------------------------------------------------
# checking what people type
# --------------------------------------------------------------------------


def clean_body(body) -> str:
    """The note as stored: line ends made ``\\n``, outer blank space removed; refuses an
    empty note, one longer than :data:`MAX_NOTE_LENGTH` and control characters, with a
    :class:`ValidationError` naming ``body``."""
    if not isinstance(body, str):
        raise ValidationError(_("must be text"), field="body")
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError(_("write something first"), field="body")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError(_("at most {n} characters").format(n=MAX_NOTE_LENGTH),
                              field="body")
    for ch in text:
        if ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch not in "\n\t"):
            raise ValidationError(_("must not contain control characters"), field="body")
    return text


def mentioned_names(body: str) -> list[str]:
    """What follows each ``@`` of ``body`` (before a space or punctuation), in order: a
    user name, or a user name with more text glued to it ("@wanggong请带"), which
    :func:`_mentioned_users` cuts to the longest name of a user."""
    return list(dict.fromkeys(MENTION.findall(body)))


def _mentioned_users(ctx, body: str) -> list:
    """The active users ``body`` mentions: for each ``@word``, the user whose name is
    the longest start of the word (one query for all of them)."""
    from kernel.auth import User

    words = mentioned_names(body)
    prefixes = {w[:n] for w in words for n in range(1, len(w) + 1)}
    if not prefixes:
        return []
    users = {u.username: u for u in ctx.session.scalars(
        select(User).where(User.username.in_(prefixes), User.active.is_(True))
        .options(selectinload(User.role_rows), selectinload(User.branch_rows)))}
    found = {}
    for word in words:
        for n in range(len(word), 0, -1):
            user = users.get(word[:n])
            if user is not None:
                found[user.id] = user
                break
    return list(found.values())


# --------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------


def add_note(ctx, entity: str, record_id: int, body: str) -> Note:
    """Write a note on the record ``entity`` / ``record_id`` as the acting user.

    Each ``@username`` of an active user mentions him: the note appears on his home page
    until he opens the record. A mention of a colleague who may not read the record (in
    another branch, or without the entity's read permission) is refused, naming
    ``body``; so are empty and too long notes and control characters. The record must
    be readable by the author (else :class:`NotFound`), who needs ``note.create``.
    """
    info, record = find_record(ctx, entity, record_id)
    ctx.require("note.create", record)
    text = clean_body(body)
    branch_id = branch_of(ctx, record)
    mentioned = [u for u in _mentioned_users(ctx, text)
                 if ctx.user is None or u.id != ctx.user.id]
    if mentioned:
        with ctx.session.no_autoflush:
            permissions = ctx.app.permissions(ctx.session)
        blind = [u.username for u in mentioned if not may_read(u, info, branch_id, permissions)]
        if blind:
            raise ValidationError(_("{users} may not see this record: remove the @").format(
                users=", ".join(blind)), field="body")
    user_id, actor = (ctx.user.id, ctx.user.username) if ctx.user else (None, "system")
    note = Note(entity=info.name, record_id=record.id, branch_id=branch_id, body=text,
                author_id=user_id, author=actor, created_at=ctx.now())
    note.mentions = [NoteMention(user_id=u.id, username=u.username) for u in mentioned]
    ctx.session.add(note)
    ctx.session.flush()
    return note


def notes_of(ctx, entity: str, record_id: int, *, before: dt.datetime | None = None,
             limit: int = 50) -> list[Note]:
    """The notes of a record the user may read, newest first (at most ``limit``, older
    than ``before`` when given), with their mentions."""
    info, record = find_record(ctx, entity, record_id)
    query = select(Note).where(Note.entity == info.name, Note.record_id == record.id)
    if before is not None:
        query = query.where(Note.created_at < before)
    query = query.order_by(Note.created_at.desc(), Note.id.desc()).limit(max(1, limit))
    return list(ctx.session.scalars(query.options(selectinload(Note.mentions))))


def _visible_notes(ctx):
    """Conditions for notes in branches the acting user sees (all for company-wide)."""
    user = ctx.user
    if user is None or user.sees_all_branches:
        return []
    return [or_(Note.branch_id.is_(None), Note.branch_id.in_(user.branch_ids))]


def mentions_for(ctx, unseen_only: bool = True, limit: int = MENTIONS_SHOWN
                 ) -> list[NoteMention]:
    """The mentions of the acting user, newest first, each with its note (``.note``):
    only those not seen yet unless ``unseen_only`` is false; only on records of entities
    the user may still read, in branches he still sees."""
    if ctx.user is None:
        return []
    query = (select(NoteMention).join(Note, Note.id == NoteMention.note_id)
             .where(NoteMention.user_id == ctx.user.id, *_visible_notes(ctx))
             .options(selectinload(NoteMention.note))
             .order_by(Note.created_at.desc(), NoteMention.id.desc()).limit(limit))
    if unseen_only:
        query = query.where(NoteMention.seen_at.is_(None))
    exposed = ctx.app.exposed
    return [m for m in ctx.session.scalars(query)
            if m.note.entity in exposed and ctx.can(exposed[m.note.entity].perm("read"))]


def unseen_count(ctx) -> int:
    """How many mentions of the acting user wait to be seen (one query)."""
    if ctx.user is None:
        return 0
    return ctx.session.scalar(
        select(func.count()).select_from(NoteMention).join(Note, Note.id == NoteMention.note_id)
        .where(NoteMention.user_id == ctx.user.id, NoteMention.seen_at.is_(None),
               *_visible_notes(ctx)))


def mark_seen(ctx, entity: str, record_id: int) -> int:
    """Mark the acting user's mentions in the notes of one record as seen (he opened
    it); returns how many were new. One statement, nothing when there are none."""
    if ctx.user is None:
        return 0
    return _mark_seen(ctx.session, ctx.user.id, entity, record_id, ctx.now())


def mark_seen_apart(ctx, entity: str, record_id: int) -> int:
    """:func:`mark_seen`, also from a request that only reads: there the mentions are
    looked up in its transaction and, when some are new, marked in a short writing
    transaction of its own (:func:`kernel.db.refuse_writes`)."""
    if ctx.user is None:
        return 0
    if not is_read_only(ctx.session):
        return mark_seen(ctx, entity, record_id)
    unseen = ctx.session.scalar(select(NoteMention.id).where(
        NoteMention.user_id == ctx.user.id, NoteMention.seen_at.is_(None),
        NoteMention.note_id.in_(_notes_of(entity, record_id))).limit(1))
    if unseen is None:
        return 0
    with ctx.app.write_sessions.begin() as session:
        return _mark_seen(session, ctx.user.id, entity, record_id, ctx.now())


def _notes_of(entity: str, record_id: int):
    return select(Note.id).where(Note.entity == entity, Note.record_id == record_id)


def _mark_seen(session, user_id: int, entity: str, record_id: int, now) -> int:
    result = session.execute(
        update(NoteMention).where(NoteMention.user_id == user_id,
                                  NoteMention.seen_at.is_(None),
                                  NoteMention.note_id.in_(_notes_of(entity, record_id)))
        .values(seen_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


def mentionable_users(ctx, entity: str, record_id: int, text: str = "",
                      limit: int = 10) -> list[tuple[str, str]]:
    """Active colleagues who may read the record and whose user name or full name starts
    with or contains ``text``: ``[(username, full name)]``, for the @ list of the note box."""
    from kernel.auth import COMPANY_WIDE_ROLES, User, UserBranch, UserRole

    info, record = find_record(ctx, entity, record_id)
    branch_id = branch_of(ctx, record)
    text = (text or "").strip()[:60]
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(User).where(User.active.is_(True))
    if branch_id is not None:  # those who see the record's branch
        query = query.where(or_(
            User.company_wide.is_(True), User.home_branch_id == branch_id,
            User.id.in_(select(UserBranch.user_id).where(UserBranch.branch_id == branch_id)),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(COMPANY_WIDE_ROLES)))))
    if text:
        query = query.where(or_(User.username.ilike(like, escape="\\"),
                                User.full_name.ilike(like, escape="\\")))
    candidates = ctx.session.scalars(
        query.order_by(User.username).limit(limit * 3)
        .options(selectinload(User.role_rows), selectinload(User.branch_rows)))
    with ctx.session.no_autoflush:
        permissions = ctx.app.permissions(ctx.session)
    found = [(u.username, u.full_name) for u in candidates
             if may_read(u, info, branch_id, permissions)
             and (ctx.user is None or u.id != ctx.user.id)]
    return found[:limit]
