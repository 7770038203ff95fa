"""Print templates as files (kernel.documents.template_files): listing, copying into the
site, saving a checked edit, previewing an unsaved one, reverting; each write audited.

PDFs are read back with poppler's ``pdftotext``.
"""

from __future__ import annotations

import re

import pytest
from pdf_tools import pdftotext
from sqlalchemy import func, select

from kernel.audit import AuditLog
from kernel.auth import PermissionDenied
from kernel.documents import template_files as files
from kernel.documents.registry import PrintLog
from kernel.documents.service import print_records
from kernel.errors import Conflict, NotFound, ValidationError

VOUCHER = "repair.service_voucher"
TEMPLATE = "repair/service_voucher.html"
HEADING = '{{ _("Fault and repair") }}'
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def site(make_site):
    return make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")


@pytest.fixture
def app(site, app_of):
    return app_of(site)


def _order_id(app, ctx=None) -> int:
    with app.context(user="admin") as ctx:
        found = files.default_record(ctx, VOUCHER)
    assert found is not None
    return found


def _audit_rows(app) -> list[AuditLog]:
    with app.sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity == files.AUDIT_ENTITY)
                               .order_by(AuditLog.id)).all()
        session.expunge_all()
        return rows


def _prints(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(PrintLog))


def _copy_with_heading(app, heading: str) -> None:
    """Copy the voucher into the site and save it with ``heading`` for its fault heading."""
    with app.context(user="admin") as ctx:
        files.copy_to_site(ctx, VOUCHER)
        files.save_site_template(ctx, VOUCHER, files.read_source(app, VOUCHER).replace(
            HEADING, heading))


def _print_text(app, order_id: int) -> str:
    with app.context(user="admin") as ctx:
        return pdftotext(print_records(ctx, VOUCHER, [order_id], locale="zh_CN"))


def _site_copy(site):
    return site.path / "templates" / TEMPLATE


def test_papers_name_each_template_and_who_provides_it(app):
    listed = {paper.name: paper for paper in files.papers(app)}
    voucher = listed[VOUCHER]
    assert (voucher.kind, voucher.template, voucher.owner, voucher.entity) == (
        "document", TEMPLATE, "repair", "repair_work_order")
    assert voucher.file == voucher.shipped and voucher.file.is_file()
    assert not voucher.site_copy
    reports = [p for p in listed.values() if p.kind == "report"]
    assert reports and all(p.file is not None for p in reports)
    generic = [p for p in reports if p.template == "print/report.html"]
    assert all(p.owner == "kernel" for p in generic)
    if len(generic) > 1:
        assert generic[0].name in generic[1].shared_with
    with pytest.raises(NotFound):
        files.get_paper(app, "nope.nothing")


def test_copy_then_save_is_printed_next_time_and_audited(site, app):
    order_id = _order_id(app)
    before = _print_text(app, order_id)  # the plugin's template is cached now
    assert "故障与维修" in before or "Fault" in before
    with app.context(user="admin") as ctx:
        shipped, target = files.copy_to_site(ctx, VOUCHER)
    assert target == _site_copy(site) and target.read_bytes() == shipped.read_bytes()
    assert files.get_paper(app, VOUCHER).site_copy
    with app.context(user="admin") as ctx, pytest.raises(Conflict, match="exists already"):
        files.copy_to_site(ctx, VOUCHER)

    edited = files.read_source(app, VOUCHER).replace(HEADING, "本站检修说明")
    with app.context(user="admin") as ctx:
        files.save_site_template(ctx, VOUCHER, edited, record=order_id)
    assert target.read_text(encoding="utf-8") == edited
    assert "本站检修说明" in _print_text(app, order_id)
    again = edited.replace("本站检修说明", "第二版检修说明")
    with app.context(user="admin") as ctx:
        files.save_site_template(ctx, VOUCHER, again.replace("\n", "\r\n"))
    assert target.read_text(encoding="utf-8") == again  # the browser's CR LF normalized
    assert "第二版检修说明" in _print_text(app, order_id)

    rows = _audit_rows(app)
    assert [(r.record_id, r.action, r.actor) for r in rows] == [
        (VOUCHER, "insert", "admin"), (VOUCHER, "update", "admin"),
        (VOUCHER, "update", "admin")]
    assert rows[0].changes["template"] == [None, files.digest(shipped.read_bytes())]
    assert rows[2].changes["template"] == [files.digest(edited.encode()),
                                           files.digest(again.encode())]


