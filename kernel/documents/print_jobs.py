"""Batch printing as a job: queued by the desk, run in the background, watched with a
progress bar, downloaded by the user who asked.

:func:`queue_batch` checks everything the user could get wrong at once (the document,
the rights on every record, whether the paper is for each of them) and queues a job
``kernel.print_batch`` in the caller's transaction. The job is *detached*
(:class:`~kernel.contributions.JobHandler`): it prints with
:func:`~kernel.documents.detached.print_detached`, which holds the write lock only to
log the prints, and reports progress and the finished PDF through the site's spool
(:mod:`kernel.documents.spool`). Any worker may run it: ``fixdesk worker``, or the web
process itself (:func:`run_in_background`), which has no worker of its own.
"""

from __future__ import annotations

import threading
import time

from kernel.errors import FixdeskError

JOB_NAME = "kernel.print_batch"
#: batches laid out at the same time by one process (each uses the process pool)
CONCURRENT = 2
#: seconds between two progress writes
PROGRESS_EVERY = 0.4

_slots = threading.BoundedSemaphore(CONCURRENT)
_in_flight: set[int] = set()
_in_flight_lock = threading.Lock()


def queue_batch(ctx, name: str, ids: list[int], *, locale: str | None = None):
    """Check a batch print of document ``name`` for the records ``ids`` as the context's
    user and queue it as a job (in the caller's transaction); returns the job.

    Refusals come now, not from the job: an unknown or switched-off document, a record
    the user may not see, a record the paper is not for."""
    from kernel.documents import spool
    from kernel.documents.service import load_records, offered_document, paper_locale
    from kernel.jobs import enqueue

    document = offered_document(ctx, name)
    load_records(ctx, document, ids)
    job = enqueue(ctx, JOB_NAME, {"document": document.name, "ids": list(ids),
                                  "locale": paper_locale(ctx, locale)})
    spool.sweep(ctx.app, ctx.now())
    spool.write_state(ctx.app, job.id, done=0, total=len(ids), document=document.name)
    return job


def run_batch_print(run, document: str, ids: list[int], locale: str | None = None) -> None:
    """The job's handler (detached): print, reporting progress, and keep the PDF."""
    from kernel.documents import spool
    from kernel.documents.detached import Requester, print_detached

    app, total = run.app, len(ids)
    counter = _Counter(app, run.job_id, total, document)
    try:
        data = print_detached(app, Requester(run.user_id, run.branch_id), document, ids,
                              locale=locale, progress=counter.add)
    except FixdeskError as exc:  # the user's to read on the progress page
        spool.write_state(app, run.job_id, done=counter.done, total=total, document=document,
                          error=exc.message)
        raise
    spool.store_pdf(app, run.job_id, data)
    finished = run.clock()
    spool.write_state(app, run.job_id, done=total, total=total, document=document,
                      finished_at=finished.isoformat(),
                      expires_at=(finished + spool.KEEP).isoformat())


class _Counter:
    """Counts papers laid out (from the pool's thread too) and writes the progress now
    and then."""

    def __init__(self, app, job_id: int, total: int, document: str):
        self.app, self.job_id, self.total, self.document = app, job_id, total, document
        self.done = 0
        self._lock = threading.Lock()
        self._written = 0.0

    def add(self, count: int) -> None:
        from kernel.documents import spool

        with self._lock:
            self.done = min(self.total, self.done + count)
            now = time.monotonic()
            if now - self._written < PROGRESS_EVERY and self.done < self.total:
                return
            self._written = now
            spool.write_state(self.app, self.job_id, done=self.done, total=self.total,
                              document=self.document)


def run_in_background(app, job_id: int) -> bool:
    """Run job ``job_id`` in a thread of this process unless this process runs it already;
    the thread claims the job like any worker, so a job another worker took (or that is
    not due) is left alone. Returns whether a thread was started."""
    with _in_flight_lock:
        if job_id in _in_flight:
            return False
        _in_flight.add(job_id)
    thread = threading.Thread(target=_run, args=(app, job_id), daemon=True,
                              name=f"fixdesk-print-{job_id}")
    thread.start()
    return True


def _run(app, job_id: int) -> None:
    from kernel.jobs import Worker

    try:
        with _slots:
            Worker(app).run_one(job_id)
    finally:
        with _in_flight_lock:
            _in_flight.discard(job_id)
