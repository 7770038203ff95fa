"""The ``fixdesk`` command group, its ``--site`` option and the helpers every command uses.

The commands themselves live in the modules beside this one and add themselves to
:data:`cli`; :func:`kernel.cli.main` runs it.
"""

from __future__ import annotations

import getpass
from contextlib import contextmanager

import click

from kernel.i18n import _

EXIT_USAGE = 2


class CliState:
    """The ``--site`` option, resolved lazily so commands without a site work anywhere."""

    def __init__(self, site_dir: str | None):
        self.site_dir = site_dir

    def site(self):
        from kernel.site import Site

        return Site.load(self.site_dir)

    def plugin_commands(self, quiet: bool = False) -> dict:
        """The commands the site's enabled plugins add, by name (none without a site;
        with ``quiet``, none when the site cannot be loaded)."""
        if self.site_dir is None:
            return {}
        if getattr(self, "_plugin_commands", None) is None:
            from kernel.errors import FixdeskError

            try:
                with self.app() as app:
                    answers = app.pm.hook.fixdesk_cli_commands()
            except FixdeskError:
                if not quiet:
                    raise
                return {}
            self._plugin_commands = {command.name: command for answer in answers
                                     for command in answer or ()}
        return self._plugin_commands

    @contextmanager
    def app(self):
        """The started site, closed afterwards."""
        app = self.site().start()
        try:
            yield app
        finally:
            app.close()

    @contextmanager
    def context(self, branch: str | None = None):
        """One transaction as the system (the CLI's operator), optionally for a branch."""
        with self.app() as app, app.context(branch=branch) as ctx:
            ctx.session.info["fixdesk_system_actor"] = f"cli:{getpass.getuser()}"
            from kernel.audit import set_actor

            set_actor(ctx.session, None)
            yield ctx


pass_state = click.make_pass_decorator(CliState)


class FixdeskGroup(click.Group):
    """The ``fixdesk`` group: its own commands, then those the site's plugins add
    (``fixdesk_cli_commands``), looked up only for a name it does not know."""

    def get_command(self, ctx: click.Context, name: str):
        found = super().get_command(ctx, name)
        if found is None:
            found = _state(ctx).plugin_commands().get(name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        if _state(ctx).site_dir:
            names = sorted({*names, *_state(ctx).plugin_commands(quiet=True)})
        return names


def _state(ctx: click.Context) -> CliState:
    """The command's :class:`CliState`, made from the parsed ``--site`` when the group's
    callback has not run yet (click resolves the subcommand before calling it)."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState(ctx.params.get("site_dir"))
    return ctx.obj


@click.group(cls=FixdeskGroup, help=_("fixdesk: after-sales service ERP."))
@click.option("--site", "site_dir", envvar="FIXDESK_SITE", metavar="DIR",
              help=_("Site folder (or FIXDESK_SITE)."))
@click.version_option(package_name="fixdesk")
@click.pass_context
def cli(ctx: click.Context, site_dir: str | None) -> None:
    if not isinstance(ctx.obj, CliState) or ctx.obj.site_dir != site_dir:
        ctx.obj = CliState(site_dir)


def print_table(header: tuple[str, ...], rows) -> None:
    """A header line, then one tab-separated line per row (easy to cut or paste into a sheet)."""
    click.echo("\t".join(header))
    for row in rows:
        click.echo("\t".join("" if value is None else str(value) for value in row))


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]
