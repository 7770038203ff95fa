"""Tests of the hello plugin on a fresh site with only the plugin enabled."""

from decimal import Decimal

import pytest
from fixdesk_hello.models import Greeting
from fixdesk_hello.services import greet
from sqlalchemy import select

from kernel import ValidationError, hookimpl
from kernel.migrate import schema_differences
from kernel.provision import create_site
from kernel.site import SiteConfig


@pytest.fixture
def app(tmp_path):
    """A demo site (SQLite file in ``tmp_path``) with the hello plugin, started."""
    site = create_site(tmp_path / "site", SiteConfig(plugins=["hello"]),
                       company="测试服务公司", demo=True)
    app = site.start()
    yield app
    app.close()


def test_migrations_match_the_models(app):
    assert schema_differences(app) == []


def test_demo_data_has_one_greeting(app):
    with app.sessions() as session:
        assert session.scalars(select(Greeting.text)).all() == ["你好！欢迎来到上海服务中心。"]


def test_greet_saves_the_greeting_and_calls_the_hook(app):
    class Listener:  # stands in for another plugin, for this test only
        @hookimpl
        def hello_greeted(self, ctx, greeting):
            return f"收到 {greeting.tip}"

    app.pm.register(Listener(), name="listener")
    with app.context() as ctx:
        greeting, replies = greet(ctx, "JD", "早上好", tip="1.50")
    assert replies == ["收到 1.50"]
    with app.sessions() as session:
        assert session.get(Greeting, greeting.id).tip == Decimal("1.50")


@pytest.mark.parametrize("text, tip", [("  ", "0"), ("你好", 1.5), ("你好", "0.005")])
def test_greet_refuses_bad_input(app, text, tip):
    with app.context() as ctx, pytest.raises(ValidationError):
        greet(ctx, "SH", text, tip=tip)
