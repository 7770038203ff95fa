"""Business-hour arithmetic (kernel.calendar, rule R6, scenario 4).

Every expected value was worked out by hand, the working shown in the comment or the
``why`` column. Calendar facts were checked against the installed ``holidays`` package
(``holidays.China(years=Y)``: ``dict(h)`` and ``h.weekend_workdays``), which follows the
State Council notices for 2025 and 2026:

* 2025: National Day + Mid-Autumn Oct 1-8 off; make-up workdays Sun 2025-09-28 and
  Sat 2025-10-11.
* 2026: Dragon Boat Fri 06-19; Mid-Autumn Fri 09-25; National Day Oct 1-7 off (the
  library lists Oct 1, 2, 3 as National Day, Oct 5 as "observed", Oct 6, 7 as
  substituted days off; Sun Oct 4 is simply a weekend); make-up workdays Sun 09-20 and
  Sat 10-10. Nothing around 2026-03-13..16 or 2026-05-29..06-02.

Default hours: Mon-Fri 09:00-12:00 + 13:00-18:00, i.e. 3 h + 5 h = 8 h a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest

from kernel.calendar import MAX_IDLE_DAYS, WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)

DEFAULT = WorkingCalendar.default(SH)
NO_LUNCH = WorkingCalendar(SH, {d: [(time(9), time(18))] for d in range(5)})
SATURDAYS = WorkingCalendar(SH, {**DEFAULT.weekly, 5: [(time(9), time(12))]})
OVERRIDES = WorkingCalendar(SH, DEFAULT.weekly, overrides={
    date(2026, 6, 1): False,    # Monday, an ordinary workday, closed by the branch
    date(2026, 5, 30): True,    # Saturday, opened by the branch
    date(2026, 10, 2): True,    # Friday, National Day, opened by the branch
    date(2026, 10, 10): False,  # Saturday make-up workday, closed by the branch
})
NO_HOLIDAYS = WorkingCalendar(SH, DEFAULT.weekly, country_holidays=False)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# -- the library facts the cases below rely on ---------------------------------------------

def test_library_facts_used_by_these_tests():
    h25, h26 = holidays.China(years=2025), holidays.China(years=2026)
    assert {date(2025, 9, 28), date(2025, 10, 11)} <= h25.weekend_workdays
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= h26.weekend_workdays
    assert {date(2026, 10, d) for d in (1, 2, 3, 5, 6, 7)} <= set(h26)
    assert date(2026, 10, 4) not in h26            # a plain Sunday inside the block
    assert date(2026, 6, 19) in h26 and date(2026, 9, 25) in h26
    for free in (date(2026, 5, 29), date(2026, 6, 1), date(2026, 6, 2), date(2026, 3, 13),
                 date(2026, 3, 16), date(2026, 10, 8), date(2026, 10, 9)):
        assert free not in h26


# -- add_working_hours ----------------------------------------------------------------------

ADD_CASES = [
    # (calendar, start, hours, expected, why)
    (DEFAULT, sh(2026, 5, 29, 17), 6, sh(2026, 6, 1, 15),
     "Fri 17-18 = 1; Sat, Sun closed; Mon 9-12 = 3 (4); 13-15 = 2 (6)"),
    (NO_LUNCH, sh(2026, 5, 29, 17), 6, sh(2026, 6, 1, 14),
     "Fri 17-18 = 1; Mon 9-14 = 5 (6)"),
    # scenario 4: a Friday far from any holiday (Qingming is Apr 5)
    (DEFAULT, sh(2026, 3, 13, 17), 7, sh(2026, 3, 16, 16),
     "Fri 17-18 = 1; Mon 9-12 = 3 (4); 13-16 = 3 (7)"),
    (DEFAULT, sh(2026, 3, 13, 17), 6, sh(2026, 3, 16, 15), "urban: as above, 13-15"),
    # National Day 2026
    (DEFAULT, sh(2026, 9, 30, 16), 6, sh(2026, 10, 8, 14),
     "Wed 9-30 16-18 = 2; Oct 1-7 closed; Thu 10-08 9-12 = 3 (5); 13-14 = 1 (6)"),
    (DEFAULT, sh(2026, 10, 2, 10), 4, sh(2026, 10, 8, 14),
     "start inside the holiday: Oct 8 9-12 = 3; 13-14 = 1"),
    (DEFAULT, sh(2026, 10, 6, 10), 20, sh(2026, 10, 10, 14),
     "Oct 8 = 8, Oct 9 = 8 (16); Sat 10-10 make-up, Monday's hours: 9-12 = 3 (19), 13-14"),
    (DEFAULT, sh(2026, 9, 18, 17), 3, sh(2026, 9, 20, 11),
     "Fri 9-18 17-18 = 1; Sat closed; Sun 9-20 make-up 9-11 = 2"),
    # 2025 make-up Sunday
    (DEFAULT, sh(2025, 9, 26, 17), 2, sh(2025, 9, 28, 10),
     "Fri 17-18 = 1; Sat 9-27 closed; Sun 9-28 make-up 9-10 = 1"),
    (DEFAULT, sh(2025, 9, 30, 17), 2, sh(2025, 10, 9, 10),
     "Tue 9-30 17-18 = 1; Oct 1-8 holidays; Thu 10-09 9-10 = 1"),
    # branch overrides win over the library
    (OVERRIDES, sh(2026, 5, 29, 17), 6, sh(2026, 5, 30, 15),
     "Fri 17-18 = 1; Sat 5-30 opened, Monday's hours: 9-12 = 3 (4), 13-15 (6)"),
    (OVERRIDES, sh(2026, 5, 31, 10), 4, sh(2026, 6, 2, 14),
     "Sun closed; Mon 6-01 closed by override; Tue 9-12 = 3, 13-14 = 1"),
    (OVERRIDES, sh(2026, 10, 1, 10), 2, sh(2026, 10, 2, 11),
     "Oct 1 holiday; Fri 10-02 holiday opened by override: 9-11"),
    (OVERRIDES, sh(2026, 10, 9, 17), 2, sh(2026, 10, 12, 10),
     "Fri 17-18 = 1; Sat 10-10 make-up closed by override; Sun; Mon 10-12 9-10 = 1"),
    # Saturday hours configured
    (SATURDAYS, sh(2026, 5, 29, 17), 6, sh(2026, 6, 1, 11),
     "Fri 17-18 = 1; Sat 9-12 = 3 (4); Sun closed; Mon 9-11 = 2 (6)"),
    (SATURDAYS, sh(2026, 10, 9, 17), 5, sh(2026, 10, 12, 10),
     "Fri 17-18 = 1; Sat 10-10 make-up uses Saturday's own 9-12 = 3 (4); Mon 9-10"),
    (SATURDAYS, sh(2026, 9, 30, 17), 2, sh(2026, 10, 8, 10),
     "Wed 17-18 = 1; Sat 10-03 is National Day: closed too; Thu 10-08 9-10 = 1"),
    # no holidays library: National Day is an ordinary Thursday, 10-10 an ordinary Saturday
    (NO_HOLIDAYS, sh(2026, 9, 30, 16), 6, sh(2026, 10, 1, 14),
     "Wed 16-18 = 2; Thu 10-01 9-12 = 3 (5); 13-14 = 1 (6)"),
    # boundaries (Mon 2026-06-01 is an ordinary Monday)
    (DEFAULT, sh(2026, 6, 1, 12), 1, sh(2026, 6, 1, 14), "12:00 is an end: 13-14"),
    (DEFAULT, sh(2026, 6, 1, 18), 1, sh(2026, 6, 2, 10), "18:00 is an end: Tue 9-10"),
    (DEFAULT, sh(2026, 5, 29, 18), 1, sh(2026, 6, 1, 10), "Fri 18:00: Mon 9-10"),
    (DEFAULT, sh(2026, 6, 1, 7, 30), 1, sh(2026, 6, 1, 10), "before 9:00: 9-10"),
    (DEFAULT, sh(2026, 6, 1, 12, 30), 1, sh(2026, 6, 1, 14), "in lunch: 13-14"),
    (DEFAULT, sh(2026, 6, 1, 11), 1, sh(2026, 6, 1, 12), "uses the interval up exactly: 12:00"),
    (DEFAULT, sh(2026, 6, 1, 9), 8, sh(2026, 6, 1, 18), "a whole day ends at 18:00"),
    (DEFAULT, sh(2026, 6, 1, 11, 30), 1, sh(2026, 6, 1, 13, 30), "11:30-12 + 13-13:30"),
    # zero hours: start unchanged, inside or outside working time
    (DEFAULT, sh(2026, 6, 1, 10), 0, sh(2026, 6, 1, 10), "zero"),
    (DEFAULT, sh(2026, 5, 30, 10), 0, sh(2026, 5, 30, 10), "zero on a Saturday"),
    (DEFAULT, sh(2026, 6, 1, 12, 30), timedelta(0), sh(2026, 6, 1, 12, 30), "zero in lunch"),
    # other amount types
    (DEFAULT, sh(2026, 6, 1, 11), Decimal("1.5"), sh(2026, 6, 1, 13, 30), "11-12 + 13-13:30"),
    (DEFAULT, sh(2026, 6, 1, 11), 0.25, sh(2026, 6, 1, 11, 15), "quarter hour"),
    (DEFAULT, sh(2026, 6, 1, 11), timedelta(minutes=90), sh(2026, 6, 1, 13, 30), "timedelta"),
    (DEFAULT, sh(2026, 6, 1, 11), Decimal("0.0001"), sh(2026, 6, 1, 11, 0, 0, 360000),
     "0.0001 h = 0.36 s exactly"),
    # many weeks out, no holidays: 400 h = 50 days = 10 weeks Mon 01-05 .. Fri 03-13 18:00
    (NO_HOLIDAYS, sh(2026, 1, 5, 9), 400, sh(2026, 3, 13, 18), "10 full weeks"),
    # with holidays: Mon 01-05 .. Fri 02-13 = 6 weeks = 240 h; Sat 02-14 make-up = 248 h;
    # 02-16 .. 02-23 Spring Festival (Sun 02-22 weekend); Tue 02-24 .. Fri 02-27 = 280 h;
    # Sat 02-28 make-up = 288 h
    (DEFAULT, sh(2026, 1, 5, 9), 288, sh(2026, 2, 28, 18), "Spring Festival 2026"),
]


@pytest.mark.parametrize("cal, start, hours, expected, why", ADD_CASES,
                         ids=[f"{c[1]:%Y%m%d-%H%M}+{c[2]}-{c[4][:24]}" for c in ADD_CASES])
def test_add_working_hours(cal, start, hours, expected, why):
    got = cal.add_working_hours(start, hours)
    assert got == expected, why
    assert got.tzinfo is SH
    assert got.utcoffset() == expected.utcoffset()


def test_result_is_a_consistent_inverse_of_working_hours_between():
    # not hand-checked: a property. Counting the working time back over each deadline
    # above gives the amount added, wherever the start was.
    for cal, start, hours, expected, _ in ADD_CASES:
        amount = hours if isinstance(hours, timedelta) else timedelta(hours=float(hours))
        assert cal.working_hours_between(start, expected) == amount


def test_start_given_in_utc():
    # Fri 2026-05-29 09:00 UTC = 17:00 +08:00, so the first case again: Mon 15:00 +08:00
    got = DEFAULT.add_working_hours(datetime(2026, 5, 29, 9, tzinfo=UTC), 6)
    assert got == sh(2026, 6, 1, 15) == datetime(2026, 6, 1, 7, tzinfo=UTC)
    assert got.tzinfo is SH and got.hour == 15
    # Sun 2026-05-31 23:30 UTC is Mon 07:30 in Shanghai: the local day decides (9-10 Monday),
    # not the UTC Sunday
    assert DEFAULT.add_working_hours(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), 1) \
        == sh(2026, 6, 1, 10)
    # Fri 10:00 UTC = Fri 18:00 Shanghai, an interval end: Monday 9-10
    assert DEFAULT.add_working_hours(datetime(2026, 5, 29, 10, tzinfo=UTC), 1) \
        == sh(2026, 6, 1, 10)


def test_dst_keeps_wall_clock_hours():
    cal = WorkingCalendar.default(BERLIN)
    # Germany moves to summer time on Sun 2026-03-29 (02:00 CET -> 03:00 CEST).
    # Fri 03-27 17:00 CET + 2 h: Fri 17-18 = 1, Mon 9-10 CEST = 1
    got = cal.add_working_hours(datetime(2026, 3, 27, 17, tzinfo=BERLIN), 2)
    assert got == datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    assert got.utcoffset() == 2 * H and got == datetime(2026, 3, 30, 8, tzinfo=UTC)
    # round the clock, no holidays: the changeover days have 23 h and 25 h
    always = WorkingCalendar(BERLIN, {d: [(time(0), time(0))] for d in range(7)},
                             country_holidays=False)
    assert always.working_hours_between(datetime(2026, 3, 29, tzinfo=BERLIN),
                                        datetime(2026, 3, 30, tzinfo=BERLIN)) == 23 * H
    assert always.working_hours_between(datetime(2026, 10, 25, tzinfo=BERLIN),
                                        datetime(2026, 10, 26, tzinfo=BERLIN)) == 25 * H
    assert always.add_working_hours(datetime(2026, 3, 29, tzinfo=BERLIN), 23) \
        == datetime(2026, 3, 30, tzinfo=BERLIN)
    # Sat 23:00 + 3 h: 23-24 Sat, 00-02 CET Sun, then the clock jumps: 03:00 CEST
    assert always.add_working_hours(datetime(2026, 3, 28, 23, tzinfo=BERLIN), 3) \
        == datetime(2026, 3, 29, 3, tzinfo=BERLIN)
    # intervals of the changeover day are still its wall times
    assert cal.intervals(date(2026, 3, 30))[0] == (datetime(2026, 3, 30, 9, tzinfo=BERLIN),
                                                   datetime(2026, 3, 30, 12, tzinfo=BERLIN))


# -- working_hours_between ------------------------------------------------------------------

BETWEEN_CASES = [
    # (calendar, a, b, expected, why)
    (DEFAULT, sh(2026, 6, 1, 9, 30), sh(2026, 6, 1, 11), 1.5 * H, "same interval"),
    (DEFAULT, sh(2026, 6, 1, 11), sh(2026, 6, 1, 14), 2 * H, "11-12 + 13-14, lunch skipped"),
    (DEFAULT, sh(2026, 6, 1, 12, 15), sh(2026, 6, 1, 12, 45), timedelta(0), "inside lunch"),
    (DEFAULT, sh(2026, 5, 29, 17), sh(2026, 6, 1, 10), 2 * H, "Fri 17-18 + Mon 9-10"),
    (DEFAULT, sh(2026, 5, 30, 8), sh(2026, 5, 31, 20), timedelta(0), "Sat-Sun"),
    (DEFAULT, sh(2026, 9, 30, 16), sh(2026, 10, 8, 14), 6 * H,
     "Wed 16-18 = 2; Oct 1-7 = 0; Thu 9-12, 13-14 = 4"),
    (DEFAULT, sh(2026, 9, 30, 9), sh(2026, 10, 12, 9), 32 * H,
     "Sep 30, Oct 8, Oct 9, Sat Oct 10 (make-up) = 4 x 8"),
    (SATURDAYS, sh(2026, 5, 29, 9), sh(2026, 6, 1, 9), 11 * H, "Fri 8 + Sat 3"),
    (DEFAULT, sh(2026, 6, 1, 14), sh(2026, 6, 1, 11), -2 * H, "b < a: negative"),
    (DEFAULT, sh(2026, 6, 1, 10), sh(2026, 6, 1, 10), timedelta(0), "a == b"),
    (DEFAULT, datetime(2026, 6, 1, 1, tzinfo=UTC), sh(2026, 6, 1, 10), 1 * H,
     "01:00 UTC = 09:00 +08:00"),
    (NO_HOLIDAYS, sh(2026, 1, 5), sh(2026, 12, 28), 51 * 40 * H,
     "Mon 01-05 .. Sun 12-27 = 51 whole weeks of 40 h"),
]


@pytest.mark.parametrize("cal, a, b, expected, why", BETWEEN_CASES,
                         ids=[c[4][:30] for c in BETWEEN_CASES])
def test_working_hours_between(cal, a, b, expected, why):
    assert cal.working_hours_between(a, b) == expected, why


# -- next_working_moment --------------------------------------------------------------------

NEXT_CASES = [
    (sh(2026, 6, 1, 10), sh(2026, 6, 1, 10), "inside"),
    (sh(2026, 6, 1, 9), sh(2026, 6, 1, 9), "at a start: itself"),
    (sh(2026, 6, 1, 12), sh(2026, 6, 1, 13), "at an end: next start"),
    (sh(2026, 6, 1, 12, 30), sh(2026, 6, 1, 13), "lunch"),
    (sh(2026, 6, 1, 7), sh(2026, 6, 1, 9), "early morning"),
    (sh(2026, 5, 29, 18), sh(2026, 6, 1, 9), "Friday close: Monday"),
    (sh(2026, 10, 1, 10), sh(2026, 10, 8, 9), "National Day: Oct 8"),
    (sh(2026, 10, 10, 8), sh(2026, 10, 10, 9), "Saturday make-up day"),
    (datetime(2026, 6, 1, 4, 30, tzinfo=UTC), sh(2026, 6, 1, 13), "04:30 UTC = 12:30 lunch"),
]


@pytest.mark.parametrize("moment, expected, why", NEXT_CASES, ids=[c[2] for c in NEXT_CASES])
def test_next_working_moment(moment, expected, why):
    got = DEFAULT.next_working_moment(moment)
    assert got == expected, why
    assert got.tzinfo is SH


# -- days and intervals ---------------------------------------------------------------------

DAY_CASES = [
    (DEFAULT, date(2026, 6, 1), True, "ordinary Monday"),
    (DEFAULT, date(2026, 5, 30), False, "ordinary Saturday"),
    (DEFAULT, date(2026, 6, 19), False, "Dragon Boat Festival"),
    (DEFAULT, date(2026, 9, 25), False, "Mid-Autumn Festival (Friday)"),
    (DEFAULT, date(2025, 9, 28), True, "Sunday make-up workday 2025"),
    (DEFAULT, date(2025, 9, 27), False, "the Saturday before it"),
    (DEFAULT, date(2025, 10, 8), False, "substituted day off 2025"),
    (DEFAULT, date(2026, 9, 20), True, "Sunday make-up workday 2026"),
    (DEFAULT, date(2011, 12, 31), True, "Saturday make-up for New Year 2012 (previous year)"),
    (DEFAULT, date(2012, 1, 3), False, "substituted day off from 2011-12-31"),
    (DEFAULT, date(2026, 10, 10), True, "Saturday make-up workday 2026"),
    (DEFAULT, date(2026, 10, 3), False, "National Day on a Saturday"),
    (DEFAULT, date(2026, 10, 4), False, "Sunday inside the block"),
    (DEFAULT, date(2026, 10, 5), False, "Monday, 'observed'"),
    (DEFAULT, date(2026, 10, 7), False, "Wednesday, substituted"),
    (DEFAULT, date(2026, 10, 8), True, "first day back"),
    (SATURDAYS, date(2026, 10, 3), False, "holiday on a working Saturday"),
    (SATURDAYS, date(2026, 5, 30), True, "working Saturday"),
    (OVERRIDES, date(2026, 6, 1), False, "override closes a Monday"),
    (OVERRIDES, date(2026, 5, 30), True, "override opens a Saturday"),
    (OVERRIDES, date(2026, 10, 2), True, "override opens a public holiday"),
    (OVERRIDES, date(2026, 10, 10), False, "override closes a make-up day"),
    (NO_HOLIDAYS, date(2026, 10, 1), True, "no library: a Thursday"),
    (NO_HOLIDAYS, date(2026, 10, 10), False, "no library: a Saturday"),
]


@pytest.mark.parametrize("cal, day, expected, why", DAY_CASES, ids=[c[3] for c in DAY_CASES])
def test_is_working_day(cal, day, expected, why):
    assert cal.is_working_day(day) is expected, why
    assert bool(cal.intervals(day)) is expected, why


def test_intervals():
    assert DEFAULT.intervals(date(2026, 6, 1)) == [
        (sh(2026, 6, 1, 9), sh(2026, 6, 1, 12)), (sh(2026, 6, 1, 13), sh(2026, 6, 1, 18))]
    assert all(dt.tzinfo is SH for pair in DEFAULT.intervals(date(2026, 6, 1)) for dt in pair)
    assert DEFAULT.intervals(date(2026, 10, 1)) == []
    # make-up Saturday without Saturday hours: Monday's hours
    assert DEFAULT.intervals(date(2026, 10, 10)) == [
        (sh(2026, 10, 10, 9), sh(2026, 10, 10, 12)), (sh(2026, 10, 10, 13), sh(2026, 10, 10, 18))]
    # ... with Saturday hours: its own
    assert SATURDAYS.intervals(date(2026, 10, 10)) == [(sh(2026, 10, 10, 9), sh(2026, 10, 10, 12))]
    # the first of Mon..Fri that has hours: Monday's, even when Tuesday's differ
    monday = WorkingCalendar(SH, {0: [(time(8), time(17))], 1: [(time(10), time(16))]})
    assert monday.intervals(date(2026, 10, 10)) == [(sh(2026, 10, 10, 8), sh(2026, 10, 10, 17))]
    # ... Monday closed, Tuesday 10-16
    odd = WorkingCalendar(SH, {1: [(time(10), time(16))], 2: [(time(8), time(20))]})
    assert odd.intervals(date(2026, 10, 10)) == [(sh(2026, 10, 10, 10), sh(2026, 10, 10, 16))]
    # a weekend-only branch opened on a Monday by override works Saturday's hours
    weekend = WorkingCalendar(SH, {5: [(time(8), time(12))]},
                              overrides={date(2026, 6, 1): True})
    assert weekend.intervals(date(2026, 6, 1)) == [(sh(2026, 6, 1, 8), sh(2026, 6, 1, 12))]
    # 24:00 written as time(0) at the end
    late = WorkingCalendar(SH, {0: [(time(20), time(0))]}, country_holidays=False)
    assert late.intervals(date(2026, 6, 1)) == [(sh(2026, 6, 1, 20), sh(2026, 6, 2, 0))]
    assert late.add_working_hours(sh(2026, 6, 1, 23), 2) == sh(2026, 6, 8, 21)


def test_calendar_is_an_immutable_value():
    weekly = {d: [(time(9), time(18))] for d in range(5)}
    cal = WorkingCalendar(SH, weekly)
    weekly[5] = [(time(9), time(12))]
    assert not cal.is_working_day(date(2026, 5, 30))  # the caller's dict was copied
    assert cal == NO_LUNCH and hash(cal) == hash(NO_LUNCH)
    with pytest.raises(AttributeError):
        cal.tz = BERLIN
    assert WorkingCalendar.default("Asia/Shanghai") == DEFAULT


# -- validation -----------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 1, 10)


@pytest.mark.parametrize("call", [
    lambda: DEFAULT.add_working_hours(NAIVE, 1),
    lambda: DEFAULT.add_working_hours(NAIVE, 0),
    lambda: DEFAULT.next_working_moment(NAIVE),
    lambda: DEFAULT.working_hours_between(NAIVE, sh(2026, 6, 1, 12)),
    lambda: DEFAULT.working_hours_between(sh(2026, 6, 1, 12), NAIVE),
], ids=["add", "add-zero", "next", "between-a", "between-b"])
def test_naive_datetime_is_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("hours", [-1, -0.01, Decimal("-0.5"), timedelta(minutes=-1)])
def test_negative_hours_are_refused(hours):
    with pytest.raises(ValueError, match="negative"):
        DEFAULT.add_working_hours(sh(2026, 6, 1, 10), hours)


@pytest.mark.parametrize("hours", [float("nan"), float("inf"), Decimal("NaN"), "3", None, True])
def test_non_amounts_are_refused(hours):
    with pytest.raises(ValueError):
        DEFAULT.add_working_hours(sh(2026, 6, 1, 10), hours)


@pytest.mark.parametrize("call", [
    lambda: DEFAULT.add_working_hours(sh(2026, 6, 1, 10), 1e300),
    lambda: DEFAULT.add_working_hours(sh(2026, 6, 1, 10), Decimal("1e30")),
    lambda: DEFAULT.add_working_hours(sh(9999, 12, 31, 17), 8),
    lambda: DEFAULT.next_working_moment(sh(9999, 12, 31, 19)),
    lambda: DEFAULT.working_hours_between(sh(1, 1, 1), sh(1, 1, 2)),
    lambda: WorkingCalendar(SH, {4: [(time(20), time(0))]}).intervals(date(9999, 12, 31)),
], ids=["huge-float", "huge-decimal", "after-9999", "next-after-9999", "year-1", "intervals"])
def test_leaving_the_datetime_range_is_a_value_error(call):
    """A huge amount or a date at the end of the calendar raises ValueError (what callers
    turn into a user message), never OverflowError."""
    with pytest.raises(ValueError, match="out of range|outside the dates"):
        call()


@pytest.mark.parametrize("kwargs", [
    {"weekly": {7: [(time(9), time(18))]}},
    {"weekly": {0: [(time(13), time(18)), (time(9), time(12))]}},   # unsorted
    {"weekly": {0: [(time(9), time(13)), (time(12), time(18))]}},   # overlapping
    {"weekly": {0: [(time(18), time(9))]}},                          # reversed
    {"weekly": {0: [(time(9), time(9))]}},                           # empty
    {"weekly": {0: [(time(20), time(0)), (time(1), time(2))]}},      # after 24:00
    {"weekly": {0: [(time(9, tzinfo=UTC), time(18))]}},             # aware time
    {"weekly": {0: [("09:00", "18:00")]}},
    {"weekly": {}, "overrides": {datetime(2026, 6, 1, tzinfo=SH): True}},
    {"weekly": {}, "overrides": {date(2026, 6, 1): 1}},
])
def test_malformed_calendar_is_refused(kwargs):
    with pytest.raises(ValueError):
        WorkingCalendar(SH, **kwargs)


def test_is_working_day_wants_a_date():
    with pytest.raises(ValueError):
        DEFAULT.is_working_day(sh(2026, 6, 1, 10))


def test_no_working_time_at_all_gives_up():
    closed = WorkingCalendar(SH, {}, country_holidays=False)
    with pytest.raises(ValueError, match="no working time"):
        closed.add_working_hours(sh(2026, 6, 1, 10), 1)
    with pytest.raises(ValueError, match="no working time"):
        closed.next_working_moment(sh(2026, 6, 1, 10))
    assert closed.working_hours_between(sh(2026, 1, 1), sh(2027, 1, 1)) == timedelta(0)


def test_long_closures_are_skipped_up_to_the_cap():
    # Mondays only, and the branch closes every Monday for a while: the search walks the
    # closed days one by one (no minute stepping) and gives up after MAX_IDLE_DAYS of them
    def mondays_only(closed_days: int) -> WorkingCalendar:
        first = date(2026, 6, 1)
        return WorkingCalendar(SH, {0: [(time(9), time(10))]}, country_holidays=False,
                               overrides={first + timedelta(days=n): False
                                          for n in range(0, closed_days, 7)})

    start = sh(2026, 6, 1, 8)
    # closed 2026-06-01 .. 2027-05-24 (52 Mondays; 364 idle days): Mon 2027-05-31 9-10
    assert mondays_only(358).add_working_hours(start, 1) == sh(2027, 5, 31, 10)
    with pytest.raises(ValueError, match="no working time"):
        mondays_only(MAX_IDLE_DAYS + 7).add_working_hours(start, 1)
