"""Bad input gets a clear 4xx naming what is wrong, in the caller's language, and changes
nothing (issue #15): control characters, sizes, types and ranges, e-mail addresses, the
order of 401 and 422, and pydantic's English never reaching anyone. Real HTTP through the
ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel.errors import SiteError, ValidationError
from kernel.site import Site
from kernel.web.app import create_app

#: the tables whose rows a refused request must leave as they were
WATCHED = ("customer", "customer_equipment", "repair_work_order", "repair_labour_entry",
           "audit_log")
#: pydantic's and Starlette's English, which must never reach a caller
ENGLISH = ("Input should", "Extra inputs", "JSON decode error", "Field required",
           "String should", "Value error", "There was an error", "Content Too Large",
           "Not Found", "value is not")
NASTY = ["a\x00b", "\x00", "a\x1b[31mb", "a\x07b", "a\x7fb", "a\x85b", "a\ud800b"]
BIDI = ["ab\u202ecod", "\u2066x\u2069"]


def _site(make_site, **limits):
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    if limits:
        site.config.limits = limits
        site.save()
        site = Site.load(site.path)
    return site


def _client(site):
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        headers = bearer_headers(ctx, "zhengli", "wanggong", "admin")
    client = TestClient(web, raise_server_exceptions=False)
    client.app_state, client.as_user, client.web = app, headers, web
    return client


@pytest.fixture
def api(make_site):
    """A demo site with repair; bearer tokens for the front desk, an engineer, the admin."""
    with _client(_site(make_site)) as client:
        yield client


def _counts(app) -> dict[str, int]:
    from sqlalchemy import table

    with app.sessions() as session:
        return {name: session.scalar(select(func.count()).select_from(table(name)))
                for name in WATCHED}


def _body(value) -> bytes:
    """JSON as a client writes it (a lone surrogate escaped as ``\\ud800``)."""
    return json.dumps(value).encode()


def _post(api, url, value, headers, method="POST"):
    return api.request(method, url, content=_body(value),
                       headers={**headers, "Content-Type": "application/json"})


def _refused(answer, field: str, status: int = 422) -> dict:
    assert answer.status_code == status, (field, answer.status_code, answer.text)
    error = error_of(answer)
    assert field in error["fields"], (field, error)
    assert not any(word in answer.text for word in ENGLISH), answer.text
    assert all(not key.isdigit() for key in error["fields"]), error
    return error


def _customer(api) -> dict:
    return {"code": "C-BAD", "name": "浦东新区图书馆", "tier": "corporate"}


# ---------------------------------------------------------------------------
# control characters
# ---------------------------------------------------------------------------


def test_control_characters_in_every_text_field_are_refused_and_nothing_changes(api):
    front = api.as_user["zhengli"]
    app = api.app_state
    before = _counts(app)
    for field in ("code", "name", "phone", "email", "note"):
        for nasty in NASTY:
            answer = _post(api, "/api/v1/customer", {**_customer(api), field: nasty}, front)
            _refused(answer, field)
    for field in ("code", "name", "phone"):  # names and codes: one line, no bidi override
        for nasty in [*BIDI, "a\nb", "a\tb", "a\rb"]:
            _refused(_post(api, "/api/v1/customer", {**_customer(api), field: nasty}, front),
                     field)
    equipment = {"customer_id": 1, "model": "MP 2555", "serial_no": "E-BAD"}
    for field in ("brand", "model", "serial_no", "note"):
        _refused(_post(api, "/api/v1/customer_equipment", {**equipment, field: "x\x00"},
                       front), field)
    # a repair request: the plugin's own service builds the order; the kernel's last check
    # before the flush refuses what it would store
    order = {"channel": "phone", "equipment": "E335M820091", "fault_description": "卡纸"}
    for field in ("fault_description", "contact_name", "phone", "address", "model",
                  "serial_no", "fault_code"):
        for nasty in ("a\x00b", "a\x1bb"):
            _refused(_post(api, "/api/repair/work_orders", {**order, field: nasty}, front),
                     field)
    # a change of an existing record
    customer_id = api.get("/api/v1/customer", headers=front).json()["items"][0]["id"]
    for field in ("name", "note", "email"):
        _refused(_post(api, f"/api/v1/customer/{customer_id}", {field: "x\x00y"}, front,
                       "PATCH"), field)
    assert _counts(app) == before
    # several lines and tabs are fine in a text of several lines
    kept = _post(api, "/api/v1/customer", {**_customer(api), "note": "第一行\r\n第二行\t尾"},
                 front)
    assert kept.status_code == 201, kept.text
    assert kept.json()["note"] == "第一行\r\n第二行\t尾"


def test_control_characters_in_filters_search_and_sort_are_refused(api):
    front = api.as_user["zhengli"]
    for entity in ("customer", "repair_work_order"):
        for query, name in [("name=a%00b", "name"), ("q=%00", "q"), ("sort=%00name", "sort"),
                            ("name__contains=%1B", "name__contains"),
                            ("code__in=a,%00", "code__in"), ("q=%E2%80%AE", "q")]:
            if entity == "repair_work_order":
                query = query.replace("name", "contact_name").replace("code__in",
                                                                     "number__in")
                name = name.replace("name", "contact_name").replace("code__in", "number__in")
            answer = api.get(f"/api/v1/{entity}?{query}", headers=front)
            _refused(answer, name)
    # other routes' parameters too (the timeline's cursor, a report's parameter)
    _refused(api.get("/api/v1/customer/1/timeline?before=%00", headers=front), "before")


def test_the_kernel_refuses_control_characters_in_filters_for_every_caller(api):
    from kernel import records

    app = api.app_state
    with app.context(user="zhengli") as ctx:
        info = app.exposed["customer"]
        for filters, q, sort, field in [({"name": "a\x00"}, None, None, "name"),
                                        ({}, "\x00", None, "q"), ({}, None, "\x00", "sort")]:
            with pytest.raises(ValidationError) as refused:
                records.list_records(ctx, info, filters=filters, q=q, sort=sort)
            assert refused.value.field == field


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------


def test_a_huge_body_is_refused_before_it_is_read(api):
    front = api.as_user["zhengli"]
    app = api.app_state
    before = _counts(app)
    note = {**_customer(api), "note": "x" * (10 * 1024 * 1024)}  # a 10 MB JSON note
    answer = _post(api, "/api/v1/customer", note, {**front, "Accept-Language": "en"})
    error = _refused(answer, "body", 413)
    assert error["code"] == "too_large" and "2 MB" in error["message"], error
    zh = _post(api, "/api/v1/customer", note, {**front, "Accept-Language": "zh-CN"})
    assert zh.status_code == 413 and "2 MB" in error_of(zh)["message"]
    assert error_of(zh)["message"] != error["message"]  # in Chinese
    assert _counts(app) == before


def test_a_huge_desk_form_gets_the_desk_s_error_page(api):
    """A form posted from the desk is read by a person: the 413 is the desk's page in the
    user's language, not the API's JSON, and nothing is written."""
    from desk_sessions import demo_sessions

    before = _counts(api.app_state)
    with demo_sessions(api.web) as open_session:
        front = open_session("zhengli")
        answer = front.post("/desk/customer/new", data={
            "csrf": front.csrf, "code": "C-BIG", "name": "大", "tier": "corporate",
            "note": "x" * (3 * 1024 * 1024)})
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "请求超过 2 MB" in answer.text and answer.headers["connection"] == "close"
    assert _counts(api.app_state) == before


def test_a_streamed_body_is_cut_off_at_the_limit(api):
    """A 100 MB body without a Content-Length, sent in 64 KB chunks: refused after about
    the site's 2 MB, the rest never asked for."""
    front = api.as_user["zhengli"]
    chunk = b"x" * (64 * 1024)
    sent = 0

    async def body():
        nonlocal sent
        yield b'{"code": "C-BIG", "name": "big", "tier": "corporate", "note": "'
        for _n in range(1600):  # 100 MB
            sent += 1
            yield chunk
        yield b'"}'

    async def run():
        transport = httpx.ASGITransport(app=api.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/api/v1/customer", content=body(),
                                     headers={**front, "Content-Type": "application/json"})

    before = _counts(api.app_state)
    answer = asyncio.run(run())
    assert answer.status_code == 413, answer.text
    assert error_of(answer)["code"] == "too_large"
    assert sent <= 2 * 1024 * 1024 // len(chunk) + 2, sent  # not a chunk more than needed
    assert _counts(api.app_state) == before


