"""Where the kernel's installed data lives (a checkout, an editable install or a wheel)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


@cache
def template_dirs() -> tuple[Path, ...]:
    """The top-level ``templates/`` folder(s): print base layout, desk layout."""
    spec = importlib.util.find_spec("templates")
    if spec is None or spec.submodule_search_locations is None:
        return ()
    return tuple(Path(p) for p in spec.submodule_search_locations if Path(p).is_dir())
