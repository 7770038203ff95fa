"""Desk sessions and CSRF tokens, kept in the database.

A session is a random token in an HttpOnly cookie; only its SHA-256 is stored,
with the user, a CSRF token for the desk's forms, and an expiry. Kept in the
database so that several server processes share them.

A session ends after ``kernel.session_idle_minutes`` (8 hours) without a request, and
``kernel.session_max_hours`` (7 days) after logging in however busy. It slides on use
without a write per request: the last request is stored to at most a minute.
Failed logins are throttled in :mod:`kernel.login`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select

from kernel.auth import SESSION_IDLE_MINUTES, SESSION_MAX_HOURS
from kernel.login import WebSession

#: how stale the stored last request may be: a session is written at most once a minute
SEEN_PRECISION = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session, user_id: int, now: dt.datetime, address: str | None,
                 max_hours: int = SESSION_MAX_HOURS) -> tuple[str, str]:
    """A new session for ``user_id`` that lives at most ``max_hours``: returns (cookie
    token, CSRF token). Sessions past their latest end are removed on the way."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(WebSession(token_hash=_digest(token), user_id=user_id, csrf=csrf,
                           created_at=now, expires_at=now + dt.timedelta(hours=max_hours),
                           address=address, last_seen_at=now))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token, csrf


def find_session(session, token: str | None, now: dt.datetime,
                 idle_minutes: int = SESSION_IDLE_MINUTES, *,
                 touch: bool = True) -> tuple[WebSession | None, bool]:
    """The live session of a cookie token and whether the cookie named a session that has
    ended (idle too long, or past its latest end): ``(session, False)``,
    ``(None, True)``, or ``(None, False)`` for no or an unknown cookie. With ``touch`` the
    session's last request moves to ``now`` when it is stale (:func:`seen_is_stale`);
    without, the caller does it (:func:`note_seen`)."""
    if not token:
        return None, False
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if found is None:
        return None, False
    seen = found.last_seen_at or found.created_at
    if found.expires_at <= now or seen + dt.timedelta(minutes=idle_minutes) <= now:
        return None, True
    if touch and seen_is_stale(found, now):
        found.last_seen_at = now
    return found, False


def seen_is_stale(found: WebSession, now: dt.datetime) -> bool:
    """Whether a session's stored last request is older than :data:`SEEN_PRECISION`."""
    return now - (found.last_seen_at or found.created_at) >= SEEN_PRECISION


def note_seen(session, session_id: int, now: dt.datetime) -> None:
    """Store ``now`` as the last request of desk session ``session_id`` (one UPDATE),
    unless a request within :data:`SEEN_PRECISION` did already."""
    table = WebSession.__table__
    session.execute(table.update().where(
        table.c.id == session_id,
        (table.c.last_seen_at.is_(None)) | (table.c.last_seen_at < now - SEEN_PRECISION))
        .values(last_seen_at=now))


def close_session(session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
