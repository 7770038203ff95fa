"""The admin console's print templates through real HTTP, on the repair demo: the list,
copying the service voucher into the site, editing it with a preview of the unsaved text,
saves refused with the reason (nothing written), reverting; audited; admins only."""

from __future__ import annotations

import html
import re

import pytest
from desk_sessions import demo_sessions
from pdf_tools import pdftotext
from sqlalchemy import func, select

from kernel.audit import AuditLog
from kernel.documents import template_files as files
from kernel.documents.registry import PrintLog
from kernel.web.app import create_app

VOUCHER = "repair.service_voucher"
TEMPLATE = "repair/service_voucher.html"
HEADING = '{{ _("Fault and repair") }}'
BASE = "/desk/admin/templates"
EDIT = f"{BASE}/{VOUCHER}"
TEXTAREA = re.compile(r'<textarea[^>]*name="source"[^>]*>\n?(.*?)</textarea>', re.S)
ALERT = re.compile(r'<p class="alert" role="alert">(.*?)</p>', re.S)
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def web(make_site):
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    yield web
    web.state.fixdesk.close()


@pytest.fixture
def app(web):
    return web.state.fixdesk


@pytest.fixture
def login(web):
    with demo_sessions(web) as open_session:
        yield open_session


@pytest.fixture
def admin(login):
    """The demo's admin, reading the desk in English (the messages the tests look for)."""
    client = login("admin")
    answer = client.post("/desk/language", data={"csrf": client.csrf, "locale": "en",
                                                 "next": "/"})
    assert answer.status_code == 303
    return client


def _site_copy(app):
    return app.site.path / "templates" / TEMPLATE


def _source_of(page) -> str:
    found = TEXTAREA.search(page.text)
    assert found, page.text[:2000]
    return html.unescape(found.group(1))


def _alert(page) -> str:
    found = ALERT.search(page.text)
    return html.unescape(found.group(1)) if found else ""


def _record_of(page) -> str:
    return re.search(r'name="record" value="(\d*)"', page.text).group(1)


def _audit(app) -> list[tuple[str, str, str]]:
    with app.sessions() as session:
        return [(r.record_id, r.action, r.actor) for r in session.scalars(
            select(AuditLog).where(AuditLog.entity == files.AUDIT_ENTITY)
            .order_by(AuditLog.id))]


def _prints(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(PrintLog))


def _row(page, name: str) -> str:
    found = re.search(rf'<tr data-paper="{re.escape(name)}">(.*?)</tr>', page.text, re.S)
    assert found, page.text[:3000]
    return found.group(1)


def _copied(app, admin):
    answer = admin.post(f"{EDIT}/copy", data={"csrf": admin.csrf})
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["location"] == f"{EDIT}?done=copied"
    return admin.get(answer.headers["location"])


def test_the_list_shows_each_paper_its_file_and_source(app, admin):
    page = admin.get(BASE)
    assert page.status_code == 200
    row = _row(page, VOUCHER)
    assert TEMPLATE in row and "template-shipped" in row
    assert f'action="{EDIT}/copy"' in row and f'href="{EDIT}/revert"' not in row
    for paper in files.papers(app):
        assert f'data-paper="{paper.name}"' in page.text
    _copied(app, admin)
    row = _row(admin.get(BASE), VOUCHER)
    assert "template-site" in row and f'action="{EDIT}/copy"' not in row
    assert f'href="{EDIT}"' in row and f'href="{EDIT}/revert"' in row


