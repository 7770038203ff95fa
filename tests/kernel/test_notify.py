"""Notifications: templates in the sandbox, real SMTP delivery (aiosmtpd), channel routing."""

from __future__ import annotations

import email
import socket
from email import policy

import pluggy
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from jinja2.exceptions import SecurityError

from kernel.errors import FixdeskError, ValidationError
from kernel.i18n import translations
from kernel.notify import (
    Message,
    NotificationError,
    SmtpSettings,
    deliver,
    render_message,
    send_email,
)

# AUTH without TLS is the point of the auth server (aiosmtpd warns on every connection)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "desk@example.com", "s3cret"
#: smtplib alone cannot log in with these (it encodes credentials as ASCII)
USER_ZH, PASSWORD_ZH = "维修部@example.com", "口令-s3cret"
ACCOUNTS = {USER.encode(): PASSWORD.encode(), USER_ZH.encode(): PASSWORD_ZH.encode()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """aiosmtpd handler: keeps every accepted message, refuses @refused.example."""

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1) -> email.message.EmailMessage:
        return email.message_from_bytes(self.envelopes[index].content, policy=policy.default)


def check_login(server, session, envelope, mechanism, auth_data):
    ok = ACCOUNTS.get(auth_data.login) == auth_data.password
    return AuthResult(success=ok, handled=False)


def _start(**smtp_options):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_options)
    controller.start()
    return controller, handler


@pytest.fixture
def smtp_server():
    controller, handler = _start()
    yield SmtpSettings(host="127.0.0.1", port=controller.port,
                       sender="维修服务部 <fixdesk@example.com>"), handler
    controller.stop()


@pytest.fixture
def auth_server():
    controller, handler = _start(authenticator=check_login, auth_required=True,
                                 auth_require_tls=False)
    yield SmtpSettings(host="127.0.0.1", port=controller.port, username=USER,
                       password=PASSWORD, sender="fixdesk@example.com"), handler
    controller.stop()


def email_to(to="张三 <zhang.san@example.com>", subject="维修工单 WO-SH-2026-000123 已完成",
             body="您好：\n\n您的复印机已维修完毕，请到上海分公司取件。\n"):
    return Message(channel="email", to=to, subject=subject, body=body)


# -------------------------------------------------------------------------
# sending e-mail
# -------------------------------------------------------------------------


def test_chinese_subject_and_body_arrive_intact(smtp_server):
    settings, handler = smtp_server
    message_id = send_email(settings, email_to())

    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "fixdesk@example.com"
    assert envelope.rcpt_tos == ["zhang.san@example.com"]
    assert envelope.content.isascii()  # 7-bit on the wire: survives any relay
    got = handler.parsed()
    assert got["Subject"] == "维修工单 WO-SH-2026-000123 已完成"
    assert got["To"].addresses[0].display_name == "张三"
    assert got["From"].addresses[0].display_name == "维修服务部"
    assert got.get_content_type() == "text/plain"
    assert got.get_content_charset() == "utf-8"
    # text travels in canonical form (CRLF line breaks, RFC 2046 4.1.1)
    text = got.get_content().replace("\r\n", "\n")
    assert text == "您好：\n\n您的复印机已维修完毕，请到上海分公司取件。\n"
    assert message_id == got["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@example.com>")
    assert got["Date"]


def test_html_alternative(smtp_server):
    settings, handler = smtp_server
    send_email(settings, Message("email", "a@example.com", "HTML", "纯文本", html="<p>网页</p>"))
    got = handler.parsed()
    assert got.get_content_type() == "multipart/alternative"
    assert got.get_body(("plain",)).get_content().strip() == "纯文本"
    assert got.get_body(("html",)).get_content().strip() == "<p>网页</p>"


def test_message_ids_are_unique(smtp_server):
    settings, _handler = smtp_server
    ids = {send_email(settings, email_to()) for _ in range(3)}
    assert len(ids) == 3


def test_login(auth_server):
    settings, handler = auth_server
    send_email(settings, email_to())
    assert handler.parsed()["Subject"] == "维修工单 WO-SH-2026-000123 已完成"


