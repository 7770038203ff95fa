"""What a site keeps is for its owner only, and on PostgreSQL the site serves as a role
that cannot wipe or rewrite the audit trail (issue 15, "nothing lost, nothing wiped")."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kernel.site import Site


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_site_files_are_not_world_readable(tmp_path, fixdesk, monkeypatch):
    import os

    old = os.umask(0o022)  # the usual umask, whatever the test runner's
    try:
        result = fixdesk("new-site", tmp_path / "acme", "--company", "申达办公设备")
    finally:
        os.umask(old)
    assert result.code == 0, result
    site = tmp_path / "acme"
    assert _mode(site) == 0o750
    assert _mode(site / "site.toml") == 0o600
    assert _mode(site / "secret.key") == 0o600
    assert _mode(site / "fixdesk.sqlite3") == 0o600
    for extra in ("fixdesk.sqlite3-wal", "fixdesk.sqlite3-shm"):
        if (site / extra).exists():
            assert _mode(site / extra) & 0o077 == 0, extra
    # saved again (a plugin enabled): still owner-only
    loaded = Site.load(site)
    loaded.save()
    assert _mode(site / "site.toml") == 0o600


def test_attachments_and_their_folders_are_not_world_readable(make_site, app_of):
    import io

    from PIL import Image

    from kernel.attachments import add_attachment, read_thumbnail, storage_root
    from kernel.models import Customer

    site = make_site([], demo=True)
    app = app_of(site)
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(picture, "JPEG")
    with app.context(user="admin") as ctx:
        customer = ctx.session.query(Customer).first()
        add_attachment(ctx, "customer", customer.id, "note.pdf", b"%PDF-1.4\n%%EOF\n",
                       "application/pdf")
        photo = add_attachment(ctx, "customer", customer.id, "machine.jpg",
                               picture.getvalue(), "image/jpeg")
    with app.context(user="admin") as ctx:
        assert read_thumbnail(ctx, photo.id) is not None
    files = site.path / "files"
    root = storage_root(app)
    assert _mode(files) == 0o750 and _mode(root) == 0o750
    folders = [p for p in files.rglob("*") if p.is_dir()]
    stored = [p for p in files.rglob("*") if p.is_file()]
    assert {p.parent.parent.name for p in stored} == {"attachments", "thumbnails"}
    assert all(_mode(folder) == 0o750 for folder in folders), folders
    assert all(_mode(file) == 0o640 for file in stored), stored


# --------------------------------------------------------------------------
# PostgreSQL: an owner that migrates, a runtime role that serves
# --------------------------------------------------------------------------

POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

#: what the runtime role must not do, each refused by PostgreSQL's privileges
REFUSED = [
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "DROP FUNCTION audit_log_append_only() CASCADE",
    "UPDATE audit_log SET actor = 'x'",
    "DELETE FROM audit_log",
    "CREATE TABLE sneaky (id int)",
    "DELETE FROM alembic_version",
    "ALTER TABLE customer ADD COLUMN sneaky int",
    "TRUNCATE customer CASCADE",
    "CREATE ROLE sneaky",
]


def _engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from kernel.db import normalize_url

    return create_engine(normalize_url(url), poolclass=NullPool)


def _refused_statements(url: str) -> list[str]:
    """Which of :data:`REFUSED` the database refuses when connected with ``url``."""
    from sqlalchemy.exc import DBAPIError

    engine = _engine(url)
    refused = []
    try:
        for statement in REFUSED:
            with engine.connect() as conn:
                try:
                    conn.exec_driver_sql(statement)
                except DBAPIError:
                    refused.append(statement)
                finally:
                    conn.rollback()  # a statement that went through changes nothing
    finally:
        engine.dispose()
    return refused


def _roles(server_url: str) -> set[str]:
    engine = _engine(server_url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT rolname FROM pg_roles")).scalars())
    finally:
        engine.dispose()


def _customer_through_the_api(site) -> dict:
    from api_tokens import bearer_headers
    from fastapi.testclient import TestClient

    from kernel.auth import add_user
    from kernel.masterdata import get_branch
    from kernel.web.app import create_app

    web = create_app(site)  # serving: the URL in site.toml, the runtime role's
    app = web.state.fixdesk
    try:
        with app.context() as ctx:
            add_user(ctx, "root", "root", "password-123", get_branch(ctx, "HQ"),
                     roles=["admin"])
            headers = bearer_headers(ctx, "root")["root"]
        with TestClient(web, raise_server_exceptions=False) as client:
            created = client.post("/api/v1/customer", headers=headers, json={
                "code": "C9001", "name": "浦东新区图书馆", "tier": "corporate"})
            assert created.status_code == 201, created.text
            changed = client.patch(f"/api/v1/customer/{created.json()['id']}",
                                   headers=headers, json={"phone": "021-5888 1111"})
            assert changed.status_code == 200, changed.text
            history = client.get(f"/api/v1/customer/{created.json()['id']}/history",
                                 headers=headers).json()
        assert [entry["action"] for entry in history] == ["insert", "update"]
        return created.json()
    finally:
        app.close()


def _owner_of(url: str, table: str) -> str:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = :t"),
                                {"t": table}).scalar()
    finally:
        engine.dispose()


def test_new_site_on_postgres_serves_as_a_role_that_cannot_wipe_the_audit_log(
        tmp_path, fixdesk, pg_url):
    from kernel.dbroles import role_names

    result = fixdesk("new-site", tmp_path / "pg", "--db", pg_url, "--plugins", "fdt_notes")
    assert result.code == 0, result
    site = Site.load(tmp_path / "pg")
    owner, runtime = role_names(make_url(pg_url).database)
    assert make_url(site.config.database_url).username == runtime
    assert make_url(site.config.migrate_url).username == owner
    assert f"{owner} owns the database" in result.out
    assert _mode(site.path / "site.toml") == 0o600  # it holds the roles' passwords
    assert _owner_of(site.database_url, "audit_log") == owner

    assert _refused_statements(site.database_url) == REFUSED
    _customer_through_the_api(site)

    # migrations run as the owner, and tables they add get the runtime role's grants
    assert fixdesk("--site", site.path, "migrate").code == 0
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_tags").code == 0
    assert _owner_of(site.database_url, "fdt_tags_tag") == owner
    engine = _engine(site.database_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(
                "SELECT has_table_privilege(current_user, 'fdt_tags_tag', 'INSERT'), "
                "has_table_privilege(current_user, 'fdt_tags_tag', 'TRUNCATE'), "
                "has_table_privilege(current_user, 'audit_log', 'INSERT'), "
                "has_table_privilege(current_user, 'audit_log', 'UPDATE')")).one() == (
                True, False, True, False)
    finally:
        engine.dispose()
    assert _refused_statements(site.database_url) == REFUSED  # still, after migrating
    # even the owner cannot wipe the audit log without first dropping its triggers
    with pytest.raises(Exception, match="append-only"), \
            _engine(site.migrate_url).begin() as conn:
        conn.exec_driver_sql("TRUNCATE audit_log")


def test_dropping_the_database_drops_its_roles(tmp_path, fixdesk, pg_url, postgres_server):
    from kernel.db import drop_database
    from kernel.dbroles import role_names

    assert fixdesk("new-site", tmp_path / "pg", "--db", pg_url).code == 0
    roles = set(role_names(make_url(pg_url).database))
    assert roles <= _roles(postgres_server + "postgres")
    drop_database(pg_url)
    assert not roles & _roles(postgres_server + "postgres")


def test_a_failed_new_site_leaves_no_roles(tmp_path, monkeypatch, fixdesk, pg_url,
                                          postgres_server):
    from kernel import demo
    from kernel.dbroles import role_names

    monkeypatch.setattr(demo, "EMPLOYEES", [*demo.EMPLOYEES, demo.EMPLOYEES[0]])
    result = fixdesk("new-site", tmp_path / "broken", "--demo", "--db", pg_url)
    assert result.code == 2 and "refused by the database" in result.err
    assert not set(role_names(make_url(pg_url).database)) & _roles(postgres_server + "postgres")
    assert not (tmp_path / "broken").exists()


def test_existing_roles_are_refused_in_one_line(tmp_path, fixdesk, pg_url, postgres_server):
    from kernel.dbroles import role_names

    owner, _runtime = role_names(make_url(pg_url).database)
    engine = _engine(postgres_server + "postgres")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{owner}"')
        result = fixdesk("new-site", tmp_path / "pg", "--db", pg_url)
        assert result.code == 2 and f"the database role {owner} exists already" in result.err
        assert not (tmp_path / "pg").exists()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{owner}"')
        engine.dispose()


@POSTGRES_ONLY
def test_an_existing_site_gets_its_roles(make_site, fixdesk):
    site = make_site(["fdt_notes"])  # made before roles: it connects as the superuser
    # the superuser could drop the triggers, and then wipe the audit log
    assert "DROP TRIGGER audit_log_append_only ON audit_log" not in \
        _refused_statements(site.database_url)
    result = fixdesk("--site", site.path, "db", "create-roles")
    assert result.code == 0, result
    site = Site.load(site.path)
    assert site.config.migrate_url and _mode(site.path / "site.toml") == 0o600
    assert _refused_statements(site.database_url) == REFUSED
    _customer_through_the_api(site)
    assert fixdesk("--site", site.path, "migrate").code == 0
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_tags").code == 0
    assert _refused_statements(site.database_url) == REFUSED
    again = fixdesk("--site", site.path, "db", "create-roles")
    assert again.code == 2 and "has its database roles already" in again.err


def test_no_roles_on_request_or_on_sqlite(tmp_path, fixdesk, pg_url):
    result = fixdesk("new-site", tmp_path / "plain", "--db", pg_url, "--no-db-roles")
    assert result.code == 0, result
    assert not Site.load(tmp_path / "plain").config.migrate_url
    assert fixdesk("new-site", tmp_path / "lite").code == 0
    assert not Site.load(tmp_path / "lite").config.migrate_url
    refused = fixdesk("--site", tmp_path / "lite", "db", "create-roles")
    assert refused.code == 2 and "for PostgreSQL sites only" in refused.err


def test_an_existing_empty_database_gets_roles_and_gets_them_back_on_failure(
        tmp_path, monkeypatch, fixdesk, pg_url, postgres_server):
    from kernel import demo
    from kernel.db import create_database
    from kernel.dbroles import role_names

    create_database(pg_url)
    roles = set(role_names(make_url(pg_url).database))
    with monkeypatch.context() as patch:
        patch.setattr(demo, "EMPLOYEES", [*demo.EMPLOYEES, demo.EMPLOYEES[0]])
        result = fixdesk("new-site", tmp_path / "broken", "--demo", "--db", pg_url)
    assert result.code == 2 and "refused by the database" in result.err
    assert not roles & _roles(postgres_server + "postgres")
    # what the failed new-site left (its migrated tables) is the asking user's again
    assert _owner_of(pg_url, "audit_log") == "postgres"
    again = fixdesk("new-site", tmp_path / "pg2", "--db", pg_url)
    assert again.code == 2 and "already holds a fixdesk site" in again.err
    assert not roles & _roles(postgres_server + "postgres")


def test_new_site_on_an_existing_empty_database(tmp_path, fixdesk, pg_url, postgres_server):
    from kernel.db import create_database

    create_database(pg_url)
    assert fixdesk("new-site", tmp_path / "pg", "--db", pg_url).code == 0
    assert _refused_statements(Site.load(tmp_path / "pg").database_url) == REFUSED
