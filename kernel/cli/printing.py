"""Commands for printing documents and managing their (and reports') templates."""

from __future__ import annotations

import getpass

import click

from kernel.cli.base import (
    RECORD_ID,
    CliState,
    OutputFile,
    cli,
    pass_state,
    print_table,
    split_list,
    writing,
)
from kernel.i18n import N_, _

#: the step a batch print shows on the terminal
PRINTING = N_("Printing")


def _ids(value: str | None) -> list[int]:
    try:
        return [RECORD_ID.convert(v, None, None) for v in split_list(value)]
    except click.BadParameter as exc:
        raise click.BadParameter(_("ids must be numbers like 3,4,9"), param_hint="--ids") from exc


def _where(session, entity, conditions: tuple[str, ...]) -> list[int]:
    """Ids of ``entity`` rows matching ``field=value`` conditions (all of them)."""
    from sqlalchemy import BigInteger, select

    from kernel.errors import ValidationError

    query = select(entity.id).order_by(entity.id)
    columns = entity.__table__.c
    for condition in conditions:
        field, sep, raw = condition.partition("=")
        field = field.strip()
        if not sep or field not in columns:
            raise ValidationError(_("--where needs FIELD=VALUE with a field of {entity}: {fields}")
                                  .format(entity=entity.__tablename__,
                                          fields=", ".join(columns.keys())), field="where")
        column = columns[field]
        try:
            value = column.type.python_type(raw) if column.type.python_type in (int, bool) \
                else raw
        except (ValueError, NotImplementedError):
            value = raw
        bits = 63 if isinstance(column.type, BigInteger) else 31
        if type(value) is int and not -2**bits <= value < 2**bits:
            return []  # more than the column holds: nothing matches
        query = query.where(column == value)
    return list(session.scalars(query))


@cli.command("print-fonts", help=_("Build the compact Chinese print faces, once per machine: "
                                  "papers print faster with them."))
def print_fonts():
    from kernel.documents import fonts
    from kernel.documents.pdf import PrintError

    faces = fonts.build()
    if not faces:
        raise PrintError(_("the font {family} is not installed (Debian: fonts-noto-cjk)")
                         .format(family=fonts.SOURCE_FAMILY))
    for path in faces.values():
        click.echo(path)


@cli.command("print", help=_("Print a document for one or more records as one PDF."))
@click.argument("document", required=False)
@click.argument("record_id", required=False, type=RECORD_ID)
@click.option("--list", "show_list", is_flag=True, help=_("List the registered documents."))
@click.option("--ids", help=_("Several records: 3,4,9."))
@click.option("--where", "conditions", multiple=True, metavar="FIELD=VALUE",
              help=_("Records matching a field (repeatable)."))
@click.option("-o", "--output", type=OutputFile(), help=_("PDF file to write."))
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), help=_("Language of the paper."))
@click.option("--workers", type=click.IntRange(1, 64), help=_("Processes for a big batch."))
@pass_state
def print_command(state: CliState, document, record_id, show_list, ids, conditions, output,
                  lang, workers):
    """Papers are laid out outside the database's write transaction
    (:mod:`kernel.documents.detached`): the desk stays usable during a big batch."""
    from kernel.cli.progress import terminal_progress
    from kernel.documents.detached import Requester, print_detached
    from kernel.documents.registry import get_document

    with state.app() as app:
        if show_list:
            print_table((_("DOCUMENT"), _("TITLE"), _("ENTITY"), _("PAPER")),
                        [(name, _(doc.title), doc.entity, doc.paper)
                         for name, doc in app.documents.items()])
            return
        if not document:
            raise click.UsageError(_("name a document (see: fixdesk print --list)"))
        doc = get_document(app, document)
        wanted = ([record_id] if record_id is not None else []) + _ids(ids)
        if conditions:
            with app.sessions() as session:  # a plain read
                wanted += _where(session, app.entity_class(doc.entity), conditions)
        if not output:
            output = f"{document.replace('.', '-')}-{wanted[0] if wanted else 'none'}.pdf"
        requester = Requester(system_actor=f"cli:{getpass.getuser()}")
        # the file is made first: a folder that cannot be written fails before printing
        with writing(output) as fh, terminal_progress() as bar:
            fh.write(print_detached(app, requester, document, wanted, locale=lang,
                                    workers=workers,
                                    progress=bar.counter(PRINTING, len(wanted))))
    click.echo(_("{count} record(s) printed to {file}").format(count=len(wanted), file=output))


@cli.group(help=_("Templates of printed documents: which file is used, copying to the site, "
                   "reverting."))
def templates():
    pass


@templates.command("list", help=_("Each document's and report's template and the file that "
                                  "wins."))
@pass_state
def templates_list(state: CliState):
    from kernel.documents.template_files import papers

    with state.app() as app:
        rows = [(paper.name, paper.template, paper.owner or _("missing"), paper.file or "")
                for paper in papers(app)]
    print_table((_("DOCUMENT"), _("TEMPLATE"), _("FROM"), _("FILE")), rows)


@templates.command("copy", help=_("Copy a document's or report's default template into the "
                                  "site to edit."))
@click.argument("document")
@pass_state
def templates_copy(state: CliState, document):
    from kernel.documents.template_files import copy_to_site

    with state.context() as ctx:
        source, target = copy_to_site(ctx, document)
    click.echo(_("copied {source} to {target}").format(source=source, target=target))


@templates.command("revert", help=_("Delete the site's copy of a document's or report's "
                                    "template: the shipped one prints again."))
@click.argument("document")
@pass_state
def templates_revert(state: CliState, document):
    from kernel.documents.template_files import revert

    with state.context() as ctx:
        removed = revert(ctx, document)
    click.echo(_("removed {file}: {document} prints with the shipped template again").format(
        file=removed, document=document))
