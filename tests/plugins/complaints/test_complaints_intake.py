"""Every way a complaint comes in besides the generic create: the public form ``/complain``
(real HTTP through the ASGI app), e-mail (the service, ``POST /api/complaints/mail`` and
``fixdesk complaints mail-in``), and the ``fixdesk complaints`` commands; on a site with
complaints alone, SQLite and PostgreSQL."""

from __future__ import annotations

import io
import sys

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel.auth import add_user
from kernel.jobs import Job
from kernel.masterdata import get_branch
from kernel.models import Customer
from kernel.settings import set_setting
from kernel.web.app import create_app
from plugins.complaints.intake import register_message
from plugins.complaints.models import Complaint

FORM = {"topic": "complaint", "name": "刘女士", "company": "华信科技有限公司",
        "phone": "139 1234 5678", "email": "liu@huaxin.example.com",
        "category": "human_factors", "serial": "NO-SUCH-SERIAL",
        "message": "工程师上门迟到两个小时，也没有提前打电话。"}


def _count(app, **where) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Complaint).filter_by(**where))


def _acknowledgements(app) -> list[dict]:
    with app.sessions() as session:
        return [job.payload for job in session.scalars(select(Job).where(
            Job.name == "kernel.notify").order_by(Job.id))
            if job.payload["template"] == "complaints_received"]


@pytest.fixture
def web(complaints_app):
    """The site's web app (real HTTP through ASGI) and the app it serves."""
    with TestClient(create_app(complaints_app.site), raise_server_exceptions=False) as client:
        client.fixdesk = client.app.state.fixdesk
        yield client


# ---------------------------------------------------------------------------
# the public form
# ---------------------------------------------------------------------------


def test_the_public_form_registers_acknowledges_and_stops_floods(web):
    app = web.fixdesk
    with app.context() as ctx:
        set_setting(ctx, "complaints.public_hourly_per_address", 2)
    page = web.get("/complain?lang=zh_CN")
    assert page.status_code == 200 and 'name="message"' in page.text and "投诉" in page.text
    done = web.post("/complain?lang=en", data=FORM)
    assert done.status_code == 200, done.text
    with app.sessions() as session:
        complaint = session.scalar(select(Complaint))
        assert complaint.number in done.text and "Thank you" in done.text
        assert (str(complaint.channel), complaint.source_address, complaint.contact_name,
                complaint.branch.code, str(complaint.category)) == \
            ("web", "testclient", "刘女士", "SH", "human_factors")
        assert "NO-SUCH-SERIAL" in complaint.description  # no such machine: kept as text
    [ack] = _acknowledgements(app)
    assert (ack["to"], ack["context"]["number"]) == ("liu@huaxin.example.com",
                                                    complaint.number)
    # a machine we know is linked instead
    with app.sessions() as session:
        serial = session.scalar(select(Customer).where(Customer.code == "C0001")
                                ).equipment[0].serial_no
    second = web.post("/complain", data={**FORM, "email": "", "serial": serial})
    assert second.status_code == 200
    with app.sessions() as session:
        linked = session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
        assert linked.about.entity == "customer_equipment" and serial not in \
            linked.description
    assert len(_acknowledgements(app)) == 1  # no e-mail address, nobody to tell
    flood = web.post("/complain?lang=en", data=FORM)
    assert flood.status_code == 429 and "within the last hour" in flood.text
    assert _count(app) == 2


