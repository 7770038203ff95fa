"""The admin console's branches and calendars, through real HTTP: the branch list, a
branch's year calendar with public holidays, make-up days and the branch's own days, a
day's form, the weekly hours and the deadline calculator, the same services as
``fixdesk calendar ...``."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from kernel.audit import AuditLog
from kernel.auth import User
from kernel.branch_calendar import BranchDay, BranchHours
from kernel.models import Branch

CAL = "/desk/admin/branches/{code}/calendar"
DAY = "/desk/admin/branches/{code}/calendar/day"
HOURS = "/desk/admin/branches/{code}/hours"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESULT = re.compile(r'class="deadline-result">([^<]*)<')


def kind_of(page, day: str) -> str:
    found = re.search(rf'data-day="{day}" data-kind="(\w+)"', page.text)
    assert found, day
    return found.group(1)


def deadline(client, code: str, start: str, hours) -> str:
    page = client.get(CAL.format(code=code), params={"year": "2027", "start": start,
                                                     "hours": str(hours)})
    assert page.status_code == 200, page.text
    found = RESULT.search(page.text)
    assert found, page.text
    return found.group(1)


def audit_rows(desk, entity: str) -> list[AuditLog]:
    with desk.app.sessions() as session:
        rows = list(session.scalars(select(AuditLog).where(AuditLog.entity == entity)
                                    .order_by(AuditLog.id)))
        session.expunge_all()
        return rows


def branch_days(desk) -> list[tuple]:
    with desk.app.sessions() as session:
        return [(r.branch_id, r.day, r.working, r.note)
                for r in session.scalars(select(BranchDay).order_by(BranchDay.id))]


def week_of(desk, code: str) -> list[tuple]:
    branch_id = desk.id_of(Branch, code=code)
    with desk.app.sessions() as session:
        return [(r.weekday, r.start, r.end) for r in session.scalars(
            select(BranchHours).where(BranchHours.branch_id == branch_id)
            .order_by(BranchHours.weekday, BranchHours.start))]


def day_form(client, code: str, day: str, state: str, note: str = "", **extra) -> dict:
    return {"csrf": client.csrf, "day": day, "state": state, "note": note, **extra}


def test_branch_list_links_calendars_and_records(desk):
    root = desk.login("root")
    page = root.get("/desk/admin/branches")
    assert page.status_code == 200
    for code, name, zone in (("SH", "上海服务中心", "市区"), ("JD", "嘉定分公司", "郊区")):
        row = page.text.split(f">{code}</a>", 1)[1].split("</tr>", 1)[0]
        assert name in row and zone in row
        assert f'href="/desk/admin/branches/{code}/calendar"' in page.text
        assert f'href="/desk/branch/{desk.id_of(Branch, code=code)}"' in page.text
    assert "上海市嘉定区城中路 138 号" in page.text and "021-5991 2200" in page.text
    assert "中国（上海）时间" in page.text  # the time zone, in words
    assert 'aria-current="page">网点与日历' in page.text
    # the record form the list links to opens
    assert root.get(f"/desk/branch/{desk.id_of(Branch, code='JD')}").status_code == 200


def test_year_calendar_marks_holidays_make_up_days_and_weekends(desk):
    root = desk.login("root")
    page = root.get(CAL.format(code="JD"), params={"year": "2027"})
    assert page.status_code == 200
    assert page.text.count('<table class="cal-month">') == 12
    assert page.text.count("data-day=") == 365
    # Monday first, translated weekday headers
    assert re.search(r"<th scope=\"col\">周一</th><th scope=\"col\">周二</th>", page.text)
    # 2027: Spring Festival (the holidays library's estimate), a weekend, a working day
    assert kind_of(page, "2027-02-06") == "holiday"
    assert kind_of(page, "2027-02-11") == "working"
    assert kind_of(page, "2027-02-13") == "weekend"
    assert kind_of(page, "2027-10-01") == "holiday"
    assert 'title="2027-02-06 周六 · 法定节假日 · 春节"' in page.text
    # every day links to its own form
    assert 'href="/desk/admin/branches/JD/calendar?year=2027&amp;day=2027-02-06#day"' \
        in page.text
    for kind in ("k-working", "k-weekend", "k-holiday", "k-makeup", "k-closed", "k-extra"):
        assert f'cal-swatch {kind}' in page.text  # the legend
    assert 'href="/desk/admin/branches/JD/calendar?year=2026"' in page.text
    assert 'href="/desk/admin/branches/JD/calendar?year=2028"' in page.text
    # 2026: the State Council's make-up working days (调休) are known
    page = root.get(CAL.format(code="JD"), params={"year": "2026"})
    assert kind_of(page, "2026-02-14") == "makeup"  # Saturday before the Spring Festival
    assert kind_of(page, "2026-10-10") == "makeup"
    assert kind_of(page, "2026-10-05") == "holiday"
    # no year: this year's calendar
    this_year = dt.date.today().year
    assert f"{this_year}-01-01" in root.get(CAL.format(code="jd")).text


def test_marking_a_day_working_moves_the_deadline_as_on_the_cli(desk, fixdesk):
    root = desk.login("root")
    # 2027-02-05 (Friday) to 02-10 are Spring Festival holidays: counting starts on the 11th
    assert deadline(root, "JD", "2027-02-05T16:00", 6) == "2027-02-11 16:00 周四"
    # the day's form, from the calendar's link
    form = root.get(CAL.format(code="JD"), params={"year": "2027", "day": "2027-02-06"})
    assert form.status_code == 200
    assert 'name="day" value="2027-02-06"' in form.text
    assert 'value="clear" checked' in form.text
    answer = root.post(DAY.format(code="JD"), data=day_form(
        root, "JD", "2027-02-06", "working", "2027 春节调休", year="2027",
        start="2027-02-05T16:00", hours="6"))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/desk/admin/branches/JD/calendar?year=2027")
    after = root.get(answer.headers["location"])
    assert "已保存" in after.text or "saved" in after.text
    assert RESULT.search(after.text).group(1) == "2027-02-06 16:00 周六"  # kept across save
    assert kind_of(after, "2027-02-06") == "extra"
    assert "2027 春节调休" in re.search(r'data-day="2027-02-06"[^>]*title="([^"]*)"',
                                       after.text).group(1)
    assert 'value="working" checked' in after.text
    # the calculator: now Saturday the 6th counts, 09:00-12:00 and 13:00-16:00
    assert deadline(root, "JD", "2027-02-05T16:00", 6) == "2027-02-06 16:00 周六"
    assert deadline(root, "JD", "2027-02-05 16:00", "6") == "2027-02-06 16:00 周六"
    # SH is not affected
    assert deadline(root, "SH", "2027-02-05T16:00", 6) == "2027-02-11 16:00 周四"
    jd = desk.id_of(Branch, code="JD")
    assert branch_days(desk) == [(jd, dt.date(2027, 2, 6), True, "2027 春节调休")]
    root_id = desk.id_of(User, username="root")
    [row] = audit_rows(desk, "branch_day")
    assert (row.action, row.user_id) == ("insert", root_id)
    assert row.changes["working"] == [None, True]
    assert row.changes["note"] == [None, "2027 春节调休"]
    # the CLI reads the same calendar
    site = str(desk.app.site.path)
    days = fixdesk("--site", site, "calendar", "days", "--branch", "JD", "--from",
                   "2027-02-05", "--to", "2027-02-07")
    assert days.code == 0
    assert days.out.splitlines()[1].endswith("\t09:00-12:00,13:00-18:00")
    assert days.out.splitlines()[2].startswith("2027-02-07 ")
    assert not days.out.splitlines()[2].endswith("13:00-18:00")
    cli = fixdesk("--site", site, "calendar", "deadline", "--branch", "JD", "--start",
                  "2027-02-05 16:00", "--hours", "6")
    assert cli.out.strip().startswith("2027-02-06 16:00")
    # closed, then back to the normal calendar: both audited
    assert root.post(DAY.format(code="JD"), data=day_form(
        root, "JD", "2027-02-06", "closed", "")).status_code == 303
    assert branch_days(desk) == [(jd, dt.date(2027, 2, 6), False, None)]
    page = root.get(CAL.format(code="JD"), params={"year": "2027"})
    assert kind_of(page, "2027-02-06") == "closed"
    assert root.post(DAY.format(code="JD"), data=day_form(
        root, "JD", "2027-02-06", "clear")).status_code == 303
    assert branch_days(desk) == []
    assert [r.action for r in audit_rows(desk, "branch_day")] == ["insert", "update", "delete"]
    assert deadline(root, "JD", "2027-02-05T16:00", 6) == "2027-02-11 16:00 周四"
    # a day closed on the CLI shows on the desk
    assert fixdesk("--site", site, "calendar", "day", "--branch", "SH", "2027-03-03",
                   "--closed", "--note", "停电").code == 0
    page = root.get(CAL.format(code="SH"), params={"year": "2027"})
    assert kind_of(page, "2027-03-03") == "closed"


def test_weekly_hours_are_shown_and_set(desk, fixdesk):
    root = desk.login("root")
    page = root.get(CAL.format(code="JD"))
    assert 'name="hours_mon" value="09:00-12:00,13:00-18:00"' in page.text
    assert 'name="hours_sat" value=""' in page.text
    week = {f"hours_{d}": "09:00-12:00,13:00-18:00" for d in WEEK[:5]}
    answer = root.post(HOURS.format(code="JD"), data={
        "csrf": root.csrf, **week, "hours_fri": "09:00-17:00", "hours_sat": "09:00-12:00",
        "hours_sun": "休息", "year": "2027"})
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("year=2027&done=hours#hours")
    page = root.get(answer.headers["location"])
    assert 'name="hours_sat" value="09:00-12:00"' in page.text
    hours = fixdesk("--site", str(desk.app.site.path), "calendar", "hours", "--branch", "JD")
    assert hours.out.splitlines()[4:] == ["fri\t09:00-17:00", "sat\t09:00-12:00", "sun\tclosed"]
    # only Friday and Saturday changed: their rows are audited, as the admin
    root_id = desk.id_of(User, username="root")
    rows = [r for r in audit_rows(desk, "branch_hours") if r.user_id == root_id]
    assert sorted(r.action for r in rows) == ["delete", "delete", "insert", "insert"]
    assert {r.changes["weekday"][1] for r in rows if r.action == "insert"} == {4, 5}
    # a Saturday now counts: 2027-03-05 Fri 16-17 (1 h), Sat 09-12 (4 h), Mon 09-11 (6 h)
    assert deadline(root, "JD", "2027-03-05T16:00", 6) == "2027-03-08 11:00 周一"


BAD_HOURS = ["9-5", "25:00-26:00", "12:00-09:00", "09:00-12:00,11:00-13:00", "09:00-12:00\x00",
             "0" * 5000, "早上"]


def test_bad_hours_are_refused_next_to_their_day(desk):
    root = desk.login("root")
    before, audited = week_of(desk, "JD"), len(audit_rows(desk, "branch_hours"))
    week = {f"hours_{d}": "09:00-12:00,13:00-18:00" for d in WEEK[:5]}
    for bad in BAD_HOURS:
        answer = root.post(HOURS.format(code="JD"), data={
            "csrf": root.csrf, **week, "hours_tue": bad, "hours_thu": "9:00-", "hours_sat":
            "08:00-12:00"})
        assert answer.status_code == 422, bad
        assert 'id="hours-tue-error"' in answer.text and 'id="hours-thu-error"' in answer.text
        assert 'id="hours-mon-error"' not in answer.text
        assert 'name="hours_sat" value="08:00-12:00"' in answer.text  # what was typed stays
    assert week_of(desk, "JD") == before  # Saturday was not saved either
    assert len(audit_rows(desk, "branch_hours")) == audited


def test_closing_every_day_gives_a_message_not_a_deadline(desk):
    root = desk.login("root")
    answer = root.post(HOURS.format(code="SH"), data={
        "csrf": root.csrf, **{f"hours_{d}": "" for d in WEEK}})
    assert answer.status_code == 303
    assert week_of(desk, "SH") == []
    page = root.get(CAL.format(code="SH"), params={"start": "2027-05-06T10:00", "hours": "1"})
    assert page.status_code == 422
    assert "deadline-error" in page.text and "deadline-result" not in page.text


BAD_DAYS = [
    ("99999-01-01", "working", ""),
    ("2027-02-30", "working", ""),
    ("0000-01-01", "closed", ""),
    ("1900-01-01", "closed", ""),
    ("", "closed", ""),
    ("abc", "closed", ""),
    ("2027-02-06\x00", "closed", ""),
    ("２０２７-02-06", "closed", ""),
    ("2027-02-06", "open", ""),
    ("2027-02-06", "", ""),
    ("2027-02-06", "working", "停电\x00"),
    ("2027-02-06", "working", "\x1b[31m"),
    ("2027-02-06", "working", "调" * 10000),
    ("2027-02-06", "working", "x" * 201),
]


def test_bad_day_input_is_refused_and_nothing_is_stored(desk):
    root = desk.login("root")
    for day, state, note in BAD_DAYS:
        answer = root.post(DAY.format(code="JD"), data=day_form(root, "JD", day, state, note))
        assert answer.status_code == 422, (day, state, note[:10], answer.text[:300])
        assert 'class="field-error' in answer.text or 'class="alert"' in answer.text
    assert branch_days(desk) == []
    assert audit_rows(desk, "branch_day") == []
    # the form keeps the state chosen and shows the message under the note
    answer = root.post(DAY.format(code="JD"), data=day_form(root, "JD", "2027-02-06",
                                                            "working", "x" * 201))
    assert 'id="day-note-error"' in answer.text and 'value="working" checked' in answer.text


BAD_QUERIES = [{"year": "0"}, {"year": "abc"}, {"year": "99999"}, {"year": "-1"},
               {"year": "2027\x00"}, {"year": "1e3"}, {"day": "2027-02-30"},
               {"day": "99999-01-01"}]


BAD_DEADLINES = [
    ("2027-02-05T16:00", "-1"), ("2027-02-05T16:00", "1e9"), ("2027-02-05T16:00", "abc"),
    ("2027-02-05T16:00", "nan"), ("2027-02-05T16:00", "inf"), ("2027-02-05T16:00", ""),
    ("99999-01-01T10:00", "6"), ("2027-02-30T10:00", "6"), ("", "6"), ("2027-02-05", "6"),
    ("0001-01-01T00:00", "6"), ("2027-02-05T16:00\x00", "6"), ("2027-02-05T16", "6"),
]


def test_bad_year_day_or_deadline_in_the_address_gives_a_message(desk):
    root = desk.login("root")
    for query in BAD_QUERIES:
        page = root.get(CAL.format(code="JD"), params=query)
        assert page.status_code == 422, query
        assert 'class="alert"' in page.text, query
        assert page.text.count("data-day=") >= 365, query  # this year's calendar is still shown
    for start, hours in BAD_DEADLINES:
        page = root.get(CAL.format(code="JD"), params={"start": start, "hours": hours})
        assert page.status_code == 422, (start, hours)
        assert "deadline-error" in page.text and "deadline-result" not in page.text, (
            start, hours)




def test_writes_without_the_csrf_token_or_to_an_unknown_branch_are_refused(desk):
    root = desk.login("root")
    answer = root.post(DAY.format(code="JD"), data={"day": "2027-02-06", "state": "working"})
    assert answer.status_code == 403
    answer = root.post(HOURS.format(code="JD"), data={"hours_sat": "09:00-12:00"})
    assert answer.status_code == 403
    assert branch_days(desk) == []
    assert ("JD", 5) not in {("JD", w) for w, _s, _e in week_of(desk, "JD")}
    # an unknown branch is 404 for an admin
    for code in ("XX", "1", "a b", "J" * 30):
        assert root.get(CAL.format(code=code)).status_code == 404, code
        assert root.post(DAY.format(code=code), data=day_form(
            root, code, "2027-02-06", "working")).status_code == 404, code
        assert root.post(HOURS.format(code=code), data={
            "csrf": root.csrf, "hours_sat": "09:00-12:00"}).status_code == 404, code
    assert branch_days(desk) == []


def test_others_get_403_and_change_nothing(desk):
    """test_admin_console refuses every console URL to every other role; here, as SH's
    supervisor, on each branch: nothing is written."""
    before = week_of(desk, "JD")
    client = desk.login("supersh")
    assert client.get("/desk/admin/branches").status_code == 403
    for code in ("JD", "SH", "1"):
        assert client.get(CAL.format(code=code), params={
            "year": "2027", "day": "2027-02-06", "start": "2027-02-05T16:00",
            "hours": "6"}).status_code == 403, code
        assert client.post(DAY.format(code=code), data=day_form(
            client, code, "2027-02-06", "working")).status_code == 403, code
        assert client.post(HOURS.format(code=code), data={
            "csrf": client.csrf, "hours_sat": "09:00-12:00"}).status_code == 403, code
    assert branch_days(desk) == []
    assert week_of(desk, "JD") == before
