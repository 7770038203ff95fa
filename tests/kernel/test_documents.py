"""Printing: registered documents, loader chain, sandbox, Chinese PDFs, fetcher, batches.

PDFs are checked with poppler's ``pdftotext`` and ``pdffonts`` (installed by ``make``).
"""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest
from pdf_tools import pdffonts, pdftotext, scanned_codes
from sqlalchemy import func, select

from kernel.documents import filters, pdf
from kernel.documents.registry import PrintLog
from kernel.documents.service import print_records
from kernel.errors import NotFound
from kernel.models import CustomerEquipment

DOC = "kernel.equipment_record"




@pytest.fixture
def site(make_site):
    return make_site([], demo=True, branch_code="SH", branch_name="上海服务中心")


@pytest.fixture
def app(site, app_of):
    return app_of(site)


def _equipment_id(app, serial: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(CustomerEquipment.id).where(
            CustomerEquipment.serial_no == serial))


@pytest.mark.parametrize("amount, words", [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("557.00", "伍佰伍拾柒元整"),
    ("123.45", "壹佰贰拾叁元肆角伍分"),
    ("1001.50", "壹仟零壹元伍角"),
    ("10010", "壹万零壹拾元整"),
    ("100000.05", "壹拾万元零伍分"),
    ("105000.30", "壹拾万伍仟元叁角"),
    ("20.07", "贰拾元零柒分"),
    ("100000001", "壹亿零壹元整"),
    ("-3.20", "负叁元贰角"),
])
def test_amounts_in_chinese_capital_numerals(amount, words):
    assert filters.capital(amount) == words


def test_money_has_symbol_and_two_decimals():
    assert filters.money("557", "CNY", "zh_CN") == "¥557.00"
    assert filters.money(Decimal("1234.5"), "CNY", "zh_CN") == "¥1,234.50"


def test_qr_and_barcode_are_inline_png_images():
    import base64

    for image in (filters.qr("https://fixdesk.example/s/abc"), filters.barcode("WO-SH-1")):
        assert image.startswith("data:image/png;base64,")
        assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG")


@pytest.mark.parametrize("data", [
    "E335M820091", "https://fixdesk.example.com/survey/1234-20261231.c2lnbmVkLXRva2Vu",
    "维修单 WO-SH-2026-000123：复印机卡纸", "x" * 300])
def test_a_qr_code_drawn_with_its_fixed_mask_scans_back(data):
    import base64

    image = base64.b64decode(filters.qr(data).split(",", 1)[1])
    assert scanned_codes(image) == [f"QR-Code:{data}"]


def test_equipment_record_in_chinese_embeds_a_cjk_font_with_bold(app, tmp_path):
    equipment_id = _equipment_id(app, "E335M820091")
    with app.context() as ctx:
        data = print_records(ctx, DOC, [equipment_id], locale="zh_CN")
    text = pdftotext(data)
    assert "申达物流有限公司" in text and "E335M820091" in text
    assert "设备档案" in text and "上海服务中心" in text
    assert "第 1 页，共 1 页" in text
    fonts = pdffonts(data)
    assert "Fixdesk-Print-Sans-Bold" in fonts and "Fixdesk-Print-Sans " in fonts + " "
    assert "Noto" not in fonts  # every character is in the compact faces
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    # the printed QR code and barcode scan
    assert scanned_codes(data) == ["CODE-128:E335M820091", "QR-Code:E335M820091"]


def test_english_paper(app, tmp_path):
    with app.context() as ctx:
        data = print_records(ctx, DOC, [_equipment_id(app, "QXY20614")], locale="en")
    text = pdftotext(data)
    assert "Equipment record" in text and "周志华" in text and "page 1 of 1" in text


def test_every_print_is_logged_and_reprints_say_copy(app, tmp_path):
    equipment_id = _equipment_id(app, "QXY20614")
    with app.context() as ctx:
        first = print_records(ctx, DOC, [equipment_id], locale="zh_CN")
    with app.context() as ctx:
        second = print_records(ctx, DOC, [equipment_id], locale="zh_CN")
    assert "副本" not in pdftotext(first)
    assert "副本 2" in pdftotext(second)
    with app.sessions() as session:
        rows = session.scalars(select(PrintLog).order_by(PrintLog.id)).all()
    assert [(r.document, r.record_id, r.copy_number) for r in rows] == [
        (DOC, str(equipment_id), 1), (DOC, str(equipment_id), 2)]