def test_login_with_chinese_credentials(auth_server):
    settings, handler = auth_server
    chinese = SmtpSettings(host=settings.host, port=settings.port, username=USER_ZH,
                           password=PASSWORD_ZH, sender=settings.sender)
    send_email(chinese, email_to())
    assert len(handler.envelopes) == 1
    wrong = SmtpSettings(host=settings.host, port=settings.port, username=USER_ZH,
                         password="口令", sender=settings.sender)
    with pytest.raises(NotificationError, match="rejected the login of '维修部@example.com'"):
        send_email(wrong, email_to())


def test_wrong_password(auth_server):
    settings, handler = auth_server
    wrong = SmtpSettings(host=settings.host, port=settings.port, username=USER,
                         password="wrong", sender=settings.sender)
    with pytest.raises(NotificationError) as caught:
        send_email(wrong, email_to())
    error = caught.value
    assert f"127.0.0.1:{settings.port} rejected the login of '{USER}'" in error.message
    assert "535" in error.message
    assert not error.temporary and error.field == "smtp.password"
    assert isinstance(error, FixdeskError)
    assert error.__cause__ is not None
    assert handler.envelopes == []


def test_server_requires_login(auth_server):
    settings, _handler = auth_server
    anonymous = SmtpSettings(host=settings.host, port=settings.port, sender=settings.sender)
    with pytest.raises(NotificationError) as caught:
        send_email(anonymous, email_to())
    assert "requires a login: set username and password in [smtp]" in caught.value.message
    assert "530" in caught.value.message and caught.value.field == "smtp.username"


def test_login_on_server_without_auth(smtp_server):
    settings, _handler = smtp_server
    login = SmtpSettings(host=settings.host, port=settings.port, username="u", password="p")
    with pytest.raises(NotificationError, match="does not support AUTH"):
        send_email(login, email_to())


def test_starttls_on_server_without_it(smtp_server):
    settings, _handler = smtp_server
    tls = SmtpSettings(host=settings.host, port=settings.port, starttls=True)
    with pytest.raises(NotificationError, match="does not support STARTTLS"):
        send_email(tls, email_to())


def test_connection_refused():
    port = free_port()  # nobody listens there
    with pytest.raises(NotificationError) as caught:
        send_email(SmtpSettings(port=port, timeout=5), email_to())
    error = caught.value
    assert str(error) == f"cannot connect to the mail server 127.0.0.1:{port}: connection refused"
    assert error.temporary
    assert isinstance(error.__cause__, ConnectionRefusedError)


def test_server_that_never_answers():
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(NotificationError) as caught:
            send_email(SmtpSettings(port=port, timeout=0.3), email_to())
    assert str(caught.value) == (
        f"cannot connect to the mail server 127.0.0.1:{port}: no answer within 0.3 s")
    assert caught.value.temporary


def test_ssl_against_a_plain_server(smtp_server):
    settings, _handler = smtp_server
    with pytest.raises(NotificationError, match="^TLS with the mail server 127.0.0.1:"):
        send_email(SmtpSettings(port=settings.port, ssl=True, timeout=5), email_to())


def test_recipient_refused(smtp_server):
    settings, handler = smtp_server
    with pytest.raises(NotificationError) as caught:
        send_email(settings, email_to(to="nobody@refused.example"))
    error = caught.value
    assert "refused the recipient 'nobody@refused.example'" in error.message
    assert "550" in error.message and "no such mailbox" in error.message
    assert not error.temporary and error.field == "to"
    assert handler.envelopes == []


def test_some_recipients_refused(smtp_server):
    settings, handler = smtp_server
    to = "ok@example.com, nobody@refused.example"
    with pytest.raises(NotificationError, match="nobody@refused.example: 550"):
        send_email(settings, email_to(to=to))
    assert handler.envelopes[0].rcpt_tos == ["ok@example.com"]


@pytest.mark.parametrize("to", ["", "not an address", "a@example.com\r\nBcc: x@example.com"])
def test_bad_recipient_is_refused_before_connecting(to):
    with pytest.raises(ValidationError) as caught:
        send_email(SmtpSettings(port=free_port()), email_to(to=to))
    assert caught.value.field == "to"


