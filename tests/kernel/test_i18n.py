"""Message catalogues: a complete zh_CN, an up-to-date template, a CLI in the user's language."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.pofile import read_po

from kernel.i18n import normalize_locale, translations

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "kernel" / "locale"
POT = LOCALE_DIR / "fixdesk.pot"
ZH_PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "fixdesk.po"
# the arguments of `make i18n`'s extraction, minus the output file and the input folder
EXTRACT_ARGS = ["-F", "babel.cfg", "-k", "_", "--no-location", "--sort-output",
                "--project", "fixdesk"]
REFRESH_HINT = (
    "refresh the catalogue with `make i18n`, i.e.\n"
    "  .venv/bin/pybabel extract -F babel.cfg -k _ -o kernel/locale/fixdesk.pot"
    " --no-location --sort-output --project fixdesk .\n"
    "  .venv/bin/pybabel update -i kernel/locale/fixdesk.pot -d kernel/locale -D fixdesk\n"
    "then translate the new entries of kernel/locale/zh_CN/LC_MESSAGES/fixdesk.po"
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain="fixdesk")


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


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    template, zh = _read(POT), _read(ZH_PO, "zh_CN")
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
    assert not problems, "zh_CN catalogue problems:\n" + "\n".join(problems)


def test_template_is_up_to_date_with_the_code(tmp_path):
    fresh = tmp_path / "fixdesk.pot"
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", *EXTRACT_ARGS,
         "-o", str(fresh), "."],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    in_code, in_pot = _msgids(_read(fresh)), _msgids(_read(POT))
    missing, stale = sorted(in_code - in_pot), sorted(in_pot - in_code)
    report = []
    if missing:
        report.append("strings in the code but not in kernel/locale/fixdesk.pot:")
        report += [f"  {m!r}" for m in missing]
    if stale:
        report.append("strings in kernel/locale/fixdesk.pot no longer in the code:")
        report += [f"  {m!r}" for m in stale]
    assert not report, "\n".join([*report, REFRESH_HINT])


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
