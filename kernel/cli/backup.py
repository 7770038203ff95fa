"""Commands that back a site up and restore it (:mod:`kernel.backup`, :mod:`kernel.restore`)."""

from __future__ import annotations

from contextlib import contextmanager

import click

from kernel.cli.base import CliState, cli, pass_state
from kernel.i18n import _


@contextmanager
def _file_errors():
    """A path the system refuses (too long, not allowed) is one line, not a traceback."""
    from kernel.errors import SiteError

    try:
        yield
    except (OSError, ValueError) as exc:
        raise SiteError(str(getattr(exc, "strerror", None) or exc)) from exc


@cli.command(help=_("Write one archive of the site: its database and its files."))
@click.option("-o", "--output", metavar="FILE",
              help=_("Archive to write, or a folder to write it into (default: the "
                     "[backup] folder of site.toml, else the current folder)."))
@pass_state
def backup(state: CliState, output: str | None):
    from kernel.backup import backup as write_backup

    with _file_errors():
        path = write_backup(state.site(), output)
    click.echo(_("backup written to {path}").format(path=path))


@cli.command(help=_("Restore the site from an archive written by fixdesk backup."))
@click.argument("archive", metavar="FILE")
@click.option("--force", is_flag=True,
              help=_("Replace the database and files of a site that is not empty."))
@click.option("--db", "db_url", metavar="URL",
              help=_("Database to restore into (default: the site's, else the backup's)."))
@click.option("--admin-db", "admin_url", metavar="URL",
              help=_("PostgreSQL: connect as this role, one that may create databases "
                     "(default: the site's database URL)."))
@pass_state
def restore(state: CliState, archive: str, force: bool, db_url: str | None,
            admin_url: str | None):
    from kernel.errors import SiteError
    from kernel.restore import restore as restore_site

    if not state.site_dir:
        raise SiteError(_("no site given: pass --site DIR or set FIXDESK_SITE"))
    with _file_errors():
        done = restore_site(state.site_dir, archive, force=force, db_url=db_url,
                            admin_url=admin_url)
    click.echo(_("restored {site} from the backup of {created}").format(
        site=state.site_dir, created=done.manifest.get("created_at", "?")))
    if done.migrated:
        click.echo(_("migrated: {branches}").format(branches=", ".join(done.migrated)))
