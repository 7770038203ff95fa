"""Branch working hours and special days in the database, and ``fixdesk calendar`` (R6)."""

from __future__ import annotations

import datetime as dt

import pytest

from kernel.branch_calendar import add_working_hours, working_hours_between


@pytest.fixture
def site(make_site):
    return make_site([], demo=True, branch_code="SH")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_a_new_branch_starts_with_the_default_week(site, fixdesk):
    assert fixdesk("--site", site.path, "branch", "add", "PD", "--name", "浦东服务站").code == 0
    hours = fixdesk("--site", site.path, "calendar", "hours", "--branch", "PD").out.splitlines()
    assert hours == ["mon\t09:00-12:00,13:00-18:00", "tue\t09:00-12:00,13:00-18:00",
                     "wed\t09:00-12:00,13:00-18:00", "thu\t09:00-12:00,13:00-18:00",
                     "fri\t09:00-12:00,13:00-18:00", "sat\tclosed", "sun\tclosed"]


@pytest.mark.parametrize("branch, start, hours, expected", [
    # Fri 16-18 (2 h), Mon 09-12 (5 h), Mon 13-14 (6 h)
    ("SH", "2026-05-29 16:00", 6, "2026-06-01 14:00 Mon"),
    # scenario 4: Fri 17-18 (1 h), Mon 09-12 (4 h), Mon 13-16 (7 h)
    ("JD", "2026-03-13 17:00", 7, "2026-03-16 16:00 Mon"),
    # National Day 2026: Wed 16-18 (2 h), Oct 1-7 closed, Thu 8 09-12 (5 h), 13-14 (6 h)
    ("SH", "2026-09-30 16:00", 6, "2026-10-08 14:00 Thu"),
])
def test_calendar_deadline_cli(site, fixdesk, branch, start, hours, expected):
    result = fixdesk("--site", site.path, "calendar", "deadline", "--branch", branch,
                     "--start", start, "--hours", hours)
    assert (result.code, result.out) == (0, expected + "\n")


def test_saturday_hours_and_special_days_change_deadlines(site, fixdesk, app_of):
    path = site.path
    assert fixdesk("--site", path, "calendar", "hours", "--branch", "JD", "--set", "sat",
                   "09:00-12:00").code == 0
    # Fri 17-18 (1 h), Sat 09-12 (4 h), Mon 09-11 (6 h)
    out = fixdesk("--site", path, "calendar", "deadline", "--branch", "JD", "--start",
                  "2026-03-13 17:00", "--hours", "6").out
    assert out == "2026-03-16 11:00 Mon\n"
    # the admin closes Monday 16 March at JD: the deadline moves to Tuesday
    assert fixdesk("--site", path, "calendar", "day", "--branch", "JD", "2026-03-16",
                   "--closed", "--note", "停电").code == 0
    out = fixdesk("--site", path, "calendar", "deadline", "--branch", "JD", "--start",
                  "2026-03-13 17:00", "--hours", "6").out
    assert out == "2026-03-17 11:00 Tue\n"
    # an extra working Sunday wins over the weekly hours (uses a weekday's hours)
    assert fixdesk("--site", path, "calendar", "day", "--branch", "JD", "2026-03-15",
                   "--working").code == 0
    days = fixdesk("--site", path, "calendar", "days", "--branch", "JD", "--from", "2026-03-13",
                   "--to", "2026-03-16").out.splitlines()
    assert days == ["2026-03-13 Fri\t09:00-12:00,13:00-18:00", "2026-03-14 Sat\t09:00-12:00",
                    "2026-03-15 Sun\t09:00-12:00,13:00-18:00", "2026-03-16 Mon\trest day"]
    # SH is not affected by JD's calendar: Fri 17-18 (1 h), Mon 09-12 (4 h), Mon 13-15 (6 h)
    out = fixdesk("--site", path, "calendar", "deadline", "--branch", "SH", "--start",
                  "2026-03-13 17:00", "--hours", "6").out
    assert out == "2026-03-16 15:00 Mon\n"


def test_make_up_workdays_count_and_admin_days_win(site, app_of, fixdesk):
    app = app_of(site)
    with app.context(branch="SH") as ctx:
        # Sat 2026-10-10 is an official make-up workday: Fri 9th 17-18, Sat 10th 09-12
        due = add_working_hours(ctx, _at("2026-10-09 17:00"), 4, ctx.branch)
        assert due == _at("2026-10-10 12:00")
        assert working_hours_between(ctx, _at("2026-10-09 09:00"), _at("2026-10-12 09:00"),
                                     ctx.branch) == dt.timedelta(hours=16)
    fixdesk("--site", site.path, "calendar", "day", "--branch", "SH", "2026-10-10", "--closed")
    with app.context(branch="SH") as ctx:
        assert add_working_hours(ctx, _at("2026-10-09 17:00"), 4, ctx.branch) == \
            _at("2026-10-12 12:00")


@pytest.mark.parametrize("args, message", [
    (["deadline", "--branch", "SH", "--start", "tomorrow", "--hours", "6"],
     "expected a date and time"),
    (["deadline", "--branch", "XX", "--start", "2026-05-29 16:00", "--hours", "6"],
     "no branch XX"),
    (["deadline", "--branch", "SH", "--start", "2026-05-29 16:00", "--hours", "-1"],
     "-1"),
    (["hours", "--branch", "SH", "--set", "mon", "18:00-09:00"], "hours must be like"),
    (["hours", "--branch", "SH", "--set", "funday", "09:00-12:00"], "days must be like"),
    (["hours", "--branch", "SH", "--set", "mon", "09:00-12:00,11:00-13:00"], "overlap"),
    (["day", "--branch", "SH", "2026-13-01", "--closed"], "expected a date"),
    (["day", "--branch", "SH", "2026-10-01"], "say --closed, --working or --clear"),
    # issue #15: each of these printed a traceback or exited 0
    (["deadline", "--branch", "SH", "--start", "2026-05-29 16:00", "--hours", "nan"],
     "'nan' is not a finite number"),
    (["deadline", "--branch", "SH", "--start", "9999-12-31 17:00", "--hours", "8"],
     "the year must be between 1950 and 2100"),
    (["deadline", "--branch", "SH", "--start", "9999-12-31 23:00-14:00", "--hours", "8"],
     "the year must be between 1950 and 2100"),
    (["days", "--branch", "SH", "--from", "2026-05-10", "--to", "2026-05-01"],
     "the last date 2026-05-01 is before the first date 2026-05-10"),
    (["days", "--branch", "SH", "--from", "9999-12-31", "--to", "9999-12-31"],
     "the year must be between 1950 and 2100"),
    (["days", "--branch", "SH", "--from", "2026-01-01", "--to", "2100-12-31"],
     "at most 366 days at a time"),
    (["day", "--branch", "SH", "0001-01-01", "--closed"], "the year must be between"),
])
def test_calendar_cli_refuses_bad_input(site, fixdesk, args, message):
    result = fixdesk("--site", site.path, "calendar", *args)
    assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, result


def test_a_plugin_computes_deadlines_with_the_branch_calendar(make_site, app_of):
    import fdt_notes.plugin as notes

    app = app_of(make_site(["fdt_notes"], demo=True, branch_code="SH"))
    with app.context(branch="JD") as ctx:
        note, _answers = notes.add_note(ctx, ctx.branch.id, "报修", "0")
        note.created_at = _at("2026-05-29 17:00")
        assert notes.reply_due(ctx, note, hours=7) == _at("2026-06-01 16:00")
