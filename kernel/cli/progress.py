"""Progress bars on the terminal for commands that take more than a second.

A bar appears only when both standard output and standard error are terminals (a
person watching) and only once the work has run for :data:`DELAY` seconds; in scripts
and pipes the command stays quiet. The bar is drawn on standard error with
``click.progressbar``, one bar per step (migrations, demo data, papers).

Commands whose steps should be seen in a log as well (``new-site``) write lines instead
(:class:`LineProgress`): one as each step begins, and the count of a long step every
few seconds and when it is done; their ``--quiet`` writes none.
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


#: seconds between two count lines of one step
LINE_EVERY = 2.0


class LineProgress:
    """A watcher (:func:`kernel.progress.watching`) writing progress lines to standard
    error, translated: ``migrating repair…`` as a step begins (:func:`kernel.progress.step`)
    and ``<step>: 120/300`` for a counted one (:func:`kernel.progress.report`) at most
    every ``every`` seconds, and when it is done. Safe to call from several threads."""

    def __init__(self, every: float = LINE_EVERY, stream=None, clock=time.monotonic):
        self.every = every
        self.stream = stream
        self.clock = clock
        self._lock = threading.Lock()
        self._label: str | None = None
        self._shown = -1
        self._at = 0.0

    def _write(self, line: str) -> None:
        click.echo(line, err=self.stream is None, file=self.stream)

    def step(self, label: str, params: dict) -> None:
        """A step begins: its name on a line of its own."""
        with self._lock:
            self._write(_(label).format(**params))

    def __call__(self, label: str, done: int, total: int) -> None:
        """Step ``label`` (an English msgid) did ``done`` of ``total``."""
        with self._lock:
            now = self.clock()
            if label != self._label:
                self._label, self._shown, self._at = label, -1, now
            finished = total > 0 and done >= total
            if done <= self._shown or not (finished or now - self._at >= self.every):
                return
            self._shown, self._at = done, now
            self._write(_("{step}: {done}/{total}").format(step=_(label), done=done,
                                                         total=total))


@contextmanager
def progress_lines(quiet: bool = False):
    """Watch the block's :func:`kernel.progress.report` and :func:`~kernel.progress.step`
    calls with a :class:`LineProgress` (with ``quiet``: with nothing)."""
    from kernel.progress import watching

    if quiet:
        yield None
        return
    lines = LineProgress()
    with watching(lines):
        yield lines