def test_texts_are_held_to_their_columns_length(api):
    front = api.as_user["zhengli"]
    before = _counts(api.app_state)
    error = _refused(_post(api, "/api/v1/customer", {**_customer(api), "name": "名" * 201},
                           {**front, "Accept-Language": "en"}), "name")
    assert error["fields"]["name"] == "at most 200 characters"
    error = _refused(_post(api, "/api/v1/customer",
                           {**_customer(api), "note": "长" * 100_001},
                           {**front, "Accept-Language": "en"}), "note")
    assert error["fields"]["note"] == "at most 100000 characters"
    order = {"channel": "phone", "equipment": "E335M820091", "fault_description": "卡纸",
             "address": "路" * 301}  # the plugin reads it; the flush check holds the column
    _refused(_post(api, "/api/repair/work_orders", order, front), "address")
    assert _counts(api.app_state) == before


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_limits_are_set_per_site_and_uploads_have_their_own(make_site):
    site = _site(make_site, body_mb=0.05, upload_mb=0.5)
    with _client(site) as api:
        front = api.as_user["zhengli"]
        customer_id = api.get("/api/v1/customer", headers=front).json()["items"][0]["id"]
        big_note = {**_customer(api), "note": "x" * 60_000}
        _refused(_post(api, "/api/v1/customer", big_note, front), "body", 413)
        url = f"/api/v1/customer/{customer_id}/attachments"
        ok = api.post(url, headers=front, files={"file": ("a.png", PNG + bytes(200_000),
                                                          "image/png")})
        assert ok.status_code == 201, ok.text  # over the body limit, within the upload one
        refused = api.post(url, headers=front, files={"file": ("b.png", PNG + bytes(600_000),
                                                               "image/png")})
        assert refused.status_code == 413, refused.text
    for wrong in ({"body_mb": 0}, {"body_mb": "2"}, {"upload_mb": -1}, {"body_kb": 2}):
        site.config.limits = wrong
        with pytest.raises(SiteError):
            site.config._check_limits()


