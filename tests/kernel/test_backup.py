"""Backup and restore (``fixdesk backup`` / ``fixdesk restore``, the job ``kernel.backup``)
on both databases: a site with demo data, an attachment and an edited template is
backed up, wiped and restored, and every table and every file is compared to before."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from kernel.db import drop_database, normalize_url
from kernel.site import Site

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def _tables(url: str) -> dict:
    """Every table of the database: row count and a hash of its rows in key order; on
    PostgreSQL also each sequence's position (new rows must not reuse ids)."""
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    found = {}
    try:
        with engine.connect() as conn:
            # an FTS5 table (the search index's terms) cannot be read row by row; its
            # content is in its shadow tables, which are compared like any other
            virtual = set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
            )).scalars()) if conn.dialect.name == "sqlite" else set()
            for name in sorted(set(inspect(conn).get_table_names()) - virtual):
                table = Table(name, MetaData(), autoload_with=conn)
                order = list(table.primary_key.columns) or list(table.columns)
                rows = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
                found[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
            if conn.dialect.name == "postgresql":
                found["<sequences>"] = conn.execute(text(
                    "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")).all()
    finally:
        engine.dispose()
    return found


def _files(folder: Path, database: str) -> dict[str, bytes]:
    """Every file of the site folder with its bytes, but the SQLite database's own."""
    db = normalize_url(database)
    skip = {f"{db.database}{s}" for s in ("", "-wal", "-shm", "-journal")} \
        if db.get_backend_name() == "sqlite" else set()
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and str(path) not in skip}


def _wipe(site: Site) -> None:
    drop_database(site.database_url)
    shutil.rmtree(site.path)


@pytest.fixture
def site(make_site, app_of):
    """A site with repair's demo data, an attached photo and an edited template."""
    from kernel import attachments
    from kernel.models import Customer

    made = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    app = app_of(made)
    with app.context("wufang") as ctx:
        customer = ctx.session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        attachments.add_attachment(ctx, "customer", customer, "photo.png", PNG, "image/png")
    template = made.path / "templates" / "repair" / "voucher.html"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text("{% extends 'base.html' %}<p>本店凭证</p>", encoding="utf-8")
    app.close()
    return made


def test_a_backup_restores_every_table_and_file(site, fixdesk, tmp_path):
    before_tables = _tables(site.database_url)
    before_files = _files(site.path, site.database_url)
    assert "templates/repair/voucher.html" in before_files
    assert any(name.startswith("files/attachments/") for name in before_files)
    assert before_tables["repair_work_order"][0] > 0
    archive = tmp_path / "site.tar.gz"

    done = fixdesk("--site", site.path, "backup", "-o", archive)
    assert done.code == 0, done
    assert archive.stat().st_mode & 0o077 == 0  # it holds the signing key
    _wipe(site)
    assert not site.path.exists()

    done = fixdesk("--site", site.path, "restore", archive)
    assert done.code == 0, done
    assert _tables(site.database_url) == before_tables
    assert _files(site.path, site.database_url) == before_files


def _site_state(site: Site):
    return _tables(site.database_url), _files(site.path, site.database_url)


def test_restoring_over_a_site_needs_force(make_site, app_of, fixdesk, tmp_path):
    from kernel.masterdata import add_branch

    site = make_site()
    before = _site_state(site)
    archive = tmp_path / "site.tar.gz"
    assert fixdesk("--site", site.path, "backup", "-o", archive).code == 0
    (site.path / "templates").mkdir()
    (site.path / "templates" / "extra.html").write_text("made after the backup")
    app = app_of(site)
    with app.context() as ctx:
        add_branch(ctx, "NEW", "made after the backup", "urban")
    app.close()
    changed = _site_state(site)

    refused = fixdesk("--site", site.path, "restore", archive)
    assert refused.code == 2 and refused.err.count("\n") == 1, refused
    assert "not empty" in refused.err and "--force" in refused.err
    assert _site_state(site) == changed
    done = fixdesk("--site", site.path, "restore", archive, "--force")
    assert done.code == 0, done
    assert _site_state(site) == before


