"""Progress bars on the terminal for commands that take more than a second.

A bar appears only when both standard output and standard error are terminals (a
person watching) and only once the work has run for :data:`DELAY` seconds; in scripts
and pipes the command stays quiet. The bar is drawn on standard error with
``click.progressbar``, one bar per step (migrations, demo data, papers).
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

import click

from kernel.i18n import _

#: seconds of work before a bar appears
DELAY = 1.0


def on_terminal() -> bool:
    """Whether a person watches: standard output and standard error are terminals."""
    return sys.stdout.isatty() and sys.stderr.isatty()


class TerminalProgress:
    """A watcher (:func:`kernel.progress.watching`) drawing a bar per step on a terminal;
    safe to call from several threads."""

    def __init__(self, delay: float = DELAY, enabled: bool | None = None):
        self.enabled = on_terminal() if enabled is None else enabled
        self.delay = delay
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._bar = None
        self._label: str | None = None
        self._done = 0
        self._total = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        """Step ``label`` (an English msgid) did ``done`` of ``total``."""
        if not self.enabled:
            return
        with self._lock:
            if label != self._label:
                self._finish()
                self._label, self._done, self._total = label, 0, max(total, 1)
            done = min(max(done, 0), self._total)
            if self._bar is None and time.monotonic() - self.started >= self.delay:
                self._bar = click.progressbar(length=self._total, label=_(label),
                                              file=sys.stderr, show_pos=True,
                                              show_percent=True)
                self._bar.__enter__()
            if self._bar is not None and done > self._bar.pos:
                self._bar.update(done - self._bar.pos)
            self._done = done

    def counter(self, label: str, total: int):
        """A ``progress(n)`` callback (n more units done) for step ``label``."""
        state = {"done": 0}
        lock = threading.Lock()

        def add(count: int = 1) -> None:
            with lock:
                state["done"] += count
                done = state["done"]
            self(label, done, total)

        self(label, 0, total)
        return add

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def close(self) -> None:
        """End the bar being drawn (the command is done)."""
        with self._lock:
            self._finish()


@contextmanager
def terminal_progress(delay: float = DELAY):
    """Watch the :func:`kernel.progress.report` calls of the block with a terminal bar;
    yields the :class:`TerminalProgress` (for explicit counters)."""
    from kernel.progress import watching

    bar = TerminalProgress(delay)
    try:
        with watching(bar):
            yield bar
    finally:
        bar.close()