# ---------------------------------------------------------------------------
# types and ranges
# ---------------------------------------------------------------------------


def test_dates_are_iso_text_within_a_plausible_range(api):
    front = api.as_user["zhengli"]
    before = _counts(api.app_state)
    equipment = {"customer_id": 1, "model": "MP 2555", "serial_no": "E-DATE"}
    for wrong in (0, 1654646400, "0", "1654646400", True, [2026, 1, 1], "2026-13-01",
                  "1900-01-01", "1969-12-31", "2201-01-01", "9999-12-31"):
        _refused(_post(api, "/api/v1/customer_equipment",
                       {**equipment, "warranty_end": wrong}, front), "warranty_end")
    created = _post(api, "/api/v1/customer_equipment",
                    {**equipment, "warranty_end": "2027-06-30"}, front)
    assert created.status_code == 201 and created.json()["warranty_end"] == "2027-06-30"
    before = _counts(api.app_state)
    # labour of 1900 on an order: an action's date param
    order = _post(api, "/api/repair/work_orders", {
        "channel": "phone", "equipment": "E335M820091", "fault_description": "卡纸"}, front)
    assert order.status_code == 201, order.text
    before = _counts(api.app_state)
    oid = order.json()["id"]
    admin = api.as_user["admin"]
    assert _post(api, f"/api/v1/repair_work_order/{oid}/dispatch", {"engineer": "E001"},
                 admin).status_code == 200
    for wrong in ("1900-01-01", "2300-01-01", 0):
        answer = _post(api, f"/api/v1/repair_work_order/{oid}/add_labour",
                       {"hours": 1, "work_date": wrong, "engineer": "E001"}, admin)
        _refused(answer, "work_date")
    assert _counts(api.app_state)["repair_labour_entry"] == before["repair_labour_entry"]