def test_copy_edit_preview_save_and_print(app, admin):
    editor = admin.get(EDIT)
    assert editor.status_code == 200
    assert "readonly" in editor.text.split('name="source"', 1)[1].split(">", 1)[0]
    shipped = _source_of(editor)
    assert shipped == files.read_source(app, VOUCHER)

    editor = _copied(app, admin)
    assert 'class="notice"' in editor.text and 'class="template-source"' in editor.text
    assert _site_copy(app).read_text(encoding="utf-8") == shipped
    source, record = _source_of(editor), _record_of(editor)
    assert record and int(record) > 0
    assert f'formaction="{EDIT}/preview" formtarget="_blank"' in editor.text

    edited = source.replace(HEADING, "本站检修说明")
    preview = admin.post(f"{EDIT}/preview", data={"csrf": admin.csrf, "source": edited,
                                                  "record": record})
    assert preview.status_code == 200, preview.text[:1000]
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline")
    assert "本站检修说明" in pdftotext(preview.content)
    saved_as = admin.post(f"{EDIT}/preview", data={"csrf": admin.csrf, "source": edited,
                                                   "record": record, "download": "1"})
    assert saved_as.headers["content-disposition"].startswith("attachment")
    assert "本站检修说明" in pdftotext(saved_as.content)
    assert _site_copy(app).read_text(encoding="utf-8") == shipped  # a preview saves nothing
    assert _prints(app) == 0

    saved = admin.post(f"{EDIT}/save", data={"csrf": admin.csrf,
                                             "source": edited.replace("\n", "\r\n"),
                                             "record": record})
    assert saved.status_code == 303 and saved.headers["location"] == f"{EDIT}?done=saved"
    assert _site_copy(app).read_text(encoding="utf-8") == edited
    assert _source_of(admin.get(EDIT)) == edited
    printed = admin.get(f"/desk/repair_work_order/{record}/print/{VOUCHER}?preview=1")
    assert printed.status_code == 200 and "本站检修说明" in pdftotext(printed.content)
    assert _audit(app) == [(VOUCHER, "insert", "admin"), (VOUCHER, "update", "admin")]

    again = admin.post(f"{EDIT}/copy", data={"csrf": admin.csrf})
    assert again.status_code == 409 and "exists already" in _alert(again)
    assert _site_copy(app).read_text(encoding="utf-8") == edited


REFUSED = [
    ("{{ order.__class__ }}", "'__class__' is not allowed"),
    ("<p>\n{{ order['__globals__'] }}", "line 2: '__globals__' is not allowed"),
    ("{{ order|attr('__class__') }}", "'__class__' is not allowed"),
    ("{% set n = '__cla' ~ 'ss__' %}{{ order[n] }}", "refused"),
    ("{% set d = {} %}{{ d.update(a=1) }}", "refused"),
    ("{% if order %}\n<p>\n</p>", "line 3: syntax error"),
    ("{{ order.number + 1 }}", "failed"),
    ("<p>a\x00b</p>", "U+0000"),
    ("<p>a\x07b</p>", "U+0007"),
    ("x" * (2 * 1024 * 1024), "too long"),
]


@SQLITE_ONLY
def test_a_refused_save_keeps_the_text_shows_why_and_writes_nothing(app, admin):
    editor = _copied(app, admin)
    record = _record_of(editor)
    original = _site_copy(app).read_bytes()
    audited = _audit(app)
    for payload, message in REFUSED:  # one site: none of them writes
        case = payload[:50]
        answer = admin.post(f"{EDIT}/save", data={"csrf": admin.csrf, "source": payload,
                                                  "record": record})
        assert answer.status_code == 422, (case, answer.status_code)
        assert message in _alert(answer), (case, message, _alert(answer))
        kept = _source_of(answer)
        assert kept == payload.replace("\x00", "\N{REPLACEMENT CHARACTER}"), case
        assert _record_of(answer) == record, case
        assert _site_copy(app).read_bytes() == original, case
        assert _audit(app) == audited, case
        preview = admin.post(f"{EDIT}/preview", data={"csrf": admin.csrf, "source": payload,
                                                      "record": record})
        assert preview.status_code == 422 and message in _alert(preview), (case, message)
        assert "text/html" in preview.headers["content-type"], case