def test_sites_of_one_process_each_print_their_own_copy(site, app, make_site, app_of):
    """Compiled templates are shared by every app of the process (kernel.template_code),
    by file and checked against the source: another site's edit is not this one's."""
    other = app_of(make_site(["repair"], demo=True, branch_code="SH",
                             branch_name="上海服务中心"))
    order_id = _order_id(app)
    _copy_with_heading(app, "本站检修说明")
    assert "本站检修说明" in _print_text(app, order_id)
    assert "本站检修说明" not in _print_text(other, _order_id(other))
    _copy_with_heading(other, "分站检修说明")
    assert "分站检修说明" in _print_text(other, _order_id(other))
    assert "本站检修说明" in _print_text(app, order_id)


def test_revert_deletes_the_site_copy_and_the_shipped_template_prints(site, app):
    order_id = _order_id(app)
    _copy_with_heading(app, "本站检修说明")
    assert "本站检修说明" in _print_text(app, order_id)
    with app.context(user="admin") as ctx:
        removed = files.revert(ctx, VOUCHER)
    assert removed == _site_copy(site) and not removed.exists()
    assert "本站检修说明" not in _print_text(app, order_id)
    assert files.get_paper(app, VOUCHER).owner == "repair"
    with app.context(user="admin") as ctx, pytest.raises(Conflict, match="no site copy"):
        files.revert(ctx, VOUCHER)
    assert [r.action for r in _audit_rows(app)] == ["insert", "update", "delete"]
    assert _audit_rows(app)[-1].changes["template"][1] is None


REFUSED = [
    ("{% if order %}\n<p>\n{% endfor %}", "line 3"),
    ("<p>{{ order.number }\n", "line 1"),
    ("{{ order|no_such_filter }}", "no_such_filter"),
    ("{{ order.__class__ }}", "'__class__' is not allowed"),
    ("{{ order['__globals__'] }}", "'__globals__' is not allowed"),
    ("\n\n{{ order|attr('__class__') }}", "line 3: '__class__' is not allowed"),
    ("{{ [order]|map(attribute='__dict__')|list }}", "'__dict__' is not allowed"),
    ("{{ order._sa_instance_state }}", "'_sa_instance_state' is not allowed"),
    ("{{ order.customer.__init__.__globals__ }}", "is not allowed"),
    ("{% set n = '__cla' ~ 'ss__' %}{{ order[n] }}", "refused"),
    ("{% set d = {} %}{{ d.update(a=1) }}", "refused"),
    ("{{ order.number + 1 }}", "failed"),
    ("{{ no_such_variable }}", "refused"),
    ("{% include '/etc/passwd' %}", "refused"),
    ("<p>a\x00b</p>", r"U\+0000"),
    ("<p>a\x1bb</p>", r"U\+001B"),
    ("x" * (2 * 1024 * 1024), "too long"),
]


@SQLITE_ONLY
def test_a_refused_edit_says_why_and_writes_nothing(site, app):
    # refused before any copy: no site copy is made
    with app.context(user="admin") as ctx, pytest.raises(ValidationError):
        files.save_site_template(ctx, VOUCHER, "{{ order.__class__ }}")
    assert not _site_copy(site).exists()
    assert files.check_source(app, "a\r\nb") == "a\nb"

    order_id = _order_id(app)
    with app.context(user="admin") as ctx:
        files.copy_to_site(ctx, VOUCHER)
    original = _site_copy(site).read_bytes()
    audited = len(_audit_rows(app))
    for payload, message in REFUSED:  # one site: none of them writes
        case = payload[:50]
        with app.context(user="admin") as ctx, pytest.raises(ValidationError) as e:
            files.save_site_template(ctx, VOUCHER, payload, record=order_id)
        assert re.search(message, str(e.value)), (case, message, str(e.value))
        assert e.value.field == "source", case
        assert _site_copy(site).read_bytes() == original, case
        assert len(_audit_rows(app)) == audited, case
        assert not list(_site_copy(site).parent.glob(".*.tmp")), case
        with app.context(user="admin") as ctx, pytest.raises(ValidationError) as e:
            files.preview(ctx, VOUCHER, payload, order_id)
        assert re.search(message, str(e.value)), (case, message, str(e.value))


