"""Logging in: checking a password against the account lock (R31), and the tables the
web layer keeps its sessions and per-address failure counts in.

The tables live here, in the kernel's core, because the kernel owns and migrates them
whether or not a web server runs; :mod:`kernel.web.sessions` works with them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from kernel.auth import (
    AuthenticationFailed,
    User,
    check_password,
    rehash_if_outdated,
    waste_a_check,
)
from kernel.db import Base, IdMixin, UTCDateTime
from kernel.i18n import _


class WebSession(IdMixin, Base):
    """A logged-in browser."""

    __tablename__ = "web_session"
    __expose__ = False
    __audited__ = False

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(IdMixin, Base):
    """One failed login, for throttling by address."""

    __tablename__ = "login_failure"
    __expose__ = False
    __audited__ = False

    address: Mapped[str] = mapped_column(String(64), index=True)
    username: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)


LOGIN_ENTITIES = [WebSession, LoginFailure]


def authenticate(app, username: str, password: str, now: dt.datetime) -> User:
    """Check a login; failures are counted in the database so every server process sees them.

    After ``kernel.login_max_attempts`` failures in a row the account is locked for
    ``kernel.login_lock_minutes`` (settings; 5 and 15 by default).
    Raises :class:`AuthenticationFailed` with the same message for every failure
    (no hint whether the user exists), except for a locked account.
    """
    wrong = AuthenticationFailed(_("wrong user name or password"))
    with app.write_sessions.begin() as session:
        limits = app.context_in(session)
        max_attempts = limits.setting("kernel.login_max_attempts")
        lock_minutes = limits.setting("kernel.login_lock_minutes")
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            waste_a_check()
            raise wrong
        if user.locked_until and user.locked_until > now:
            raise AuthenticationFailed(_("account locked after too many failed logins; "
                                         "try again later"))
        if check_password(user, password):
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            rehash_if_outdated(user, password)
            session.expunge(user)
            return user
        table = User.__table__
        failures = session.execute(
            update(table).where(table.c.id == user.id)
            .values(failed_logins=table.c.failed_logins + 1).returning(table.c.failed_logins)
        ).scalar_one()
        if failures >= max_attempts:
            session.execute(update(table).where(table.c.id == user.id).values(
                locked_until=now + dt.timedelta(minutes=lock_minutes), failed_logins=0))
    raise wrong
