"""Notes, attachments and the timeline of any record through the API (SQLite and
PostgreSQL): the demo company's staff with bearer tokens."""

from __future__ import annotations

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel.attachments import Attachment
from kernel.models import Customer
from kernel.notes import Note
from kernel.web.app import create_app

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def api(make_site):
    site = make_site([], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        headers = bearer_headers(ctx, "wufang", "wanggong", "hejuan", "admin")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.as_user = headers
        yield client


def _id(app, cls, **where) -> int:
    with app.sessions() as session:
        return session.scalar(select(cls.id).filter_by(**where))


def _count(app, cls) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(cls))


def _error(response) -> dict:
    return response.json()["error"]


def test_notes_through_the_api(api):
    shenda = _id(api.app_state, Customer, code="C0001")
    url = f"/api/v1/customer/{shenda}/notes"
    written = api.post(url, headers=api.as_user["wufang"], json={"body": "@wanggong 请带硒鼓"})
    assert written.status_code == 201, written.text
    note = written.json()
    assert (note["author"], note["mentions"], note["record_id"]) == ("wufang", ["wanggong"],
                                                                     shenda)
    assert note["created_at"].endswith("+08:00")
    listed = api.get(url, headers=api.as_user["wanggong"]).json()
    assert [n["body"] for n in listed] == ["@wanggong 请带硒鼓"]

    empty = api.post(url, headers=api.as_user["wufang"], json={"body": " "})
    assert empty.status_code == 422 and _error(empty)["fields"] == {
        "body": "write something first"}
    blind = api.post(url, headers=api.as_user["wufang"], json={"body": "@hejuan 你好"})
    assert blind.status_code == 422 and "body" in _error(blind)["fields"]
    assert api.post(url, headers=api.as_user["wufang"], json={}).status_code == 422
    # another branch: not found, for reading and writing alike
    assert api.get(url, headers=api.as_user["hejuan"]).status_code == 404
    assert api.post(url, headers=api.as_user["hejuan"], json={"body": "x"}).status_code == 404
    assert api.get("/api/v1/nothing/1/notes", headers=api.as_user["wufang"]).status_code == 404
    assert api.get(url).status_code == 401
    assert _count(api.app_state, Note) == 1


def test_attachments_through_the_api(api):
    from kernel.settings import set_setting

    shenda = _id(api.app_state, Customer, code="C0001")
    url = f"/api/v1/customer/{shenda}/attachments"
    h = api.as_user["wanggong"]
    sent = api.post(url, headers=h, files={"file": ("签名.png", PNG, "image/png")},
                    data={"kind": "signature"})
    assert sent.status_code == 201, sent.text
    row = sent.json()
    assert (row["kind"], row["filename"], row["content_type"], row["size"]) == (
        "signature", "签名.png", "image/png", len(PNG))
    assert row["url"] == f"{url}/{row['id']}"
    got = api.get(row["url"], headers=api.as_user["wufang"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert [a["id"] for a in api.get(url, headers=h, params={"kind": "signature"}).json()] == [
        row["id"]]
    assert api.get(url, headers=h, params={"kind": "file"}).json() == []

    fake = api.post(url, headers=h, files={"file": ("x.png", b"<svg onload=alert(1)>",
                                                    "image/png")})
    assert fake.status_code == 422 and set(_error(fake)["fields"]) == {"file"}
    missing = api.post(url, headers=h, data={"kind": "file"})
    assert missing.status_code == 422 and set(_error(missing)["fields"]) == {"file"}
    bad_kind = api.post(url, headers=h, files={"file": ("x.png", PNG, "image/png")},
                        data={"kind": "../../x"})
    assert bad_kind.status_code == 422 and set(_error(bad_kind)["fields"]) == {"kind"}
    with api.app_state.context() as ctx:
        set_setting(ctx, "kernel.attachment_max_mb", "1")
    big = api.post(url, headers=h, files={"file": ("x.pdf", b"%PDF-" + bytes(2**20),
                                                   "application/pdf")})
    assert big.status_code == 413 and _error(big)["code"] == "too_large"
    assert _error(big)["fields"] == {"file": "the file is larger than 1 MB"}

    outsider = api.as_user["hejuan"]
    assert api.get(row["url"], headers=outsider).status_code == 404
    assert api.get(url, headers=outsider).status_code == 404
    assert api.post(url, headers=outsider,
                    files={"file": ("x.png", PNG, "image/png")}).status_code == 404
    other = _id(api.app_state, Customer, code="C0002")
    assert api.get(f"/api/v1/customer/{other}/attachments/{row['id']}",
                   headers=h).status_code == 404
    assert _count(api.app_state, Attachment) == 1


def test_the_timeline_through_the_api(api):
    shenda = _id(api.app_state, Customer, code="C0001")
    base = f"/api/v1/customer/{shenda}"
    h = api.as_user["wufang"]
    api.post(f"{base}/notes", headers=h, json={"body": "第一条"})
    api.post(f"{base}/attachments", headers=h, files={"file": ("a.png", PNG, "image/png")})
    page = api.get(f"{base}/timeline", headers=h, params={"limit": 2}).json()
    assert [e["kind"] for e in page["events"]] == ["attachment", "note"]
    assert page["events"][0]["data"]["filename"] == "a.png" and page["older"]
    rest = api.get(f"{base}/timeline", headers=h, params={"before": page["older"]}).json()
    assert [e["kind"] for e in rest["events"]] == ["change"] and rest["older"] is None
    assert rest["events"][0]["changes"][0][0] == "Code"
    bad = api.get(f"{base}/timeline", headers=h, params={"before": "2026-01-01"})
    assert bad.status_code == 422 and set(_error(bad)["fields"]) == {"before"}
    assert api.get(f"{base}/timeline", headers=api.as_user["hejuan"]).status_code == 404
