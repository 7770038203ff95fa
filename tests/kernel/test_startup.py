"""Start-up (#16): CLI commands never build the web routes, the web app still checks the
plugins' routers, ``new-site`` says what it does on standard error (``--quiet``: nothing),
and what a unit of work reads many times is read once per transaction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel import hookimpl

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------
# routers: built for the web app only
# --------------------------------------------------------------------------


def test_a_cli_app_collects_no_routers_and_the_web_app_does(make_site, app_of):
    from fastapi.testclient import TestClient

    from kernel.web.app import create_app

    site = make_site(["repair"])
    cli_app = app_of(site)
    assert cli_app.registry.routers == [] and not cli_app.registry.web
    web = create_app(site)
    registry = web.state.fixdesk.registry
    assert registry.web and registry.routers
    with TestClient(web) as client:  # repair's phone page: a login first, not "not found"
        assert client.get("/desk/repair/phone", follow_redirects=False).status_code != 404


def test_a_site_command_imports_no_web_library(make_site):
    site = make_site(["repair"])
    probe = ("import sys\nfrom kernel.cli import main\n"
             f"main(['--site', {str(site.path)!r}, 'branch', 'list'])\n"
             "print('WEB', sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'jinja2', "
             "'alembic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.splitlines()[-1] == "WEB []"


@pytest.fixture
def notes_routers(monkeypatch):
    """``notes_routers(answer)``: the ``fdt_notes`` plugin's router hook answers what
    ``answer()`` does (or raises what it raises)."""
    import fdt_notes.plugin

    def use(answer):
        monkeypatch.setattr(fdt_notes.plugin, "fixdesk_routers", hookimpl(answer),
                            raising=False)

    return use


def _failing_router():
    raise RuntimeError("router exploded")


@pytest.mark.parametrize(("answer", "reason"), [
    (_failing_router, "RuntimeError: router exploded"),
    (lambda: ["not a router"], "fixdesk_routers answers APIRouter objects"),
])
def test_a_bad_router_disables_its_plugin_when_the_web_app_starts(make_site, app_of,
                                                                  notes_routers, answer,
                                                                  reason):
    from kernel.web.app import create_app

    site = make_site(["fdt_notes", "fdt_tags"])
    notes_routers(answer)
    cli_app = app_of(site)  # the CLI never asks for routers: the plugin works there
    assert "fdt_notes" in cli_app.enabled_plugins and not cli_app.failed_plugins
    web = create_app(site)
    try:
        app = web.state.fixdesk
        assert reason in app.failed_plugins["fdt_notes"]
        assert "fdt_notes" not in app.enabled_plugins
        assert "fdt_tags" not in app.enabled_plugins  # it depends on fdt_notes
    finally:
        web.state.fixdesk.close()


def test_plugins_list_reports_a_bad_router(make_site, fixdesk, notes_routers):
    site = make_site(["fdt_notes"])
    notes_routers(_failing_router)
    listing = fixdesk("--site", site.path, "plugins", "list")
    line = next(ln for ln in listing.out.splitlines() if ln.startswith("fdt_notes"))
    assert "enabled (not loaded)" in line and "router exploded" in line


def test_good_routers_are_served(make_site, notes_routers):
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from kernel.web.app import create_app

    routes = APIRouter()

    @routes.get("/api/fdt_notes/ping")
    def ping():
        return {"pong": True}

    notes_routers(lambda: [routes])
    web = create_app(make_site(["fdt_notes"]))
    with TestClient(web) as client:
        assert client.get("/api/fdt_notes/ping").json() == {"pong": True}


# --------------------------------------------------------------------------
# progress lines of new-site
# --------------------------------------------------------------------------


def test_new_site_writes_each_step_to_standard_error(tmp_path, fixdesk):
    result = fixdesk("new-site", tmp_path / "s", "--plugins", "fdt_notes")
    assert result.code == 0, result
    lines = result.err.splitlines()
    assert lines.index("migrating kernel…") < lines.index("migrating fdt_notes…")
    assert result.out.startswith("site created at")


def test_new_site_quiet_writes_nothing_to_standard_error(tmp_path, fixdesk):
    result = fixdesk("new-site", tmp_path / "s", "--plugins", "fdt_notes", "--quiet")
    assert result.code == 0, result
    assert result.err == ""


def test_new_site_names_each_plugins_demo_data(tmp_path, fixdesk, monkeypatch):
    from kernel import demo

    monkeypatch.setattr(demo, "EMPLOYEES", demo.EMPLOYEES[:2])
    result = fixdesk("new-site", tmp_path / "s", "--plugins", "fdt_notes", "--demo")
    assert result.code == 0, result
    assert "demo data: kernel…" in result.err.splitlines()


def test_progress_lines_show_a_long_step_every_few_seconds_and_its_end():
    import io

    from kernel.cli.progress import LineProgress

    now = [0.0]
    out = io.StringIO()
    lines = LineProgress(every=2.0, stream=out, clock=lambda: now[0])
    lines.step("migrating {unit}…", {"unit": "repair"})
    for done in range(0, 11):
        now[0] = done * 0.5  # a unit every half second
        lines("Loading the demo order history", done, 10)
    lines("Loading the demo order history", 10, 10)  # told twice: shown once
    assert out.getvalue().splitlines() == [
        "migrating repair…",
        "Loading the demo order history: 4/10",
        "Loading the demo order history: 8/10",
        "Loading the demo order history: 10/10",
    ]


# --------------------------------------------------------------------------
# read once per transaction
# --------------------------------------------------------------------------


def test_a_setting_is_read_once_per_transaction_and_again_after_a_change(make_site, app_of):
    from decimal import Decimal

    from query_count import counting

    from kernel.settings import set_setting

    app = app_of(make_site(["fdt_notes"]))
    with app.context() as ctx:
        assert ctx.setting("fdt_notes.max_amount") == Decimal("1000")
        with counting(app.engine) as queries:
            for _ in range(5):
                ctx.setting("fdt_notes.max_amount")
        assert queries == []
        set_setting(ctx, "fdt_notes.max_amount", "250")
        assert ctx.setting("fdt_notes.max_amount") == Decimal("250")
        savepoint = ctx.session.begin_nested()
        set_setting(ctx, "fdt_notes.max_amount", "9")
        assert ctx.setting("fdt_notes.max_amount") == Decimal("9")
        savepoint.rollback()
        assert ctx.setting("fdt_notes.max_amount") == Decimal("250")
    with app.context() as ctx:
        assert ctx.setting("fdt_notes.max_amount") == Decimal("250")


def test_audit_rows_written_in_bulk_are_the_rows_written_one_by_one(make_site, app_of):
    from sqlalchemy import func, select

    from kernel.audit import AuditLog, written_in_bulk
    from kernel.masterdata import add_branch

    app = app_of(make_site([]))

    def audit_rows(session):
        return session.scalars(select(AuditLog).order_by(AuditLog.id)).all()

    with app.context() as ctx:
        before = ctx.session.scalar(select(func.max(AuditLog.id)))
        with written_in_bulk(ctx.session):
            add_branch(ctx, "B1", "一分部", "urban")
            add_branch(ctx, "B2", "二分部", "suburban")
            assert ctx.session.scalar(select(func.max(AuditLog.id))) == before  # kept back
        bulk = [(r.entity, r.action, r.changes) for r in audit_rows(ctx.session)
                if r.id > before]
    with app.context() as ctx:
        before = ctx.session.scalar(select(func.max(AuditLog.id)))
        add_branch(ctx, "B3", "一分部", "urban")
        add_branch(ctx, "B4", "二分部", "suburban")
        single = [(r.entity, r.action, r.changes) for r in audit_rows(ctx.session)
                  if r.id > before]
    assert bulk and len(bulk) == len(single)
    assert [(e, a) for e, a, _c in bulk] == [(e, a) for e, a, _c in single]
