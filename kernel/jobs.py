"""Durable jobs: an outbox in the database, scheduled jobs, and the worker loop.

``ctx.enqueue(name, payload)`` adds a row in the caller's transaction, so the
job exists if and only if that transaction commits. ``fixdesk worker`` claims
due jobs one at a time, runs the handler in a new transaction together with
marking the job done, and retries failures with exponential backoff before
marking them failed with the error.

On PostgreSQL workers claim with ``SELECT ... FOR UPDATE SKIP LOCKED``; on every
engine the claim is a conditional UPDATE, so two workers never run the same
job. A claim is a lease: a worker killed mid-job leaves the job ``running``
until ``locked_until`` passes, then another worker takes it over. A worker that
finishes after losing its lease has its work rolled back. A worker told to stop
(SIGTERM) finishes its job and takes no other; interrupted (:meth:`Worker.interrupt`)
it rolls the job's work back and releases the job to the queue at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, and_, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import ScheduledJob
from kernel.db import Base, IdMixin, UTCDateTime, upsert_insert, utcnow
from kernel.errors import NotFound, ValidationError
from kernel.i18n import _
from kernel.logs import JOB_ID

LOGGER = logging.getLogger("fixdesk.jobs")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(IdMixin, Base):
    """One unit of background work."""

    __tablename__ = "job"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False

    name: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ScheduleRun(Base):
    """A scheduled job enqueued for one due time (so many workers enqueue it once)."""

    __tablename__ = "schedule_run"
    __expose__ = False  # managed by its own commands, not the generic API
    __audited__ = False

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    job_id: Mapped[int | None] = mapped_column(Integer)


JOB_ENTITIES = [Job, ScheduleRun]


def enqueue(ctx, name: str, payload: dict, *, run_at=None, max_attempts=None) -> Job:
    """Add a job in the context's transaction (see :meth:`Context.enqueue`)."""
    handler = ctx.app.job_handlers.get(name)
    if handler is None:
        raise ValidationError(_("no handler for job {name!r}").format(name=name), field="job")
    job = Job(name=name, payload=payload, run_at=run_at or ctx.now(),
              max_attempts=max_attempts or handler.max_attempts,
              branch_id=ctx.branch.id if ctx.branch is not None else None,
              user_id=ctx.user.id if ctx.user is not None else None)
    ctx.session.add(job)
    ctx.session.flush()
    return job


# --------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------


def due_time(schedule: ScheduledJob, now: dt.datetime, tz) -> dt.datetime:
    """The latest due time of ``schedule`` at or before ``now``."""
    if schedule.interval_seconds:
        epoch = int(now.timestamp())
        return dt.datetime.fromtimestamp(epoch - epoch % schedule.interval_seconds, dt.UTC)
    hour, minute = (int(p) for p in schedule.daily_at.split(":"))
    local = now.astimezone(tz)
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due > local:
        due -= dt.timedelta(days=1)
    return due.astimezone(dt.UTC)


def enqueue_due_schedules(app, now: dt.datetime) -> list[str]:
    """Enqueue each scheduled job whose due time has come and was not enqueued yet."""
    enqueued = []
    for schedule in app.schedules:
        due = due_time(schedule, now, app.site.config.tz)
        with app.sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = upsert_insert(dialect)
            claimed = session.execute(
                insert(ScheduleRun.__table__).values(name=schedule.name, due_at=due)
                .on_conflict_do_nothing().returning(ScheduleRun.__table__.c.name)
            ).first()
            if claimed is None:
                continue
            job = Job(name=schedule.name, payload={}, run_at=now, max_attempts=1)
            session.add(job)
            session.flush()
            session.execute(update(ScheduleRun.__table__).where(
                ScheduleRun.__table__.c.name == schedule.name,
                ScheduleRun.__table__.c.due_at == due).values(job_id=job.id))
            enqueued.append(schedule.name)
    return enqueued


# --------------------------------------------------------------------------
# the worker
# --------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another worker took the job over while this one ran it."""


class Stopping(BaseException):
    """The worker was told to stop before the job it runs finished (:meth:`Worker.interrupt`):
    the job's work is rolled back and the job released to the queue. A BaseException, so
    that a handler's ``except Exception`` does not swallow it."""


@dataclass(frozen=True)
class JobRun:
    """What a detached handler (:class:`~kernel.contributions.JobHandler` ``detached``)
    gets instead of a context: the app, the job's id, who queued it (user and branch
    ids) and the worker's clock; ``still_mine()`` says whether this worker still holds
    the job (a long handler may check it and stop)."""

    app: Any
    job_id: int
    user_id: int | None
    branch_id: int | None
    clock: Callable[[], dt.datetime]
    still_mine: Callable[[], bool]


