"""What a server process keeps for a short while because building it again for every
request costs more than its freshness is worth: the dashboard charts that ask for it
(:attr:`kernel.contributions.DashboardChart.keep`).

Each :class:`~kernel.site.App` keeps one :class:`Kept`: entries under a key with the
time they were built, each gone once its own number of seconds has passed
(``cachetools.TLRUCache``), at most :data:`MAX_ENTRIES` of them (the least recently used
leave first). Time is the process's monotonic clock, so a change of the wall clock or of
the site's clock neither keeps nor drops an entry. Other processes (the other server
workers) keep their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

#: entries kept per process at most
MAX_ENTRIES = 2048


@dataclass(frozen=True)
class Entry:
    """A kept value, its lifetime in seconds and when it was built (``built``: by the
    caller's clock, for people to read)."""

    value: Any
    seconds: float
    built: Any


def _expires(_key, entry: Entry, now: float) -> float:
    return now + entry.seconds


class Kept:
    """Values kept per key for their own number of seconds; safe across threads."""

    def __init__(self, size: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self._entries = TLRUCache(maxsize=size, ttu=_expires, timer=clock)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Entry | None:
        """The entry under ``key`` while it lasts, else None."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, value: Any, seconds: float, built: Any = None) -> Entry:
        """Keep ``value`` under ``key`` for ``seconds`` (``built``: when, for people)."""
        entry = Entry(value, seconds, built)
        if seconds > 0:
            with self._lock:
                self._entries[key] = entry
        return entry
