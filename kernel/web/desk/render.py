"""Templates, the request's language and context, and HTML error pages for the desk.

Desk templates live in ``templates/desk/`` and resolve like printed papers:
the site's ``templates/`` first, then each enabled plugin's, then the kernel's.
Unlike papers they are our own code, so they run in a normal (not sandboxed)
Jinja2 environment, one per language.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.auth import AuthenticationFailed
from kernel.errors import FixdeskError, Unavailable
from kernel.failures import trouble
from kernel.i18n import N_, _, normalize_locale, translations, use_locale
from kernel.web.deps import SessionExpired, app_of, request_context

LOGGER = logging.getLogger("fixdesk.desk")
LANGUAGES = (("zh_CN", "中文"), ("en", "English"))
#: the last language chosen in this browser (for pages shown before the user is known)
LANG_COOKIE = "fixdesk_lang"
#: sent with every desk page: our own scripts and styles only, framed only by ourselves
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'self'; "
                               "frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def environment(app, locale: str) -> Environment:
    """The desk's Jinja2 environment for ``locale`` (built once per app and language)."""
    from kernel import template_code
    from kernel.documents.templating import search_path

    cache = app.__dict__.setdefault("_desk_envs", {})
    env = cache.get(locale)
    if env is None:
        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(folder))
                                 for _owner, folder in search_path(app)]),
            autoescape=True, undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
            trim_blocks=True, lstrip_blocks=True, auto_reload=False,
            bytecode_cache=template_code.for_environments("desk"))
        gettext = translations(locale)
        env.install_gettext_callables(gettext.gettext, gettext.ngettext, newstyle=True)
        env.globals["languages"] = LANGUAGES
        from kernel.web.desk.timeline_panel import home_mentions

        env.globals["home_mentions"] = home_mentions  # the home page's @mentions
        cache[locale] = env
    return env


def site_locale(request: Request) -> str:
    return normalize_locale(app_of(request).site.config.locale)


def guess_locale(request: Request) -> str:
    """The language before the user is known: the page's, the browser's last, or the site's."""
    known = getattr(request.state, "desk_locale", None)
    if known:
        return known
    hint = request.cookies.get(LANG_COOKIE)
    return normalize_locale(hint) if hint in ("zh_CN", "en") else site_locale(request)


def user_locale(request: Request, user) -> str:
    """The user's language, else the site's."""
    return normalize_locale(getattr(user, "locale", None) or site_locale(request))


def render(request: Request, template: str, status: int = 200, **values) -> HTMLResponse:
    """Render ``desk/<template>`` in the request's language."""
    app = app_of(request)
    locale = guess_locale(request)
    values.setdefault("ctx", None)
    values.setdefault("csrf", getattr(request.state, "desk_csrf", ""))
    if "company_name" not in values:  # only then: an error page may not reach the database
        values["company_name"] = _company_name(app)
    html = environment(app, locale).get_template(f"desk/{template}").render(
        request=request, locale=locale, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _company_name(app) -> str:
    """The company's short name for the page titles (read at most once a minute)."""
    name, read_at = app.__dict__.get("_desk_company", (None, 0.0))
    if name is None or time.monotonic() - read_at > 60:
        from sqlalchemy import select

        from kernel.models import Company

        with app.sessions() as session:  # a plain read: never waits for the write lock
            company = session.scalars(select(Company).order_by(Company.id).limit(1)).first()
            name = (company.short_name or company.name) if company else "fixdesk"
        app.__dict__["_desk_company"] = (name, time.monotonic())
    return name


@contextmanager
def desk_context(request: Request, *, csrf: str | None = None, writes: bool | None = None,
                 transaction: bool = True):
    """One transaction as the logged-in user, speaking the user's language (a read for a
    GET unless ``writes``, statements one by one when not ``transaction``:
    :func:`kernel.web.deps.request_context`).

    Not logged in: :class:`AuthenticationFailed`, which the desk's routes turn
    into a redirect to the login page.
    """
    with use_locale(guess_locale(request)), \
            request_context(request, csrf=csrf, writes=writes, transaction=transaction) as ctx:
        locale = user_locale(request, ctx.user)
        request.state.desk_locale = locale
        request.state.desk_csrf = ctx.csrf or ""
        with use_locale(locale):
            yield ctx


def redirect(url: str, status: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status, headers={"Cache-Control": "no-store"})


def login_redirect(request: Request, ended: bool = False) -> RedirectResponse:
    """To the login page, coming back here afterwards (for a GET); ``ended``: the session
    ended, which the login page says."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    flag = "ended=1" if ended else ""
    if request.method != "GET" or target == "/":
        return redirect("/login" + (f"?{flag}" if flag else ""))
    return redirect("/login?" + (f"{flag}&" if flag else "") + "next=" + quote(target, safe="/"))


TITLES = {
    400: N_("Bad request"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Not possible now"),
    422: N_("Invalid input"),
    413: N_("File too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Temporarily unavailable"),
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A page for a refused or failed request (never a stack trace)."""
    with use_locale(guess_locale(request)):
        title = _(TITLES.get(status, "Something went wrong"))
        extra = {}
        if status == 503:  # the database may be what failed: do not ask it the company
            cached = app_of(request).__dict__.get("_desk_company")
            extra["company_name"] = cached[0] if cached else "fixdesk"
        try:
            return render(request, "error.html", status, title=title, message=message,
                          code=status, **extra)
        except Exception:  # the error page itself failed: plain text, still no trace
            LOGGER.exception("desk error page failed")
            from html import escape

            return HTMLResponse(f"<!doctype html><title>{escape(title)}</title>"
                                f"<h1>{status} {escape(title)}</h1><p>{escape(message)}</p>",
                                status_code=status)


def failure_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, AuthenticationFailed):
        return login_redirect(request, ended=isinstance(exc, SessionExpired))
    if isinstance(exc, FixdeskError) and not isinstance(exc, Unavailable):
        return error_page(request, exc.status, exc.message)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 404, _("There is no such page."))
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code, str(exc.detail))
    problem = trouble(exc, app_of(request).site.path)  # disk full, read-only, database down
    if problem is not None:
        LOGGER.warning("%s on %s %s: %s", problem.code, request.method, request.url.path,
                       getattr(exc, "orig", None) or exc)
        page = error_page(request, 503, problem.message)
        page.headers["Retry-After"] = str(problem.retry_after)
        return page
    LOGGER.exception("desk error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500, _("The error was logged. Try again, or tell your "
                                      "administrator."))


def _failure_in_locale(request: Request, exc: Exception) -> Response:
    with use_locale(guess_locale(request)):
        return failure_response(request, exc)


class DeskRoute(APIRoute):
    """Desk routes answer HTML: errors become pages, a missing login a redirect to /login."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # every failure becomes a page, never a trace
                return await run_in_threadpool(_failure_in_locale, request, exc)

        return run
