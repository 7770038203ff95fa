"""Message catalogues: complete zh_CN ones, up-to-date templates, a CLI in the user's language.

Every catalogue is checked against its own sources: the kernel's
(``kernel/locale``, babel.cfg over the repository), each plugin's under
``plugins/`` (found by its ``manifest.toml``; babel-plugin.cfg over its folder)
and the docs' example plugin's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from kernel.i18n import _, add_catalogue, normalize_locale, translations, use_locale

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "docs" / "example" / "fixdesk-hello" / "fixdesk_hello"
REFRESH_HINT = (
    "refresh the catalogues with `make i18n` (see babel.cfg for the commands it runs),\n"
    "then translate the new entries of the zh_CN .po files"
)
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Catalogue:
    """One package's catalogue and how `make i18n` extracts it."""

    domain: str
    #: the babel mapping, and the folder the extraction walks (paths in the mapping are
    #: relative to it)
    mapping: Path
    sources: Path
    locale_dir: Path

    @property
    def pot(self) -> Path:
        return self.locale_dir / f"{self.domain}.pot"

    @property
    def zh_po(self) -> Path:
        return self.locale_dir / "zh_CN" / "LC_MESSAGES" / f"{self.domain}.po"

    def __str__(self) -> str:
        return self.pot.relative_to(ROOT).as_posix()


def _plugin_catalogue(manifest: Path) -> Catalogue:
    name = tomllib.loads(manifest.read_text(encoding="utf-8"))["name"]
    return Catalogue(name, ROOT / "babel-plugin.cfg", manifest.parent, manifest.parent / "locale")


KERNEL = Catalogue("fixdesk", ROOT / "babel.cfg", ROOT, ROOT / "kernel" / "locale")
CATALOGUES = [KERNEL, *map(_plugin_catalogue, sorted(ROOT.glob("plugins/*/manifest.toml"))),
              _plugin_catalogue(HELLO / "manifest.toml"),
              *map(_plugin_catalogue, sorted(ROOT.glob("tests/distributions/*/*/manifest.toml")))]
PLUGIN_CATALOGUES = [c for c in CATALOGUES if c is not KERNEL]
by_catalogue = pytest.mark.parametrize("catalogue", CATALOGUES, ids=[c.domain for c in CATALOGUES])


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _msgids(catalog) -> set[str]:
    return {m.id for m in catalog if m.id}


def _placeholders(text: str) -> set[str]:
    """``{name}``, ``{value!r}``, ``{n:>4}`` ... as written (``{{`` and ``}}`` are literals)."""
    found = set()
    for _literal, name, spec, conversion in Formatter().parse(text):
        if name is not None:
            found.add("{" + name + (f"!{conversion}" if conversion else "")
                      + (f":{spec}" if spec else "") + "}")
    return found


def test_catalogues_are_found():
    assert {"fixdesk", "repair", "hello"} <= {c.domain for c in CATALOGUES}


@by_catalogue
def test_every_message_has_a_chinese_translation_with_the_same_placeholders(catalogue):
    template, zh = _read(catalogue.pot), _read(catalogue.zh_po, "zh_CN")
    problems = []
    for msgid in sorted(_msgids(template)):
        message = zh.get(msgid)
        if message is None or not message.string:
            problems.append(f"untranslated: {msgid!r}")
            continue
        if message.fuzzy:  # fuzzy entries are left out of the compiled catalogue
            problems.append(f"fuzzy (review it and drop the flag): {msgid!r}")
        try:
            expected, got = _placeholders(msgid), _placeholders(message.string)
        except ValueError as exc:
            problems.append(f"malformed braces in the translation of {msgid!r}: {exc}")
            continue
        if expected != got:
            problems.append(f"placeholders of {msgid!r}: expected {sorted(expected)}, "
                            f"the translation {message.string!r} has {sorted(got)}")
        if "python-brace-format" in template[msgid].flags \
                and "python-brace-format" not in message.flags:
            problems.append(f"python-brace-format flag lost on {msgid!r}")
        if "%" in message.string and "%" not in msgid:
            # the desk's Jinja gettext is newstyle: it applies `%` to every translation
            problems.append(f"stray '%' in the translation of {msgid!r}")
    assert not problems, f"{catalogue.zh_po.relative_to(ROOT)} problems:\n" + "\n".join(problems)


