"""Every ``fixdesk`` command driven with generated arguments (issue #15).

The CLI's contract: a command succeeds (exit 0) or refuses with one line on stderr and
exit code 2 — never a traceback, never another code (except the few documented in
:data:`OTHER_CODES`). The commands are discovered from the click group (after
``kernel.cli._register_commands()``), with the plugin commands of a site that enables
repair, inventory, billing and complaints; each gets its own throwaway copy of that site
(SQLite, built once for the module) and a few generated argument lists: option values of
the right and the wrong type, huge numbers, nan/inf, NUL and other control characters,
absurd dates, missing files and folders, unknown options, and bytes on standard input.

The run is bounded (most examples start the site, about half a second each): every
command runs its first example (Hypothesis's simplest: the options left out), then up to
``FIXDESK_CLI_FUZZ_EXAMPLES`` (default 4) while ``FIXDESK_CLI_FUZZ_SECONDS`` (default 15)
last, the commands in a new random order each run; no shrinking (the failing argument
list is reported as it was). Raise both for a longer hunt.
"""

from __future__ import annotations

import os
import random
import shutil
import time
import traceback

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

PLUGINS = ["repair", "inventory", "billing", "complaints"]
EXAMPLES = int(os.environ.get("FIXDESK_CLI_FUZZ_EXAMPLES", "4"))
SECONDS = float(os.environ.get("FIXDESK_CLI_FUZZ_SECONDS", "15"))

#: commands never run here, and why
SKIPPED = {
    ("serve",): "starts a web server and blocks until stopped",
}
#: arguments always added at the end (the last value of an option wins), and why
FORCED = {
    # without --once the worker polls for jobs forever
    ("worker",): ["--once"],
    # an unknown plugin is refused before the folder or the database is made: the other
    # options are still checked, but no fuzz example spends seconds building a site
    ("new-site",): ["--plugins", "fuzz-no-such-plugin"],
}
#: parameters never generated, and why
EXCLUDED_PARAMS = {
    ("migrate",): {"revision_for": "writes a new migration file into the source tree"},
}
#: exit codes besides 0 and 2 that a command documents
OTHER_CODES = {
    ("migrate",): {1},  # --check: the schema differs from the models
    ("complaints", "mail-in"): {75},  # EX_TEMPFAIL: the mail server delivers again later
}
#: parameters (by name) that name files or folders: only the safe paths below
PATH_PARAMS = {"output", "archive", "directory", "xlsx_file", "path", "file"}

TOKENS = ["SH", "sh", "HQ", "JD", "admin", "fuzzer", "front_desk", "repair", "billing",
          "inventory", "complaints", "kernel", "customer", "customer.read", "branch.update",
          "kernel.equipment_record", "repair.repair_card", "billing.aging", "email",
          "a@b.cn", "not-an-email", "month=2026-05", "start=2026-01-01", "branch=SH",
          "status=open", "x=", "=x", "id=1", "branch_id=99999999999999999999", "open",
          "mon-fri", "sat", "09:00-12:00,13:00-18:00", "18:00-09:00", "closed", "1,2,3",
          "-", "--", "'; DROP TABLE branch; --", "{0}", "%s", "${HOME}"]
DATES = ["2026-05-29", "2026-02-29", "2024-02-29", "9999-12-31", "0001-01-01", "1900-01-01",
         "1949-12-31", "2100-12-31", "2101-01-01", "2026-13-01", "2026-00-10", "26-5-1",
         "2026-05-29 16:00", "9999-12-31 23:59", "0001-01-01 00:00+14:00",
         "9999-12-31 23:00-14:00", "2026-05-29T16:00:00.5", "2026-05", "9999-12", "0000-00",
         "2026-W01", "today", "20260529", ""]
NUMBERS = ["0", "-0", "-1", "1", "7.5", "2147483647", "2147483648", "-2147483649",
           "9223372036854775808", "99999999999999999999999999", "1e308", "1e309", "-1e309",
           "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "0x10", "1_000", "٣", " 4 ",
           "1e-400"]
SPECIAL = ["", " ", "\x00", "a\x00b", "\n", "a\nb", "\r\n", "\t", "\x1b[31m", "\u202eabc",
           "\ufeff", "\ud7ff", "\U0010fffd", "x" * 5000, "é" * 300]
