"""Naming series: patterns, counters per branch and year, no repeats and no gaps under load."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from kernel.errors import ValidationError
from kernel.numbering import next_number, render, validate_pattern


@pytest.mark.parametrize("pattern, expected", [
    ("WO-{branch}-{YYYY}-{#####}", "WO-SH-2026-00042"),
    ("{YY}{MM}{DD}-{###}", "260529-042"),
    ("INV{YYYY}{MM}{####}", "INV2026050042"),
    ("R-{#}", "R-42"),
])
def test_patterns_render(pattern, expected):
    assert render(pattern, branch_code="SH", on=dt.date(2026, 5, 29), counter=42) == expected


@pytest.mark.parametrize("pattern", ["WO-{YYYY}", "WO-{###}-{##}", "WO-{branch}-{Q}-{###}"])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(ValidationError, match="exactly one"):
        validate_pattern(pattern)


def test_counters_run_per_branch_and_year(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"], demo=True, branch_code="SH")
    app = app_of(site)
    with app.context(branch="SH") as ctx:
        jd = ctx.session.scalars(select(type(ctx.branch)).where(
            type(ctx.branch).code == "JD")).one()
        numbers = [next_number(ctx, "fdt_note", on=dt.date(2026, 12, 31)) for _ in range(3)]
        numbers.append(next_number(ctx, "fdt_note", branch=jd, on=dt.date(2026, 12, 31)))
        numbers.append(next_number(ctx, "fdt_note", on=dt.date(2027, 1, 1)))
    assert numbers == ["NT-SH-2026-00001", "NT-SH-2026-00002", "NT-SH-2026-00003",
                       "NT-JD-2026-00001", "NT-SH-2027-00001"]
    changed = fixdesk("--site", site.path, "settings", "set", "numbering.fdt_note",
                      "N{YY}-{branch}-{####}")
    assert changed.code == 0
    with app.context(branch="SH") as ctx:
        assert next_number(ctx, "fdt_note", on=dt.date(2026, 3, 1)) == "N26-SH-0001"
    bad = fixdesk("--site", site.path, "settings", "set", "numbering.fdt_note", "N-{YYYY}")
    assert bad.code == 2 and "exactly one" in bad.err


def test_a_rolled_back_document_gives_its_number_back(make_site, app_of):
    app = app_of(make_site(["fdt_notes"]))
    with pytest.raises(RuntimeError), app.context(branch="HQ") as ctx:
        assert next_number(ctx, "fdt_note", on=dt.date(2026, 1, 5)) == "NT-HQ-2026-00001"
        raise RuntimeError("cancelled")
    with app.context(branch="HQ") as ctx:
        assert next_number(ctx, "fdt_note", on=dt.date(2026, 1, 5)) == "NT-HQ-2026-00001"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_fifty_concurrent_creators_on_postgres_never_repeat_or_skip(make_site):
    """50 threads, each on its own connection, create notes at once; 10 of them roll back."""
    import fdt_notes.plugin as notes
    from fdt_notes.models import Note

    from kernel.site import Site

    site = Site.load(make_site(["fdt_notes"]).path)
    app = site.start(pool_size=55, max_overflow=0)
    creators = 50
    barrier = threading.Barrier(creators)
    errors: list[BaseException] = []

    def create(index: int) -> None:
        try:
            with app.context(branch="HQ") as ctx:
                branch_id = ctx.branch.id
                ctx.session.connection()  # own connection before the race starts
                barrier.wait(timeout=30)
                notes.add_note(ctx, branch_id, f"note {index}", "1.00")
                if index % 5 == 0:
                    raise LookupError("rolled back on purpose")
        except LookupError:
            pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(creators)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        with app.sessions() as session:
            numbers = sorted(session.scalars(select(Note.number)))
        year = dt.datetime.now(site.config.tz).year
        assert numbers == [f"NT-HQ-{year}-{n:05d}" for n in range(1, 41)]
    finally:
        app.close()