class Worker:
    """Claims and runs due jobs of one site."""

    def __init__(self, app, *, worker_id: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, lease_seconds: int | None = None):
        self.app = app
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        #: set by :meth:`stop`: take no new job, end :meth:`run` after the current one
        self.stopping = False
        self._job: int | None = None  # the job being run, while it runs

    def stop(self) -> None:
        """Finish the job in progress (if any), then take no other: :meth:`run` returns."""
        self.stopping = True

    def interrupt(self) -> None:
        """Stop the job in progress now (called from a signal handler in the thread that
        runs it): raises :class:`Stopping` there, which rolls its work back and puts the
        job back in the queue for another worker. Without a job in progress, just
        :meth:`stop`."""
        self.stopping = True
        if self._job is not None:
            raise Stopping(self._job)

    def _writing(self):
        """A transaction that reads, then writes: on SQLite it takes the write lock at its
        start and waits its turn (a deferred one would fail at once when another writer
        got in between, as the desk's requests do beside a worker thread)."""
        return self.app.engine.execution_options(fixdesk_writes=True).begin()

    def _due(self, table, now):
        return or_(and_(table.c.status == QUEUED, table.c.run_at <= now),
                   and_(table.c.status == RUNNING, table.c.locked_until < now))

    def claim(self, job_id: int | None = None) -> tuple[int, int] | None:
        """Take one due job (``job_id``: that one only): returns (job id, attempt number)
        or None when nothing is due."""
        table = Job.__table__
        now = self.clock()
        with self._writing() as conn:
            query = select(table.c.id, table.c.name).where(self._due(table, now)) \
                .order_by(table.c.run_at, table.c.id).limit(1)
            if job_id is not None:
                query = query.where(table.c.id == job_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = conn.execute(query).first()
            if row is None:
                return None
            handler = self.app.job_handlers.get(row.name)
            lease = self.lease_seconds or (handler.lease_seconds if handler else 300)
            claimed = conn.execute(
                update(table).where(table.c.id == row.id, self._due(table, now))
                .values(status=RUNNING, attempts=table.c.attempts + 1, locked_by=self.id,
                        locked_until=now + dt.timedelta(seconds=lease))
                .returning(table.c.attempts)
            ).first()
            return (row.id, claimed.attempts) if claimed else None

    def run_one(self, job_id: int | None = None) -> bool:
        """Claim and run one job (``job_id``: that one, if it is due); False when no job
        was due."""
        claimed = self.claim(job_id)
        if claimed is None:
            return False
        job_id, attempt = claimed
        token = JOB_ID.set(job_id)  # every line logged while it runs names the job
        started = time.perf_counter()
        outcome = "interrupted"  # unless it ends: the worker lost its database, or a bug
        try:
            try:
                self._job = job_id
                ran = self._run_claimed(job_id, attempt)
                outcome = "ended"
                return ran
            finally:
                self._job = None
        except Stopping:
            outcome = "stopped and queued again"
            self._release(job_id, attempt)
            return False
        finally:
            LOGGER.log(logging.ERROR if outcome == "interrupted" else logging.INFO,
                       "job %s attempt %s %s after %.1fms", job_id, attempt, outcome,
                       (time.perf_counter() - started) * 1000,
                       extra={"attempt": attempt, "worker": self.id})
            JOB_ID.reset(token)

    def _run_claimed(self, job_id: int, attempt: int) -> bool:
        """Run a job this worker claimed (:meth:`run_one`)."""
        table = Job.__table__
        mine = and_(table.c.id == job_id, table.c.locked_by == self.id,
                    table.c.attempts == attempt, table.c.status == RUNNING)
        with self.app.sessions() as session:
            job = session.get(Job, job_id)
            handler = self.app.job_handlers.get(job.name)
            run = JobRun(self.app, job.id, job.user_id, job.branch_id, self.clock,
                         lambda: self._still_mine(mine))
            payload = dict(job.payload or {})
        if handler is not None and handler.detached:
            return self._run_detached(handler, run, payload, mine)
        try:
            with self.app.write_sessions.begin() as session:
                job = session.get(Job, job_id)
                handler = self.app.job_handlers.get(job.name)
                if handler is None:
                    raise LookupError(_("no handler for job {name!r} (plugin disabled?)")
                                      .format(name=job.name))
                ctx = self._context(session, job)
                handler.func(ctx, **(job.payload or {}))
                done = session.execute(update(table).where(mine).values(
                    status=DONE, finished_at=self.clock(), locked_until=None, last_error=None))
                if done.rowcount != 1:
                    raise LeaseLost(job_id)
        except LeaseLost:
            return True
        except Exception as exc:  # the handler's failure is recorded, never fatal to the worker
            self._failed(job_id, mine, exc)
        return True

    def _run_detached(self, handler, run: JobRun, payload: dict, mine) -> bool:
        """A detached handler runs outside any transaction; then the job is marked done."""
        table = Job.__table__
        try:
            handler.func(run, **payload)
            with self.app.engine.begin() as conn:
                conn.execute(update(table).where(mine).values(
                    status=DONE, finished_at=self.clock(), locked_until=None, last_error=None))
        except Exception as exc:  # recorded like any job's failure
            self._failed(run.job_id, mine, exc)
        return True

    def _release(self, job_id: int, attempt: int) -> None:
        """Put a job this worker was stopped in back in the queue, due now, its lease given
        up and the interrupted attempt not counted (its work was rolled back)."""
        table = Job.__table__
        with self._writing() as conn:
            conn.execute(update(table).where(
                table.c.id == job_id, table.c.locked_by == self.id,
                table.c.attempts == attempt, table.c.status == RUNNING,
            ).values(status=QUEUED, attempts=table.c.attempts - 1, locked_by=None,
                     locked_until=None))
        LOGGER.warning("job %s released: the worker stopped before it finished", job_id,
                       extra={"attempt": attempt, "worker": self.id})

    def _still_mine(self, mine) -> bool:
        with self.app.engine.connect() as conn:
            return conn.execute(select(Job.__table__.c.id).where(mine)).first() is not None

    def _context(self, session, job: Job):
        from kernel.models import Branch

        session.info["fixdesk_system_actor"] = f"job:{job.name}"
        branch = session.get(Branch, job.branch_id) if job.branch_id else None
        return self.app.context_in(session, branch=branch, clock=self.clock)

    def _failed(self, job_id: int, mine, exc: Exception) -> None:
        table = Job.__table__
        error = "".join(traceback.format_exception_only(exc)).strip()
        tail = traceback.extract_tb(exc.__traceback__)[-1:]
        if tail:
            error += f" ({os.path.basename(tail[0].filename)}:{tail[0].lineno})"
        with self._writing() as conn:
            row = conn.execute(select(table.c.name, table.c.attempts, table.c.max_attempts)
                               .where(table.c.id == job_id)).first()
            handler = self.app.job_handlers.get(row.name)
            backoff = handler.backoff_seconds if handler else 30
            if row.attempts >= row.max_attempts:
                values = {"status": FAILED, "finished_at": self.clock()}
            else:
                delay = dt.timedelta(seconds=backoff * 2 ** (row.attempts - 1))
                values = {"status": QUEUED, "run_at": self.clock() + delay}
            conn.execute(update(table).where(mine).values(
                locked_until=None, locked_by=None, last_error=error[:2000], **values))
        LOGGER.warning("job %s (%s) attempt %s failed%s: %s", job_id, row.name, row.attempts,
                       " for good" if values["status"] == FAILED else ", to be retried",
                       error, extra={"job": row.name, "attempt": row.attempts,
                                     "final": values["status"] == FAILED})

    def run(self, *, once: bool = False, poll_seconds: float = 1.0,
            max_jobs: int | None = None, stop: Callable[[], bool] = lambda: False) -> int:
        """Run jobs until none is due (``once``), until :meth:`stop`, or forever; returns
        how many ran."""
        from kernel.failures import trouble

        ran = 0
        while not stop() and not self.stopping:
            try:
                enqueue_due_schedules(self.app, self.clock())
                while (max_jobs is None or ran < max_jobs) and not self.stopping \
                        and self.run_one():
                    ran += 1
            except Exception as exc:
                # the database restarts, the disk is full: wait and try again (a job it
                # interrupted is taken over after its lease); anything else is a bug
                problem = trouble(exc, self.app.site.path)
                if once or problem is None:
                    raise
                LOGGER.warning("worker %s waits: %s (%s)", self.id, problem.message,
                               getattr(exc, "orig", None) or exc)
            if once or (max_jobs is not None and ran >= max_jobs):
                return ran
            resume = time.monotonic() + poll_seconds
            while not self.stopping and time.monotonic() < resume:  # a stop ends the wait
                time.sleep(min(0.1, poll_seconds))
        return ran


def retry(app, job_id: int, now: dt.datetime) -> None:
    """Put a failed job back in the queue with a fresh set of attempts."""
    with app.sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(_("no job {id}").format(id=job_id), field="id")
        job.status, job.attempts, job.run_at, job.finished_at = QUEUED, 0, now, None


def jobs_summary(app, status: str | None = None, limit: int = 50) -> list[Any]:
    with app.sessions() as session:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if status:
            query = query.where(Job.status == status)
        return list(session.scalars(query))
