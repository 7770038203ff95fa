"""Rendering many records: in this process for a few, in worker processes for a batch.

WeasyPrint's layout is single-threaded Python, so a batch is split into chunks
rendered by a pool of worker processes (started once per process and reused),
each chunk becoming one PDF; the chunks are merged in order. Memory stays flat:
a worker holds one chunk at a time.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from kernel.db import let_others_read
from kernel.documents import pdf

#: below this many records, starting processes costs more than it saves
POOL_THRESHOLD = 12
#: records per chunk at most: big enough that font subsetting (once per chunk) is cheap,
#: small enough that workers start while the main process still prepares records
CHUNK = 25
#: a smaller batch is cut in at least this many chunks per worker, so that its progress
#: moves in steps a person sees (a few dozen papers: a step every few papers)
STEPS_PER_WORKER = 4

#: how often a worker looks whether the process that started its pool is still there
PARENT_CHECK_SECONDS = 1.0

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def _warm(parent: int) -> None:
    """A worker's start: the font configuration, and a watch on the pool's owner."""
    pdf.font_config()
    threading.Thread(target=_end_with, args=(parent,), name="fixdesk-pool-owner-watch",
                     daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but another user's: a reused number, still "there"
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc: os.kill said enough
        return True


def _end_with(parent: int) -> None:
    """End this worker once the process that started the pool is gone.

    A worker whose owner was killed (SIGKILL, a server stopped the hard way) would wait
    for chunks forever, and the forkserver would live on for it."""
    while _alive(parent):
        time.sleep(PARENT_CHECK_SECONDS)
    pdf.remove_font_copies()
    os._exit(0)


def _pool_for(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != workers:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver"),
                                    initializer=_warm, initargs=(os.getpid(),))
        _pool_size = workers
    return _pool


def render_chunk(jobs: list, base_dir: str) -> bytes:
    """Lay out and write a chunk of render jobs as one PDF."""
    documents = [pdf.render(j.html, base_dir=Path(base_dir), width=j.width, height=j.height,
                            footer=j.footer) for j in jobs]
    return pdf.write(documents)


def _merge(parts: list[bytes]) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_many(jobs: Iterable, count: int, base_dir: Path, workers: int | None = None,
                progress: Callable[[int], None] | None = None) -> bytes:
    """One PDF for all ``jobs`` (``count`` of them), each starting on a new page.

    ``jobs`` may be a generator: chunks go to the workers as soon as they are
    prepared, so preparing (database, templates) overlaps with rendering.
    ``progress(n)`` is called as papers are laid out (``n`` more each time); with worker
    processes it is called from the pool's thread, so it must be thread-safe.
    """
    let_others_read()  # laying out papers runs no statement: SQLite's readers go on
    workers = workers or os.cpu_count() or 1
    if count < POOL_THRESHOLD or workers == 1:
        documents = []
        for job in jobs:
            documents.append(pdf.render(job.html, base_dir=base_dir, width=job.width,
                                        height=job.height, footer=job.footer))
            if progress is not None:
                progress(1)
        return pdf.write(documents)
    pool = _pool_for(workers)
    size = max(1, min(CHUNK, -(-count // (workers * STEPS_PER_WORKER))))
    futures, chunk = [], []

    def submit(part: list) -> None:
        future = pool.submit(render_chunk, part, str(base_dir))
        if progress is not None:
            future.add_done_callback(
                lambda done, n=len(part): None if done.cancelled() or done.exception()
                else progress(n))
        futures.append(future)

    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            submit(chunk)
            chunk = []
    if chunk:
        submit(chunk)
    return _merge([future.result() for future in futures])
