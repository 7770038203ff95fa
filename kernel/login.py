"""Logging in: checking a password against the throttles (R31), and the tables the web
layer keeps its sessions and failed logins in.

Failed logins are throttled three ways, so that an office behind one address (NAT) is
never locked out because of one person's typos or one attacker:

* per account and address: after ``kernel.login_address_account_attempts`` (5) failures
  of one account from one address within ``kernel.login_window_minutes`` (15), that
  address must wait (429, with the seconds to wait) before trying that account again;
  the same account from another address, and other accounts from that address, go on;
* per address, only against very high rates: after ``kernel.login_address_attempts``
  (100) failures from one address within the window, an account that failed there gets
  no further try from there until its failures leave the window; an account that has not
  failed there logs in as usual;
* per account: after ``kernel.login_max_attempts`` (10) failures in a row from anywhere,
  the account is locked for ``kernel.login_lock_minutes`` (15), even with the right
  password (and its API tokens stop working meanwhile).

The tables live here, in the kernel's core, because the kernel owns and migrates them
whether or not a web server runs; :mod:`kernel.web.sessions` works with them.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from kernel.auth import (
    AuthenticationFailed,
    User,
    check_password,
    rehash_if_outdated,
    waste_a_check,
)
from kernel.db import Base, IdMixin, UTCDateTime
from kernel.errors import FixdeskError
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
    #: the latest a session lives, however busy (``kernel.session_max_hours`` after login)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    #: the last request seen, to at most a minute (None: not since logging in)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(IdMixin, Base):
    """One failed login, for throttling by account and address."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_address", "username", "address"),)
    __expose__ = False
    __audited__ = False

    address: Mapped[str] = mapped_column(String(64), index=True)
    username: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)


LOGIN_ENTITIES = [WebSession, LoginFailure]


class LoginThrottled(FixdeskError):
    """Too many failed logins: wait ``retry_after`` seconds (HTTP 429, ``Retry-After``)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _wait(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _throttled(session, limits, address: str, username: str, now: dt.datetime) -> None:
    """Raise :class:`LoginThrottled` when ``address`` must wait before trying ``username``."""
    window = dt.timedelta(minutes=limits.setting("kernel.login_window_minutes"))
    per_pair = limits.setting("kernel.login_address_account_attempts")
    recent = LoginFailure.at > now - window
    pair = list(session.scalars(select(LoginFailure.at).where(
        LoginFailure.address == address, LoginFailure.username == username, recent)
        .order_by(LoginFailure.at.desc()).limit(per_pair)))
    if not pair:
        return  # an account that has not failed here is never held up by the address
    if len(pair) >= per_pair:
        wait = _wait(pair[-1] + window, now)  # when the oldest of them leaves the window
    else:
        from_address = session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.address == address, recent))
        if from_address < limits.setting("kernel.login_address_attempts"):
            return
        wait = _wait(pair[0] + window, now)  # when this account's failures have all left
    raise LoginThrottled(_("Too many failed logins for this account from your address: "
                           "try again in {minutes} minutes.").format(
                               minutes=math.ceil(wait / 60)), wait)


def authenticate(app, username: str, password: str, now: dt.datetime,
                 address: str | None = None) -> User:
    """Check a login; failures are counted in the database so every server process sees
    them (the throttles are described at the top of this module).

    ``address`` is the client's (see :func:`kernel.web.deps.client_address`); without it
    (the command line) only the account lock applies. Raises :class:`LoginThrottled` when
    the address must wait, and :class:`AuthenticationFailed` with the same message for
    every wrong user name or password (no hint whether the user exists), except for a
    locked account.
    """
    wrong = AuthenticationFailed(_("wrong user name or password"))
    with app.write_sessions.begin() as session:
        limits = app.context_in(session)
        if address is not None:
            _throttled(session, limits, address, username, now)
        max_attempts = limits.setting("kernel.login_max_attempts")
        lock_minutes = limits.setting("kernel.login_lock_minutes")
        user = session.scalar(select(User).where(User.username == username))
        failure = wrong
        if user is not None and user.active and user.locked_until \
                and user.locked_until > now:
            # still a failure of this address (throttled as such), not one more in a row
            failure = AuthenticationFailed(_("account locked after too many failed logins; "
                                             "try again later"))
        elif user is None or not user.active:
            waste_a_check()
        elif check_password(user, password):
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            rehash_if_outdated(user, password)
            session.expunge(user)
            return user
        else:
            table = User.__table__
            failures = session.execute(
                update(table).where(table.c.id == user.id)
                .values(failed_logins=table.c.failed_logins + 1)
                .returning(table.c.failed_logins)).scalar_one()
            if failures >= max_attempts:
                session.execute(update(table).where(table.c.id == user.id).values(
                    locked_until=now + dt.timedelta(minutes=lock_minutes), failed_logins=0))
        if address is not None:
            window = dt.timedelta(minutes=limits.setting("kernel.login_window_minutes"))
            session.add(LoginFailure(address=address[:64], username=username[:60], at=now))
            # kept as long as the longest window could ask for; the admin page shows them
            session.execute(delete(LoginFailure).where(
                LoginFailure.at < now - max(window, dt.timedelta(minutes=15))))
    raise failure
