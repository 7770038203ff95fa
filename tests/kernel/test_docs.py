"""The plugin-author guide stays true to the code (datasette's ``tests/test_docs.py``).

Every kernel hook has a docstring and a ``### fixdesk_...`` heading in
``docs/plugins.md``, and every file of the example plugin the guide shows is
shown exactly as it is in ``docs/example/fixdesk-hello``. A file is shown by a
line holding only its path in backticks and a colon, then a fenced code block::

    `fixdesk_hello/models.py`:

    ```python
    ...
    ```
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kernel import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE = (DOCS / "plugins.md").read_text(encoding="utf-8")
EXAMPLE = DOCS / "example" / "fixdesk-hello"

HOOKS = sorted(name for name, obj in vars(hookspecs).items()
               if name.startswith("fixdesk_") and hasattr(obj, "fixdesk_spec"))
HEADINGS = set(re.findall(r"^### (\w+)\s*$", GUIDE, re.M))
SHOWN = re.findall(r"^`([^`\s]+)`:\n\n```[\w.+-]*\n(.*?)^```$", GUIDE, re.M | re.S)


def _example_files() -> list[str]:
    skip = {"__pycache__", "build", ".pytest_cache"}
    return sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*")
                  if p.is_file() and not skip & set(p.parts) and ".egg-info" not in str(p))


def test_hooks_are_found():
    assert "fixdesk_entities" in HOOKS and "fixdesk_demo_data" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"{hook} has no docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    assert hook in HEADINGS, f"docs/plugins.md has no '### {hook}' heading"


def test_documented_hooks_exist():
    stale = {h for h in HEADINGS if h.startswith("fixdesk_")} - set(HOOKS)
    assert not stale, f"docs/plugins.md documents hooks that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("path, shown", SHOWN, ids=[path for path, _ in SHOWN])
def test_shown_file_matches_the_example(path, shown):
    # the hello example's files by their path in it; the worked example of "Extending
    # another plugin" by its path in the repository
    file = ROOT / path if path.startswith("tests/distributions/") else EXAMPLE / path
    assert file.is_file(), f"docs/plugins.md shows {path}, which does not exist"
    assert shown == file.read_text(encoding="utf-8"), f"docs/plugins.md shows an old {path}"


def test_every_file_of_the_example_is_shown():
    shown = {path for path, _ in SHOWN if not path.startswith("tests/distributions/")}
    missing = [f for f in _example_files()
               if f not in shown and (EXAMPLE / f).read_text(encoding="utf-8").strip()]
    assert not missing, f"docs/plugins.md does not show {missing}"