# -------------------------------------------------------------------------
# rendering templates
# -------------------------------------------------------------------------


def test_render_test_template_in_english():
    subject, body = render_message("test", "en", {"company": "A & B <Copiers>"})
    assert subject == "fixdesk test message"
    # plain text: no HTML escaping
    assert body.startswith("This is a test message from A & B <Copiers>.")


def test_render_test_template_in_chinese():
    zh = translations("zh_CN").gettext
    subject, body = render_message("test", "zh_CN.UTF-8", {"company": "上海维修服务有限公司"})
    assert subject == zh("fixdesk test message") == "fixdesk 测试消息"
    assert "\n" not in subject
    assert body.startswith("这是来自 上海维修服务有限公司 的测试消息。")
    assert "fixdesk" in body


def test_site_template_overrides_the_kernel(tmp_path):
    (tmp_path / "notifications").mkdir()
    (tmp_path / "notifications" / "test.txt").write_text(
        "{% block subject %}\n  {{ _('fixdesk test message') }}\n  · {{ company }}\n"
        "{% endblock %}{% block body %}\n\n自定义：{{ company }}\n\n{% endblock %}",
        encoding="utf-8")
    subject, body = render_message("test", "zh_CN", {"company": "甲公司"},
                                   extra_dirs=[tmp_path])
    assert (subject, body) == ("fixdesk 测试消息 · 甲公司", "自定义：甲公司")
    # the kernel's own template is still there without the override
    assert render_message("test", "en", {"company": "x"})[0] == "fixdesk test message"


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "().__class__.__base__.__subclasses__()",
    "company.__init__.__globals__",
    "cycler.__init__.__globals__.os",
])
def test_sandbox_refuses_python_internals(tmp_path, expression):
    (tmp_path / "notifications").mkdir()
    (tmp_path / "notifications" / "evil.txt").write_text(
        "{% block subject %}x{% endblock %}{% block body %}{{ " + expression + " }}{% endblock %}")
    with pytest.raises(SecurityError):
        render_message("evil", "en", {"company": "x"}, extra_dirs=[tmp_path])


def test_missing_template_and_block(tmp_path):
    with pytest.raises(NotificationError, match="no message template 'notifications/nope.txt'"):
        render_message("nope", "en", {})
    (tmp_path / "notifications").mkdir()
    (tmp_path / "notifications" / "half.txt").write_text("{% block body %}x{% endblock %}")
    with pytest.raises(NotificationError, match="has no block named 'subject'"):
        render_message("half", "en", {}, extra_dirs=[tmp_path])


# -------------------------------------------------------------------------
# routing by channel
# -------------------------------------------------------------------------


