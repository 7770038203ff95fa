"""``fixdesk report list`` and ``fixdesk report run``: the plugins' reports from a terminal."""

from __future__ import annotations

from contextlib import contextmanager

import click

from kernel.cli.base import CliState, cli, pass_state, print_table
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


@contextmanager
def _as_user(state: CliState, username: str):
    """One transaction as ``username`` (their permissions and branches)."""
    with state.app() as app, app.context(user=username) as ctx:
        yield ctx


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
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help=_("File to write (default: standard output for table and CSV, a file "
                     "named after the report for Excel and PDF)."))
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), help=_("Language of the report."))
@click.option("--user", "username", help=_("Run as this user: their permissions and "
                                           "branches (default: the system, which sees all)."))
@pass_state
def report_run(state: CliState, name, pairs, fmt, output, lang, username):
    from kernel.i18n import terminal_locale
    from kernel.reports.service import render

    raw = _params(pairs)
    with (state.context() if username is None else _as_user(state, username)) as ctx:
        done = render(ctx, name, raw, fmt, lang or terminal_locale())
    content = done.content
    if fmt in TEXT_FORMATS and not output:
        if isinstance(content, bytes):
            content = content.decode("utf-8").lstrip("\ufeff")
        click.echo(content, nl=False)
        return
    target = output or done.filename
    with open(target, "wb") as fh:
        fh.write(content.encode("utf-8") if isinstance(content, str) else content)
    click.echo(_("report {name} written to {file}").format(name=name, file=target))