def test_the_public_form_refuses_bad_input_robots_big_bodies_and_can_be_off(web):
    app = web.fixdesk
    bad = web.post("/complain?lang=en", data={**FORM, "name": "", "email": "not-an-address",
                                              "topic": "spam"})
    assert bad.status_code == 422
    assert 'id="e-name"' in bad.text and 'id="e-email"' in bad.text
    assert "is not an e-mail address" in bad.text and FORM["message"] in bad.text  # kept
    for field, value in (("message", "你好\x00世界"), ("name", "刘\u202e女士"),
                         ("company", "a\x1bb"), ("message", "x" * 4001)):
        refused = web.post("/complain?lang=en", data={**FORM, field: value})
        assert refused.status_code == 422 and f'id="e-{field}"' in refused.text, field
    unreachable = web.post("/complain?lang=en", data={**FORM, "phone": "", "email": ""})
    assert unreachable.status_code == 422 and "phone number or an e-mail" in unreachable.text
    robot = web.post("/complain?lang=en", data={**FORM, "website": "http://spam.example"})
    assert robot.status_code == 200 and "Thank you" in robot.text
    huge = web.post("/complain", data={**FORM, "message": "字" * 30000})
    assert huge.status_code == 413
    assert _count(app) == 0 and _acknowledgements(app) == []
    with app.context() as ctx:
        set_setting(ctx, "complaints.public_form", False)
    assert web.get("/complain").status_code == 404
    assert web.post("/complain", data=FORM).status_code == 404
    assert _count(app) == 0


# ---------------------------------------------------------------------------
# e-mail
# ---------------------------------------------------------------------------

