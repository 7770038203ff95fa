"""The ``fixdesk`` command.

Only click and light kernel modules are imported at start-up; each command
imports what it needs (SQLAlchemy, Alembic, FastAPI, WeasyPrint) so that
``fixdesk --help`` stays fast. Every user error prints one line and exits 2.
"""

from __future__ import annotations

import sys

import click

from kernel.cli.base import EXIT_USAGE, cli
from kernel.errors import FixdeskError
from kernel.i18n import _

# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------


def _fail(message: str) -> int:
    first = (str(message).strip().splitlines() or [_("refused")])[0]
    click.echo(_("error: {message}").format(message=first), err=True)
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
        backup,
        calendar,
        ops,
        printing,
        reports,
        sites,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit code 2."""
    from kernel.cli.click_language import install

    install()
    _register_commands()
    # a NUL cannot reach a real process's arguments, but main() is called in-process too:
    # refuse it here rather than let it fail deep inside (paths, the database)
    if argv is not None and any("\0" in str(arg) for arg in argv):
        return _fail(_("arguments must not contain NUL characters"))
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
        from kernel.failures import DISK_FULL, READ_ONLY, trouble

        problem = trouble(exc)
        if problem is not None and problem.code in (DISK_FULL, READ_ONLY):
            return _fail(problem.message)
        if isinstance(exc, OperationalError):
            return _fail(_("database unavailable: {error}").format(error=exc.orig or exc))
        if isinstance(exc, IntegrityError):
            return _fail(_("refused by the database: {error}").format(error=exc.orig or exc))
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
