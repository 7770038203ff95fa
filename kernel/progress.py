"""How far long work got, for whoever watches: a bar on the terminal, a job's page.

Long work (migrations, loading demo data) calls :func:`report` as it goes; nothing
happens unless a caller watches with :func:`watching` (the CLI draws a bar on a terminal
or writes progress lines, :mod:`kernel.cli.progress`); :func:`step` names a step as it
begins (which plugin migrates, whose demo data loads). The watcher is a context
variable, so work in other threads or requests is not mixed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: ``callback(label, done, total)``: ``label`` is an English msgid naming the step
Watcher = Callable[[str, int, int], None]

_watcher: ContextVar[Watcher | None] = ContextVar("fixdesk_progress", default=None)


@contextmanager
def watching(callback: Watcher) -> Iterator[None]:
    """Send the :func:`report` calls made inside the block to ``callback``."""
    token = _watcher.set(callback)
    try:
        yield
    finally:
        _watcher.reset(token)


def step(label: str, **params) -> None:
    """Long work says it begins the step ``label``: an English msgid whose ``{name}``
    fields are filled from ``params`` once translated, such as
    ``N_("migrating {unit}…")``. Only watchers with a ``step(label, params)`` method
    see it (:class:`kernel.cli.progress.LineProgress`); nobody watching: nothing happens."""
    announce = getattr(_watcher.get(), "step", None)
    if announce is not None:
        announce(label, params)


def report(label: str, done: int, total: int) -> None:
    """Long work says it did ``done`` of ``total`` units of the step ``label`` (an English
    msgid, such as N_("Loading demo data")); nobody watching: nothing happens."""
    callback = _watcher.get()
    if callback is not None:
        callback(label, done, total)