def test_another_branchs_record_answers_not_found(app):
    from kernel.auth import add_user
    from kernel.masterdata import get_branch

    with app.context() as ctx:
        add_user(ctx, "lily", "郑丽", "front-desk-1", get_branch(ctx, "SH"),
                 roles=["front_desk"])
    jd_machine = _equipment_id(app, "LV93X10235")  # the JD dealer's copier
    with pytest.raises(NotFound), app.context(user="lily") as ctx:
        print_records(ctx, DOC, [jd_machine])
    with app.context(user="lily") as ctx:
        assert print_records(ctx, DOC, [_equipment_id(app, "QXY20614")]).startswith(b"%PDF")


def test_batch_prints_each_record_on_new_pages_in_order(app, tmp_path):
    serials = ["QXY20614", "E335M820091", "LV93X10235"]
    ids = [_equipment_id(app, s) for s in serials]
    with app.context() as ctx:
        data = print_records(ctx, DOC, ids, locale="zh_CN")
    pages = pdftotext(data).split("\f")
    assert [next(s for s in serials if s in page) for page in pages if page.strip()] == serials


def test_big_batches_use_worker_processes_and_keep_the_order(app, tmp_path):
    with app.sessions() as session:
        rows = session.execute(select(CustomerEquipment.id, CustomerEquipment.serial_no)
                               .order_by(CustomerEquipment.id.desc()).limit(30)).all()
    with app.context() as ctx:
        data = print_records(ctx, DOC, [r.id for r in rows], locale="en", workers=2)
    pages = [p for p in pdftotext(data).split("\f") if p.strip()]
    assert len(pages) == 30
    assert [next(r.serial_no for r in rows if r.serial_no in p) for p in pages] == [
        r.serial_no for r in rows]


def _override(site, body: str) -> None:
    folder = site.path / "templates" / "print"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "equipment_record.html").write_text(
        '{% extends "print/base.html" %}{% block content %}' + body + "{% endblock %}")


def test_a_site_template_overrides_the_default(site, app, tmp_path, fixdesk):
    _override(site, "<p>本站自定义：{{ equipment.serial_no }} {{ 557|capital }}</p>")
    with app.context() as ctx:
        text = pdftotext(print_records(ctx, DOC, [_equipment_id(app, "QXY20614")]))
    assert "本站自定义：QXY20614 伍佰伍拾柒元整" in text
    listing = fixdesk("--site", site.path, "templates", "list").out.splitlines()
    assert listing[1].split("\t")[:3] == [DOC, "print/equipment_record.html", "site"]


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # template-only


@SQLITE_ONLY
@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ equipment.__class__.__init__.__globals__ }}",
    "{{ equipment.customer.__dict__ }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ request.application.__globals__ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ equipment.__class__.metadata.bind }}",
    "{{ ''|attr('__class__') }}",
])
def test_template_injection_fails_loudly_and_prints_nothing(site, app, payload):
    _override(site, payload)
    equipment_id = _equipment_id(app, "QXY20614")
    with pytest.raises(pdf.PrintError), app.context() as ctx:
        print_records(ctx, DOC, [equipment_id])
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PrintLog)) == 0


@SQLITE_ONLY
@pytest.mark.parametrize("payload", [
    "{{ user.password_hash }}",
    "{{ user['password_hash'] }}",
    "{{ user|attr('password_hash') }}",
    "{{ user.failed_logins }}",
    "{{ user.role_rows }}",
    "{% for row in user.branch_rows %}{{ row }}{% endfor %}",
    "{{ user.home_branch.company.branches[0].id }}{{ user.password_hash }}",
])
def test_papers_print_no_secret_of_a_user(site, app, payload):
    """An admin's template may print who the user is, never how they log in."""
    _override(site, payload)
    equipment_id = _equipment_id(app, "QXY20614")
    with pytest.raises(pdf.PrintError, match="unsafe"), app.context(user="admin") as ctx:
        print_records(ctx, DOC, [equipment_id])
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PrintLog)) == 0


@SQLITE_ONLY
def test_papers_print_who_the_user_is(site, app):
    _override(site, "<p>经办：{{ user.full_name }}（{{ user.username }}，"
                    "{{ user.home_branch.name }}）</p>")
    with app.context(user="admin") as ctx:
        text = pdftotext(print_records(ctx, DOC, [_equipment_id(app, "QXY20614")]))
    assert "经办：" in text and "admin" in text and "上海服务中心" in text


