"""Commands for users and tokens, the audit trail, settings and per-branch hook switches."""

from __future__ import annotations

import sys

import click

from kernel.cli.base import (
    RECORD_ID,
    CliState,
    OutputFile,
    cli,
    pass_state,
    print_table,
    split_list,
    write_file,
)
from kernel.i18n import _


def _password(value: str | None, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if value:
        return value
    return click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)


# --------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------


@cli.group(help=_("Users, roles and API tokens."))
def user():
    pass


@user.command("add", help=_("Add a user."))
@click.argument("username")
@click.option("--name", "full_name", help=_("Full name."))
@click.option("--branch", "branch_code", required=True, help=_("Home branch code."))
@click.option("--roles", default="", metavar="A,B", help=_("Roles."))
@click.option("--branches", default="", metavar="X,Y", help=_("Extra branches."))
@click.option("--company-wide", is_flag=True, help=_("Sees every branch."))
@click.option("--email", help=_("E-mail address."))
@click.option("--password", help=_("Password (prompted when omitted)."))
@click.option("--password-stdin", is_flag=True, help=_("Read the password from standard input."))
@pass_state
def user_add(state: CliState, username, full_name, branch_code, roles, branches, company_wide,
             email, password, password_stdin):
    from kernel.auth import add_user
    from kernel.masterdata import get_branch

    with state.context() as ctx:
        home = get_branch(ctx, branch_code)
        extra = [get_branch(ctx, code) for code in split_list(branches)]
        added = add_user(ctx, username, full_name, _password(password, password_stdin), home,
                         roles=split_list(roles), extra_branches=extra,
                         company_wide=company_wide, email=email)
        click.echo(_("added user {username}").format(username=added.username))


@user.command("list", help=_("List users."))
@pass_state
def user_list(state: CliState):
    from sqlalchemy import select

    from kernel.auth import User

    with state.context() as ctx:
        rows = []
        for u in ctx.session.scalars(select(User).order_by(User.username)):
            branches = sorted({u.home_branch.code} | {ctx.session.get(
                type(u.home_branch), r.branch_id).code for r in u.branch_rows})
            scope = _("all") if u.sees_all_branches else ",".join(branches)
            rows.append((u.username, u.full_name, u.home_branch.code, ",".join(u.roles) or "-",
                         scope, _("active") if u.active else _("inactive")))
    print_table((_("USERNAME"), _("NAME"), _("BRANCH"), _("ROLES"), _("SEES"), _("STATE")), rows)


@user.command("set-roles", help=_("Replace a user's roles."))
@click.argument("username")
@click.argument("roles")
@pass_state
def user_set_roles(state: CliState, username, roles):
    from kernel.auth import get_user, set_roles

    with state.context() as ctx:
        set_roles(ctx, get_user(ctx.session, username), split_list(roles))
    click.echo(_("roles of {username}: {roles}").format(username=username, roles=roles))


@user.command("set-password", help=_("Set a user's password (and unlock the account)."))
@click.argument("username")
@click.option("--password", help=_("Password (prompted when omitted)."))
@click.option("--password-stdin", is_flag=True, help=_("Read the password from standard input."))
@pass_state
def user_set_password(state: CliState, username, password, password_stdin):
    from kernel.auth import get_user, set_password

    with state.context() as ctx:
        set_password(ctx, get_user(ctx.session, username), _password(password, password_stdin))
    click.echo(_("password of {username} changed").format(username=username))


@user.command("set-active", help=_("Activate or deactivate a user."))
@click.argument("username")
@click.argument("active", type=click.BOOL)
@pass_state
def user_set_active(state: CliState, username, active):
    from kernel.auth import get_user, set_active

    with state.context() as ctx:
        set_active(ctx, get_user(ctx.session, username), active)
    click.echo(_("{username} is now {state}").format(
        username=username, state=_("active") if active else _("inactive")))


@user.command("unlock", help=_("Unlock an account locked after failed logins."))
@click.argument("username")
@pass_state
def user_unlock(state: CliState, username):
    from kernel.auth import get_user, unlock_user

    with state.context() as ctx:
        unlock_user(ctx, get_user(ctx.session, username))
    click.echo(_("{username} is unlocked").format(username=username))


