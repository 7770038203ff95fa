"""``fixdesk report list`` and ``fixdesk report run``: the plugins' reports from a terminal."""

from __future__ import annotations

import getpass

import click

from kernel.cli.base import CliState, OutputFile, cli, pass_state, print_table, write_file
from kernel.i18n import _

#: formats that go to standard output unless ``-o`` is given
TEXT_FORMATS = ("table", "csv")


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--param key=value`` options as a dict (a name given twice: the last value)."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(_("use --param NAME=VALUE, not {pair!r}").format(pair=pair),
                                     param_hint="--param")
        found[name.strip()] = value
    return found


@cli.group(help=_("Reports of the enabled plugins: list them, run one."))
def report():
    pass


def _signature(param) -> str:
    """``start*:date``, ``by:choice(branch|engineer)``, ``branch:reference(branch)``
    (``*``: required)."""
    detail = "|".join(param.choices) if param.choices else param.reference
    return (f"{param.name}{'*' if param.required else ''}:{param.kind}"
            + (f"({detail})" if detail else ""))


def _requester(app, username: str | None):
    """Who runs the report: ``username`` (their permissions and branches), else the
    system as the CLI's operator."""
    from kernel.auth import get_user
    from kernel.documents.detached import Requester

    if username is None:
        return Requester(system_actor=f"cli:{getpass.getuser()}")
    with app.sessions() as session:
        user = get_user(session, username)
        return Requester(user.id, user.home_branch_id)


@report.command("list", help=_("The reports of this site with their parameters."))
@pass_state
def report_list(state: CliState):
    with state.app() as app:
        rows = [(name, _(found.title), " ".join(_signature(p) for p in found.params) or "-",
                 found.permission) for name, found in app.reports.items()]
    print_table((_("REPORT"), _("TITLE"), _("PARAMETERS"), _("PERMISSION")), rows)


@report.command("run", help=_("Run a report: a table on the terminal, or CSV, Excel or PDF."))
@click.argument("name")
@click.option("--param", "-p", "pairs", multiple=True, metavar="NAME=VALUE",
              help=_("A parameter of the report (repeatable)."))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "pdf"]),
              default="table", show_default=True, help=_("What to produce."))
@click.option("-o", "--output", type=OutputFile(),
              help=_("File to write (default: standard output for table and CSV, a file "
                     "named after the report for Excel and PDF)."))
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), help=_("Language of the report."))
@click.option("--user", "username", help=_("Run as this user: their permissions and "
                                           "branches (default: the system, which sees all)."))
@pass_state
def report_run(state: CliState, name, pairs, fmt, output, lang, username):
    from kernel.cli.progress import terminal_progress
    from kernel.i18n import terminal_locale
    from kernel.reports.detached import render_detached

    raw = _params(pairs)
    with state.app() as app, terminal_progress() as bar:
        # a report reads; its paper is laid out after the transactions (never holding the
        # write lock). Papers (PDF, Excel) speak the site's language like `fixdesk print`;
        # text for the terminal speaks the terminal's
        done = render_detached(app, _requester(app, username), name, raw, fmt,
                               lang or (terminal_locale() if fmt in TEXT_FORMATS else None),
                               progress=bar)
    content = done.content
    if fmt in TEXT_FORMATS and not output:
        if isinstance(content, bytes):
            content = content.decode("utf-8").lstrip("\ufeff")
        click.echo(content, nl=False)
        return
    target = output or done.filename
    write_file(target, content.encode("utf-8") if isinstance(content, str) else content)
    click.echo(_("report {name} written to {file}").format(name=name, file=target))