@SQLITE_ONLY
@pytest.mark.parametrize("payload", [
    "{{ token.token_hash }}",
    "{{ token.user.password_hash }}",
    "{{ token.user }}{{ owner.password_hash }}",
    "{{ owner.locked_until }}",
])
def test_no_path_through_records_reaches_a_secret(app, payload):
    """A record related to a user (an API token here) gives away neither its own secret
    nor its user's."""
    from kernel.auth import ApiToken, User, create_token
    from kernel.documents.service import render_paper

    with app.context(user="admin") as ctx:
        create_token(ctx, ctx.user, "printer")
    with app.context(user="admin") as ctx:
        token = ctx.session.scalars(select(ApiToken)).first()
        owner = ctx.session.get(User, token.user_id)
        with pytest.raises(pdf.PrintError, match="unsafe"):
            render_paper(ctx, "print/base.html", {"token": token, "owner": owner},
                         locale="en", paper="A4", orientation="portrait", source=payload)


@SQLITE_ONLY
@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "../site.toml",
    "fixdesk.sqlite3",
    "http://127.0.0.1:1/x.png",
    "https://example.com/logo.png",
])
def test_templates_may_only_load_the_sites_own_assets(site, app, url):
    _override(site, f'<img src="{url}">')
    with pytest.raises(pdf.PrintError, match="only load files from the site's assets"), \
            app.context() as ctx:
        print_records(ctx, DOC, [_equipment_id(app, "QXY20614")])


def test_the_sites_logo_is_printed(site, app, tmp_path):
    import base64

    png = base64.b64decode(  # a 1x1 PNG
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    (site.path / "assets").mkdir()
    (site.path / "assets" / "logo.png").write_bytes(png)
    with app.context() as ctx:
        data = print_records(ctx, DOC, [_equipment_id(app, "QXY20614")])
    (tmp_path / "logo.pdf").write_bytes(data)
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "logo.pdf")],
                            capture_output=True, text=True, check=True).stdout
    assert len(images.splitlines()) >= 3  # header, rule, the logo


def _char_without_font() -> str:
    for char in ("\U00013000", "\U0010fffd", "\ue000"):
        found = subprocess.run(["fc-list", f":charset={ord(char):x}"], capture_output=True,
                               text=True).stdout
        if not found.strip():
            return char
    pytest.skip("every candidate character has a font on this machine")


def test_a_character_no_font_has_fails_the_print(app):
    char = _char_without_font()
    with app.context() as ctx:
        ctx.session.get(CustomerEquipment, _equipment_id(app, "QXY20614")).note = f"符号{char}"
    with pytest.raises(pdf.PrintError, match=f"U\\+{ord(char):04X}"), app.context() as ctx:
        print_records(ctx, DOC, [_equipment_id(app, "QXY20614")])


def test_fonts_and_stylesheets_are_built_once_per_process():
    assert pdf.font_config() is pdf.font_config()
    path = pdf.kernel_stylesheet_path()
    assert pdf.stylesheet(path) is pdf.stylesheet(path)
    assert pdf.page_stylesheet("148mm", "210mm", "x") is pdf.page_stylesheet("148mm", "210mm",
                                                                               "x")


def test_print_cli(site, app, fixdesk, tmp_path):
    listing = fixdesk("--site", site.path, "print", "--list").out.splitlines()
    assert listing[1].split("\t") == [DOC, "Equipment record", "customer_equipment", "A5"]
    out = tmp_path / "one.pdf"
    single = fixdesk("--site", site.path, "print", DOC, _equipment_id(app, "QXY20614"),
                     "-o", out)
    assert single.code == 0 and out.read_bytes().startswith(b"%PDF")
    jd = fixdesk("--site", site.path, "print", DOC, "--where", "branch_id=2", "-o",
                 tmp_path / "jd.pdf", "--lang", "en")
    assert jd.code == 0 and "record(s) printed" in jd.out
    text = pdftotext((tmp_path / "jd.pdf").read_bytes())
    assert "LV93X10235" in text and "E335M820091" not in text
    ids = fixdesk("--site", site.path, "print", DOC, "--ids", "1,2", "-o", tmp_path / "b.pdf")
    assert ids.code == 0 and ids.out.startswith("2 record(s)")
    for args, message in [
        (["print", "nope", "1"], "no document 'nope'"),
        (["print", DOC, "99999"], "no Customer equipment 99999"),
        (["print", DOC, "--ids", "1,x"], "ids must be numbers"),
        (["print", DOC, "--where", "colour=red"], "--where needs FIELD=VALUE"),
        (["print", DOC], "nothing to print"),
        (["print"], "name a document"),
    ]:
        result = fixdesk("--site", site.path, *args)
        assert result.code == 2 and message in result.err, (args, result)


