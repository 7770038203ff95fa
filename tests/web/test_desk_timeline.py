"""The timeline beside a record's form through real HTTP (SQLite and PostgreSQL): a repair
work order's status changes, field changes, prints, notes with @mentions and attached
files; uploads and downloads; another branch's users find nothing; writes need CSRF."""

from __future__ import annotations

import io
import re

import pytest
from desk_sessions import demo_sessions
from site_cache import no_demo
from sqlalchemy import func, select

from kernel.attachments import Attachment
from kernel.i18n import translations
from kernel.notes import Note, NoteMention

zh = translations("zh_CN").gettext
CSRF = re.compile(r'name="csrf" value="([^"]+)"')



def _png(width=800, height=600) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "steelblue").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def web(make_site, monkeypatch):
    import plugins.repair.demo
    from kernel.web.app import create_app

    monkeypatch.setattr(plugins.repair.demo, "load_demo", no_demo)
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    yield web
    web.state.fixdesk.close()


@pytest.fixture
def login(web):
    with demo_sessions(web) as open_session:
        yield open_session


@pytest.fixture
def order(web):
    """A work order of 申达物流 registered by the front desk and dispatched to 王建国."""
    from plugins.repair import services

    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        order = services.register(ctx, channel="phone", equipment="E335M820091",
                                  fault_description="复印机显示 SC542，无法打印")
        number = order.id
    with app.context(user="wufang") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    return number


def _count(web, cls, **where) -> int:
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(func.count()).select_from(cls).filter_by(**where))


def _timeline(page) -> str:
    start = page.text.index('id="timeline"')
    return page.text[start:page.text.index("</section>", start)]


def _field_error(page, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="e-{name}">([^<]*)</p>', page.text)
    return found.group(1) if found else None


def test_the_timeline_shows_status_changes_field_changes_prints_and_notes(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    supervisor = login("wufang")
    printed = supervisor.get(f"{url}/print/repair.service_voucher", params={"download": 1})
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    noted = supervisor.post(f"{url}/notes", data={"csrf": supervisor.csrf,
                                                  "body": "@wanggong 请带硒鼓"})
    assert noted.status_code == 303
    assert noted.headers["location"] == f"{url}?done=noted#timeline"

    page = supervisor.get(noted.headers["location"])
    assert zh("Note added.") in page.text
    shown = _timeline(page)
    kinds = re.findall(r'data-kind="(\w+)"', shown)
    assert kinds[0] == "note" and {"status", "change", "print"} <= set(kinds)
    assert '<span class="mention">@wanggong</span> 请带硒鼓' in shown
    # repair's status changes: who, what, the status before and after
    assert zh("Dispatch") in shown and zh("Registered") in shown
    assert f"<del>{zh('pending')}</del> → <ins>{zh('dispatched')}</ins>" in shown
    # a field change from the audit trail, by the supervisor's full name
    assert zh("Fields changed") in shown and zh("Record created") in shown
    assert 'title="wufang">吴芳</span>' in shown
    assert zh("Printed: {document}").format(document=zh("Service voucher")) in shown
    assert shown.index('data-kind="note"') < shown.index('data-kind="print"')

    # the front desk sees the same entries but the field changes (no audit.read)
    front = _timeline(login("zhengli").get(url))
    assert 'data-kind="note"' in front and 'data-kind="status"' in front
    assert 'data-kind="change"' not in front
    assert zh("Field changes are shown to users who may read the audit trail.") in front


def test_a_mention_waits_on_the_home_page_until_the_record_is_opened(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    supervisor = login("wufang")
    people = supervisor.get(f"{url}/mentionable", params={"q": "wang"})
    assert people.json() == [{"username": "wanggong", "full_name": "王建国"}]
    assert supervisor.get(f"{url}/mentionable", params={"q": "hejuan"}).json() == []  # JD
    supervisor.post(f"{url}/notes", data={"csrf": supervisor.csrf, "body": "@wanggong 请带硒鼓"})

    engineer = login("wanggong")
    home = engineer.get("/")
    assert 'data-mentions' in home.text and zh("Mentions for you") in home.text
    assert f'href="{url}#timeline"' in home.text and "请带硒鼓" in home.text
    assert _count(web, NoteMention, seen_at=None) == 1
    assert engineer.get(url).status_code == 200
    assert _count(web, NoteMention, seen_at=None) == 0
    assert "data-mentions" not in engineer.get("/").text
    assert "data-mentions" not in supervisor.get("/").text  # the author is not mentioned


def test_a_refused_note_comes_back_with_its_error_and_writes_nothing(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    supervisor = login("wufang")
    empty = supervisor.post(f"{url}/notes", data={"csrf": supervisor.csrf, "body": "  "})
    assert empty.status_code == 422
    assert _field_error(empty, "body") == zh("write something first")
    blind = supervisor.post(f"{url}/notes", data={"csrf": supervisor.csrf,
                                                  "body": "@hejuan 看一下"})
    assert blind.status_code == 422 and "hejuan" in _field_error(blind, "body")
    assert "@hejuan 看一下</textarea>" in blind.text  # the note comes back as typed
    assert 'aria-invalid="true"' in blind.text
    assert _count(web, Note) == 0


def test_upload_thumbnail_and_download(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    engineer = login("wanggong")
    photo = _png()
    uploaded = engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf},
                             files={"file": ("故障照片.png", photo, "image/png")})
    assert uploaded.status_code == 303
    assert uploaded.headers["location"] == f"{url}?done=attached#timeline"
    with web.state.fixdesk.sessions() as session:
        row = session.scalar(select(Attachment))
    assert (row.filename, row.content_type, row.uploaded_by) == ("故障照片.png", "image/png",
                                                                 "wanggong")
    page = engineer.get(uploaded.headers["location"])
    file_url = f"{url}/attachments/{row.id}"
    assert f'<img src="{file_url}/thumbnail"' in _timeline(page)
    assert f'href="{file_url}?download=1"' in page.text

    downloaded = engineer.get(file_url, params={"download": 1})
    assert downloaded.status_code == 200 and downloaded.content == photo
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in downloaded.headers["content-security-policy"]
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E6%95%85" in disposition
    assert engineer.get(file_url).headers["content-disposition"].startswith("inline;")
    thumbnail = engineer.get(f"{file_url}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert len(thumbnail.content) < len(photo)
    # a file is served under its own record's address only
    assert engineer.get(f"/desk/customer/1/attachments/{row.id}").status_code == 404


def test_uploads_are_checked_by_content_and_size(web, login, order):
    from kernel.settings import set_setting

    url = f"/desk/repair_work_order/{order}"
    engineer = login("wanggong")
    fake = engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf},
                         files={"file": ("photo.png", b"<html><script>x</script></html>",
                                         "image/png")})
    assert fake.status_code == 422
    assert _field_error(fake, "file") == zh(
        "only these types of file can be attached: {types}").format(types="PNG, JPEG, WEBP, PDF")
    nothing = engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf})
    assert nothing.status_code == 422 and _field_error(nothing, "file") == zh(
        "choose a file first")
    with web.state.fixdesk.context() as ctx:
        set_setting(ctx, "kernel.attachment_max_mb", "1")
    big = b"%PDF-" + bytes(1024 * 1024 + 10)
    too_big = engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf},
                            files={"file": ("scan.pdf", big, "application/pdf")})
    assert too_big.status_code == 413
    assert _field_error(too_big, "file") == zh("the file is larger than {mb} MB").format(mb=1)
    huge = engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf},
                         files={"file": ("scan.pdf", big * 3, "application/pdf")})
    assert huge.status_code == 413  # refused before the body is read
    assert _count(web, Attachment) == 0