def test_preview_prints_the_unsaved_text_and_logs_nothing(site, app):
    order_id = _order_id(app)
    source = files.read_source(app, VOUCHER).replace(HEADING, "预览中的检修说明")
    with app.context(user="admin") as ctx:
        data = files.preview(ctx, VOUCHER, source, order_id)
    text = pdftotext(data)
    assert "预览中的检修说明" in text
    assert "副本" not in text
    assert _prints(app) == 0
    assert not _site_copy(site).exists()
    assert _audit_rows(app) == []
    with app.context(user="admin") as ctx:
        with pytest.raises(NotFound):
            files.preview(ctx, VOUCHER, source, 99999999)
        with pytest.raises(ValidationError, match="record"):
            files.preview(ctx, VOUCHER, source, "abc")
        with pytest.raises(ValidationError, match="record"):
            files.preview(ctx, VOUCHER, source, None)


@SQLITE_ONLY
def test_preview_of_a_report_runs_it_with_its_parameters(app):
    report = next(p for p in files.papers(app) if p.kind == "report")
    with app.context(user="admin") as ctx:
        params = files.default_params(ctx, report.name)
        source = ('{% extends "print/base.html" %}{% block content %}'
                  "<p>报表预览：{{ report.title }}</p>{% endblock %}")
        text = pdftotext(files.preview(ctx, report.name, source, params=params,
                                       locale="zh_CN"))
    assert "报表预览：" in text
    assert _prints(app) == 0


@SQLITE_ONLY
def test_only_admins_change_or_preview_templates(app):
    with app.context(user="wufang") as ctx:
        for call in (lambda: files.copy_to_site(ctx, VOUCHER),
                     lambda: files.save_site_template(ctx, VOUCHER, "<p>x</p>"),
                     lambda: files.revert(ctx, VOUCHER),
                     lambda: files.preview(ctx, VOUCHER, "<p>x</p>", 1)):
            with pytest.raises(PermissionDenied):
                call()


@SQLITE_ONLY
def test_unknown_papers_are_not_found(app):
    with app.context(user="admin") as ctx:
        for call in (lambda: files.copy_to_site(ctx, "nope"),
                     lambda: files.save_site_template(ctx, "nope", "<p>x</p>"),
                     lambda: files.revert(ctx, "nope"),
                     lambda: files.read_source(app, "nope")):
            with pytest.raises(NotFound, match="no document or report 'nope'"):
                call()


def test_cli_copies_lists_and_reverts_with_an_audit_row(site, app, fixdesk):
    copied = fixdesk("--site", site.path, "templates", "copy", VOUCHER)
    assert copied.code == 0 and str(_site_copy(site)) in copied.out
    listing = fixdesk("--site", site.path, "templates", "list").out.splitlines()
    assert listing[0] == "DOCUMENT\tTEMPLATE\tFROM\tFILE"
    assert [VOUCHER, TEMPLATE, "site", str(_site_copy(site))] in [
        line.split("\t") for line in listing]
    reverted = fixdesk("--site", site.path, "templates", "revert", VOUCHER)
    assert reverted.code == 0, reverted
    assert "removed" in reverted.out and not _site_copy(site).exists()
    again = fixdesk("--site", site.path, "templates", "revert", VOUCHER)
    assert again.code == 2 and "no site copy" in again.err
    unknown = fixdesk("--site", site.path, "templates", "revert", "nope")
    assert unknown.code == 2 and "no document or report 'nope'" in unknown.err
    rows = _audit_rows(app)
    assert [r.action for r in rows] == ["insert", "delete"]
    assert all(r.actor.startswith("cli:") for r in rows)