@SQLITE_ONLY
def test_wrong_inputs_and_writes_without_the_csrf_token_are_refused(app, admin):
    assert admin.post(f"{EDIT}/copy", data={}).status_code == 403
    assert not _site_copy(app).exists()
    editor = _copied(app, admin)
    original = _site_copy(app).read_bytes()
    source = _source_of(editor)
    for action in ("save", "preview", "revert"):
        answer = admin.post(f"{EDIT}/{action}", data={"csrf": "wrong", "source": "<p>x</p>",
                                                      "record": "1"})
        assert answer.status_code == 403, action
    assert _site_copy(app).read_bytes() == original, "changed by a write without the token"
    for data, status, message in [
        ({"record": "1"}, 422, "must be text"),
        ({"source": source, "record": "abc"}, 422, "record"),
        ({"source": source, "record": "-5"}, 422, "record"),
        ({"source": source, "record": "99999999"}, 404, "99999999"),
    ]:
        answer = admin.post(f"{EDIT}/save", data={"csrf": admin.csrf, **data})
        assert answer.status_code == status, (data, answer.status_code)
        assert message in _alert(answer), (data, _alert(answer))
    preview = admin.post(f"{EDIT}/preview", data={"csrf": admin.csrf, "source": source,
                                                  "record": ""})
    assert preview.status_code == 422 and "record" in _alert(preview)
    huge = admin.post(f"{EDIT}/save", data={"csrf": admin.csrf, "source": "x" * 9_000_000})
    assert huge.status_code == 413 and "too long" in huge.text  # not even read
    assert _site_copy(app).read_bytes() == original
    assert _audit(app) == [(VOUCHER, "insert", "admin")]


@SQLITE_ONLY
def test_unknown_papers_are_404_and_nothing_is_written(app, admin):
    for method, path in [("GET", f"{BASE}/nope"), ("GET", f"{BASE}/nope/revert"),
                         ("POST", f"{BASE}/nope/copy"), ("POST", f"{BASE}/nope/save"),
                         ("POST", f"{BASE}/nope/preview"), ("POST", f"{BASE}/nope/revert")]:
        answer = admin.request(method, path, data={"csrf": admin.csrf, "source": "<p>x</p>",
                                                   "record": "1"})
        assert answer.status_code == 404, (method, path, answer.status_code)
    assert not (app.site.path / "templates").exists() or not any(
        (app.site.path / "templates").rglob("*.html"))
    assert _audit(app) == []


def test_revert_asks_first_then_deletes_the_site_copy(app, admin):
    _copied(app, admin)
    confirm = admin.get(f"{EDIT}/revert")
    assert confirm.status_code == 200
    assert f'action="{EDIT}/revert"' in confirm.text and 'class="danger"' in confirm.text
    assert _site_copy(app).exists()  # asking deletes nothing
    done = admin.post(f"{EDIT}/revert", data={"csrf": admin.csrf})
    assert done.status_code == 303 and done.headers["location"] == f"{BASE}?done=reverted"
    assert not _site_copy(app).exists()
    assert 'class="notice"' in admin.get(done.headers["location"]).text
    again = admin.post(f"{EDIT}/revert", data={"csrf": admin.csrf})
    assert again.status_code == 409 and "no site copy" in _alert(again)
    assert [a for _n, a, _u in _audit(app)] == ["insert", "delete"]


@SQLITE_ONLY
def test_a_report_template_previews_with_its_parameters(app, admin):
    report = next(p for p in files.papers(app) if p.kind == "report")
    page = admin.get(f"{BASE}/{report.name}")
    assert page.status_code == 200 and 'name="params"' in page.text
    params = html.unescape(re.search(r'name="params" value="([^"]*)"', page.text).group(1))
    source = ('{% extends "print/base.html" %}{% block content %}'
              "<p>报表预览：{{ report.title }}</p>{% endblock %}")
    answer = admin.post(f"{BASE}/{report.name}/preview",
                        data={"csrf": admin.csrf, "source": source, "params": params})
    assert answer.status_code == 200, _alert(answer)
    assert "报表预览：" in pdftotext(answer.content)


@SQLITE_ONLY
def test_non_admins_get_403_everywhere_and_nothing_changes(app, login):
    """test_admin_console refuses every console URL to every other role; here, as the
    demo's service manager: on a real paper, and nothing is written."""
    client = login("wufang")
    for method, path in [("GET", BASE), ("GET", EDIT), ("GET", f"{EDIT}/revert"),
                         ("POST", f"{EDIT}/copy"), ("POST", f"{EDIT}/save"),
                         ("POST", f"{EDIT}/preview"), ("POST", f"{EDIT}/revert")]:
        answer = client.request(method, path, data={"csrf": client.csrf,
                                                    "source": "<p>x</p>", "record": "1"})
        assert answer.status_code == 403, (method, path, answer.status_code)
    assert not _site_copy(app).exists()
    assert _audit(app) == []
