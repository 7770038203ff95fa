"""The ``fixdesk`` command.

Only click and light kernel modules are imported at start-up; each command
imports what it needs (SQLAlchemy, Alembic, FastAPI, WeasyPrint) so that
``fixdesk --help`` stays fast. Every user error prints one line and exits 2.
"""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager

import click

from kernel.errors import FixdeskError
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


# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------


def _fail(message: str) -> int:
    click.echo(_("error: {message}").format(message=message.strip().splitlines()[0]), err=True)
    return EXIT_USAGE


def _missing_table(exc: Exception) -> bool:
    """A table the code expects is not in the database (not migrated yet)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig)
    return "no such table" in text or type(exc.orig).__name__ == "UndefinedTable"


def _register_commands() -> None:
    from kernel.cli import (  # noqa: F401 - commands register themselves
        admin,
        calendar,
        ops,
        printing,
        reports,
        sites,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit code 2."""
    _register_commands()
    try:
        result = cli.main(args=argv, prog_name="fixdesk", standalone_mode=False)
    except FixdeskError as exc:
        return _fail(exc.message)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return _fail(_("aborted"))
    except click.ClickException as exc:
        return _fail(exc.format_message())
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError, OperationalError

        if _missing_table(exc):
            return _fail(_("the database schema is older than this fixdesk: run "
                           "`fixdesk migrate` ({error})").format(error=exc.orig or exc))
        if isinstance(exc, OperationalError):
            return _fail(_("database unavailable: {error}").format(error=exc.orig or exc))
        if isinstance(exc, IntegrityError):
            return _fail(_("refused by the database: {error}").format(error=exc.orig or exc))
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
