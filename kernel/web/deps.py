"""Who is calling: a desk session cookie (with CSRF on writes) or an API bearer token.

Every request that touches data runs inside :func:`request_context`: one
transaction, a :class:`~kernel.context.Context` for the authenticated user,
committed when the handler returns and rolled back when it raises.
"""

from __future__ import annotations

import hmac
from contextlib import contextmanager

from fastapi import Request

from kernel.auth import AuthenticationFailed, PermissionDenied, User, user_for_token
from kernel.db import utcnow
from kernel.i18n import _
from kernel.web.sessions import find_session

SESSION_COOKIE = "fixdesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def app_of(request: Request):
    return request.app.state.fixdesk


def client_address(request: Request) -> str:
    """The client's address: the socket peer, or the address a trusted proxy forwarded
    (``[web] trusted_proxies``; :class:`kernel.web.proxies.TrustedProxies` has set it)."""
    return request.client.host if request.client else "unknown"


class SessionExpired(AuthenticationFailed):
    """The desk session ended (idle too long, or too old): log in again."""


def session_setting(app, session, key: str) -> int:
    """A ``kernel.session_*`` setting (read within the request's own transaction)."""
    return app.context_in(session).setting(key)


def _authenticate(request: Request, session, now) -> tuple[User, str | None]:
    """The user behind the request and, for a cookie session, its CSRF token."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed(_("use Authorization: Bearer <token>"))
        return user_for_token(session, token.strip(), now), None
    token = request.cookies.get(SESSION_COOKIE)
    idle = session_setting(app_of(request), session, "kernel.session_idle_minutes") \
        if token else 0
    web_session, ended = find_session(session, token, now, idle)
    if ended:
        raise SessionExpired(_("Your session has ended: log in again."))
    if web_session is None:
        raise AuthenticationFailed(_("log in first"))
    user = session.get(User, web_session.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed(_("log in first"))
    return user, web_session.csrf


def check_csrf(request: Request, expected: str | None, submitted: str | None) -> None:
    """Writes through a cookie session must carry the session's CSRF token."""
    if expected is None or request.method in SAFE_METHODS:
        return
    if not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDenied(_("missing or wrong CSRF token: reload the page"))


@contextmanager
def request_context(request: Request, *, csrf: str | None = None):
    """One transaction as the calling user (401 when nobody is logged in)."""
    from kernel.context import Context

    app = app_of(request)
    now = utcnow()
    with app.write_sessions.begin() as session:
        user, expected_csrf = _authenticate(request, session, now)
        request.state.user_id = user.id  # for the request's log line
        check_csrf(request, expected_csrf, csrf or request.headers.get(CSRF_HEADER))
        ctx = Context(session=session, app=app, user=user, clock=app.clock)
        ctx.csrf = expected_csrf
        yield ctx


def authentication_failure(request: Request) -> AuthenticationFailed | None:
    """Why the request's caller is not logged in (None when he is), checked in a
    transaction of its own that writes nothing (:mod:`kernel.web.errors`: 401 before 422)."""
    with app_of(request).sessions() as session:
        try:
            _authenticate(request, session, utcnow())
        except AuthenticationFailed as exc:
            return exc
        finally:
            session.rollback()
    return None

