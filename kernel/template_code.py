"""Compiled Jinja2 templates kept for the life of the process.

Every app of a process (a test run makes thousands, a server one per site) builds its own
Jinja2 environments, and each would compile the same template files again. A
:class:`SharedTemplateCode` keeps the compiled code by file and checks it against the
template's source, so an edited template (an admin's copy in a site) compiles afresh.
Environments built with different options compile differently: each kind of environment
takes its own cache (:func:`for_environments`).
"""

from __future__ import annotations

import threading

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class SharedTemplateCode(BytecodeCache):
    """Jinja2 bytecode, in memory, shared by the environments of one kind."""

    def __init__(self):
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill ``bucket`` with the code compiled before (Jinja2 drops it when the
        source's checksum differs)."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code Jinja2 has just compiled."""
        with self._lock:
            self._code[bucket.key] = bucket.bytecode_to_string()


_caches: dict[str, SharedTemplateCode] = {}


def for_environments(kind: str) -> SharedTemplateCode:
    """The process's cache for environments of ``kind`` (``"desk"``, ``"paper"``: one
    per set of options, since the options shape the compiled code)."""
    cache = _caches.get(kind)
    if cache is None:
        cache = _caches.setdefault(kind, SharedTemplateCode())
    return cache