@user.command("set-branches", help=_("Replace a user's extra branches."))
@click.argument("username")
@click.argument("branches", default="")
@pass_state
def user_set_branches(state: CliState, username, branches):
    from kernel.auth import get_user, set_branches
    from kernel.masterdata import get_branch

    with state.context() as ctx:
        set_branches(ctx, get_user(ctx.session, username),
                     [get_branch(ctx, code) for code in split_list(branches)])
    click.echo(_("extra branches of {username}: {branches}").format(
        username=username, branches=branches.upper() or "-"))


@user.group("token", help=_("API tokens."))
def token():
    pass


def _expiry(text: str | None, days: int | None, tz):
    """``--expires``: ``30d`` (days from now), ``2027-01-01`` (the end of that day in the
    site's time zone) or ``never``; returns (days, expires_at, never)."""
    import datetime as dt

    from kernel.errors import ValidationError

    if text is None:
        return days, None, False
    if days is not None:
        raise ValidationError(_("give --expires or --days, not both"), field="expires")
    text = text.strip().lower()
    if text == "never":
        return None, None, True
    if text.endswith("d") and text[:-1].isdigit() and len(text) < 8:
        return int(text[:-1]), None, False
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("--expires takes a number of days (30d), a date "
                                "(2027-01-01) or never, not {value!r}").format(value=text),
                              field="expires") from None
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return None, end.astimezone(dt.UTC), False


@token.command("add", help=_("Create an API token; it is shown once."))
@click.argument("username")
@click.option("--name", default="", help=_("What the token is for."))
@click.option("--expires", metavar="30d|YYYY-MM-DD|never",
              help=_("When it stops working (default: the site's kernel.token_default_days)."))
@click.option("--days", type=click.IntRange(1, 3650), help=_("Expires after this many days."))
@pass_state
def token_add(state: CliState, username, name, expires, days):
    from kernel.auth import create_token, get_user

    with state.context() as ctx:
        days, expires_at, never = _expiry(expires, days, ctx.settings.tz)
        row, secret = create_token(ctx, get_user(ctx.session, username), name, days,
                                   expires_at=expires_at, never=never)
        token_id = row.id
        until = f"{row.expires_at.astimezone(ctx.settings.tz):%Y-%m-%d %H:%M}" \
            if row.expires_at else _("never")
    click.echo(_("token {id} for {username}, expires {until} (shown once, store it now):")
               .format(id=token_id, username=username, until=until))
    click.echo(secret)


@token.command("list", help=_("List API tokens (a user's, or everyone's); never their "
                              "secrets."))
@click.argument("username", required=False)
@pass_state
def token_list(state: CliState, username):
    from kernel.auth import get_user, list_tokens, token_state

    states = {"active": _("active"), "revoked": _("revoked"), "expired": _("expired")}
    with state.context() as ctx:
        owner = get_user(ctx.session, username) if username else None
        tz = ctx.settings.tz
        now = ctx.now()

        def when(moment):
            return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}" if moment else "-"

        rows = [(t.id, t.user.username, t.name, when(t.created_at), when(t.last_used_at),
                 when(t.expires_at), states[token_state(t, now)])
                for t in list_tokens(ctx, owner)]
    print_table((_("ID"), _("USER"), _("NAME"), _("CREATED"), _("LAST USED"), _("EXPIRES"),
                 _("STATE")), rows)


@token.command("revoke", help=_("Revoke an API token."))
@click.argument("token_id", type=RECORD_ID)
@pass_state
def token_revoke(state: CliState, token_id):
    from kernel.auth import revoke_token

    with state.context() as ctx:
        revoke_token(ctx, token_id)
    click.echo(_("token {id} revoked").format(id=token_id))


@cli.group(help=_("Roles and their permissions."))
def role():
    pass


