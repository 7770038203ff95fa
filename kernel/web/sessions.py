"""Desk sessions, CSRF tokens and login throttling, kept in the database.

A session is a random token in an HttpOnly cookie; only its SHA-256 is stored,
with the user, a CSRF token for the desk's forms, and an expiry. Kept in the
database so that several server processes share them. Failed logins are
counted per address as well as per account (the account lock lives in
:mod:`kernel.auth`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, func, select

from kernel.login import LoginFailure, WebSession

SESSION_HOURS = 12
ADDRESS_WINDOW = dt.timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20




def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session, user_id: int, now: dt.datetime, address: str | None) -> tuple[str, str]:
    """A new session for ``user_id``: returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(WebSession(token_hash=_digest(token), user_id=user_id, csrf=csrf,
                           created_at=now, expires_at=now + dt.timedelta(hours=SESSION_HOURS),
                           address=address))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token, csrf


def find_session(session, token: str | None, now: dt.datetime) -> WebSession | None:
    """The live session of a cookie token, or None."""
    if not token:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if found is None or found.expires_at <= now:
        return None
    return found


def close_session(session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def address_blocked(session, address: str, now: dt.datetime) -> bool:
    """Too many failed logins from this address lately."""
    failures = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address == address, LoginFailure.at > now - ADDRESS_WINDOW))
    return failures >= ADDRESS_MAX_FAILURES


def record_failure(session, address: str, username: str, now: dt.datetime) -> None:
    session.add(LoginFailure(address=address, username=username[:60], at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - ADDRESS_WINDOW))
