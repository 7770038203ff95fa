"""Admin console section: users.

``/desk/admin/users`` lists the accounts (search, paged by user name) with a form for a
new one; ``/desk/admin/users/<username>`` is one account: its details, roles and extra
branches, enabling and disabling it (which ends its sessions and revokes its API
tokens), a new password, its API tokens and its failed logins. Every write calls the
service the ``fixdesk user ...`` commands call (:mod:`kernel.auth`); a password or token
made here is shown once, on the page answering the form, and never again.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from kernel.auth import (
    MAX_TOKEN_DAYS,
    User,
    add_user,
    create_token,
    generate_password,
    get_user,
    list_users,
    login_failures,
    reset_password,
    revoke_token,
    role_title,
    set_active,
    set_branches,
    set_roles,
    token_state,
    unlock_user,
    update_user,
    user_tokens,
)
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.masterdata import branch_by_code
from kernel.models import Branch
from kernel.web.desk.admin.shell import admin_context, read_form, render_admin, token
from kernel.web.desk.render import DeskRoute, redirect

PAGE_SIZE = 50
BASE = "/desk/admin/users"
#: what a finished write says on the page it leads to (``?done=<key>``)
DONE = {
    "created": N_("The user was created."),
    "saved": N_("Saved."),
    "disabled": N_("The account is disabled: its desk sessions ended and its API tokens "
                   "were revoked."),
    "enabled": N_("The account is enabled again."),
    "password": N_("The password was changed and the account unlocked."),
    "unlocked": N_("The account is unlocked."),
    "revoked": N_("The API token was revoked."),
}
#: the fields of the forms: a refusal naming one is shown under it
USER_FIELDS = {"username", "full_name", "email", "home_branch", "roles", "branches",
               "company_wide", "password"}
PAGE_FIELDS = USER_FIELDS | {"active", "name", "days"}
REFUSED = (ValidationError, NotFound, Conflict)


# --------------------------------------------------------------------------
# reading the forms
# --------------------------------------------------------------------------


def _one(form: dict, key: str) -> str:
    """A field sent once (a repeated one is refused)."""
    value = form.get(key, "")
    if not isinstance(value, str):
        raise ValidationError(_("this field was sent more than once"), field=key)
    return value


def _many(form: dict, key: str) -> list[str]:
    """The values of a field that may repeat (checkboxes)."""
    value = form.get(key, [])
    values = value if isinstance(value, list) else [value]
    return [v for v in values if v]


def _branch(ctx, code: str, field: str) -> Branch:
    """The branch with ``code``, refused under ``field`` when there is none."""
    if not code.strip():
        raise ValidationError(_("choose a branch"), field=field)
    try:
        return branch_by_code(ctx.session, code.strip()[:20])
    except NotFound:
        raise ValidationError(_("unknown branch {code!r}").format(code=code[:20]),
                              field=field) from None


def _profile_values(form: dict) -> dict:
    """What the account form sent, to fill it in again after a refusal."""
    def text(key):
        value = form.get(key, "")
        return value if isinstance(value, str) else ""

    return {"username": text("username"), "full_name": text("full_name"),
            "email": text("email"), "home_branch": text("home_branch"),
            "roles": _many(form, "roles"), "branches": _many(form, "branches"),
            "company_wide": bool(form.get("company_wide"))}


def _refusal(exc, fields: set[str]) -> tuple[dict, str | None]:
    """(field → message, or the message for the page's top when it names no field)."""
    if exc.field in fields:
        return {exc.field: exc.message}, None
    return {}, exc.message


# --------------------------------------------------------------------------
# what the pages show
# --------------------------------------------------------------------------


def _when(ctx, value) -> str:
    return value.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _url(username: str) -> str:
    return f"{BASE}/{quote(username, safe='')}"


def _branches(ctx) -> list[Branch]:
    return list(ctx.session.scalars(select(Branch).order_by(Branch.code)))


def _roles(ctx) -> list[tuple[str, str]]:
    from kernel.auth import site_roles

    return [(role, role_title(ctx.app, role)) for role in site_roles(ctx.app)]


def _locked_until(ctx, user: User) -> str:
    return _when(ctx, user.locked_until) if user.locked_until and \
        user.locked_until > ctx.now() else ""


def _summary(ctx, user: User, codes: dict[int, str]) -> dict:
    """One user as the list shows him."""
    return {
        "username": user.username, "full_name": user.full_name, "url": _url(user.username),
        "home": codes.get(user.home_branch_id, ""),
        "roles": [role_title(ctx.app, r) for r in user.roles],
        "branches": sorted(codes.get(r.branch_id, "") for r in user.branch_rows),
        "company_wide": user.sees_all_branches, "active": user.active,
        "locked_until": _locked_until(ctx, user), "last_login": _when(ctx, user.last_login_at),
    }


def _form_values(user: User, codes: dict[int, str]) -> dict:
    return {"username": user.username, "full_name": user.full_name, "email": user.email or "",
            "home_branch": codes.get(user.home_branch_id, ""), "roles": list(user.roles),
            "branches": [codes.get(r.branch_id, "") for r in user.branch_rows],
            "company_wide": user.company_wide}


def _list_page(request: Request, ctx, q: str = "", after: str = "", *, status: int = 200,
               values: dict | None = None, errors: dict | None = None,
               problem: str | None = None, notice: str | None = None):
    branches = _branches(ctx)
    codes = {b.id: b.code for b in branches}
    found, next_after = list_users(ctx, q, after[:60] or None, PAGE_SIZE)
    more = f"{BASE}?{'q=' + quote(q) + '&' if q else ''}after={quote(next_after)}" \
        if next_after else None
    return render_admin(
        request, "users.html", ctx, "users", _("Users"), status=status, notice=notice,
        problem=problem, users=[_summary(ctx, u, codes) for u in found], q=q,
        first_url=f"{BASE}?q={quote(q)}" if after else None, more_url=more,
        branches=branches, roles=_roles(ctx), errors=errors or {},
        values=values or {"username": "", "full_name": "", "email": "", "home_branch": "",
                          "roles": [], "branches": [], "company_wide": False})


#: a token's state (:func:`kernel.auth.token_state`) as the page says it
TOKEN_STATES = {"revoked": N_("revoked"), "expired": N_("expired"), "active": N_("active")}


def _user_page(request: Request, ctx, user: User, *, status: int = 200,
               values: dict | None = None, errors: dict | None = None,
               problem: str | None = None, notice: str | None = None,
               secret: str | None = None, secret_title: str | None = None):
    branches = _branches(ctx)
    codes = {b.id: b.code for b in branches}
    tokens = []
    for row in user_tokens(ctx, user):
        state = token_state(row, ctx.now())
        state_text = _(TOKEN_STATES[state])
        tokens.append({"id": row.id, "name": row.name, "created": _when(ctx, row.created_at),
                       "expires": _when(ctx, row.expires_at),
                       "last_used": _when(ctx, row.last_used_at), "state": state,
                       "state_text": state_text})
    failures = [{"at": _when(ctx, f.at), "address": f.address}
                for f in login_failures(ctx, user.username)]
    is_self = ctx.user is not None and ctx.user.id == user.id
    return render_admin(
        request, "user.html", ctx, "users", user.full_name, status=status, notice=notice,
        problem=problem, user=user, url=_url(user.username), summary=_summary(ctx, user, codes),
        values=values or _form_values(user, codes), errors=errors or {}, branches=branches,
        roles=_roles(ctx), tokens=tokens, failures=failures, is_self=is_self,
        created=_when(ctx, user.created_at), secret=secret, secret_title=secret_title,
        max_days=MAX_TOKEN_DAYS, default_days=ctx.setting("kernel.token_default_days"))


# --------------------------------------------------------------------------
# the writes
# --------------------------------------------------------------------------


def _create(request: Request, form: dict):
    values = _profile_values(form)
    try:
        with admin_context(request, csrf=token(form)) as ctx:
            home = _branch(ctx, _one(form, "home_branch"), "home_branch")
            extra = [_branch(ctx, code, "branches") for code in _many(form, "branches")]
            typed = _one(form, "password")
            secret = None if typed else generate_password()
            user = add_user(ctx, _one(form, "username"), _one(form, "full_name"),
                            typed or secret, home, roles=_many(form, "roles"),
                            extra_branches=extra, company_wide=bool(form.get("company_wide")),
                            email=_one(form, "email") or None)
            if secret:  # shown on this answer only: nowhere is it kept
                return _user_page(request, ctx, user, notice=_(DONE["created"]), secret=secret,
                                  secret_title=_("The new user's password"))
            username = user.username
        return redirect(f"{_url(username)}?done=created")
    except REFUSED as exc:
        failure = exc
    errors, problem = _refusal(failure, USER_FIELDS)
    with admin_context(request, csrf=token(form)) as ctx:
        return _list_page(request, ctx, status=failure.status, values=values, errors=errors,
                          problem=problem)


def _change(request: Request, form: dict, username: str, change, done: str | None,
            values=None):
    """Run ``change(ctx, user)`` on the account; its answer is the page to show (a secret
    made once), else go to the account's page saying ``done``. A refusal shows the page
    again with the message under its field, and nothing changed."""
    try:
        with admin_context(request, csrf=token(form)) as ctx:
            user = get_user(ctx.session, username)
            answer = change(ctx, user)
            if answer is not None:
                return answer
        return redirect(f"{_url(username)}?done={done}")
    except REFUSED as exc:
        if isinstance(exc, NotFound) and exc.field == "username":
            raise
        failure = exc
    errors, problem = _refusal(failure, PAGE_FIELDS)
    with admin_context(request, csrf=token(form)) as ctx:
        user = get_user(ctx.session, username)
        return _user_page(request, ctx, user, status=failure.status, errors=errors,
                          problem=problem, values=values)


def _save(request: Request, form: dict, username: str):
    def change(ctx, user):
        home = _branch(ctx, _one(form, "home_branch"), "home_branch")
        extra = [_branch(ctx, code, "branches") for code in _many(form, "branches")]
        update_user(ctx, user, _one(form, "full_name"), _one(form, "email") or None, home,
                    company_wide=bool(form.get("company_wide")))
        set_roles(ctx, user, _many(form, "roles"))
        set_branches(ctx, user, extra)

    values = _profile_values(form)
    values["username"] = username
    return _change(request, form, username, change, "saved", values)


def _active(request: Request, form: dict, username: str):
    def change(ctx, user):
        wanted = _one(form, "active")
        if wanted not in ("0", "1"):
            raise ValidationError(_("say whether the account is to be active"), field="active")
        set_active(ctx, user, wanted == "1")

    done = "enabled" if form.get("active") == "1" else "disabled"
    return _change(request, form, username, change, done)


def _password(request: Request, form: dict, username: str):
    def change(ctx, user):
        secret = reset_password(ctx, user, _one(form, "password") or None)
        if secret:
            return _user_page(request, ctx, user, notice=_(DONE["password"]), secret=secret,
                              secret_title=_("The new password"))
        return None

    return _change(request, form, username, change, "password")


def _unlock(request: Request, form: dict, username: str):
    return _change(request, form, username, lambda ctx, user: unlock_user(ctx, user) and None,
                   "unlocked")


def _new_token(request: Request, form: dict, username: str):
    def change(ctx, user):
        days_text = _one(form, "days").strip()
        days = None
        if days_text:
            if not days_text.isdigit() or len(days_text) > 5:
                raise ValidationError(_("days must be a whole number from 1 to {n}").format(
                    n=MAX_TOKEN_DAYS), field="days")
            days = int(days_text)
        # empty: the site's default lifetime; 0: never expires
        _row, secret = create_token(ctx, user, _one(form, "name"), days or None,
                                    never=days == 0)
        return _user_page(request, ctx, user, notice=_("The API token was created."),
                          secret=secret, secret_title=_("The new API token"))

    return _change(request, form, username, change, None)


def _revoke(request: Request, form: dict, username: str, token_id: str):
    def change(ctx, user):
        number = int(token_id) if token_id.isdigit() and len(token_id) < 12 else 0
        revoke_token(ctx, number, owner=user)

    return _change(request, form, username, change, "revoked")


# --------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(BASE)
    def users_page(request: Request, q: str = "", after: str = "", done: str = ""):
        with admin_context(request) as ctx:
            notice = _(DONE[done]) if done in DONE else None
            return _list_page(request, ctx, q[:100], after, notice=notice)

    @routes.post(BASE)
    async def create(request: Request):
        form = await read_form(request)
        return await run_in_threadpool(_create, request, form)

    @routes.get(BASE + "/{username}")
    def user_page(request: Request, username: str, done: str = ""):
        with admin_context(request) as ctx:
            user = get_user(ctx.session, username)
            notice = _(DONE[done]) if done in DONE else None
            return _user_page(request, ctx, user, notice=notice)

    def post(path: str, handler):
        async def endpoint(request: Request, username: str):
            form = await read_form(request)
            return await run_in_threadpool(handler, request, form, username)

        routes.add_api_route(BASE + "/{username}" + path, endpoint, methods=["POST"])

    post("", _save)
    post("/active", _active)
    post("/password", _password)
    post("/unlock", _unlock)
    post("/tokens", _new_token)

    @routes.post(BASE + "/{username}/tokens/{token_id}/revoke")
    async def revoke(request: Request, username: str, token_id: str):
        form = await read_form(request)
        return await run_in_threadpool(_revoke, request, form, username, token_id)

    return routes