def test_another_branch_finds_nothing(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    engineer = login("wanggong")
    engineer.post(f"{url}/attachments", data={"csrf": engineer.csrf},
                  files={"file": ("p.png", _png(40, 30), "image/png")})
    attachment_id = _count(web, Attachment)
    outsider = login("hejuan")  # JD front desk
    for path in (url, f"{url}/timeline", f"{url}/attachments/{attachment_id}",
                 f"{url}/attachments/{attachment_id}/thumbnail", f"{url}/mentionable"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"{url}/notes", data={"csrf": outsider.csrf,
                                               "body": "看不见"}).status_code == 404
    assert outsider.post(f"{url}/attachments", data={"csrf": outsider.csrf},
                         files={"file": ("p.png", _png(40, 30), "image/png")}).status_code == 404
    assert _count(web, Note) == 0 and _count(web, Attachment) == 1


def test_writes_need_the_csrf_token(web, login, order):
    url = f"/desk/repair_work_order/{order}"
    supervisor = login("wufang")
    for data in ({"body": "没有令牌"}, {"body": "错的令牌", "csrf": "wrong"}):
        assert supervisor.post(f"{url}/notes", data=data).status_code == 403
    assert supervisor.post(f"{url}/attachments", data={"csrf": "wrong"},
                           files={"file": ("p.png", _png(40, 30), "image/png")}
                           ).status_code == 403
    assert _count(web, Note) == 0 and _count(web, Attachment) == 0


def test_older_entries_are_on_the_timelines_own_pages(web, login, order):
    from kernel import notes

    url = f"/desk/repair_work_order/{order}"
    with web.state.fixdesk.context(user="wufang") as ctx:
        for n in range(80):
            notes.add_note(ctx, "repair_work_order", order, f"第 {n} 条")
    supervisor = login("wufang")
    form = _timeline(supervisor.get(url))
    assert form.count('data-kind="note"') == 20 and "第 79 条" in form
    assert "第 60 条" in form and "第 59 条" not in form
    older = re.search(r'href="([^"]+)" data-older', form).group(1).replace("&amp;", "&")
    first = supervisor.get(older)
    assert first.status_code == 200 and first.text.count('data-kind="note"') == 50
    assert "第 59 条" in first.text and "第 10 条" in first.text and "第 9 条" not in first.text
    following = re.search(r'href="([^"]+)" data-older', first.text).group(1)
    rest = supervisor.get(following.replace("&amp;", "&")).text
    assert "第 9 条" in rest and "第 0 条" in rest and zh("Registered") in rest
    assert "data-older" not in rest and "第 10 条" not in rest
    bad = supervisor.get(f"{url}/timeline", params={"before": "yesterday"})
    assert bad.status_code == 422