#: files and folders relative to the command's working folder (a throwaway one), and a
#: few outside it that cannot be written; never a real file of the machine
PATHS = ["out.pdf", "out.xlsx", "missing/dir/x.pdf", ".", "..", "folder", "folder/",
         "afile/x.pdf", "afile", "x" * 300 + ".pdf", "/proc/fixdesk-fuzz.pdf",
         "/nonexistent-fixdesk-fuzz/x.pdf", "", " ", "a\x00b.pdf", "-"]


def _safe(text: str) -> str:
    """Generated text that names no absolute path (it may become a file name)."""
    return text.lstrip("/~\\")


TEXT = st.one_of(
    st.sampled_from(TOKENS), st.sampled_from(DATES), st.sampled_from(NUMBERS),
    st.sampled_from(SPECIAL),
    st.text(max_size=30).map(_safe),
)


def _values(param: click.Parameter) -> st.SearchStrategy[str]:
    kind = param.type
    if isinstance(kind, click.Path | click.File) or param.name in PATH_PARAMS:
        return st.sampled_from(PATHS)
    if isinstance(kind, click.Choice):
        choices = [str(c) for c in kind.choices]
        return st.one_of(st.sampled_from(choices), st.sampled_from(choices).map(str.upper),
                         TEXT)
    if isinstance(kind, click.types.IntParamType):
        return st.one_of(st.integers(-2**70, 2**70).map(str), st.integers(0, 100).map(str),
                         st.sampled_from(NUMBERS), TEXT)
    if isinstance(kind, click.types.FloatParamType):
        return st.one_of(st.floats().map(repr), st.sampled_from(NUMBERS), TEXT)
    if isinstance(kind, click.types.BoolParamType):
        return st.one_of(st.sampled_from(["true", "false", "yes", "no", "1", "0", "maybe"]),
                         TEXT)
    return TEXT


@st.composite
def _argv(draw, path: tuple[str, ...], command: click.Command) -> list[str]:
    """An argument list for ``command``: each option left out, given once (or, if it may
    repeat, a few times) with a generated value; the arguments mostly given."""
    excluded = EXCLUDED_PARAMS.get(path, {})
    options: list[str] = []
    positional: list[str] = []
    for param in command.params:
        if param.name in excluded:
            continue
        if isinstance(param, click.Argument):
            wanted = draw(st.integers(0, 9)) > 0 if param.required else draw(st.booleans())
            count = param.nargs if param.nargs > 0 else draw(st.integers(0, 2))
            if wanted:
                positional += [draw(_values(param)) for _ in range(count)]
            continue
        names = [*param.opts, *param.secondary_opts]
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            if draw(st.booleans()):
                options.append(draw(st.sampled_from(names)))
            continue
        if param.multiple:
            times = draw(st.integers(0, 2))
        elif param.required:
            times = int(draw(st.integers(0, 9)) > 0)
        else:
            times = draw(st.integers(0, 1))
        for _ in range(times):
            options.append(draw(st.sampled_from(param.opts)))
            options += [draw(_values(param)) for _ in range(max(param.nargs, 1))]
    extra = draw(st.sampled_from([[], [], [], [], [], ["--help"], ["--no-such-option"],
                                  ["unexpected-extra"]]))
    separator = ["--"] if positional and draw(st.booleans()) else []
    return [*path, *options, *extra, *FORCED.get(path, []), *separator, *positional]


