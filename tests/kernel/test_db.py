"""The database layer: exact money on both engines, UTC instants, SQLite pragmas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from kernel.db import Money, make_engine, normalize_url
from kernel.errors import SiteError


@pytest.mark.parametrize("value, expected", [
    ("0", Decimal("0.00")), (12, Decimal("12.00")), ("557.00", Decimal("557.00")),
    (Decimal("0.10"), Decimal("0.10")), ("-3.5", Decimal("-3.50")),
])
def test_money_parses_exact_amounts(value, expected):
    assert Money.to_decimal(value) == expected


@pytest.mark.parametrize("value", [0.1, True, "abc", "1.005", "NaN", "Infinity", "1e30",
                                   "-1000000000000000"])
def test_money_refuses_inexact_or_bad_values(value):
    with pytest.raises((TypeError, ValueError)):
        Money.to_decimal(value)


def test_sum_of_many_amounts_is_exact(make_site, app_of):
    """SQLite keeps NUMERIC as a float; integer minor units keep SUM exact on both engines."""
    from fdt_notes.models import Note

    app = app_of(make_site(["fdt_notes"]))
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("19.99"), Decimal("0.01")] * 2500
    with app.context() as ctx:
        from kernel.masterdata import get_branch

        branch_id = get_branch(ctx, "HQ").id
        ctx.session.execute(Note.__table__.insert(), [
            {"branch_id": branch_id, "title": "n", "amount": a,
             "created_at": ctx.now(), "updated_at": ctx.now()} for a in amounts])
    with app.sessions() as session:
        total = session.scalar(select(func.sum(Note.amount)))
        assert total == Decimal("50750.00") == sum(amounts)
        assert isinstance(total, Decimal)
        assert session.scalar(select(func.count()).where(Note.amount > Decimal("19.98"))) == 2500
        float_sum = session.scalar(text("SELECT SUM(amount * 0.01) FROM fdt_notes_note"))
        assert float(float_sum) == pytest.approx(50750.0)  # what a float column would give


def test_instants_come_back_aware_in_utc(make_site, app_of):
    from kernel.models import Company

    app = app_of(make_site([]))
    shanghai = dt.datetime(2026, 5, 29, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with app.context() as ctx:
        company = ctx.session.scalars(select(Company)).one()
        company.created_at = shanghai
    with app.sessions() as session:
        stored = session.scalars(select(Company)).one().created_at
    assert stored.tzinfo is not None and stored.utcoffset() == dt.timedelta(0)
    assert stored == shanghai
    with app.context() as ctx, pytest.raises(Exception, match="naive datetime"):
        ctx.session.scalars(select(Company)).one().created_at = dt.datetime(2026, 1, 1)
        ctx.session.flush()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_foreign_keys_are_enforced(make_site, app_of):
    from sqlalchemy.exc import IntegrityError

    from kernel.models import Customer

    app = app_of(make_site([]))
    with pytest.raises(IntegrityError), app.context() as ctx:
        ctx.session.add(Customer(company_id=1, branch_id=999, code="X", name="x",
                                 tier="corporate"))
        ctx.session.flush()


def test_a_read_refuses_to_write_and_leaves_other_sessions_alone(make_site, app_of):
    from sqlalchemy import update

    from kernel.db import WriteInRead, refuse_writes
    from kernel.models import Customer

    app = app_of(make_site([]))
    with app.sessions.begin() as session:
        refuse_writes(session)
        session.scalars(select(Customer).limit(1)).all()  # reading is fine
        with pytest.raises(WriteInRead):
            session.execute(update(Customer).values(name="x"))
        session.add(Customer(company_id=1, branch_id=1, code="R1", name="r", tier="corporate"))
        with pytest.raises(WriteInRead):
            session.flush()
        session.rollback()
    with app.sessions.begin() as session:  # the next session of the factory may write
        session.add(Customer(company_id=1, branch_id=1, code="R2", name="r", tier="corporate"))
        session.flush()


@pytest.mark.parametrize("url, message", [
    ("mysql://root@localhost/x", "unsupported database 'mysql'"),
    ("not a url", "bad database URL"),
    ("postgresql://postgres@127.0.0.1:5432", "names no database"),
    ("sqlite://", "needs a file"),
    ("postgresql+psycopg2://u@h/d", "psycopg 3"),
])
def test_bad_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(SiteError, match=message):
        normalize_url(url)


def test_postgres_urls_use_psycopg3():
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