def test_e_mail_fields_hold_e_mail_addresses(api):
    front = api.as_user["zhengli"]
    before = _counts(api.app_state)
    for wrong in ("not-an-email", "a@b", "a b@c.com", "a@@b.com", "@example.com", "a@localhost"):
        error = _refused(_post(api, "/api/v1/customer", {**_customer(api), "email": wrong},
                               {**front, "Accept-Language": "en"}), "email")
        assert "e-mail address" in error["fields"]["email"]
    assert _counts(api.app_state) == before
    for good in ("library@pudong.example", "张三@例子.中国", ""):
        answer = _post(api, "/api/v1/customer",
                       {**_customer(api), "code": f"C{len(good)}", "email": good}, front)
        assert answer.status_code == 201, (good, answer.text)


def test_the_kernel_knows_e_mail_fields_by_name_or_declaration():
    from sqlalchemy import Column, String

    from kernel.entities import is_email

    assert is_email(Column("email", String(200)))
    assert is_email(Column("billing_email", String(200)))
    assert is_email(Column("contact", String(200), info={"kind": "email"}))
    assert not is_email(Column("email_sent", String(20), info={"kind": "text"}))
    assert not is_email(Column("emails_note", String(200)))


# ---------------------------------------------------------------------------
# who is asking, and in which words
# ---------------------------------------------------------------------------


def test_whoever_is_not_logged_in_hears_401_before_anything_about_his_body(api):
    before = _counts(api.app_state)
    for headers in ({}, {"Authorization": "Bearer fd_nope_nope"},
                    {"Authorization": "Basic eDp5"}, {"Cookie": "fixdesk_session=forged"}):
        for content in (b"{not json", b'{"bogus": 1}', b"[]", _body({"code": 5})):
            answer = api.post("/api/v1/customer", content=content,
                              headers={**headers, "Content-Type": "application/json"})
            assert answer.status_code == 401, (headers, content, answer.text)
            assert error_of(answer)["code"] == "unauthenticated"
        answer = api.get("/api/v1/customer?limit=abc", headers=headers)
        assert answer.status_code == 401, answer.text
        answer = api.post("/api/v1/repair_work_order/1/add_labour", content=b"{",
                          headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 401, answer.text
    assert _counts(api.app_state) == before


@pytest.mark.parametrize("language, words", [
    ("en", {"json": "the body is not valid JSON", "extra": "is not a field that can be sent "
            "here", "readonly": "cannot be changed", "type": "must be text"}),
    ("zh-CN", {"json": None, "extra": None, "readonly": None, "type": None}),
])
def test_messages_are_in_the_callers_language_and_name_fields(api, language, words):
    front = {**api.as_user["zhengli"], "Accept-Language": language}
    answers = {
        "json": api.post("/api/v1/customer", content=b'{"code": ',
                         headers={**front, "Content-Type": "application/json"}),
        "extra": _post(api, "/api/v1/customer", {**_customer(api), "colour": "red"}, front),
        "readonly": _post(api, "/api/v1/customer", {**_customer(api), "created_at": "x"},
                          front),
        "type": _post(api, "/api/v1/customer", {**_customer(api), "name": {"a": 1}}, front),
    }
    fields = {"json": "body", "extra": "colour", "readonly": "created_at", "type": "name"}
    for case, answer in answers.items():
        error = _refused(answer, fields[case])
        message = error["fields"][fields[case]]
        if words[case] is not None:
            assert message == words[case], (case, message)
        if language == "zh-CN":  # Chinese, not English
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), (case, message)
    for url, content in (("/api/v1/print/x", b'{"ids": ["a", {"b": 1}]}'),
                         ("/api/v1/customer", b"[1, 2]")):
        answer = api.post(url, content=content,
                          headers={**front, "Content-Type": "application/json"})
        assert answer.status_code == 422 and not any(w in answer.text for w in ENGLISH)
        assert all(not part.isdigit() for key in error_of(answer)["fields"]
                   for part in key.split(".")), answer.text
    missing = api.get("/api/v1/no_such_thing/1/nothing", headers=front)
    assert missing.status_code == 404 and not any(w in missing.text for w in ENGLISH)