def _commands(site_dir) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every leaf command of the ``fixdesk`` group, the site's plugin commands included."""
    from kernel.cli import _register_commands
    from kernel.cli.base import CliState, cli

    _register_commands()
    ctx = click.Context(cli, obj=CliState(str(site_dir)))
    ctx.params["site_dir"] = str(site_dir)
    found = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            else:
                found.append(((*path, name), command))

    walk(cli, ())
    return found


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory):
    """A site with every built-in plugin, a second branch and a user (no demo data)."""
    from kernel.auth import add_user
    from kernel.masterdata import add_branch, get_branch
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    site = create_site(tmp_path_factory.mktemp("cli-fuzz") / "site",
                       SiteConfig(database_url=DEFAULT_DB, plugins=PLUGINS),
                       company="模糊测试公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    try:
        with app.context() as ctx:
            add_branch(ctx, "JD", "嘉定分公司", "suburban")
            add_user(ctx, "fuzzer", "模糊", "password-123", get_branch(ctx, "SH"),
                     roles=["admin"])
    finally:
        app.close()
    return site


def _run(argv: list[str], stdin: bytes) -> tuple[int | None, str, str]:
    """``fixdesk argv`` in this process with ``stdin``: (exit code, stdout, stderr); the
    code is None and stderr the traceback when an exception escaped."""
    from kernel.cli import main

    with CliRunner().isolation(input=stdin) as (out, err, _mixed):
        try:
            code = main(argv)
        except (Exception, SystemExit):
            return None, out.getvalue().decode(errors="replace"), traceback.format_exc()
    return code, out.getvalue().decode(errors="replace"), err.getvalue().decode(
        errors="replace")


def _check(path, argv, code, out, err) -> None:
    allowed = {0, 2} | OTHER_CODES.get(path, set())
    assert code in allowed, f"fixdesk {argv!r}: exit {code}\n{err[-3000:]}"
    assert "Traceback (most recent call last)" not in err, f"fixdesk {argv!r}:\n{err[-3000:]}"
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and lines[-1].startswith("error: "), f"fixdesk {argv!r}: stderr {err!r}"


def _fuzz(path: tuple[str, ...], command: click.Command, site_dir, until: float) -> None:
    """Run ``command`` of the site in ``site_dir`` with generated arguments: the first
    example always, more until the monotonic clock reaches ``until``."""
    done = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(argv=_argv(path, command), stdin=st.binary(max_size=300))
    def fuzz(argv, stdin):
        if done and time.monotonic() > until:
            return  # out of time: the rest of this command's examples are skipped
        done.append(argv)
        full = ["--site", str(site_dir), *argv]
        _check(path, full, *_run(full, stdin))

    fuzz()


def test_every_command_is_fuzzed_or_skipped_for_a_reason(fuzz_site):
    paths = {path for path, _command in _commands(fuzz_site.path)}
    # the plugins' commands are found through the site, like the kernel's own
    assert {("billing", "aging"), ("inventory", "check"), ("complaints", "mail-in"),
            ("calendar", "deadline"), ("print",), ("user", "token", "add")} <= paths
    for listed in (SKIPPED, FORCED, EXCLUDED_PARAMS, OTHER_CODES):
        assert set(listed) <= paths, set(listed) - paths  # no stale entries


def test_no_command_prints_a_traceback(fuzz_site, tmp_path, monkeypatch):
    failures = []
    commands = [(p, c) for p, c in _commands(fuzz_site.path) if p not in SKIPPED]
    random.shuffle(commands)  # the time left for more examples goes elsewhere each run
    until = time.monotonic() + SECONDS
    for number, (path, command) in enumerate(commands):
        work = tmp_path / f"c{number}"
        site_dir = work / "site"
        shutil.copytree(fuzz_site.path, site_dir)  # commands may change their site
        (work / "folder").mkdir()
        (work / "afile").write_text("a file where a folder is expected")
        monkeypatch.chdir(work)  # relative paths land in the throwaway folder
        try:
            _fuzz(path, command, site_dir, until)
        except AssertionError as exc:
            failures.append(str(exc).split("\n\nFalsifying")[0])
    assert not failures, f"{len(failures)} command(s) broke the CLI contract:\n\n" + \
        "\n\n".join(failures)


@pytest.mark.parametrize("argv", [
    ["branch", "list", "\x00"],
    ["--site", "\x00", "branch", "list"],
    ["calendar", "days", "--branch", "SH\x00", "--from", "2026-01-01", "--to", "2026-01-02"],
    ["print", "kernel.equipment_record", "1", "-o", "a\x00b.pdf"],
])
def test_a_nul_in_the_arguments_is_one_line_and_exit_2(fuzz_site, argv):
    full = argv if argv[0] == "--site" else ["--site", str(fuzz_site.path), *argv]
    code, out, err = _run(full, b"")
    assert (code, err) == (2, "error: arguments must not contain NUL characters\n"), err
