"""Notes with @mentions, attachments kept in the site's folder, and a record's timeline:
the services, on SQLite and PostgreSQL, with the demo company's staff (SH and JD)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from kernel import attachments, notes
from kernel.attachments import Attachment, TooLarge
from kernel.auth import PermissionDenied
from kernel.errors import NotFound, ValidationError
from kernel.models import Customer, CustomerEquipment
from kernel.notes import Note, NoteMention
from kernel.timeline import parse_cursor, timeline

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(300)
PDF = b"%PDF-1.7\n" + bytes(100)
WEBP = b"RIFF\x00\x01\x00\x00WEBPVP8 " + bytes(100)


@pytest.fixture
def app(make_site, app_of):
    return app_of(make_site([], demo=True, company="华东办公设备服务有限公司",
                            branch_code="SH", branch_name="上海服务中心"))


def _id(app, cls, **where) -> int:
    with app.sessions() as session:
        return session.scalar(select(cls.id).filter_by(**where))


def _count(app, cls) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(cls))


# --------------------------------------------------------------------------
# notes and mentions
# --------------------------------------------------------------------------


def test_a_note_mentions_a_colleague_until_he_opens_the_record(app):
    shenda = _id(app, Customer, code="C0001")
    zhou = _id(app, Customer, code="C0002")
    with app.context("wufang") as ctx:
        note = notes.add_note(ctx, "customer", shenda,
                              "@wanggong 请带硒鼓\r\n@nobody 不存在, @wufang 自己, kf@zhengli.cn")
        assert note.mentioned == ["wanggong"]  # unknown, oneself and an e-mail: no mention
        assert note.body == "@wanggong 请带硒鼓\n@nobody 不存在, @wufang 自己, kf@zhengli.cn"
        assert note.branch_id == ctx.branch.id and note.author == "wufang"
        # glued to the text that follows: the longest user name that starts the word
        glued = notes.add_note(ctx, "customer", zhou, "@wanggong请带硒鼓，@zhengli。")
        assert glued.mentioned == ["wanggong", "zhengli"]
    with app.context("wanggong") as ctx:
        found = notes.mentions_for(ctx)
        assert [m.note.record_id for m in found] == [zhou, shenda]  # newest first
        assert notes.unseen_count(ctx) == 2
        assert notes.mark_seen(ctx, "customer", shenda) == 1  # only that record's
        assert notes.mark_seen(ctx, "customer", shenda) == 0
    with app.context("wanggong") as ctx:
        assert [m.note.record_id for m in notes.mentions_for(ctx)] == [zhou]
        assert len(notes.mentions_for(ctx, unseen_only=False)) == 2
        assert notes.unseen_count(ctx) == 1
    with app.context("zhengli") as ctx:
        assert [m.note.record_id for m in notes.mentions_for(ctx)] == [zhou]
        assert [n.body[:9] for n in notes.notes_of(ctx, "customer", shenda)] == ["@wanggong"]


@pytest.mark.parametrize("body, message", [
    ("", "write something first"),
    ("   \n\t ", "write something first"),
    ("x" * (notes.MAX_NOTE_LENGTH + 1), "at most 4000 characters"),
    ("响铃\x07", "must not contain control characters"),
    ("\u202egnp.exe", "must not contain control characters"),
    (None, "must be text"),
])
def test_a_refused_note_names_its_body_and_writes_nothing(app, body, message):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx, pytest.raises(ValidationError) as refused:
        notes.add_note(ctx, "customer", shenda, body)
    assert (refused.value.field, refused.value.message) == ("body", message)
    assert _count(app, Note) == 0


def test_mentions_reach_only_colleagues_who_may_see_the_record(app):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx, pytest.raises(ValidationError) as blind:
        notes.add_note(ctx, "customer", shenda, "@hejuan 请看一下")  # JD front desk
    assert blind.value.field == "body" and "hejuan" in blind.value.message
    with app.context() as ctx:  # an inactive colleague is text, not a mention
        from kernel.auth import get_user

        get_user(ctx.session, "zhengli").active = False
    with app.context("wufang") as ctx:
        assert notes.add_note(ctx, "customer", shenda, "@zhengli 已离职").mentioned == []
        people = notes.mentionable_users(ctx, "customer", shenda, "")
        names = [u for u, _n in people]
        assert "wanggong" in names and "admin" in names
        assert not {"wufang", "zhengli", "hejuan", "zhaolei"} & set(names)
        assert notes.mentionable_users(ctx, "customer", shenda, "王") == [("wanggong", "王建国")]
    assert _count(app, NoteMention) == 0


def test_notes_of_another_branch_are_not_found(app):
    jiading = _id(app, Customer, code="C0003")
    with app.context("huangtao") as ctx:
        notes.add_note(ctx, "customer", jiading, "@zhaolei 明天去嘉定")
    for action in (lambda ctx: notes.add_note(ctx, "customer", jiading, "看不见"),
                   lambda ctx: notes.notes_of(ctx, "customer", jiading),
                   lambda ctx: notes.mentionable_users(ctx, "customer", jiading)):
        with app.context("wufang") as ctx, pytest.raises(NotFound):
            action(ctx)
    with app.context("wufang") as ctx, pytest.raises(NotFound):
        notes.add_note(ctx, "no_such_table", 1, "x")
    with app.context("zhaolei") as ctx:
        assert [m.note.body for m in notes.mentions_for(ctx)] == ["@zhaolei 明天去嘉定"]


def test_writing_notes_needs_the_permission(app):
    from kernel.auth import set_grant

    shenda = _id(app, Customer, code="C0001")
    with app.context() as ctx:
        set_grant(ctx, "front_desk", "note.create", False)
    with app.context("zhengli") as ctx, pytest.raises(PermissionDenied):
        notes.add_note(ctx, "customer", shenda, "前台不能写")
    with app.context("zhengli") as ctx:  # reading stays allowed
        assert notes.notes_of(ctx, "customer", shenda) == []


# --------------------------------------------------------------------------
# attachments
# --------------------------------------------------------------------------


def test_files_are_kept_once_in_the_site_folder_and_read_back(app):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx:
        first = attachments.add_attachment(ctx, "customer", shenda, "故障照片.png", PNG,
                                           "application/octet-stream")
        again = attachments.add_attachment(ctx, "customer", shenda, "again.png", PNG,
                                           "image/png")
        scan = attachments.add_attachment(ctx, "customer", shenda, "凭证.pdf", PDF,
                                          "application/pdf", kind="voucher_scan")
        photo = attachments.add_attachment(ctx, "customer", shenda, "x.jpg", JPEG, "")
        webp = attachments.add_attachment(ctx, "customer", shenda, "x.webp", WEBP, "")
        ids = first.id, scan.id
    digest = hashlib.sha256(PNG).hexdigest()
    stored = app.site.path / "files" / "attachments" / digest[:2] / digest
    assert stored.read_bytes() == PNG
    assert first.storage_name == again.storage_name == f"{digest[:2]}/{digest}"
    assert (first.content_type, first.size, first.sha256) == ("image/png", len(PNG), digest)
    assert (scan.content_type, photo.content_type, webp.content_type) == (
        "application/pdf", "image/jpeg", "image/webp")
    assert len(list((app.site.path / "files" / "attachments").rglob("*"))) == 4 + 4
    with app.context("wanggong") as ctx:
        row, data = attachments.read_attachment(ctx, ids[0])
        assert (row.filename, data) == ("故障照片.png", PNG)
        assert [a.id for a in attachments.attachments_of(ctx, "customer", shenda,
                                                         kind="voucher_scan")] == [ids[1]]
        assert len(attachments.attachments_of(ctx, "customer", shenda)) == 5
        assert attachments.attachments_of(ctx, "customer", shenda)[0].filename == "x.webp"


@pytest.mark.parametrize("data, field, message", [
    (b"<html><script>alert(1)</script></html>", "file",
     "only these types of file can be attached: PNG, JPEG, WEBP, PDF"),
    (b"GIF89a" + bytes(50), "file",
     "only these types of file can be attached: PNG, JPEG, WEBP, PDF"),
    (b"", "file", "the file is empty"),
])
def test_the_content_decides_the_type_not_the_name(app, data, field, message):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx, pytest.raises(ValidationError) as refused:
        attachments.add_attachment(ctx, "customer", shenda, "photo.png", data, "image/png")
    assert (refused.value.field, refused.value.message) == (field, message)
    assert _count(app, Attachment) == 0
    assert not (app.site.path / "files").exists()


def test_size_limit_and_allowed_types_are_site_settings(app):
    from kernel.settings import set_setting

    shenda = _id(app, Customer, code="C0001")
    big = b"%PDF-" + bytes(1024 * 1024)
    with app.context("wufang") as ctx:
        assert attachments.add_attachment(ctx, "customer", shenda, "big.pdf", big, "").size \
            == len(big)
    with app.context() as ctx:
        set_setting(ctx, "kernel.attachment_max_mb", "1")
        set_setting(ctx, "kernel.attachment_types", "png,jpeg")
        with pytest.raises(ValidationError):
            set_setting(ctx, "kernel.attachment_types", "png,exe")
        with pytest.raises(ValidationError):
            set_setting(ctx, "kernel.attachment_max_mb", "0")
    with app.context("wufang") as ctx, pytest.raises(TooLarge) as too_big:
        attachments.add_attachment(ctx, "customer", shenda, "big.pdf", big, "")
    assert too_big.value.status == 413 and too_big.value.field == "file"
    assert too_big.value.message == "the file is larger than 1 MB"
    with app.context("wufang") as ctx, pytest.raises(ValidationError) as pdf:
        attachments.add_attachment(ctx, "customer", shenda, "x.pdf", PDF, "")
    assert pdf.value.message == "only these types of file can be attached: PNG, JPEG"
    assert _count(app, Attachment) == 1


@pytest.mark.parametrize("name, kept", [
    ("../../etc/passwd.png", "passwd.png"),
    ("C:\\Users\\me\\照片 1.png", "照片 1.png"),
    ("\u202egnp.exe", "gnp.exe"),
    ("a<b>:c|d?.png", "a_b__c_d_.png"),
    ("...hidden.png", "hidden.png"),
    ("\x00\x01", "file.png"),
    ("", "file.png"),
    ("长" * 300 + ".png", "长" * 196 + ".png"),
])
def test_file_names_are_cleaned(app, name, kept):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx:
        assert attachments.add_attachment(ctx, "customer", shenda, name, PNG, "").filename \
            == kept


def test_a_wrong_kind_is_refused(app):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx, pytest.raises(ValidationError) as refused:
        attachments.add_attachment(ctx, "customer", shenda, "x.png", PNG, "", kind="Bad Kind")
    assert refused.value.field == "kind"


def test_a_jd_user_cannot_read_an_sh_records_attachment(app):
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx:
        attachment_id = attachments.add_attachment(ctx, "customer", shenda, "x.png", PNG,
                                                   "").id
    for user in ("hejuan", "huangtao", "zhaolei"):
        with app.context(user) as ctx:
            with pytest.raises(NotFound):
                attachments.read_attachment(ctx, attachment_id)
            with pytest.raises(NotFound):
                attachments.attachments_of(ctx, "customer", shenda)
            with pytest.raises(NotFound):
                attachments.add_attachment(ctx, "customer", shenda, "y.png", PNG, "")
    with app.context("hejuan") as ctx, pytest.raises(NotFound):
        attachments.read_attachment(ctx, attachment_id + 1000)  # no such: the same answer
    with app.context("admin") as ctx:
        assert attachments.read_attachment(ctx, attachment_id)[1] == PNG
    assert _count(app, Attachment) == 1


def test_a_thumbnail_is_made_once_for_images_only(app):
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (1600, 1200), "red").save(picture, "JPEG")
    shenda = _id(app, Customer, code="C0001")
    with app.context("wufang") as ctx:
        photo = attachments.add_attachment(ctx, "customer", shenda, "p.jpg",
                                           picture.getvalue(), "")
        pdf = attachments.add_attachment(ctx, "customer", shenda, "p.pdf", PDF, "")
        broken = attachments.add_attachment(ctx, "customer", shenda, "b.png", PNG, "")
        _row, small, mime = attachments.read_thumbnail(ctx, photo.id)
        assert mime == "image/jpeg"
        assert Image.open(io.BytesIO(small)).size == (320, 240)
        assert attachments.read_thumbnail(ctx, pdf.id) is None
        assert attachments.read_thumbnail(ctx, broken.id) is None  # not a real picture
        assert attachments.read_thumbnail(ctx, photo.id)[1] == small
    assert len(list((app.site.path / "files" / "thumbnails").rglob("*.jpg"))) == 1


# --------------------------------------------------------------------------
# the timeline
# --------------------------------------------------------------------------


def test_the_timeline_merges_changes_prints_notes_and_files_newest_first(app):
    from kernel.documents.registry import get_document, log_print

    machine_id = _id(app, CustomerEquipment, serial_no="E335M820091")
    with app.context("wufang") as ctx:
        machine = ctx.session.get(CustomerEquipment, machine_id)
        machine.note = "放在三楼"
        ctx.session.flush()
        log_print(ctx, get_document(ctx.app, "kernel.equipment_record"), machine)
        log_print(ctx, get_document(ctx.app, "kernel.equipment_record"), machine)
        notes.add_note(ctx, "customer_equipment", machine_id, "@wanggong 请带硒鼓")
        attachments.add_attachment(ctx, "customer_equipment", machine_id, "铭牌.png", PNG, "")
    with app.context("wufang") as ctx:  # a supervisor reads the audit trail
        machine = ctx.session.get(CustomerEquipment, machine_id)
        page = timeline(ctx, "customer_equipment", machine)
        assert [e.kind for e in page.events] == ["attachment", "note", "print", "print",
                                                 "change", "change"]
        assert page.older is None
        attached, note, reprint, printed, changed, created = page.events
        assert attached.title == "Attached: 铭牌.png" and attached.data["image"] is True
        assert note.text == "@wanggong 请带硒鼓" and note.data["mentions"] == ["wanggong"]
        assert reprint.title == "Printed: Equipment record" and reprint.text == "copy 2"
        assert printed.text is None and printed.actor == "wufang"
        assert changed.changes == (("Note", "", "放在三楼"),)
        assert created.title == "Record created" and ("Customer", "", "C0001 申达物流有限公司") \
            in created.changes
        # pages: the newest two, then the rest, older than the cursor
        first = timeline(ctx, "customer_equipment", machine, limit=2)
        assert [e.kind for e in first.events] == ["attachment", "note"]
        rest = timeline(ctx, "customer_equipment", machine, limit=10,
                        before=parse_cursor(first.older.isoformat()))
        assert [e.kind for e in rest.events] == ["print", "print", "change", "change"]
    with app.context("zhengli") as ctx:  # the front desk does not read the audit trail
        machine = ctx.session.get(CustomerEquipment, machine_id)
        assert [e.kind for e in timeline(ctx, "customer_equipment", machine).events] == [
            "attachment", "note", "print", "print"]
    with pytest.raises(ValidationError) as naive:
        parse_cursor("2026-12-01T08:00:00")
    assert naive.value.field == "before"
