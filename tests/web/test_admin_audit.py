"""The admin console's audit trail: searching it by user, record type, record and days, page
by page by key, the Excel export, refusals of bad filters, and ``fixdesk audit-search``."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kernel.audit import AuditLog, parse_cursor, search_audit
from kernel.auth import User
from kernel.i18n import translations
from kernel.models import Customer

zh = translations("zh_CN").gettext
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ROW = re.compile(r'<tr class="audit-(insert|update|delete)">')
FIELDS = ["code", "name", "tier", "phone", "email", "note", "branch_id"]


def older_link(page) -> str | None:
    found = re.search(r'<a class="button small" href="([^"]+)" rel="next">', page.text)
    return unquote(found.group(1).replace("&amp;", "&")) if found else None


def add_rows(desk, instants, *, entity="customer", record_id="T-1", changes=None) -> list[int]:
    """Audit rows written straight into the log (the trail only ever grows), at ``instants``."""
    rows = [AuditLog(at=at, user_id=None, actor="system", entity=entity, record_id=record_id,
                     action="update", changes=changes or {"phone": ["1", "2"]})
            for at in instants]
    with desk.app.sessions() as session:
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def made_by(desk, username) -> list[int]:
    """The ids of every audit row of ``username``'s changes, newest first (straight SQL)."""
    with desk.app.sessions() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return list(session.scalars(select(AuditLog.id).where(AuditLog.user_id == user_id)
                                    .order_by(AuditLog.at.desc(), AuditLog.id.desc())))


def walk(ctx, limit, **filters) -> list[int]:
    """Every row the search finds, page by page (a cursor each time)."""
    found, before = [], None
    while True:
        page = search_audit(ctx, **filters, before=before, limit=limit)
        found += [row.id for row in page.rows]
        if page.older is None:
            return found
        before = page.older


def test_search_by_user_entity_and_record_finds_exactly_them(desk):
    lily, supersh, root = desk.login("lily"), desk.login("supersh"), desk.login("root")
    created = lily.post("/desk/customer/new", data={
        "csrf": lily.csrf, "_fields": FIELDS, "code": "C9101", "name": "审计测试图书馆",
        "tier": "corporate", "phone": "021-5000 0001"})
    assert created.status_code == 303
    customer_id = desk.id_of(Customer, code="C9101")
    changed = supersh.post(f"/desk/customer/{customer_id}", data={
        "csrf": supersh.csrf, "_fields": ["phone"], "phone": "021-5000 0002"})
    assert changed.status_code == 303
    # the changes are audited, each with its user
    assert made_by(desk, "lily") and made_by(desk, "supersh")

    with desk.app.context(user="root") as ctx:
        assert walk(ctx, 7, user="lily") == made_by(desk, "lily")
        assert walk(ctx, 50, user="supersh") == made_by(desk, "supersh")
        record = search_audit(ctx, entity="customer", record_id=str(customer_id))
        assert [(r.action, r.actor) for r in record.rows] == [("update", "supersh"),
                                                              ("insert", "lily")]
        assert record.older is None
        # every filter together
        both = search_audit(ctx, user="supersh", entity="customer", record_id=customer_id)
        assert [r.action for r in both.rows] == ["update"]
        assert search_audit(ctx, user="lily", entity="employee").rows == []
        every_customer = walk(ctx, 200, entity="customer")
    with desk.app.sessions() as session:
        assert every_customer == list(session.scalars(
            select(AuditLog.id).where(AuditLog.entity == "customer")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())))

    page = root.get("/desk/admin/audit", params={"entity": "customer",
                                                  "record": str(customer_id)})
    assert page.status_code == 200
    assert len(ROW.findall(page.text)) == 2
    assert f'<a href="/desk/customer/{customer_id}">' in page.text and "C9101" in page.text
    assert zh("created") in page.text and zh("changed") in page.text
    assert "lily 测试" in page.text and "supersh 测试" in page.text  # full names of the users
    old_new = ('<del class="audit-old">021-5000 0001</del> <span aria-hidden="true">→</span>'
               f'<span class="sr-only">{zh("changed to")}</span> '
               '<ins class="audit-new">021-5000 0002</ins>')
    assert f'{zh("Phone")}:</span>' in page.text and old_new in page.text
    # enums read as the form shows them
    assert zh("corporate") in page.text
    by_user = root.get("/desk/admin/audit", params={"user": "lily"})
    assert len(ROW.findall(by_user.text)) == len(made_by(desk, "lily"))
    assert '<option value="lily" selected>' in by_user.text
    assert f'<option value="customer">{zh("Customer")}</option>' in by_user.text


