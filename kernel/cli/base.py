"""The ``fixdesk`` command group, its ``--site`` option and the helpers every command uses.

The commands themselves live in the modules beside this one and add themselves to
:data:`cli`; :func:`kernel.cli.main` runs it.
"""

from __future__ import annotations

import getpass
import math
import os
from contextlib import contextmanager, suppress

import click

from kernel.i18n import _

EXIT_USAGE = 2


class FiniteFloatRange(click.FloatRange):
    """click's ``FloatRange`` that also refuses ``nan`` (it compares false with both bounds,
    so the range check lets it through) and ``inf``."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(_("{value!r} is not a finite number").format(value=value), param, ctx)
        return number


#: the id of a record or job: what the databases' integer columns hold (and the API takes)
RECORD_ID = click.IntRange(1, 2**31 - 1)


class OutputFile(click.Path):
    """A file a command writes (``-o``): not a folder, in a folder that exists, checked
    before any work is done. Write it with :func:`writing` or :func:`write_file`."""

    def __init__(self):
        super().__init__(dir_okay=False)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            self.fail(_("the folder {folder} does not exist").format(folder=folder), param, ctx)
        return path


@contextmanager
def writing(path: str):
    """A binary file to write ``path`` whole or not at all: a temporary file beside it,
    made at once (so a folder that cannot be written fails before any work) and renamed
    over ``path`` when the block ends without an error (else removed). A device or pipe
    (``/dev/null``, ``/dev/stdout``) is written directly, never replaced; a symbolic link
    is followed. A failure to write is one line (:class:`click.FileError`)."""
    import stat
    import tempfile

    target = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(target).st_mode)
    except OSError:  # not there yet (or unreadable: the write below says why)
        special = False
    try:
        if special:
            with open(target, "wb") as fh:
                yield fh
            return
        fd, part = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".fixdesk-",
                                    suffix=".part")
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(part, 0o666 & ~mask)  # as open() would have made it
        os.replace(part, target)
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from exc
    finally:
        with suppress(OSError):
            os.unlink(part)  # gone already once renamed


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`writing`)."""
    with writing(path) as fh:
        fh.write(data)


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
    def app(self, owner: bool = False):
        """The started site, closed afterwards (with ``owner``: connected as the database's
        owner, for migrations, on a site with its own roles)."""
        app = self.site().start(owner=owner)
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
@click.version_option(package_name="fixdesk", help=_("Show the version and exit."),
                      message=_("%(prog)s, version %(version)s"))
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
