"""Rendering many records: in this process for a few, in worker processes for a batch.

WeasyPrint's layout is single-threaded Python, so a batch is split into chunks
rendered by a pool of worker processes (started once per process and reused),
each chunk becoming one PDF; the chunks are merged in order. Memory stays flat:
a worker holds one chunk at a time.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from kernel.documents import pdf

#: below this many records, starting processes costs more than it saves
POOL_THRESHOLD = 12
#: records per chunk: big enough that font subsetting (once per chunk) is cheap,
#: small enough that workers start while the main process still prepares records
CHUNK = 25

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def _warm() -> None:
    pdf.font_config()


def _pool_for(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != workers:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver"),
                                    initializer=_warm)
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


def render_many(jobs: Iterable, count: int, base_dir: Path, workers: int | None = None) -> bytes:
    """One PDF for all ``jobs`` (``count`` of them), each starting on a new page.

    ``jobs`` may be a generator: chunks go to the workers as soon as they are
    prepared, so preparing (database, templates) overlaps with rendering.
    """
    workers = workers or os.cpu_count() or 1
    if count < POOL_THRESHOLD or workers == 1:
        return render_chunk(list(jobs), str(base_dir))
    pool = _pool_for(workers)
    futures, chunk = [], []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == CHUNK:
            futures.append(pool.submit(render_chunk, chunk, str(base_dir)))
            chunk = []
    if chunk:
        futures.append(pool.submit(render_chunk, chunk, str(base_dir)))
    return _merge([future.result() for future in futures])
