"""click's own messages (a missing argument, an unknown option, a bad number), the
headings of its help pages and the placeholders of a help page (``--user 用户名``,
``用法： fixdesk report run [选项] 名称``) in the terminal's language, like the CLI's own.

click writes its messages with the standard library's ``gettext`` and ships no Chinese;
the msgids below (click 8) are in the kernel's catalogue, and :func:`install` points
click's modules at the kernel's translator. A placeholder is an option's or argument's
metavar or a piece of the usage line: each upper-case word in it is looked up
(:func:`placeholder`), so ``NAME=VALUE`` reads ``名称=值`` while what the user types —
choices, option names, ``YYYY-MM-DD`` — stays as it is."""

from __future__ import annotations

import re

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


#: the words of the CLI's placeholders (a plugin adds its own to its catalogue)
PLACEHOLDERS = (
    N_("OPTIONS"), N_("COMMAND"), N_("ARGS"), N_("TEXT"), N_("BOOLEAN"), N_("ACTION"),
    N_("ACTIVE"), N_("BRANCHES"), N_("CODE"), N_("DATE"), N_("DAYS"), N_("DIR"),
    N_("DIRECTORY"), N_("DOCUMENT"), N_("ENTITY"), N_("FIELD"), N_("FILE"), N_("HOOK"),
    N_("ID"), N_("INTERVALS"), N_("JOB_ID"), N_("KEY"), N_("NAME"), N_("NUMBER"),
    N_("PERMISSION"), N_("PLUGIN"), N_("RECORD_ID"), N_("ROLES"), N_("ROLE_NAME"),
    N_("TABLE"), N_("TOKEN_ID"), N_("URL"), N_("USER"), N_("USERNAME"), N_("VALUE"),
    # a type's name as click shows it when the CLI started in another language
    N_("INTEGER"), N_("FLOAT"), N_("INTEGER RANGE"), N_("FLOAT RANGE"),
)
#: the upper-case words of a placeholder, a type's two words together (``A,B`` and
#: ``X,Y`` stand for any values)
WORD = re.compile(r"(?<![A-Za-z_])[A-Z][A-Z_]*[A-Z](?: [A-Z][A-Z_]*[A-Z])*(?![a-z])")


def placeholder(text: str) -> str:
    """``text`` with each upper-case word translated (one without a translation stays)."""
    return WORD.sub(lambda found: _(found.group(0)), text) if text else text


def _translated(method):
    """``method`` (a metavar or the usage line's pieces) with its placeholders translated."""
    if getattr(method, "fixdesk_translated", False):
        return method

    def wrapper(self, *args, **kwargs):
        found = method(self, *args, **kwargs)
        return [placeholder(p) for p in found] if isinstance(found, list) \
            else placeholder(found)

    wrapper.fixdesk_translated = True
    return wrapper


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
    for kind in (click.core.Parameter, click.core.Argument):
        kind.make_metavar = _translated(kind.make_metavar)
    for kind in (click.core.Command, click.core.Group):
        kind.collect_usage_pieces = _translated(kind.collect_usage_pieces)
    # click puts a type's name into "'abc' is not a valid float range." as it is
    for kind, title in ((click.types.IntParamType, "integer"), (click.types.FloatParamType,
                        "float"), (click.types.IntRange, "integer range"),
                        (click.types.FloatRange, "float range")):
        kind.name = _(title)