class FakeHook:
    """Stands in for the site's hook relay: one firstresult hook."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def fixdesk_send_notification(self, *, message):
        self.calls.append(message)
        return self.answer


def test_deliver_email_goes_to_smtp(smtp_server):
    settings, handler = smtp_server
    hook = FakeHook("sms-1")
    message_id = deliver(email_to(), settings, hook)
    assert hook.calls == []
    assert handler.parsed()["Message-ID"] == message_id


def test_deliver_sms_goes_to_the_hook(smtp_server):
    settings, handler = smtp_server
    hook = FakeHook("sms-1")
    sms = Message(channel="sms", to="+8613800000000", subject="", body="您的工单已完成")
    assert deliver(sms, settings, hook) == "sms-1"
    assert hook.calls == [sms]
    assert handler.envelopes == []


@pytest.mark.parametrize("hook", [FakeHook(None), object()], ids=["no-answer", "no-hookspec"])
def test_deliver_unknown_channel(hook):
    fax = Message(channel="fax", to="021-12345678", subject="s", body="b")
    with pytest.raises(NotificationError, match="^no plugin delivers channel 'fax'$"):
        deliver(fax, SmtpSettings(), hook)


def test_deliver_through_a_real_pluggy_relay():
    hookspec = pluggy.HookspecMarker("fixdesk")
    hookimpl = pluggy.HookimplMarker("fixdesk")

    class Spec:
        @hookspec(firstresult=True)
        def fixdesk_send_notification(self, message):
            """Deliver ``message``; return a delivery id, or None to pass."""

    class Sms:
        @hookimpl
        def fixdesk_send_notification(self, message):
            return f"sms:{message.to}" if message.channel == "sms" else None

    class Silent:
        @hookimpl
        def fixdesk_send_notification(self, message):
            return None

    pm = pluggy.PluginManager("fixdesk")
    pm.add_hookspecs(Spec)
    pm.register(Sms())
    pm.register(Silent())
    sms = Message(channel="sms", to="13800000000", subject="", body="b")
    assert deliver(sms, SmtpSettings(), pm.hook) == "sms:13800000000"
    with pytest.raises(NotificationError, match="channel 'wechat'"):
        deliver(Message("wechat", "x", "s", "b"), SmtpSettings(), pm.hook)


# -------------------------------------------------------------------------
# [smtp] settings
# -------------------------------------------------------------------------


def test_settings_defaults_and_full_table():
    assert SmtpSettings.from_mapping({}) == SmtpSettings.from_mapping(None) == SmtpSettings()
    settings = SmtpSettings.from_mapping({
        "host": "smtp.example.com", "port": 587, "username": "u", "password": "p",
        "sender": "维修服务部 <fixdesk@example.com>", "starttls": True, "timeout": 30})
    assert settings == SmtpSettings("smtp.example.com", 587, "u", "p",
                                    "维修服务部 <fixdesk@example.com>", True, False, 30.0)
    assert "'p'" not in repr(settings)  # the password stays out of logs


def test_settings_ssl_defaults_to_port_465():
    assert SmtpSettings.from_mapping({"ssl": True}).port == 465
    assert SmtpSettings.from_mapping({"ssl": True, "port": 2465}).port == 2465


@pytest.mark.parametrize(("data", "field"), [
    ({"hots": "smtp.example.com"}, "smtp.hots"),
    ({"host": ""}, "smtp.host"),
    ({"host": 25}, "smtp.host"),
    ({"port": "25"}, "smtp.port"),
    ({"port": 0}, "smtp.port"),
    ({"port": 70000}, "smtp.port"),
    ({"port": True}, "smtp.port"),
    ({"starttls": "yes"}, "smtp.starttls"),
    ({"ssl": 1}, "smtp.ssl"),
    ({"timeout": 0}, "smtp.timeout"),
    ({"timeout": "10"}, "smtp.timeout"),
    ({"sender": "not an address"}, "smtp.sender"),
    ({"username": 42, "password": "p"}, "smtp.username"),
    ({"username": "u"}, "smtp.password"),
    ({"password": "p"}, "smtp.username"),
    ({"ssl": True, "starttls": True}, "smtp.starttls"),
])
def test_settings_errors_name_the_field(data, field):
    with pytest.raises(ValidationError) as caught:
        SmtpSettings.from_mapping(data)
    assert caught.value.field == field
    assert field.split(".")[1] in caught.value.message


def test_settings_must_be_a_table():
    with pytest.raises(ValidationError) as caught:
        SmtpSettings.from_mapping(["host"])
    assert caught.value.field == "smtp"


def test_a_message_sent_again_keeps_its_message_id(smtp_server):
    """A queued message re-run after a crash between sending and recording it (the job's
    lease ran out) goes out with the same Message-ID, so the reader's mail client shows it
    once; a message without a key gets a new one each time."""
    settings, handler = smtp_server
    keyed = Message(channel="email", to="zhang.san@example.com", subject="工单已完成",
                    body="您好", key="0a1b2c3d4e5f.job42")
    first, again = deliver(keyed, settings, None), deliver(keyed, settings, None)
    assert first == again == "<fixdesk.0a1b2c3d4e5f.job42@example.com>"
    assert handler.parsed(-1)["Message-ID"] == handler.parsed(-2)["Message-ID"] == first
    assert deliver(email_to(), settings, None) != deliver(email_to(), settings, None)