GB_MESSAGE = (
    b"From: =?gb2312?B?x67Wx8Tc?= <qian@shenda.example.com>\r\n"
    b"To: service@fixdesk.example.com\r\n"
    b"Subject: =?gb2312?B?uLTTobv6ucrVz9fcsrvE3NDe?=\r\n"
    b"Message-ID: <20261130.1234@shenda.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=gb2312\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    + "复印机第三次卡纸，工程师说修好了但是第二天又坏。\r\n".encode("gb2312"))

HTML_MESSAGE = (
    "From: Zhou Zhihua <zhou@example.com>\r\n"
    "Subject: =?utf-8?B?" + __import__("base64").b64encode("表扬王工".encode()).decode()
    + "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head><style>p{color:red}</style></head><body><p>王工&nbsp;服务很好</p>"
    "<p>谢谢！</p></body></html>\r\n").encode()


def test_mail_registers_once_by_message_id_and_matches_the_customer(web):
    app = web.fixdesk
    with app.context() as ctx:
        customer = ctx.session.scalar(select(Customer).where(Customer.code == "C0001"))
        customer.contacts[0].email = "Qian@Shenda.example.com"
        add_user(ctx, "mailgate", "邮件网关", None, get_branch(ctx, "SH"),
                 roles=["front_desk"], company_wide=True)
        headers = bearer_headers(ctx, "mailgate", "wanggong")
        first, created = register_message(ctx, GB_MESSAGE)
        again, created_again = register_message(ctx, GB_MESSAGE)
        assert (created, created_again, again.id) == (True, False, first.id)
        assert first.description.startswith("复印机故障总不能修\n\n复印机第三次卡纸")
        assert (first.customer_id, first.contact_name, str(first.channel),
                first.origin_key, first.email) == \
            (customer.id, "钱智能", "email", "mail:20261130.1234@shenda.example.com",
             "qian@shenda.example.com")
        number = first.number
    assert [a["to"] for a in _acknowledgements(app)] == ["qian@shenda.example.com"]
    # through the API, by the mail gateway's token: a new message 201, the same one 200
    post = {"headers": {**headers["mailgate"], "Content-Type": "message/rfc822"}}
    made = web.post("/api/complaints/mail", content=HTML_MESSAGE, **post)
    assert made.status_code == 201, made.text
    repeated = web.post("/api/complaints/mail", content=HTML_MESSAGE, **post)
    assert (repeated.status_code, repeated.json()["number"]) == (200, made.json()["number"])
    assert web.post("/api/complaints/mail", content=GB_MESSAGE, **post).json()["number"] \
        == number
    with app.sessions() as session:
        praise = session.scalar(select(Complaint).where(
            Complaint.number == made.json()["number"]))
        assert praise.description == "表扬王工\n\n王工 服务很好\n\n谢谢！"
        assert praise.customer_id is None and praise.branch.code == "SH"
    engineer = {"headers": {**headers["wanggong"], "Content-Type": "message/rfc822"}}
    assert web.post("/api/complaints/mail", content=GB_MESSAGE, **engineer
                    ).status_code == 403
    empty = web.post("/api/complaints/mail", content=b"\r\n", **post)
    assert empty.status_code == 422 and empty.json()["error"]["fields"] == {
        "message": "the message is empty"}
    assert _count(app) == 2


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_mail_in_from_the_command_line(complaints_app, fixdesk, monkeypatch):
    site = complaints_app.site.path
    _stdin(monkeypatch, GB_MESSAGE)
    done = fixdesk("--site", site, "complaints", "mail-in")
    assert done.code == 0, done
    number = done.out.strip()
    assert number.startswith("CP-SH-")
    _stdin(monkeypatch, GB_MESSAGE)
    assert fixdesk("--site", site, "complaints", "mail-in").out.strip() == number
    for garbage in (b"", b"\x00\xff garbage without headers\n",
                    b"From: MAILER-DAEMON@example.com\r\nAuto-Submitted: auto-replied\r\n"
                    b"Subject: Undelivered\r\n\r\nbounce\r\n"):
        _stdin(monkeypatch, garbage)
        refused = fixdesk("--site", site, "complaints", "mail-in")
        assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, refused
        assert "Traceback" not in refused.err
    assert _count(complaints_app) == 1


# ---------------------------------------------------------------------------
# fixdesk complaints register / list / show / step / escalate
# ---------------------------------------------------------------------------


def test_register_list_show_and_step_from_the_command_line(complaints_app, fixdesk):
    from kernel.models import Employee
    from plugins.complaints.models import Department

    site = complaints_app.site.path
    with complaints_app.context() as ctx:
        head = ctx.session.scalars(select(Employee).order_by(Employee.id)).first()
        ctx.session.add(Department(company_id=head.company_id, code="SVC", name="售后服务部",
                                   head_id=head.id))
    made = fixdesk("--site", site, "complaints", "register", "--customer", "C0001",
                   "--topic", "complaint", "--category", "human_factors", "--severity",
                   "ordinary", "--contact", "钱经理", "--description", "工程师态度粗鲁")
    assert made.code == 0, made
    number = made.out.strip()
    assert number.startswith("CP-SH-")
    listed = fixdesk("--site", site, "complaints", "list", "--branch", "SH")
    assert listed.code == 0 and number in listed.out and "申达物流有限公司" in listed.out
    step = fixdesk("--site", site, "complaints", "step", number, "investigate",
                   "--user", "wufang")
    assert (step.code, step.out.strip()) == (0, f"{number}\tinvestigating")
    determined = fixdesk("--site", site, "complaints", "step", number, "determine",
                         "-p", "cause=态度问题", "-p", "our_fault=true",
                         "-p", "department=SVC")
    assert determined.code == 0, determined
    shown = fixdesk("--site", site, "complaints", "show", number)
    assert shown.code == 0 and "态度问题" in shown.out and "determined" in shown.out
    assert "SVC 售后服务部" in shown.out
    assert fixdesk("--site", site, "complaints", "escalate").out.strip() == "0"
    # bad input: one line, exit 2, nothing written
    for args in (("step", number, "determine", "-p", "our_fault=true", "-p", "cause="),
                 ("step", number, "close"), ("step", "CP-XX-0", "close"),
                 ("step", number, "investigate", "-p", "nonsense"),
                 ("register", "--description", "x", "--customer", "C9999"),
                 ("register", "--branch", "SH", "--description", "没有联系方式"),
                 ("register", "--customer", "C0001", "--severity", "huge",
                  "--description", "x")):
        refused = fixdesk("--site", site, "complaints", *args)
        assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, (args,
                                                                                 refused)
    assert _count(complaints_app) == 1
    assert _count(complaints_app, status="determined") == 1
