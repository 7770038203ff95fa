"""click's own messages (a missing argument, an unknown option, a bad number) and the
headings of its help pages in the terminal's language, like the CLI's own.

click writes them with the standard library's ``gettext`` and ships no Chinese; the
msgids below (click 8) are in the kernel's catalogue, and :func:`install` points click's
modules at the kernel's translator."""

from __future__ import annotations

from kernel.i18n import N_, _

#: click's messages a user meets (msgids exactly as click writes them)
MESSAGES = (
    N_("Error: {message}"), N_("Missing argument"), N_("Missing option"),
    N_("Missing parameter"), N_("Missing parameter: {param_name}"), N_("Missing {param_type}"),
    N_("Missing command."), N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"), N_("No such option {name!r}."),
    N_("No such command {name!r}."), N_("Option {name!r} does not take a value."),
    N_("Option {name!r} requires an argument."), N_("Option {name!r} requires {nargs} arguments."),
    N_("Got unexpected extra argument ({args})"), N_("Got unexpected extra arguments ({args})"),
    N_("{value!r} is not a valid {number_type}."), N_("{value} is not in the range {range}."),
    N_("{value!r} is not {choice}."), N_("{value!r} is not one of {choices}."),
    N_("Did you mean {possibility}?"), N_("(Did you mean one of: {possibilities}?)"),
    N_("Try '{command} {option}' for help."), N_("Aborted!"),
    N_("{name} {filename!r} does not exist."), N_("{name} {filename!r} is a directory."),
    N_("Could not open file {filename!r}: {message}"),
    N_("integer range"), N_("float range"), N_("integer"), N_("float"), N_("file"),
    N_("directory"), N_("path"),
    # the help pages
    # (--version's texts are given in kernel.cli.base: its option is made at import)
    N_("Usage:"), N_("Options"), N_("Positional arguments"), N_("Commands"),
    N_("Show this message and exit."), N_("env var: {var}"), N_("default: {default}"),
    N_("required"), N_("(dynamic)"), N_("deprecated"),
)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return _(singular if count == 1 else plural)


def install() -> None:
    """Let click's modules translate through the kernel (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.types):
        if hasattr(module, "_"):
            module._ = _
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext
    # click puts a type's name into "'abc' is not a valid float range." as it is
    for kind, title in ((click.types.IntParamType, "integer"), (click.types.FloatParamType,
                        "float"), (click.types.IntRange, "integer range"),
                        (click.types.FloatRange, "float range")):
        kind.name = _(title)
