"""Rendering many records: in this process for a few, in worker processes for a batch.

WeasyPrint's layout is single-threaded Python, so a batch is split into chunks
rendered by a pool of worker processes (started once per process and reused),
each chunk becoming one PDF; the chunks are merged in order. Memory stays flat:
a worker holds one chunk at a time.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from kernel.documents import pdf

#: below this many records, starting processes costs more than it saves
POOL_THRESHOLD = 12
CHUNK = 10

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


def render_many(jobs: list, base_dir: Path, workers: int | None = None) -> bytes:
    """One PDF for all ``jobs``, each starting on a new page."""
    workers = workers or os.cpu_count() or 1
    if len(jobs) < POOL_THRESHOLD or workers == 1:
        return render_chunk(jobs, str(base_dir))
    chunks = [jobs[i:i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    pool = _pool_for(workers)
    parts = list(pool.map(render_chunk, chunks, [str(base_dir)] * len(chunks)))
    return _merge(parts)
