"""The staff desk through real HTTP (the ASGI app), on SQLite and PostgreSQL.

The demo site speaks Chinese (the site's locale) until a user switches.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

from openpyxl import load_workbook
from print_jobs import wait_for_print_job

from kernel.auth import User
from kernel.i18n import translations
from kernel.models import Branch, Customer, CustomerEquipment
from kernel.web import sessions

zh = translations("zh_CN").gettext
PASSWORD = "password-123"  # the users' password in conftest.py


def codes_in(page) -> list[str]:
    """Customer codes in the order the list shows them."""
    return re.findall(r'<a href="/desk/customer/\d+">(C\d{4})</a>', page.text)


def field_error(page, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="e-{name}">([^<]*)</p>', page.text)
    return found.group(1) if found else None


# --------------------------------------------------------------------------
# logging in and out
# --------------------------------------------------------------------------


def test_login_session_cookie_home_and_logout(desk):
    browser = desk.browser()
    assert browser.get("/").headers["location"] == "/login"
    answer = browser.get("/desk/customer?q=物流")
    assert answer.status_code == 303
    target = parse_qs(urlsplit(answer.headers["location"]).query)["next"][0]
    assert unquote(target) == "/desk/customer?q=物流"
    form = browser.get("/login")
    assert form.status_code == 200 and "华东办公设备服务有限公司" in form.text
    assert 'autocomplete="current-password"' in form.text

    wrong = browser.post("/login", data={"username": "lily", "password": "nope-nope"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert "fixdesk_session" not in wrong.headers.get("set-cookie", "")

    done = browser.post("/login", data={"username": "lily", "password": PASSWORD,
                                        "next": "/desk/customer"})
    assert done.status_code == 303 and done.headers["location"] == "/desk/customer"
    cookie = done.headers["set-cookie"]
    assert "fixdesk_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    # never sent anywhere else
    evil = browser.post("/login", data={"username": "lily", "password": PASSWORD,
                                        "next": "//evil.example/x"})
    assert evil.headers["location"] == "/"

    home = browser.get("/")
    assert home.status_code == 200
    assert "lily 测试" in home.text and "上海服务中心" in home.text
    assert zh("Master data") in home.text and zh("Customer") in home.text
    assert 'href="/desk/customer"' in home.text and 'href="/desk/customer/new"' in home.text
    assert 'href="/desk/branch/new"' not in home.text  # a clerk may not add branches
    assert "Notes (test plugin)" in home.text and zh("Mark urgent") in home.text
    assert "fdt_notes 1.2.0" not in home.text  # the plugin list is for admins

    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
    refused = browser.post("/logout", data={})
    assert refused.status_code == 403 and zh("missing or wrong CSRF token: reload the page") \
        in refused.text
    assert browser.get("/").status_code == 200  # still logged in
    open_sessions = desk.count(sessions.WebSession)
    out = browser.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert browser.get("/").status_code == 303
    assert desk.count(sessions.WebSession) == open_sessions - 1


def test_admin_home_lists_plugins(desk):
    home = desk.login("root").get("/")
    assert "fdt_notes" in home.text and 'href="/desk/branch/new"' in home.text
    assert 'href="/desk/fdt_notes_note"' in home.text


def test_failed_logins_hold_up_that_account_from_that_address(desk):
    """Throttled per account and address (tests/kernel/test_logins.py has the rest): the
    address waits (429) for that account; other accounts there log in."""
    browser = desk.browser()
    for _attempt in range(5):
        browser.post("/login", data={"username": "wangli", "password": "wrong-wrong"})
    held = browser.post("/login", data={"username": "wangli", "password": PASSWORD})
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert "fixdesk_session" not in held.headers.get("set-cookie", "")
    for _attempt in range(20):
        browser.post("/login", data={"username": "nobody", "password": "wrong-wrong"})
    assert browser.post("/login", data={"username": "lily",
                                        "password": PASSWORD}).status_code == 303


def test_writes_without_the_csrf_token_are_refused(desk):
    browser = desk.login("lily")
    before = desk.count(Customer)
    data = {"_fields": ["code", "name", "tier"], "code": "C7001", "name": "无令牌公司",
            "tier": "corporate"}
    for token in (None, "forged"):
        refused = browser.post("/desk/customer/new",
                               data={**data, **({"csrf": token} if token else {})})
        assert refused.status_code == 403
        assert zh("missing or wrong CSRF token: reload the page") in refused.text
        assert "Traceback" not in refused.text
    assert desk.count(Customer) == before
    assert browser.post("/desk/language", data={"locale": "en"}).status_code == 403
    kept = desk.id_of(Customer, code="C0006")
    assert browser.post(f"/desk/customer/{kept}/delete", data={}).status_code == 403
    assert desk.count(Customer, code="C0006") == 1
    assert desk.get(User, username="lily").locale is None
    created = browser.post("/desk/customer/new", data={**data, "csrf": browser.csrf})
    assert created.status_code == 303
    assert desk.count(Customer) == before + 1


# --------------------------------------------------------------------------
# list view
# --------------------------------------------------------------------------


def test_list_search_filters_sort_and_pages(desk):
    browser = desk.login("root")
    page = browser.get("/desk/customer")
    assert page.status_code == 200
    assert zh("{first}–{last} of {total}").format(first=1, last=40, total=40) in page.text
    # columns from the entity's list columns; references by name; enums translated
    for column in ("Code", "Name", "Tier", "Branch", "Phone"):
        assert f">{zh(column)}<" in page.text
    assert "SH 上海服务中心" in page.text and zh("corporate") in page.text

    found = browser.get("/desk/customer", params={"q": "物流"})
    assert codes_in(found) == ["C0001"]

    # a filter given as the translated label of an enum, sorted by name both ways
    params = [("f", "tier"), ("op", "eq"), ("v", zh("corporate")), ("sort", "code")]
    ascending = codes_in(browser.get("/desk/customer", params=params))
    with desk.app.sessions() as session:
        from sqlalchemy import select

        expected = sorted(session.scalars(select(Customer.code).where(
            Customer.tier == "corporate")))
    assert ascending == expected and len(expected) > 5
    params[-1] = ("sort", "-code")
    descending = browser.get("/desk/customer", params=params)
    assert codes_in(descending) == expected[::-1]
    assert 'aria-sort="descending"' in descending.text

    # several filters: ranges on a date-time without a zone (the site's), contains
    params = [("f", "code"), ("op", "gte"), ("v", "C0010"), ("f", "code"), ("op", "ne"),
              ("v", "C0011"), ("f", "name"), ("op", "contains"), ("v", "（"),
              ("f", "created_at"), ("op", "gte"), ("v", "2000-01-01T00:00")]
    listed = codes_in(browser.get("/desk/customer", params=params + [("sort", "code")]))
    assert listed and "C0011" not in listed and all(c >= "C0010" for c in listed)

    # a reference filtered by the name of the record it points to
    machines = browser.get("/desk/customer_equipment", params={
        "f": "customer_id", "op": "contains", "v": "仁济康复"})
    assert machines.text.count('name="ids"') == 3 and "G176R400123" in machines.text

    # pages
    first = browser.get("/desk/customer", params={"limit": 20, "sort": "code"})
    assert codes_in(first)[0] == "C0001" and len(codes_in(first)) == 20
    assert zh("{first}–{last}").format(first=1, last=20) in first.text  # not counted
    second = browser.get("/desk/customer", params={"limit": 20, "sort": "code", "page": 2})
    assert codes_in(second)[0] == "C0021"  # an old link by page number still works
    assert zh("{first}–{last}").format(first=21, last=40) in second.text
    beyond = browser.get("/desk/customer", params={"limit": 20, "page": 9})
    assert beyond.status_code == 200 and not codes_in(beyond)  # past the end: no rows

    bad = browser.get("/desk/customer", params={"f": "no_such", "op": "eq", "v": "1"})
    assert bad.status_code == 422 and 'class="alert"' in bad.text


def test_lists_show_only_the_users_branches(desk):
    page = desk.login("jdfront").get("/desk/customer", params={"limit": 100})
    codes = codes_in(page)
    assert codes and "C0003" in codes and "C0001" not in codes
    assert "SH 上海服务中心" not in page.text


# --------------------------------------------------------------------------
# form view
# --------------------------------------------------------------------------


def test_create_shows_errors_next_to_fields_and_writes_nothing(desk):
    browser = desk.login("supersh")  # a supervisor: may create customers and read the audit
    new = browser.get("/desk/customer/new")
    assert new.status_code == 200
    assert '<label for="f-name">' in new.text and 'id="f-tier"' in new.text
    before = desk.count(Customer)
    fields = ["code", "name", "tier", "phone", "email", "note", "branch_id"]
    invalid = browser.post("/desk/customer/new", data={
        "csrf": browser.csrf, "_fields": fields, "code": "", "name": "名" * 201,
        "tier": "vip", "phone": "", "email": "", "note": "", "branch_id": ""})
    assert invalid.status_code == 422
    assert field_error(invalid, "code") == zh("is required")
    assert field_error(invalid, "name") == zh("at most {n} characters").format(n=200)
    assert field_error(invalid, "tier").startswith(zh("must be one of: {choices}")[:4])
    assert field_error(invalid, "phone") is None
    assert 'aria-invalid="true" aria-describedby="e-code"' in invalid.text
    assert "名" * 201 in invalid.text  # the form comes back as typed
    assert desk.count(Customer) == before

    taken = browser.post("/desk/customer/new", data={
        "csrf": browser.csrf, "_fields": fields, "code": "C0001", "name": "重复编码",
        "tier": "corporate"})
    assert taken.status_code == 409
    assert field_error(taken, "code") == zh("a record with these values exists already")
    assert desk.count(Customer) == before

    created = browser.post("/desk/customer/new", data={
        "csrf": browser.csrf, "_fields": fields, "code": "C8001", "name": "浦东新区图书馆",
        "tier": "corporate", "phone": "021-5888 0000", "email": "", "note": ""})
    assert created.status_code == 303
    customer = desk.get(Customer, code="C8001")
    assert created.headers["location"] == f"/desk/customer/{customer.id}?done=created"
    assert customer.email is None and customer.branch_id == desk.id_of(Branch, code="SH")
    form = browser.get(created.headers["location"])
    assert zh("Created.") in form.text and 'value="浦东新区图书馆"' in form.text
    # the timeline beside the form lists the audited creation, by whom
    assert zh("Timeline") in form.text and 'data-kind="change"' in form.text
    assert zh("Record created") in form.text and 'title="supersh"' in form.text

    changed = browser.post(f"/desk/customer/{customer.id}", data={
        "csrf": browser.csrf, "_fields": ["phone"], "phone": "021-5888 9999"})
    assert changed.status_code == 303 and changed.headers["location"].endswith("done=saved")
    history = browser.get(f"/desk/customer/{customer.id}").text
    assert "<del>021-5888 0000</del> → <ins>021-5888 9999</ins>" in history


def test_references_typed_by_code_or_name_when_too_many_for_a_list(desk, monkeypatch):
    from kernel import references

    monkeypatch.setattr(references, "MAX_SELECT_OPTIONS", 3)
    browser = desk.login("lily")
    new = browser.get("/desk/customer_equipment/new").text
    assert 'data-lookup="/desk/customer/lookup"' in new
    found = browser.get("/desk/customer/lookup", params={"q": "申达"}).json()
    assert found == [{"id": desk.id_of(Customer, code="C0001"), "label": "C0001 申达物流有限公司"}]
    assert browser.get("/desk/customer/lookup", params={"q": "嘉定办公"}).json() == []
    fields = ["customer_id", "model", "serial_no"]
    answers = {}
    for typed in ("C0002", "申达物流有限公司", "上海", "不存在的客户", "C0003"):
        answers[typed] = browser.post("/desk/customer_equipment/new", data={
            "csrf": browser.csrf, "_fields": fields, "customer_id": typed, "model": "X1",
            "serial_no": f"LK-{len(answers)}"})
    assert answers["C0002"].status_code == 303
    assert answers["申达物流有限公司"].status_code == 303
    assert desk.get(CustomerEquipment, serial_no="LK-1").customer_id == desk.id_of(
        Customer, code="C0001")
    several = answers["上海"]
    assert several.status_code == 422
    assert field_error(several, "customer_id") == zh(
        "several records match {text}: type more of it").format(text="上海")
    assert field_error(answers["不存在的客户"], "customer_id") == zh(
        "nothing matches {text}").format(text="不存在的客户")
    # another branch's customer is not found by its code either
    assert field_error(answers["C0003"], "customer_id") == zh("nothing matches {text}").format(
        text="C0003")
    assert desk.count(CustomerEquipment, model="X1") == 2
    first = desk.id_of(CustomerEquipment, serial_no="LK-0")
    assert 'value="C0002 周志华"' in browser.get(f"/desk/customer_equipment/{first}").text


def test_equipment_form_references_dates_and_print(desk):
    browser = desk.login("lily")
    customer_id = desk.id_of(Customer, code="C0002")
    fields = ["customer_id", "brand", "model", "serial_no", "purchase_date", "warranty_end"]
    bad_date = browser.post("/desk/customer_equipment/new", data={
        "csrf": browser.csrf, "_fields": fields, "customer_id": str(customer_id),
        "model": "iR 2630", "serial_no": "ZX900001", "purchase_date": "2026-13-40"})
    assert bad_date.status_code == 422
    assert field_error(bad_date, "purchase_date") == zh("must be a date like 2026-05-29")
    # a customer of another branch is not offered and not accepted
    jd_customer = desk.id_of(Customer, code="C0003")
    new = browser.get("/desk/customer_equipment/new").text
    assert f'value="{customer_id}"' in new and f'value="{jd_customer}"' not in new
    foreign = browser.post("/desk/customer_equipment/new", data={
        "csrf": browser.csrf, "_fields": fields, "customer_id": str(jd_customer),
        "model": "iR 2630", "serial_no": "ZX900001"})
    assert foreign.status_code == 422 and field_error(foreign, "customer_id")
    created = browser.post("/desk/customer_equipment/new", data={
        "csrf": browser.csrf, "_fields": fields, "customer_id": str(customer_id),
        "brand": "Canon", "model": "iR 2630", "serial_no": "ZX900001",
        "purchase_date": "2026-01-15", "warranty_end": "2027-01-14"})
    assert created.status_code == 303, created.text
    machine = desk.get(CustomerEquipment, serial_no="ZX900001")
    assert str(machine.purchase_date) == "2026-01-15"

    form = browser.get(f"/desk/customer_equipment/{machine.id}").text
    url = f"/desk/customer_equipment/{machine.id}/print/kernel.equipment_record"
    assert f'href="{url}"' in form and 'target="pdf-preview"' in form
    pdf = browser.get(url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "inline" in pdf.headers["content-disposition"]
    assert "attachment" in browser.get(url, params={"download": 1}).headers[
        "content-disposition"]
    batch = browser.post("/desk/customer_equipment/print", data={
        "csrf": browser.csrf, "document": "kernel.equipment_record",
        "ids": [str(machine.id), str(desk.id_of(CustomerEquipment, serial_no="QXY20614"))]})
    assert batch.status_code == 303  # a job: its page follows the progress
    assert batch.headers["location"].startswith("/desk/print-jobs/")
    progress = wait_for_print_job(browser, batch.headers["location"])
    assert progress["total"] == 2 and progress["download"]
    assert browser.get(progress["download"]).content.startswith(b"%PDF")
    empty = browser.post("/desk/customer_equipment/print", data={
        "csrf": browser.csrf, "document": "kernel.equipment_record"})
    assert empty.status_code == 422 and zh("Select the records to print first.") in empty.text
    # no audit.read for a clerk: the timeline leaves the field changes out
    assert zh("Timeline") in form and 'data-kind="change"' not in form


def test_actions_and_delete(desk):
    from fdt_notes.models import Note

    browser = desk.login("root")
    note = desk.id_of(Note, title="演示便签")
    form = browser.get(f"/desk/fdt_notes_note/{note}").text
    assert f'action="/desk/fdt_notes_note/{note}/action/mark_urgent"' in form
    done = browser.post(f"/desk/fdt_notes_note/{note}/action/mark_urgent",
                        data={"csrf": browser.csrf, "reason": "客户投诉"})
    assert done.status_code == 303
    assert desk.get(Note, id=note).title == "[加急] 演示便签 客户投诉"
    again = browser.get(done.headers["location"]).text
    assert zh("Done: {action}.").format(action=zh("Mark urgent")) in again
    assert "/action/mark_urgent" not in again  # not available any more
    refused = browser.post(f"/desk/fdt_notes_note/{note}/action/mark_urgent",
                           data={"csrf": browser.csrf})
    assert refused.status_code == 409

    from kernel.models import Employee

    engineer = browser.post("/desk/employee/new", data={
        "csrf": browser.csrf, "_fields": ["code", "name", "grade", "skills", "active"],
        "code": "E100", "name": "钱工", "grade": "senior", "skills": "copier, 网络",
        "active": "1"})
    assert engineer.status_code == 303
    hired = desk.get(Employee, code="E100")
    assert hired.skills == ["copier", "网络"] and hired.active is True
    retired = browser.post(f"/desk/employee/{hired.id}", data={
        "csrf": browser.csrf, "_fields": ["active", "skills"], "skills": '["copier"'})
    assert retired.status_code == 422 and field_error(retired, "skills") == zh(
        "must be valid JSON")
    assert desk.get(Employee, code="E100").active is True  # nothing written
    browser.post(f"/desk/employee/{hired.id}", data={
        "csrf": browser.csrf, "_fields": ["active"]})  # an unticked box is sent as nothing
    assert desk.get(Employee, code="E100").active is False

    in_use = desk.id_of(Customer, code="C0001")  # has equipment
    kept = browser.post(f"/desk/customer/{in_use}/delete", data={"csrf": browser.csrf})
    assert kept.status_code == 409 and desk.count(Customer, code="C0001") == 1
    spare = browser.post("/desk/customer/new", data={
        "csrf": browser.csrf, "_fields": ["code", "name", "tier"], "code": "C8100",
        "name": "临时客户", "tier": "individual"})
    spare_id = desk.id_of(Customer, code="C8100")
    assert spare.status_code == 303
    gone = browser.post(f"/desk/customer/{spare_id}/delete", data={"csrf": browser.csrf})
    assert gone.status_code == 303 and gone.headers["location"] == "/desk/customer?done=deleted"
    assert desk.count(Customer, code="C8100") == 0


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


def test_export_csv_and_xlsx_of_the_current_filter(desk):
    browser = desk.login("root")
    params = [("f", "tier"), ("op", "eq"), ("v", "corporate"), ("sort", "code")]
    listed = browser.get("/desk/customer", params=params + [("limit", 200)])
    expected = codes_in(listed)

    exported = browser.get("/desk/customer/export.csv", params=params)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:5] == [zh("Code"), zh("Name"), zh("Tier"), zh("Branch"), zh("Phone")]
    assert [r[0] for r in rows[1:]] == expected
    first = dict(zip(header, rows[1], strict=True))
    assert first[zh("Name")] == "申达物流有限公司" and first[zh("Tier")] == zh("corporate")
    assert first[zh("Branch")] == "SH 上海服务中心"

    book = browser.get("/desk/customer/export.xlsx", params=params)
    assert book.status_code == 200 and book.content.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(book.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][:5]) == header[:5]
    assert [r[0] for r in values[1:]] == expected
    assert values[1][1] == "申达物流有限公司"
    created = values[1][header.index(zh("Created"))]
    assert created.year >= 2026  # a real date-time cell, in the site's time zone

    # the clerk's export holds only what the clerk may see
    clerk = desk.login("jdfront").get("/desk/customer/export.csv")
    codes = [r[0] for r in csv.reader(io.StringIO(clerk.content.decode("utf-8-sig")))][1:]
    assert "C0003" in codes and "C0001" not in codes


# --------------------------------------------------------------------------
# language, branches, permissions
# --------------------------------------------------------------------------


def test_language_switch_is_stored_on_the_user(desk):
    browser = desk.login("lily")
    home = browser.get("/")
    assert '<html lang="zh-CN">' in home.text and zh("Log out") in home.text
    switched = browser.post("/desk/language", data={"csrf": browser.csrf, "locale": "en",
                                                    "next": "/desk/customer"})
    assert switched.status_code == 303 and switched.headers["location"] == "/desk/customer"
    assert desk.get(User, username="lily").locale == "en"
    english = browser.get("/desk/customer/new")
    assert '<html lang="en">' in english.text and ">Log out<" in english.text
    assert ">Customer<" in english.text
    # messages from the services speak the user's language too
    invalid = browser.post("/desk/customer/new", data={
        "csrf": browser.csrf, "_fields": ["code", "name", "tier"], "code": "", "name": "x",
        "tier": "corporate"})
    assert field_error(invalid, "code") == "is required"
    # another user keeps the site's language; the login page has its own switch
    assert zh("Log out") in desk.login("wangli").get("/").text
    stranger = desk.browser()
    english_login = stranger.get("/login", params={"lang": "en"})
    assert ">User name<" in english_login.text and "fixdesk_lang=en" in english_login.headers[
        "set-cookie"]
    assert ">User name<" in stranger.get("/login").text  # remembered by this browser
    browser.post("/desk/language", data={"csrf": browser.csrf, "locale": "zh_CN"})
    assert zh("Log out") in browser.get("/").text


def test_other_branch_records_are_not_found_and_forbidden_pages_refused(desk):
    clerk = desk.login("lily")  # front desk, Shanghai
    jd_customer = desk.id_of(Customer, code="C0003")
    jd_machine = desk.id_of(CustomerEquipment, serial_no="LV93X10235")
    for url in (f"/desk/customer/{jd_customer}", f"/desk/customer_equipment/{jd_machine}",
                f"/desk/customer_equipment/{jd_machine}/print/kernel.equipment_record",
                "/desk/customer/99999", "/desk/customer/abc", "/desk/no_such_entity",
                "/desk/customer/1/nothing/here"):
        page = clerk.get(url)
        assert page.status_code == 404, url
        assert page.headers["content-type"].startswith("text/html")
        assert zh("Not found") in page.text and "Traceback" not in page.text
    changed = clerk.post(f"/desk/customer/{jd_customer}", data={
        "csrf": clerk.csrf, "_fields": ["name"], "name": "改名"})
    assert changed.status_code == 404
    assert desk.get(Customer, id=jd_customer).name == "嘉定办公设备经销部"

    engineer = desk.login("wangli")
    for url in ("/desk/customer/new", "/desk/fdt_notes_note/new"):
        page = engineer.get(url)
        assert page.status_code == 403, url
        assert zh("Not allowed") in page.text and "Traceback" not in page.text
    refused = engineer.post("/desk/customer/new", data={
        "csrf": engineer.csrf, "_fields": ["code", "name", "tier"], "code": "C8200",
        "name": "工程师建的", "tier": "individual"})
    assert refused.status_code == 403 and desk.count(Customer, code="C8200") == 0
    # an engineer may read customers, but the form is read-only
    form = engineer.get(f"/desk/customer/{desk.id_of(Customer, code='C0001')}").text
    assert 'id="f-name"' in form and "disabled" in form and 'accesskey="s"' not in form
    assert desk.login("lily").get("/desk/branch/new").status_code == 403


def test_own_static_files_only(desk):
    browser = desk.browser()
    for path, kind in (("/desk/_static/desk.css", "text/css"),
                       ("/desk/_static/desk.js", "text/javascript")):
        answer = browser.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    for path in ("/desk/_static/..%2Fbase.html", "/desk/_static/base.html",
                 "/desk/_static/nothing.css"):
        assert browser.get(path).status_code == 404