def test_kernel_tables_read_with_titles_and_secrets_stay_hidden(desk):
    root = desk.login("root")
    page = root.get("/desk/admin/audit", params={"entity": "user_account"})
    assert page.status_code == 200
    assert f'<option value="user_account" selected>{zh("User account")}</option>' in page.text
    for table, title in (("hook_switch", "Hook switched off for a branch"),
                         ("role_grant", "Role permission"), ("branch_day", "Branch calendar day"),
                         ("setting_value", "Site setting")):
        assert f'<option value="{table}">{zh(title)}</option>' in page.text
        assert zh(title) != title
    assert f'{zh("Password")}:</span>' in page.text and "***" in page.text
    assert "$argon2" not in page.text
    assert '<a href="/desk/' not in page.text.split('<table')[1]  # no form for user accounts


def test_days_are_the_site_s_local_days_both_included(desk):
    local = [dt.datetime(2025, 2, 28, 23, 59, 59), dt.datetime(2025, 3, 1, 0, 0),
             dt.datetime(2025, 3, 1, 23, 59, 59, 999999), dt.datetime(2025, 3, 2, 0, 0)]
    ids = add_rows(desk, [t.replace(tzinfo=SHANGHAI) for t in local], record_id="days")
    with desk.app.context(user="root") as ctx:
        one_day = search_audit(ctx, record_id="days", start="2025-03-01", end="2025-03-01")
        assert [r.id for r in one_day.rows] == [ids[2], ids[1]]
        since = search_audit(ctx, record_id="days", start=dt.date(2025, 3, 1))
        assert [r.id for r in since.rows] == [ids[3], ids[2], ids[1]]
        until = search_audit(ctx, record_id="days", end=dt.date(2025, 2, 28))
        assert [r.id for r in until.rows] == [ids[0]]
    root = desk.login("root")
    page = root.get("/desk/admin/audit", params={"record": "days", "from": "2025-03-01",
                                                  "to": "2025-03-01"})
    assert len(ROW.findall(page.text)) == 2
    assert "2025-03-01 00:00:00" in page.text and "2025-03-01 23:59:59" in page.text


