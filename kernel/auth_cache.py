"""Who is calling, without loading him again on every request: the user behind an API token
or a desk session (with his roles, extra branches and home branch) and the permission
table, kept per server process and checked against the database on every use.

Each :class:`~kernel.site.App` keeps one :class:`AuthCache`. What it keeps is compared on
every request with what one cheap query reads, so that a change made by any process (the
other server workers, the CLI) counts from the next request on:

* a user is kept under his row's ``updated_at`` and the newest ``updated_at`` of the
  branches: disabling or locking him, a new password, new roles or extra branches
  (:func:`kernel.auth._touch_owner` moves his ``updated_at`` on for those) and any change of
  a branch load him afresh;
* a token's own state (revoked, expired) and its account's (disabled, locked) are read with
  that query on every request, as before;
* the permission table is kept under the number of role grants and the newest one's
  ``updated_at`` (grants are written, never deleted).

The kept user belongs to no session; each request gets its own copy in its session
(``merge(load=False)``: no query), so requests in different threads never share an object
that a session changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kernel.auth import (
    ApiToken,
    PermissionTable,
    RoleGrant,
    User,
    check_token,
    token_lookup,
    token_use_is_stale,
)
from kernel.models import Branch

#: where a session keeps the grants' version read with its caller, until it is used
GRANTS_READ = "fixdesk_grants_read"
#: users kept per process at most (beyond it the cache starts again)
MAX_USERS = 10_000

_tokens, _users, _branches = ApiToken.__table__, User.__table__, Branch.__table__
_grants = RoleGrant.__table__
_BRANCHES_CHANGED = select(func.max(_branches.c.updated_at)).scalar_subquery()
#: the permission table's version (:meth:`AuthCache.permissions`), read with the caller
_GRANTS = (select(func.count()).select_from(_grants).scalar_subquery().label("grants"),
           select(func.max(_grants.c.updated_at)).scalar_subquery().label("grants_changed"))
#: a token with what decides whether it still opens the API and whether its user is current
TOKEN_QUERY = (
    select(_tokens.c.id, _tokens.c.token_hash, _tokens.c.expires_at, _tokens.c.revoked_at,
           _tokens.c.last_used_at, _tokens.c.user_id, _users.c.active, _users.c.locked_until,
           _users.c.updated_at.label("user_changed"),
           _BRANCHES_CHANGED.label("branches_changed"), *_GRANTS)
    .join_from(_tokens, _users, _users.c.id == _tokens.c.user_id)
    .where(_tokens.c.lookup == bindparam("lookup")))
#: what decides whether a kept user is current
USER_QUERY = (select(_users.c.updated_at, _BRANCHES_CHANGED, *_GRANTS)
              .where(_users.c.id == bindparam("user_id")))
GRANTS_QUERY = select(func.count(), func.max(_grants.c.updated_at)).select_from(_grants)


@dataclass(frozen=True)
class TokenUse:
    """The user a request's token belongs to (in the request's session) and the token's
    id when its stored last use is due to be written (else None)."""

    user: User
    stale_token: int | None


class AuthCache:
    """Users and the permission table of one app, each checked on every use."""

    def __init__(self, app):
        self.app = app
        for sessions in app.session_factories:
            event.listen(sessions, "after_flush", _forget_grants_read)
        self._users: dict[int, tuple[tuple, User]] = {}
        self._permissions: tuple[tuple, PermissionTable] | None = None

    # -- users ----------------------------------------------------------------

    def token_user(self, session: Session, token: str, now: dt.datetime) -> TokenUse:
        """The user of bearer ``token``, as :func:`kernel.auth.user_for_token` finds and
        refuses him (the same messages), in one query when he is kept already. Writes
        nothing: the caller notes the token's use when :attr:`TokenUse.stale_token`."""
        # Core statements run on the connection: the session's ORM layer would only cost
        row = session.connection().execute(TOKEN_QUERY, {"lookup": token_lookup(token)}).first()
        check_token(token, row, row is not None and row.active,
                    row.locked_until if row is not None else None, now)
        user = self._user(session, row.user_id, (row.user_changed, row.branches_changed))
        session.info[GRANTS_READ] = (row.grants, row.grants_changed)
        return TokenUse(user, row.id if token_use_is_stale(row.last_used_at, now) else None)

    def user(self, session: Session, user_id: int) -> User | None:
        """User ``user_id`` in ``session`` (None when there is none), in one query when
        he is kept already."""
        found = session.connection().execute(USER_QUERY, {"user_id": user_id}).first()
        if found is None:
            return None
        session.info[GRANTS_READ] = (found.grants, found.grants_changed)
        return self._user(session, user_id, tuple(found)[:2])

    def _user(self, session: Session, user_id: int, version: tuple) -> User | None:
        kept = self._users.get(user_id)
        if kept is None or kept[0] != version:
            kept = self._load(session, user_id)
            if kept is None:
                return None
            if len(self._users) >= MAX_USERS:
                self._users.clear()
            self._users[user_id] = kept
        return session.merge(kept[1], load=False)

    def _load(self, session: Session, user_id: int) -> tuple[tuple, User] | None:
        """User ``user_id`` with what a request reads of him, loaded in a session of its
        own and left detached from it, and the version he was loaded at.

        That session reads on the connection of the request's ``session``: one of its own
        from the pool would make each request hold two at once, and as many concurrent
        requests as the pool has connections would wait for each other's second one."""
        with Session(bind=session.connection()) as own:
            user = own.scalar(select(User).where(User.id == user_id).options(
                joinedload(User.home_branch), selectinload(User.role_rows),
                selectinload(User.branch_rows)))
            if user is None:
                return None
            branches_changed = own.scalar(select(func.max(Branch.updated_at)))
        return (user.updated_at, branches_changed), user

    # -- permissions ------------------------------------------------------------

    def permissions(self, session: Session) -> PermissionTable:
        """The effective permission table (declared defaults changed by role grants), made
        again only when the grants changed. Their version is read with the caller when
        :meth:`token_user` or :meth:`user` found him in this ``session`` (one round trip
        less a request), used once: a request that grants a role sees its change."""
        fingerprint = session.info.pop(GRANTS_READ, None) \
            or tuple(session.connection().execute(GRANTS_QUERY).one())
        kept = self._permissions
        if kept is None or kept[0] != fingerprint:
            app = self.app
            table = PermissionTable(app.declared_permissions,
                                    session.scalars(select(RoleGrant)),
                                    app.registry.roles.values())
            kept = self._permissions = (fingerprint, table)
        return kept[1]


def _forget_grants_read(session: Session, _context) -> None:
    """A flush may have granted a role: the version read with the caller is past."""
    session.info.pop(GRANTS_READ, None)