def _rewrite(archive: Path, change) -> None:
    """Unpack ``archive``, let ``change(folder)`` alter it, pack it again (valid gzip)."""
    folder = archive.parent / "unpacked"
    shutil.rmtree(folder, ignore_errors=True)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tar.extractall(folder, filter="data")
    change(folder)
    with tarfile.open(archive, "w:gz") as tar:
        for name in names:
            tar.add(folder / name, name)


def _newer_schema(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["alembic_heads"] = ["kernel_9999"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_damaged_or_newer_archive_is_refused_and_changes_nothing(make_site, fixdesk,
                                                                 tmp_path):
    site = make_site()
    good = tmp_path / "good.tar.gz"
    assert fixdesk("--site", site.path, "backup", "-o", good).code == 0
    data = good.read_bytes()
    third = len(data) // 3
    archives = {name: tmp_path / f"{name}.tar.gz" for name in (
        "truncated", "flipped", "member", "newer")}
    archives["truncated"].write_bytes(data[:len(data) // 2])
    archives["flipped"].write_bytes(data[:third] + bytes([data[third] ^ 0xFF])
                                    + data[third + 1:])
    for name in ("member", "newer"):
        archives[name].write_bytes(data)
    # a member changed after the manifest was written
    _rewrite(archives["member"], lambda f: (f / "files" / "site.toml").write_text("[site]\n"))
    _rewrite(archives["newer"], _newer_schema)
    before = _site_state(site)
    for name, archive in archives.items():
        for target in (site.path, tmp_path / "new"):
            done = fixdesk("--site", target, "restore", archive, "--force")
            assert done.code == 2, (name, done)
            assert done.err.count("\n") == 1 and "Traceback" not in done.err
            assert ("newer fixdesk" if name == "newer" else "not a whole fixdesk backup") \
                in done.err, (name, done)
    assert "kernel_9999" in done.err
    assert _site_state(site) == before
    assert not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fixdesk-")]


def test_the_scheduled_backup_keeps_the_newest(make_site, app_of, tmp_path):
    from kernel.backup import archives
    from kernel.jobs import Worker

    site = make_site()
    site.config.backup = {"folder": "backups", "every_hours": 24, "keep": 2}
    site.save()
    folder = site.path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an archive: kept")
    app = app_of(Site.load(site.path))
    start = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    for hours in (0, 1, 24, 25, 48, 72):  # backups at 0, 24, 48, 72 hours
        Worker(app, clock=lambda h=hours: start + dt.timedelta(hours=h)).run(once=True)
    kept = [when for when, _path in archives(folder, site)]
    assert kept == [start + dt.timedelta(hours=48), start + dt.timedelta(hours=72)]
    assert (folder / "notes.txt").read_text() == "not an archive: kept"
    # the archives in the site folder are no part of the next backup
    from kernel.backup import SQLITE_MEMBER

    with tarfile.open(archives(folder, site)[-1][1]) as tar:
        names = tar.getnames()
    assert not [n for n in names if "backups" in n]
    assert "files/site.toml" in names
    assert (SQLITE_MEMBER in names) == site.database_url.startswith("sqlite")


def test_backup_and_restore_errors_are_one_line(make_site, fixdesk, tmp_path):
    site = make_site()
    for args in (("backup", "-o", tmp_path / "missing" / "x.tar.gz"),
                 ("restore", tmp_path / "nothing.tar.gz")):
        done = fixdesk("--site", site.path, *args)
        assert done.code == 2 and done.err.count("\n") == 1, done
    site.config.backup = {"folder": "b", "keep": 0}
    site.save()
    done = fixdesk("--site", site.path, "backup")
    assert done.code == 2 and "keep" in done.err, done
    site.config.backup = {"folder": "b"}  # made on first use
    site.save()
    done = fixdesk("--site", site.path, "backup")
    assert done.code == 0, done
    assert [p.parent.name for p in (site.path / "b").glob("fixdesk-*.tar.gz")] == ["b"]