@by_catalogue
def test_template_is_up_to_date_with_the_code(catalogue, tmp_path):
    fresh = tmp_path / "fresh.pot"
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(catalogue.mapping),
         "-k", "_", "--no-location", "--sort-output", "-o", str(fresh), "."],
        cwd=catalogue.sources, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    in_code, in_pot = _msgids(_read(fresh)), _msgids(_read(catalogue.pot))
    missing, stale = sorted(in_code - in_pot), sorted(in_pot - in_code)
    report = []
    if missing:
        report.append(f"strings in the code but not in {catalogue}:")
        report += [f"  {m!r}" for m in missing]
    if stale:
        report.append(f"strings in {catalogue} no longer in the code:")
        report += [f"  {m!r}" for m in stale]
    assert not report, "\n".join([*report, REFRESH_HINT])


@pytest.mark.parametrize("catalogue", PLUGIN_CATALOGUES, ids=[c.domain for c in PLUGIN_CATALOGUES])
def test_a_plugin_translates_shared_strings_as_the_others_do(catalogue):
    # the kernel wins at run time, and between two plugins the one registered first: a
    # different wording would never show, or show depending on what started first
    plugin = _read(catalogue.zh_po, "zh_CN")
    differ = []
    for other in CATALOGUES:
        if other is catalogue:
            continue
        theirs = _read(other.zh_po, "zh_CN")
        differ += [f"{m.id!r}: {other.domain} {theirs[m.id].string!r}, "
                   f"{catalogue.domain} {m.string!r}"
                   for m in plugin if m.id and m.string and theirs.get(m.id) is not None
                   and theirs[m.id].string and not theirs[m.id].fuzzy
                   and theirs[m.id].string != m.string]
    assert not differ, "\n".join(differ)


def _write_po(path: Path, domain: str, messages: dict[str, str]) -> None:
    catalog = Catalog(locale="zh_CN", domain=domain, project="acme")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


def _chain(translations_object) -> list:
    chain = [translations_object]
    while getattr(chain[-1], "_fallback", None) is not None:
        chain.append(chain[-1]._fallback)
    return chain


def test_a_registered_plugin_catalogue_reaches_translations_handed_out_before(tmp_path):
    zh, en = translations("zh_CN"), translations("en")  # as a Jinja environment keeps them
    kernel_branch = zh.gettext("Branch")
    assert CJK.search(kernel_branch)
    message = f"acme: the widget {tmp_path.name} is jammed"
    folder = tmp_path / "acme" / "locale"
    _write_po(folder / "zh_CN" / "LC_MESSAGES" / "acme.po", "acme",
              {message: "小部件卡住了", "Branch": "插件自己的网点"})
    assert zh.gettext(message) == message

    chain_length = len(_chain(zh))
    add_catalogue(folder, "acme")
    add_catalogue(folder / ".." / "locale", "acme")  # the same folder again: a no-op
    assert len(_chain(zh)) == chain_length + 1
    assert translations("zh_CN") is zh and translations("zh-CN") is zh
    assert translations("en") is en

    assert zh.gettext(message) == "小部件卡住了"
    assert en.gettext(message) == message  # no English catalogue: the msgid itself
    with use_locale("zh_CN"):
        assert _(message) == "小部件卡住了"
        assert _("Branch") == kernel_branch  # both translate it: the kernel wins
    with use_locale("en"):
        assert _(message) == message


STARTS = """
import json, sys
from kernel.i18n import translations
from kernel.provision import create_site
from kernel.site import SiteConfig

zh = translations("zh_CN")  # before any site started: the kernel's catalogue alone
before = zh.gettext("Dispatch queue")
create_site(sys.argv[1], SiteConfig(plugins=["repair"]), company="测试服务公司").start().close()
print(json.dumps([before, zh.gettext("Dispatch queue")], ensure_ascii=False))
"""


