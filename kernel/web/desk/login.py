"""Logging in and out, and the user's language.

Failed logins are throttled per account and address, per account, and (only against
very high rates) per address, by :func:`kernel.login.authenticate`; an address that must
wait is answered 429 with ``Retry-After``. The session cookie is HttpOnly and
SameSite=Lax, and Secure when the desk is served over HTTPS (as a trusted proxy says).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel.auth import AuthenticationFailed, User
from kernel.db import utcnow
from kernel.errors import ValidationError
from kernel.i18n import SUPPORTED, _, normalize_locale, use_locale
from kernel.login import LoginThrottled, authenticate
from kernel.web.deps import SESSION_COOKIE, app_of, client_address, session_setting
from kernel.web.desk.render import (
    LANG_COOKIE,
    DeskRoute,
    desk_context,
    guess_locale,
    redirect,
    render,
)
from kernel.web.sessions import close_session, open_session


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or target.startswith("/login"):
        return "/"
    return target


def _login_locale(request: Request, chosen: str | None) -> str:
    if chosen in SUPPORTED:
        request.state.desk_locale = chosen
    return guess_locale(request)


def _set_lang_cookie(response, locale: str, secure: bool) -> None:
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, httponly=True,
                        samesite="lax", secure=secure)


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/login")
    def login_form(request: Request, next: str | None = None, lang: str | None = None,
                   ended: str | None = None):
        locale = _login_locale(request, lang)
        with use_locale(locale):
            response = render(request, "login.html", next=safe_next(next), username="",
                              error=_("Your session has ended: log in again.") if ended
                              else None)
        if lang in SUPPORTED:
            _set_lang_cookie(response, lang, request.url.scheme == "https")
        return response

    @routes.post("/login")
    async def login(request: Request):
        form = await request.form()
        return await run_in_threadpool(_login, request, form)

    def _login(request: Request, form):
        app = app_of(request)
        locale = _login_locale(request, form.get("lang"))
        username = str(form.get("username", "")).strip()[:60]
        password = str(form.get("password", ""))
        target = safe_next(form.get("next"))
        address = client_address(request)
        now = utcnow()
        with use_locale(locale):
            try:
                user = authenticate(app, username, password, now, address)
            except LoginThrottled as exc:
                response = render(request, "login.html", 429, next=target, username=username,
                                  error=exc.message)
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            except AuthenticationFailed as exc:
                return render(request, "login.html", 401, next=target, username=username,
                              error=exc.message)
            with app.write_sessions.begin() as session:
                max_hours = session_setting(app, session, "kernel.session_max_hours")
                token, _csrf = open_session(session, user.id, now, address, max_hours)
        response = redirect(target)
        secure = request.url.scheme == "https"
        response.set_cookie(SESSION_COOKIE, token, max_age=max_hours * 3600, httponly=True,
                            samesite="lax", secure=secure, path="/")
        _set_lang_cookie(response, normalize_locale(user.locale or app.site.config.locale),
                         secure)
        return response

    @routes.get("/logout")
    def logout_page(request: Request):
        with desk_context(request) as ctx:
            return render(request, "logout.html", ctx=ctx, user=ctx.user)

    @routes.post("/logout")
    async def logout(request: Request):
        form = await request.form()
        return await run_in_threadpool(_logout, request, form)

    def _logout(request: Request, form):
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            close_session(ctx.session, request.cookies.get(SESSION_COOKIE))
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return response

    @routes.post("/desk/language")
    async def language(request: Request):
        form = await request.form()
        return await run_in_threadpool(_language, request, form)

    def _language(request: Request, form):
        chosen = form.get("locale")
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            if chosen not in SUPPORTED:
                raise ValidationError(_("unsupported language"), field="locale")
            set_own_locale(ctx, chosen)
        response = redirect(safe_next(form.get("next")))
        _set_lang_cookie(response, chosen, request.url.scheme == "https")
        return response

    return routes


def set_own_locale(ctx, locale: str) -> None:
    """The user's own language preference (no permission needed: it is their own)."""
    user = ctx.session.get(User, ctx.user.id)
    user.locale = locale
    ctx.session.flush()