def test_templates_copy_puts_the_default_in_the_site(site, fixdesk):
    copied = fixdesk("--site", site.path, "templates", "copy", DOC)
    assert copied.code == 0
    target = site.path / "templates" / "print" / "equipment_record.html"
    from kernel.paths import template_dirs

    default = template_dirs()[0] / "print" / "equipment_record.html"
    assert target.read_text() == default.read_text()
    again = fixdesk("--site", site.path, "templates", "copy", DOC)
    assert again.code == 2 and "exists already" in again.err


@SQLITE_ONLY
def test_print_cli_refuses_an_output_it_cannot_write_before_printing(site, app, fixdesk,
                                                                      tmp_path):
    """Issue #15: ``-o /missing/dir/x.pdf`` printed a traceback after laying the papers out
    (and logging the prints); now the file is checked first and nothing is logged."""
    equipment = _equipment_id(app, "QXY20614")
    for output, message in [
        (tmp_path / "missing" / "dir" / "x.pdf", "does not exist"),
        (tmp_path, "is a directory"),
        ("/proc/fixdesk-x.pdf", "Could not open file"),
    ]:
        result = fixdesk("--site", site.path, "print", DOC, equipment, "-o", output)
        assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, \
            (output, result)
    for args in (["99999999999999999999"], ["--ids", f"{equipment},99999999999999999999"],
                 ["--where", "id=99999999999999999999"]):
        result = fixdesk("--site", site.path, "print", DOC, *args)
        assert result.code == 2 and result.err.count("\n") == 1, (args, result)
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PrintLog)) == 0
    assert not list(tmp_path.glob(".fixdesk-*"))  # no half-written file left behind


#: blocked URLs where WeasyPrint fetches them: while laying out, while writing the PDF
#: (attachments), inside SVG (where it only logs failures) and malformed ones
BLOCKED = [
    ('<img src="file:///etc/passwd">', "file:///etc/passwd"),
    ('<a rel="attachment" href="file:///etc/passwd">x</a>', "file:///etc/passwd"),
    ('<link rel="attachment" href="http://127.0.0.1:1/x">', "http://127.0.0.1:1/x"),
    ('<svg width="9" height="9"><image width="9" height="9" href="file:///etc/hosts"/></svg>',
     "file:///etc/hosts"),
    ('<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22>'
     '<image href=%22http://example.com/a.png%22/></svg>">', "http://example.com/a.png"),
    ('<div style="background: url(ftp://example.com/a.png)">x</div>', "ftp://example.com"),
    ('<img src="file:///a%00b.png">', "file:///a%00b.png"),
]


@SQLITE_ONLY
@pytest.mark.parametrize("body, url", BLOCKED)
def test_a_blocked_url_anywhere_in_a_template_fails_the_print_clearly(site, app, body, url):
    _override(site, body)
    with pytest.raises(pdf.PrintError, match="only load files from the site's assets") as info, \
            app.context() as ctx:
        print_records(ctx, DOC, [_equipment_id(app, "QXY20614")])
    assert url in info.value.message


@SQLITE_ONLY
def test_a_blocked_url_is_one_line_in_the_cli_and_a_4xx_in_the_api(site, app, fixdesk,
                                                                    tmp_path):
    from api_answers import error_of
    from api_tokens import bearer_headers
    from fastapi.testclient import TestClient

    from kernel.web.app import create_app

    equipment = _equipment_id(app, "QXY20614")
    for body, url in BLOCKED[:2]:  # one laid out, one fetched while writing
        _override(site, body)
        result = fixdesk("--site", site.path, "print", DOC, equipment, "-o", tmp_path / "x.pdf")
        assert result.code == 2 and result.err.count("\n") == 1, result
        assert "not allowed" in result.err or "assets folder" in result.err
        assert url in result.err and not (tmp_path / "x.pdf").exists()
    web = create_app(site)
    with web.state.fixdesk.context() as ctx:
        headers = bearer_headers(ctx, "admin")["admin"]
    with TestClient(web, raise_server_exceptions=False) as client:
        for body, url in BLOCKED[:2]:
            _override(site, body)
            one = client.get(f"/api/v1/customer_equipment/{equipment}/print/{DOC}",
                             headers=headers)
            batch = client.post(f"/api/v1/print/{DOC}", headers=headers,
                                json={"ids": [equipment]})
            for answer in (one, batch):
                assert answer.status_code == 422, answer.text
                error = error_of(answer)
                assert error["code"] == "print_error" and url in error["message"]
    with app.sessions() as session:  # nothing came out: no print is logged
        assert session.scalar(select(func.count()).select_from(PrintLog)) == 0