def test_a_starting_site_merges_its_plugins_catalogues(tmp_path):
    done = subprocess.run([sys.executable, "-c", STARTS, str(tmp_path / "site")], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    # plugins/repair/locale/zh_CN/LC_MESSAGES/repair.po, not the kernel's
    assert done.stdout.splitlines()[-1] == '["Dispatch queue", "待派工队列"]'


def _cli(tmp_path, **env_vars):
    env = {k: v for k, v in os.environ.items()
           if k not in ("FIXDESK_LANG", "LANGUAGE", "LC_ALL", "LANG", "FIXDESK_SITE")}
    env.update(env_vars, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "kernel", "--site", "/nonexistent", "branch", "list"],
        cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8")


ENGLISH_LINE = "error: no site at /nonexistent: site.toml not found"


def test_cli_speaks_english(tmp_path):
    done = _cli(tmp_path, FIXDESK_LANG="en")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", ENGLISH_LINE + "\n")


@pytest.mark.parametrize("env_vars", [
    {"FIXDESK_LANG": "zh_CN"},
    {"LANG": "zh_CN.UTF-8"},
    {"FIXDESK_LANG": "zh_CN", "LANG": "en_US.UTF-8"},
], ids=["FIXDESK_LANG", "LANG", "FIXDESK_LANG-wins"])
def test_cli_speaks_chinese(tmp_path, env_vars):
    zh = translations("zh_CN").gettext
    reason = zh("no site at {path}: {file} not found").format(path="/nonexistent",
                                                             file="site.toml")
    expected = zh("error: {message}").format(message=reason)
    done = _cli(tmp_path, **env_vars)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", expected + "\n")
    assert CJK.search(expected) and expected.startswith("错误") and expected != ENGLISH_LINE


def test_cli_help_pages_have_no_english_heading_in_chinese(tmp_path):
    """click's own parts of a help page (usage, the sections, --help and --version) speak
    the terminal's language too; what stays is what the user types (options, choices)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FIXDESK_LANG", "LANGUAGE", "LC_ALL", "LANG", "FIXDESK_SITE")}
    env.update(FIXDESK_LANG="zh_CN", PYTHONIOENCODING="utf-8")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "kernel", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, encoding="utf-8").stdout

    top, serve = run("--help"), run("serve", "--help")
    for english in ("Usage:", "Options:", "Commands:", "Show this message and exit.",
                    "Show the version and exit.", "env var:", "default:"):
        assert english not in top + serve, english
    assert top.startswith("用法：") and "选项:" in top and "命令:" in top
    assert "显示本帮助并退出。" in serve and "[环境变量：FIXDESK_LOG_FORMAT]" in serve
    assert run("--version").startswith("fixdesk，版本 ")


def _cli_placeholders(command, path: str):
    """``(command path, placeholder)`` of every metavar and usage line in ``command``'s tree."""
    import click

    ctx = click.Context(command, info_name=path)
    yield path, " ".join(command.collect_usage_pieces(ctx))
    for param in command.params:
        if isinstance(param, click.Argument) or not param.is_flag:
            yield path, param.make_metavar(ctx)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _cli_placeholders(sub, f"{path} {name}")


def test_cli_placeholders_read_chinese(fixdesk, tmp_path):
    """An option's or argument's placeholder and the usage line speak Chinese too
    (``--user 用户``, ``[选项] 名称``), the kernel's commands and the plugins'; what the user
    types stays: choices, ``YYYY-MM-DD``, ``A,B``."""
    from kernel.cli import _register_commands
    from kernel.cli.base import CliState, cli
    from kernel.cli.click_language import install

    site = tmp_path / "site"
    assert fixdesk("new-site", site, "--plugins", "repair,inventory,billing,complaints").code == 0
    install()
    _register_commands()
    commands = [("fixdesk", cli)] + [(f"fixdesk {name}", command) for name, command
                                      in CliState(str(site)).plugin_commands().items()]
    typed = {"YYYY", "MM", "DD"}  # a date's pattern
    with use_locale("zh_CN"):
        found = [(path, text) for name, command in commands
                 for path, text in _cli_placeholders(command, name)]
    left = [(path, text) for path, text in found
            if set(re.findall(r"(?<![A-Za-z_])[A-Z]{2,}", text)) - typed]
    assert not left, left
    usage = {}
    for path, text in found:  # each command's usage line comes first
        usage.setdefault(path, text)
    assert usage["fixdesk report run"] == "[选项] 名称"
    assert usage["fixdesk"] == "[选项] 命令 [参数]..."
    assert any("名称=值" in text for _path, text in found)


def test_zone_values_are_translated(fixdesk, tmp_path, monkeypatch):
    # `_(b.zone.value)`: translated at run time, so the catalogue must hold the enum values
    site = tmp_path / "site"
    assert fixdesk("new-site", site, "--zone", "suburban", "--branch-name", "嘉定分公司").code == 0
    monkeypatch.setenv("FIXDESK_LANG", "zh_CN")
    listed = fixdesk("--site", site, "branch", "list")
    assert listed.code == 0, listed
    header, row = listed.out.splitlines()
    assert header.split("\t") == ["编码", "名称", "区域", "电话", "地址"]
    assert row.split("\t")[:3] == ["HQ", "嘉定分公司", "郊区"]
    assert translations("zh_CN").gettext("urban") == "市区"


@pytest.mark.parametrize(("value", "expected"), [
    ("zh_CN.UTF-8", "zh_CN"),
    ("zh-CN", "zh_CN"),
    ("zh_CN", "zh_CN"),
    ("zh", "zh_CN"),
    ("en_US.UTF-8", "en"),
    ("en", "en"),
    ("C.UTF-8", "en"),
    ("", "en"),
    (None, "en"),
])
def test_normalize_locale(value, expected):
    assert normalize_locale(value) == expected
