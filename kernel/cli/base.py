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


@click.group(help=_("fixdesk: after-sales service ERP."))
@click.option("--site", "site_dir", envvar="FIXDESK_SITE", metavar="DIR",
              help=_("Site folder (or FIXDESK_SITE)."))
@click.version_option(package_name="fixdesk")
@click.pass_context
def cli(ctx: click.Context, site_dir: str | None) -> None:
    ctx.obj = CliState(site_dir)


def print_table(header: tuple[str, ...], rows) -> None:
    """A header line, then one tab-separated line per row (easy to cut or paste into a sheet)."""
    click.echo("\t".join(header))
    for row in rows:
        click.echo("\t".join("" if value is None else str(value) for value in row))


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]