def test_older_pages_by_a_cursor(desk):
    start = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
    # pairs of rows share an instant: the cursor is the instant and the id
    instants = [start + dt.timedelta(minutes=n // 2) for n in range(61)]
    ids = add_rows(desk, instants, record_id="paging")
    newest_first = sorted(ids, key=lambda i: (instants[ids.index(i)], i), reverse=True)
    with desk.app.context(user="root") as ctx:
        for limit in (1, 2, 7, 60, 61, 1000):
            assert walk(ctx, limit, record_id="paging") == newest_first
    root = desk.login("root")
    first = root.get("/desk/admin/audit", params={"record": "paging"})
    assert len(ROW.findall(first.text)) == 50
    link = older_link(first)
    assert link and link.startswith("/desk/admin/audit?record=paging&before=")
    second = root.get(link)
    assert second.status_code == 200
    assert len(ROW.findall(second.text)) == 11 and older_link(second) is None
    assert zh("Newest changes") in second.text
    # the export of this search holds all 61 rows, newest first
    export = root.get("/desk/admin/audit/export.xlsx", params={"record": "paging"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.max_row == 62


def test_excel_export_of_the_current_search_in_chinese(desk):
    root = desk.login("root")
    page = root.get("/desk/admin/audit", params={"entity": "user_account"})
    assert 'href="/desk/admin/audit/export.xlsx?entity=user_account"' in page.text
    answer = root.get("/desk/admin/audit/export.xlsx", params={"entity": "user_account"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-')
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(zh(h) for h in ("Time", "User", "Record type", "Record ID",
                                             "Record", "Action", "Changes"))
    assert all(re.search(r"[\u4e00-\u9fff]", header) for header in rows[0])
    with desk.app.sessions() as session:
        expected = session.scalars(select(AuditLog).where(AuditLog.entity == "user_account")
                                   .order_by(AuditLog.at.desc(), AuditLog.id.desc())).all()
    assert len(rows) == len(expected) + 1
    lily = [r for r in rows[1:] if r[4] and r[4].startswith("lily")]
    created, password_set = lily[-1], lily[-2]  # oldest last
    assert isinstance(created[0], dt.datetime)
    assert created[2] == zh("User account") and created[5] == zh("created")
    assert f"{zh('User name')}: lily" in created[6].splitlines()
    assert password_set[5] == zh("changed")
    assert password_set[6] == f"{zh('Password')}: — → ***"  # a secret is never shown
    # newest first, in the site's time: the first row is the newest change
    newest = expected[0].at.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    assert rows[1][0].replace(microsecond=0) == newest


def test_export_reads_by_chunks_and_stops_at_its_cap(desk, monkeypatch):
    from kernel import audit

    monkeypatch.setattr(audit, "EXPORT_CHUNK", 4)
    monkeypatch.setattr(audit, "EXPORT_MAX", 10)
    start = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    add_rows(desk, [start + dt.timedelta(seconds=n) for n in range(13)], record_id="cap",
             changes={"note": ["a\x01b", "bell\x07"]})  # control characters Excel refuses
    pages = []
    real_page = audit._page

    def counting(ctx, wanted, before, limit):
        found = real_page(ctx, wanted, before, limit)
        pages.append(len(found.rows))
        return found

    monkeypatch.setattr(audit, "_page", counting)
    data = desk.login("root").get("/desk/admin/audit/export.xlsx", params={"record": "cap"})
    assert data.status_code == 200
    sheet = load_workbook(io.BytesIO(data.content)).active
    assert sheet.max_row == 11 and pages == [4, 4, 2]
    assert f"{zh('Note')}: ab → bell" in sheet.cell(row=2, column=7).value


def what(message: str, name: str, **more) -> str:
    return zh(message).format(what=zh(name), **more)


BAD = [
    ({"from": "2026-13-01"}, "from",
     lambda: what("{what} must be a date like 2026-03-31", "From date")),
    ({"to": "2026-02-30"}, "to", lambda: what("{what} must be a date like 2026-03-31", "To date")),
    ({"from": "0001-01-01"}, "from", lambda: what(
        "{what} must be a date between {first} and {last}", "From date", first="1970-01-01",
        last="2999-12-31")),
    ({"to": "9999-12-31"}, "to", lambda: what(
        "{what} must be a date between {first} and {last}", "To date", first="1970-01-01",
        last="2999-12-31")),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to", lambda: zh(
        "the first day ({start}) is after the last day ({end})").format(
            start="2026-03-02", end="2026-03-01")),
    ({"entity": "no_such_table"}, "entity", lambda: zh(
        "the audit trail keeps no record type {name}").format(name="no_such_table")),
    ({"entity": "customer\x00"}, "entity",
     lambda: what("{what} must not contain control characters", "Record type")),
    ({"user": "nobody"}, "user", lambda: zh("there is no user {name}").format(name="nobody")),
    ({"user": "li\x00ly"}, "user",
     lambda: what("{what} must not contain control characters", "User")),
    ({"user": "x" * 5000}, "user",
     lambda: what("{what} must have at most {n} characters", "User", n=60)),
    ({"record": "1\x1b2"}, "record",
     lambda: what("{what} must not contain control characters", "Record ID")),
    ({"record": "9" * 101}, "record",
     lambda: what("{what} must have at most {n} characters", "Record ID", n=100)),
]
BAD_CURSORS = ["abc", "1.2.3", "-5.3", "12", "1.0", "9" * 30 + ".1", "1." + "9" * 30,
               "\u0661\u0662.\u0663", "1.2\x00"]


def test_bad_filters_are_refused_with_a_clear_message_by_page_export_and_service(desk):
    from html import escape

    from kernel.errors import ValidationError

    root = desk.login("root")
    for url in ("/desk/admin/audit", "/desk/admin/audit/export.xlsx"):
        for params, field, message in BAD:
            case = (url, {k: v[:40] for k, v in params.items()})
            answer = root.get(url, params=params)
            assert answer.status_code == 422, (case, answer.status_code)
            assert "text/html" in answer.headers["content-type"], case
            shown = f'<p class="field-error" id="audit-{field}-error">{escape(message())}</p>'
            assert shown in answer.text, (case, answer.text[-3000:])
            assert 'aria-invalid="true"' in answer.text, case
            assert 'class="admin-table audit-table"' not in answer.text, case  # no results
    for cursor in BAD_CURSORS:
        answer = root.get("/desk/admin/audit", params={"before": cursor})
        assert answer.status_code == 422, cursor
        assert zh("the page link is broken: start again from the newest changes") in answer.text
    # the service refuses what the page would (same site: nothing is written)
    with desk.app.context(user="root") as ctx:
        for params, field, _message in BAD:
            names = {"from": "start", "to": "end", "record": "record_id"}
            arguments = {names.get(k, k): v for k, v in params.items()}
            with pytest.raises(ValidationError) as refused:
                search_audit(ctx, **arguments)
            assert refused.value.field == names.get(field, field), {
                k: v[:40] for k, v in params.items()}
        for before in [(dt.datetime(2026, 1, 1), 1), (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 0),
                       ("2026", 1), (dt.datetime(2026, 1, 1, tzinfo=dt.UTC),)]:
            with pytest.raises(ValidationError):
                search_audit(ctx, before=before)
        for limit in (0, 1001, True, "5"):
            with pytest.raises(ValidationError):
                search_audit(ctx, limit=limit)
        with pytest.raises(ValidationError):
            search_audit(ctx, start=["2026-01-01"])
    assert parse_cursor("") is None


def test_a_supervisor_finds_only_his_branches_changes_but_not_the_console(desk):
    """The service's own scope; the console itself is for admins only (test_admin_console
    refuses every console URL to every other role; here: no search, no export)."""
    from kernel.models import Branch

    jd = desk.id_of(Branch, code="JD")
    with desk.app.context(user="supersh") as ctx:  # a supervisor of SH: may read the audit
        rows = search_audit(ctx, limit=1000).rows
        assert rows and all(r.branch_id is not None and r.branch_id != jd for r in rows)
    client = desk.login("supersh")
    for url in ("/desk/admin/audit", "/desk/admin/audit?user=root",
                "/desk/admin/audit/export.xlsx", "/desk/admin/audit?from=bad"):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert "spreadsheetml" not in answer.headers["content-type"], url


def test_cli_audit_search_calls_the_same_service(desk, fixdesk, tmp_path):
    folder = desk.app.site.path
    listed = fixdesk("--site", folder, "audit-search", "--entity", "user_account",
                     "--limit", "3")
    assert listed.code == 0, listed
    lines = listed.out.splitlines()
    assert lines[0].split("\t") == ["TIME", "USER", "RECORD TYPE", "ID", "RECORD", "ACTION",
                                    "CHANGES"]
    assert len(lines) == 4 and all("\tUser account\t" in line for line in lines[1:])
    assert "Password: " in listed.out and "***" in listed.out
    ids = add_rows(desk, [dt.datetime(2025, 3, 1, 12, tzinfo=SHANGHAI),
                          dt.datetime(2025, 3, 3, 12, tzinfo=SHANGHAI)], record_id="cli")
    days = fixdesk("--site", folder, "audit-search", "--record", "cli", "--from", "2025-03-01",
                   "--to", "2025-03-02")
    assert days.code == 0 and len(days.out.splitlines()) == 2 and ids
    everything = fixdesk("--site", folder, "audit-search", "--entity", "customer",
                         "--limit", "1500")
    with desk.app.sessions() as session:
        count = len(session.scalars(select(AuditLog.id).where(
            AuditLog.entity == "customer")).all())
    assert len(everything.out.splitlines()) == min(count, 1500) + 1
    target = tmp_path / "audit.xlsx"
    written = fixdesk("--site", folder, "audit-search", "--user", "root", "--xlsx", target)
    assert written.code == 0 and target.is_file()
    sheet = load_workbook(target).active
    assert sheet.cell(row=1, column=1).value == "Time"
    refused = fixdesk("--site", folder, "audit-search", "--from", "2026-02-30")
    assert refused.code == 2 and "From date must be a date like 2026-03-31" in refused.err
    unknown = fixdesk("--site", folder, "audit-search", "--entity", "nope")
    assert unknown.code == 2 and "no record type nope" in unknown.err
    # the record's own history command stays
    assert fixdesk("--site", folder, "audit", "customer", "cli").code == 0