@role.command("list", help=_("Permissions of each role (defaults changed by grants)."))
@click.argument("role_name", required=False)
@pass_state
def role_list(state: CliState, role_name):
    from kernel.auth import ADMIN, site_roles

    with state.context() as ctx:
        table = ctx.app.permissions(ctx.session)
        known = site_roles(ctx.app)
    for name in [role_name] if role_name else known:
        if name not in known:
            raise click.BadParameter(_("unknown role {role!r}").format(role=name))
        granted = _("everything") if name == ADMIN else \
            " ".join(sorted(table.by_role.get(name, ()))) or "-"
        click.echo(f"{name}\t{granted}")


def _grant(state: CliState, role_name: str, permission: str, granted: bool) -> None:
    from kernel.auth import set_grant

    with state.context() as ctx:
        set_grant(ctx, role_name, permission, granted)
    click.echo(_("{role}: {permission} {state}").format(
        role=role_name, permission=permission,
        state=_("granted") if granted else _("revoked")))


@role.command("grant", help=_("Give a role a permission (entity.action)."))
@click.argument("role_name")
@click.argument("permission")
@pass_state
def role_grant(state: CliState, role_name, permission):
    _grant(state, role_name, permission, True)


@role.command("revoke", help=_("Take a permission away from a role."))
@click.argument("role_name")
@click.argument("permission")
@pass_state
def role_revoke(state: CliState, role_name, permission):
    _grant(state, role_name, permission, False)


# --------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------


@cli.command(help=_("Print the change history of one record."))
@click.argument("entity")
@click.argument("record_id")
@pass_state
def audit(state: CliState, entity, record_id):
    import json

    from kernel.audit import history
    from kernel.labels import entity_title

    with state.app() as app, app.sessions() as session:
        rows = history(session, entity, record_id)
        tz = app.site.config.tz
        if not rows:
            raise click.ClickException(_("no history for {entity} {id}").format(
                entity=entity_title(app, entity), id=record_id))
        for row in rows:
            when = row.at.astimezone(tz).isoformat(sep=" ", timespec="seconds")
            click.echo(f"{when}  {row.actor}  {row.action}")
            for field, (old, new) in row.changes.items():
                click.echo(f"    {field}: {json.dumps(old, ensure_ascii=False)} → "
                           f"{json.dumps(new, ensure_ascii=False)}")


@cli.command("audit-search", help=_("Search the audit trail by user, record type, record "
                                    "and days; newest first, or into an Excel file."))
@click.option("--user", "username", metavar="USER", help=_("Changes made by this user."))
@click.option("--entity", metavar="TABLE", help=_("Changes of records of this table."))
@click.option("--record", "record_id", metavar="ID", help=_("Changes of this record."))
@click.option("--from", "start", metavar="YYYY-MM-DD", help=_("From this day (included)."))
@click.option("--to", "end", metavar="YYYY-MM-DD", help=_("Up to this day (included)."))
@click.option("--limit", type=click.IntRange(1, 100_000), default=None,
              help=_("At most this many changes (default: 50 on the screen, 100000 in a "
                     "file)."))
@click.option("--xlsx", "xlsx_file", type=OutputFile(),
              metavar="FILE", help=_("Write them to an Excel file instead."))
@pass_state
def audit_search(state: CliState, username, entity, record_id, start, end, limit, xlsx_file):
    from kernel.audit import EXPORT_MAX, MAX_LIMIT, PAGE, search_audit
    from kernel.audit_view import export_audit, read_entries

    filters = {"user": username, "entity": entity, "record_id": record_id, "start": start,
               "end": end}
    with state.context() as ctx:
        if xlsx_file:
            data = export_audit(ctx, **filters, max_rows=limit or EXPORT_MAX)
        else:
            wanted, entries, before = limit or PAGE, [], None
            while len(entries) < wanted:  # page by key, as the desk does
                page = search_audit(ctx, **filters, before=before,
                                    limit=min(MAX_LIMIT, wanted - len(entries)))
                entries += read_entries(ctx, page.rows)
                if page.older is None:
                    break
                before = page.older
            rows = [(f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.entity_title, e.record_id,
                     e.record, e.action_title, "; ".join(e.change_lines())) for e in entries]
    if xlsx_file:
        write_file(xlsx_file, data)
        click.echo(_("wrote {path}").format(path=xlsx_file))
        return
    print_table((_("TIME"), _("USER"), _("RECORD TYPE"), _("ID"), _("RECORD"), _("ACTION"),
                 _("CHANGES")), rows)


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------


