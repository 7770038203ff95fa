"""Who is calling: a desk session cookie (with CSRF on writes) or an API bearer token.

Every request that touches data runs inside :func:`request_context`: one
transaction, a :class:`~kernel.context.Context` for the authenticated user,
committed when the handler returns and rolled back when it raises.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.exc import OperationalError

from kernel.auth import AuthenticationFailed, PermissionDenied, User, note_token_use
from kernel.db import refuse_writes, utcnow
from kernel.i18n import _
from kernel.web.sessions import find_session, note_seen, seen_is_stale

SESSION_COOKIE = "fixdesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: requests that only read: their transaction never takes SQLite's write lock
READ_METHODS = {"GET", "HEAD"}

LOGGER = logging.getLogger("fixdesk.web")


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


def _authenticate(request: Request, session, now,
                  later: list[Callable] | None = None) -> tuple[User, str | None]:
    """The user behind the request and, for a cookie session, its CSRF token. The use of
    the token or desk session is noted in ``session``, or, given ``later`` (a read), as a
    call of its own for after it (:func:`_write_later`)."""
    app = app_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed(_("use Authorization: Bearer <token>"))
        use = app.auth_cache.token_user(session, token.strip(), now)
        if use.stale_token is not None:
            _note(session, later, lambda s: note_token_use(s, use.stale_token, now))
        return use.user, None
    token = request.cookies.get(SESSION_COOKIE)
    idle = session_setting(app, session, "kernel.session_idle_minutes") if token else 0
    web_session, ended = find_session(session, token, now, idle, touch=False)
    if ended:
        raise SessionExpired(_("Your session has ended: log in again."))
    if web_session is None:
        raise AuthenticationFailed(_("log in first"))
    user = app.auth_cache.user(session, web_session.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed(_("log in first"))
    if seen_is_stale(web_session, now):
        session_id = web_session.id
        _note(session, later, lambda s: note_seen(s, session_id, now))
    return user, web_session.csrf


def _note(session, later: list[Callable] | None, write: Callable) -> None:
    """Write ``write(session)`` now, or keep it in ``later`` for after a read."""
    if later is None:
        write(session)
    else:
        later.append(write)


def _write_later(app, writes: list[Callable]) -> None:
    """What a read noted about its caller, in a short writing transaction of its own.
    Only bookkeeping: when it cannot be written (the database busy past its timeout, or
    gone), the read's answer stands and the log says so."""
    try:
        with app.write_sessions.begin() as session:
            for write in writes:
                write(session)
    except OperationalError as exc:
        LOGGER.warning("could not note the use of a token or desk session: %s",
                       str(exc.orig).splitlines()[0] if exc.orig else exc)


def check_csrf(request: Request, expected: str | None, submitted: str | None) -> None:
    """Writes through a cookie session must carry the session's CSRF token."""
    if expected is None or request.method in SAFE_METHODS:
        return
    if not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDenied(_("missing or wrong CSRF token: reload the page"))


@contextmanager
def request_context(request: Request, *, csrf: str | None = None,
                    writes: bool | None = None, transaction: bool = True):
    """One transaction as the calling user (401 when nobody is logged in).

    GET and HEAD run in a plain read (on SQLite a deferred transaction: it never takes the
    write lock, so readers queue neither behind each other nor behind writers); other
    methods in a writing one. A GET that writes in its transaction says so with
    ``writes=True`` (on SQLite a read cannot become a write once another has written).
    What a read notes about its caller (the last use of his token or desk session, at
    most every few minutes) is written after it, in a short transaction of its own.

    ``transaction=False``: a read whose statements need nothing of a transaction around
    them (no savepoint, no ``SET LOCAL``), such as a list or a record: on PostgreSQL it
    runs them one by one (``App.statement_reads``), two round trips fewer."""
    from kernel.context import Context

    app = app_of(request)
    now = utcnow()
    reading = request.method in READ_METHODS if writes is None else not writes
    later: list[Callable] | None = [] if reading else None
    try:
        sessions = app.write_sessions if not reading else \
            app.sessions if transaction else app.statement_reads
        with sessions.begin() as session:
            if reading:
                refuse_writes(session)
            user, expected_csrf = _authenticate(request, session, now, later)
            request.state.user_id = user.id  # for the request's log line
            check_csrf(request, expected_csrf, csrf or request.headers.get(CSRF_HEADER))
            ctx = Context(session=session, app=app, user=user, clock=app.clock)
            ctx.csrf = expected_csrf
            yield ctx
    finally:
        if later:
            _write_later(app, later)


def authentication_failure(request: Request) -> AuthenticationFailed | None:
    """Why the request's caller is not logged in (None when he is), checked in a
    transaction of its own that writes nothing (:mod:`kernel.web.errors`: 401 before 422)."""
    with app_of(request).sessions() as session:
        try:
            _authenticate(request, session, utcnow(), [])
        except AuthenticationFailed as exc:
            return exc
        finally:
            session.rollback()
    return None

