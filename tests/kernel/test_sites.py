"""``fixdesk new-site``, ``branch``, the demo data, and the CLI's one-line errors."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import func, select

from kernel.models import Branch, Company, Customer, CustomerEquipment, Employee, Tier, Zone
from kernel.site import Site


def test_new_site_writes_site_toml_with_defaults(tmp_path, fixdesk):
    result = fixdesk("new-site", tmp_path / "acme", "--company", "申达办公设备")
    assert result.code == 0, result
    data = tomllib.loads((tmp_path / "acme" / "site.toml").read_text())
    assert data == {
        "site": {"locale": "zh_CN", "timezone": "Asia/Shanghai", "currency": "CNY"},
        "database": {"url": "sqlite:///fixdesk.sqlite3"},
        "plugins": {"enabled": []},
    }
    assert (tmp_path / "acme" / "fixdesk.sqlite3").exists()
    assert (tmp_path / "acme" / "secret.key").exists()
    listing = fixdesk("--site", tmp_path / "acme", "branch", "list")
    assert listing.out == "CODE\tNAME\tZONE\tPHONE\tADDRESS\nHQ\tHQ\turban\t\t\n"


def test_new_site_on_postgres_creates_the_database(tmp_path, fixdesk, pg_url, app_of):
    result = fixdesk("new-site", tmp_path / "pg", "--db", pg_url.replace("+psycopg", ""),
                     "--plugins", "fdt_notes", "--branch", "SH", "--branch-name", "上海服务中心",
                     "--locale", "en", "--currency", "USD")
    assert result.code == 0, result
    site = Site.load(tmp_path / "pg")
    assert site.config.plugins == ["fdt_notes"] and site.config.locale == "en"
    app = app_of(site)
    assert app.engine.dialect.name == "postgresql"
    with app.sessions() as session:
        assert session.scalars(select(Branch.name)).all() == ["上海服务中心"]


def test_demo_site_tells_the_scenarios_story(make_site, app_of):
    app = app_of(make_site(["fdt_notes", "fdt_tags"], demo=True,
                           company="华东办公设备服务有限公司", branch_code="SH",
                           branch_name="上海服务中心"))
    with app.sessions() as session:
        assert session.scalars(select(Company.name)).all() == ["华东办公设备服务有限公司"]
        zones = dict(session.execute(select(Branch.code, Branch.zone)).all())
        assert zones == {"SH": Zone.URBAN, "JD": Zone.SUBURBAN}
        tiers = set(session.scalars(select(Customer.tier)))
        assert tiers == set(Tier)
        grades = set(session.scalars(select(Employee.grade)))
        assert len(grades) >= 3
        ricoh = session.scalars(select(CustomerEquipment).where(
            CustomerEquipment.serial_no == "E335M820091")).one()
        assert ricoh.customer.name == "申达物流有限公司" and ricoh.model == "MP 2555"
        assert session.scalar(select(func.count()).select_from(Customer)) == 40
        from fdt_notes.models import Note  # the plugin's demo-data hook ran too

        assert session.scalars(select(Note.title)).all() == ["演示便签"]


def test_demo_flag_uses_the_demo_company_and_branches(tmp_path, fixdesk, app_of):
    assert fixdesk("new-site", tmp_path / "demo", "--demo").code == 0
    listing = fixdesk("--site", tmp_path / "demo", "branch", "list").out.splitlines()
    assert [ln.split("\t")[:3] for ln in listing[1:]] == [
        ["JD", "嘉定分公司", "suburban"], ["SH", "上海服务中心", "urban"]]


def test_branch_add_and_list(make_site, fixdesk):
    site = make_site([])
    added = fixdesk("--site", site.path, "branch", "add", "jd", "--name", "嘉定分公司",
                    "--zone", "suburban", "--phone", "021-5991 2200")
    assert (added.code, added.out) == (0, "added branch JD\n")
    lines = fixdesk("--site", site.path, "branch", "list").out.splitlines()
    assert lines[0].split("\t")[0] == "CODE"
    assert lines[1:] == ["HQ\tHQ\turban\t\t", "JD\t嘉定分公司\tsuburban\t021-5991 2200\t"]
    again = fixdesk("--site", site.path, "branch", "add", "JD", "--name", "x")
    assert (again.code, again.err) == (2, "error: branch JD already exists\n")


def test_site_from_environment(make_site, fixdesk, monkeypatch):
    site = make_site([])
    monkeypatch.setenv("FIXDESK_SITE", str(site.path))
    assert fixdesk("branch", "list").out.startswith("CODE")


@pytest.mark.parametrize("args, message", [
    (["branch", "list"], "no site given: pass --site DIR or set FIXDESK_SITE"),
    (["--site", "/nonexistent/site", "branch", "list"], "no site at /nonexistent/site"),
    (["new-site", "{tmp}/x", "--plugins", "acme"], "unknown plugin 'acme'"),
    (["new-site", "{tmp}/x", "--plugins", "fdt_tags"], "fdt_tags depends on fdt_notes"),
    (["new-site", "{tmp}/x", "--db", "mysql://root@localhost/x"], "unsupported database"),
    (["new-site", "{tmp}/x", "--db", "::nonsense::"], "bad database URL"),
    (["new-site", "{tmp}/x", "--locale", "fr"], "unsupported locale 'fr'"),
    (["new-site", "{tmp}/x", "--timezone", "Mars/Olympus"], "unknown timezone"),
    (["new-site", "{tmp}/x", "--plugins", "fdt_broken"], "fdt_broken cannot be loaded"),
    (["new-site", "{tmp}/x", "--db", "postgresql://nobody@127.0.0.1:1/x"],
     "database unavailable"),
    (["new-site", "{tmp}/x", "--bogus"], "No such option"),
    (["nosuchcommand"], "No such command"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, fixdesk, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = fixdesk(*args)
    assert result.code == 2, result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert message in result.err
    assert not (tmp_path / "x").exists()


def test_existing_site_is_not_overwritten(make_site, fixdesk):
    site = make_site([])
    before = (site.path / "site.toml").read_text()
    result = fixdesk("new-site", site.path, "--locale", "en")
    assert result.code == 2 and "a site already exists" in result.err
    assert (site.path / "site.toml").read_text() == before


def test_failed_demo_load_leaves_no_site_and_no_database(tmp_path, monkeypatch, fixdesk, pg_url):
    from kernel import demo
    from kernel.db import create_database

    monkeypatch.setattr(demo, "EMPLOYEES", [*demo.EMPLOYEES, demo.EMPLOYEES[0]])  # duplicate code
    result = fixdesk("new-site", tmp_path / "broken", "--demo", "--db", pg_url)
    assert result.code == 2 and "refused by the database" in result.err
    assert not (tmp_path / "broken").exists()
    assert create_database(pg_url) is True  # it had been dropped again


def test_an_unmigrated_database_says_run_migrate(make_site, app_of, fixdesk):
    site = make_site([], demo=True)
    with app_of(site).engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE print_log")
    result = fixdesk("--site", site.path, "print", "kernel.equipment_record", "1")
    assert result.code == 2 and "run `fixdesk migrate`" in result.err


def test_demo_sites_have_demo_accounts_in_both_branches(make_site, app_of):
    from kernel.db import utcnow
    from kernel.demo import DEMO_PASSWORD, demo_accounts_text
    from kernel.login import authenticate

    site = make_site([], demo=True, branch_code="SH")
    assert site.config.demo is True
    app = app_of(site)
    for username, branch in [("admin", "SH"), ("wufang", "SH"), ("zhengli", "SH"),
                             ("wanggong", "SH"), ("hejuan", "JD"), ("zhaolei", "JD")]:
        user = authenticate(app, username, DEMO_PASSWORD, utcnow())
        with app.sessions() as session:
            assert session.merge(user).home_branch.code == branch
    assert "wanggong" in demo_accounts_text() and DEMO_PASSWORD in demo_accounts_text()