@cli.group(help=_("Settings that plugins declare, per site or per branch."))
def settings():
    pass


@settings.command("list", help=_("Every declared setting with its value."))
@click.option("--branch", "branch_code", help=_("Show the values for this branch."))
@pass_state
def settings_list(state: CliState, branch_code):
    from kernel.settings import format_value, get_setting, type_name

    with state.context(branch=branch_code) as ctx:
        rows = []
        for key, setting in ctx.app.settings_registry.items():
            value = get_setting(ctx, key, ctx.branch)
            scope = _("branch") if setting.per_branch else _("site")
            rows.append((key, format_value(value), type_name(setting.type), scope,
                         _(setting.description)))
    print_table((_("KEY"), _("VALUE"), _("TYPE"), _("SCOPE"), _("DESCRIPTION")), rows)


@settings.command("set", help=_("Set a setting site-wide or for one branch."))
@click.argument("key")
@click.argument("value")
@click.option("--branch", "branch_code", help=_("Only for this branch."))
@pass_state
def settings_set(state: CliState, key, value, branch_code):
    from kernel.settings import format_value, set_setting

    with state.context(branch=branch_code) as ctx:
        stored = set_setting(ctx, key, value, ctx.branch)
    click.echo(f"{key} = {format_value(stored)}")


@settings.command("unset", help=_("Remove a setting's stored value, site-wide or one branch's "
                                   "override, so that the default applies again."))
@click.argument("key")
@click.option("--branch", "branch_code", help=_("Only this branch's override."))
@pass_state
def settings_unset(state: CliState, key, branch_code):
    from kernel.settings import clear_setting, format_value, get_setting

    with state.context(branch=branch_code) as ctx:
        removed = clear_setting(ctx, key, ctx.branch)
        now = format_value(get_setting(ctx, key, ctx.branch))
    template = _("{key} unset, now {value}") if removed else \
        _("{key} was not set, it is {value}")
    click.echo(template.format(key=key, value=now))


# --------------------------------------------------------------------------
# hooks
# --------------------------------------------------------------------------


@cli.group(help=_("Switch plugins' hook implementations on or off per branch."))
def hooks():
    pass


@hooks.command("list", help=_("Every plugin hook implementation and where it is off."))
@click.option("--branch", "branch_code", help=_("Show the state for this branch."))
@pass_state
def hooks_list(state: CliState, branch_code):
    from kernel.hookswitch import hook_matrix

    with state.context(branch=branch_code) as ctx:
        rows = []
        for row in hook_matrix(ctx):
            if ctx.branch is not None:
                state_text = _("off") if ctx.branch.code in row.off else _("on")
            else:
                state_text = (_("off in {branches}").format(branches=",".join(row.off))
                              if row.off else _("on"))
            rows.append((row.plugin, row.hook, state_text))
    print_table((_("PLUGIN"), _("HOOK"), _("STATE")), rows)


def _switch(state: CliState, plugin: str, hook: str, branch_code: str, enabled: bool) -> None:
    from kernel.hookswitch import switch

    with state.context(branch=branch_code) as ctx:
        changed = switch(ctx, plugin, hook, ctx.branch, enabled)
    template = _("{plugin}.{hook} switched {state} for {branch}") if changed else \
        _("{plugin}.{hook} was already {state} for {branch}")
    click.echo(template.format(plugin=plugin, hook=hook, branch=branch_code.upper(),
                               state=_("on") if enabled else _("off")))


@hooks.command("disable", help=_("Switch a plugin's hook implementation off for a branch."))
@click.argument("plugin")
@click.argument("hook")
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@pass_state
def hooks_disable(state: CliState, plugin, hook, branch_code):
    _switch(state, plugin, hook, branch_code, False)


@hooks.command("enable", help=_("Switch a plugin's hook implementation back on for a branch."))
@click.argument("plugin")
@click.argument("hook")
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@pass_state
def hooks_enable(state: CliState, plugin, hook, branch_code):
    _switch(state, plugin, hook, branch_code, True)
