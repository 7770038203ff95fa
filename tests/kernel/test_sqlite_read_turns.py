"""SQLite's reads of one process take turns (kernel.db.SqliteReaders): a read waits for the
one before it, but never long; a long read lets the next one in; a read inside another
in the same thread, and every writer, go ahead. Real SQLite files, real threads."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

import kernel.db
from kernel.db import let_others_read, make_engine, make_sessionmaker


@pytest.fixture
def factories(tmp_path, monkeypatch):
    """(reads, writes) session factories of a new SQLite file; a read waits up to 2 s for
    its turn here, so that waiting for it and going ahead without it tell apart."""
    monkeypatch.setattr(kernel.db, "SQLITE_READ_WAIT_SECONDS", 2.0)
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    yield (make_sessionmaker(engine),
           make_sessionmaker(engine.execution_options(fixdesk_writes=True)))
    engine.dispose()


def _read(factory) -> None:
    with factory.begin() as session:
        session.execute(text("SELECT n FROM t")).all()


def _in_thread(work) -> tuple[threading.Thread, dict]:
    """Run ``work()`` in a thread; the dict gets ``done``: when it returned (monotonic)."""
    out: dict = {}

    def run():
        work()
        out["done"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_read_waits_for_the_read_before_it(factories):
    reads, _writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        thread, out = _in_thread(lambda: _read(reads))
        time.sleep(0.03)
        assert "done" not in out  # waiting for its turn
        ended = time.monotonic()
    thread.join()
    assert ended <= out["done"] < ended + 1


def test_a_read_waits_no_longer_than_its_limit(factories, monkeypatch):
    monkeypatch.setattr(kernel.db, "SQLITE_READ_WAIT_SECONDS", 0.1)
    reads, _writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        started = time.monotonic()
        thread, out = _in_thread(lambda: _read(reads))
        thread.join(timeout=1.5)
        assert 0.1 <= out["done"] - started < 1  # went ahead without its turn


def test_a_long_read_lets_the_next_one_in_at_its_next_statement(factories):
    reads, _writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        thread, out = _in_thread(lambda: _read(reads))
        time.sleep(kernel.db.SQLITE_READ_TURN_SECONDS + 0.05)
        assert "done" not in out
        session.execute(text("SELECT n FROM t")).all()  # had its turn long enough
        thread.join(timeout=1.5)
        assert "done" in out  # in before this read ended, long before 2 s


def test_long_work_without_statements_lets_the_next_read_in(factories):
    reads, _writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        let_others_read()  # as laying out a paper does
        thread, out = _in_thread(lambda: _read(reads))
        thread.join(timeout=1.5)
        assert "done" in out
        session.execute(text("SELECT n FROM t")).all()  # and this read goes on
    let_others_read()  # holding no turn: nothing to do


def test_a_read_inside_a_read_of_the_same_thread_needs_no_turn(factories):
    reads, _writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        started = time.monotonic()
        _read(reads)  # a second session beside the first, as the desk's company name
        assert time.monotonic() - started < 1
    _read(reads)  # and the turn was given back


def test_writers_do_not_wait_for_readers(factories):
    reads, writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()

        def write():
            with writes.begin() as w:
                w.execute(text("INSERT INTO t VALUES (2)"))

        thread, out = _in_thread(write)
        thread.join(timeout=1.5)
        assert "done" in out


def test_a_read_that_writes_aside_lets_the_next_read_in(factories):
    """A read that opens a write of its own beside it (marking mentions seen) may wait
    for the writers' turn: meanwhile other reads go on."""
    reads, writes = factories
    with reads.begin() as session:
        session.execute(text("SELECT n FROM t")).all()
        with writes.begin() as w:
            w.execute(text("INSERT INTO t VALUES (3)"))
        thread, out = _in_thread(lambda: _read(reads))
        thread.join(timeout=1.5)
        assert "done" in out
