"""Restoring a site from an archive written by ``fixdesk backup`` (:mod:`kernel.backup`).

The archive is unpacked beside the site and checked whole first (:func:`kernel.backup.unpack`):
a damaged or truncated archive, one from a newer fixdesk (a migration revision this code
does not know) or one needing plugins that are not installed changes nothing. Then the
database is replaced atomically (SQLite: a new file renamed over the old one;
PostgreSQL: restored into a new database that then takes the site database's name, the
old one dropped only then) and the files are put in place, ``site.toml`` last; an
archive from an older fixdesk is migrated.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from kernel.backup import (
    FILES,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    find_tool,
    libpq_target,
    run_tool,
    site_files,
    sqlite_path,
    tool_version,
    unpack,
)
from kernel.errors import SiteError
from kernel.i18n import _


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did: the archive's manifest, the database it wrote and the
    migration branches it upgraded (an archive of an older fixdesk)."""

    manifest: dict
    database_url: str
    migrated: list[str]


def _check_code(manifest: dict) -> bool:
    """Refuse an archive this code cannot run: plugins not installed, or a schema it does
    not know (written by a newer fixdesk). Returns whether its schema is this code's
    (every revision it records is a head here): else it is migrated after the restore."""
    from types import SimpleNamespace

    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from kernel import migrate
    from kernel.plugins import discover

    plugins = discover()
    missing = [name for name in manifest.get("plugins", []) if name not in plugins]
    if missing:
        raise SiteError(_("the backup's site uses plugins that are not installed here: "
                          "{names}").format(names=", ".join(missing)))
    script = ScriptDirectory.from_config(migrate._config(SimpleNamespace(plugins=plugins)))
    for head in manifest.get("alembic_heads", []):
        try:
            known = script.get_revision(str(head)) is not None
        except CommandError:
            known = False
        if not known:
            raise SiteError(_("the backup comes from a newer fixdesk (schema revision {rev} "
                              "is unknown here): upgrade fixdesk first").format(rev=head))
    return set(manifest.get("alembic_heads", [])) <= set(script.get_heads())


def _has_tables(url) -> bool:
    """Whether the database ``url`` exists and holds any table."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.pool import NullPool

    from kernel.db import normalize_url

    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        if not path.is_file() or path.stat().st_size == 0:
            return False
    else:
        server = create_engine(parsed.set(database="postgres"), poolclass=NullPool)
        try:
            with server.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                    {"name": parsed.database}).scalar():
                    return False
        finally:
            server.dispose()
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _restore_sqlite(dump: Path, db_path: Path) -> None:
    """Put the dumped file in place of the site's database: copied beside it, then renamed
    over it, so the database is the old one or the new one, never half of each."""
    import sqlite3

    db_path.parent.mkdir(parents=True, exist_ok=True)
    fresh = db_path.with_name(f"{db_path.name}.restore-{secrets.token_hex(4)}")
    try:
        shutil.copyfile(dump, fresh)
        os.chmod(fresh, 0o600)
        if db_path.is_file():
            # fold the old database's write-ahead log in, so that no log is left that
            # SQLite would replay onto the new file
            with contextlib.suppress(sqlite3.Error):
                old = sqlite3.connect(db_path, timeout=30)
                try:
                    old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    old.close()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(fresh, db_path)
    finally:
        fresh.unlink(missing_ok=True)


def _restore_postgres(dump: Path, url, manifest: dict, admin_url: str | None) -> None:
    """Restore the dump into a new database, then give it the site database's name (the
    old one is dropped only then, and its owner and database grants pass to the new one):
    a failed restore leaves the site as it was. Connects as ``admin_url`` (default: the
    site's own URL), a role that may create databases; objects keep the owners and
    grants they had, so the site's roles must exist on the server."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from kernel.db import normalize_url

    client = tool_version("pg_restore")
    made_by = int(manifest.get("pg_dump_version") or 0)
    if client < made_by:
        raise SiteError(_("pg_restore {client} cannot read a dump of pg_dump {made_by}: "
                          "install postgresql-client-{made_by}").format(
                              client=client, made_by=made_by))
    name = normalize_url(url).database
    admin = normalize_url(admin_url or url)
    fresh = f"{name[:40]}_restore_{secrets.token_hex(4)}"
    old = f"{name[:40]}_old_{secrets.token_hex(4)}"
    server = create_engine(admin.set(database="postgres"), poolclass=NullPool,
                           isolation_level="AUTOCOMMIT")
    quote = server.dialect.identifier_preparer.quote
    moved = False
    try:
        with server.connect() as conn:
            owner = conn.execute(text(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"),
                {"name": name}).scalar()
            grants = conn.execute(text(
                "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) "
                "END, a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
                "WHERE d.datname = :name AND a.grantee <> d.datdba"), {"name": name}).all()
            conn.exec_driver_sql(f"CREATE DATABASE {quote(fresh)} ENCODING 'UTF8' "
                                 "TEMPLATE template0"
                                 + (f" OWNER {quote(owner)}" if owner else ""))
        try:
            uri, env = libpq_target(admin.set(database=fresh))
            run_tool([find_tool("pg_restore"), "--exit-on-error", "--single-transaction",
                      "--no-password", f"--dbname={uri}", str(dump)], env)
            with server.connect() as conn:
                if owner is not None:
                    if grants:  # the old database's own grants (a site with roles)
                        conn.exec_driver_sql(f"REVOKE ALL ON DATABASE {quote(fresh)} "
                                             "FROM PUBLIC")
                    for grantee, privilege in grants:
                        conn.exec_driver_sql(
                            f"GRANT {privilege} ON DATABASE {quote(fresh)} TO "
                            + ("PUBLIC" if grantee == "PUBLIC" else quote(grantee)))
                    conn.exec_driver_sql(f"ALTER DATABASE {quote(name)} "
                                         "ALLOW_CONNECTIONS false")
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :name AND pid <> pg_backend_pid()"),
                                 {"name": name})
                    conn.exec_driver_sql(f"ALTER DATABASE {quote(name)} RENAME TO {quote(old)}")
                    moved = True
                conn.exec_driver_sql(f"ALTER DATABASE {quote(fresh)} RENAME TO {quote(name)}")
                moved = False
                if owner is not None:
                    conn.exec_driver_sql(f"DROP DATABASE {quote(old)} WITH (FORCE)")
        except BaseException:
            with server.connect() as conn:
                if moved:  # the old database goes back under its name
                    conn.exec_driver_sql(f"ALTER DATABASE {quote(old)} RENAME TO {quote(name)}")
                if owner is not None:
                    conn.exec_driver_sql(f"ALTER DATABASE {quote(name)} "
                                         "ALLOW_CONNECTIONS true")
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(fresh)} WITH (FORCE)")
            raise
    except SQLAlchemyError as exc:
        raise SiteError(_("cannot restore the database {name}: {error}").format(
            name=name, error=str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
        ) from exc
    finally:
        server.dispose()


def _site_toml(staged: Path, site_dir: Path, db_url: str | None) -> tuple[bytes, str]:
    """The site.toml to restore and the database URL it names: the archive's, with the
    database URL given, or else the one of the site being replaced (a restore never moves
    a site to another database by itself)."""
    import tomli_w

    from kernel.site import SITE_FILE, Site

    raw = staged.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteError(_("the backup's site.toml cannot be read: {error}").format(
            error=exc)) from exc
    archived = str(data.get("database", {}).get("url", "sqlite:///fixdesk.sqlite3"))
    wanted = db_url
    if wanted is None and (site_dir / SITE_FILE).is_file():
        with contextlib.suppress(SiteError):
            wanted = Site.load(site_dir).config.database_url
    if wanted is None or wanted == archived:
        return raw, archived
    data.setdefault("database", {})["url"] = wanted
    return tomli_w.dumps(data).encode("utf-8"), wanted


def _occupied(site_dir: Path, url: str, archive: Path) -> bool:
    """Whether restoring would overwrite anything: files in the site folder (the archive
    itself and the folder holding it aside) or tables in its database."""
    archive = archive.resolve()
    if site_dir.is_dir():
        for entry in site_dir.iterdir():
            entry = entry.resolve()
            if entry != archive and not archive.is_relative_to(entry):
                return True
    return _has_tables(url)


def restore(site_dir: str | os.PathLike, archive: str | os.PathLike, *, force: bool = False,
            db_url: str | None = None, admin_url: str | None = None) -> Restored:
    """Restore the site in ``site_dir`` from ``archive`` (written by :func:`backup`).

    Refused, with nothing changed: a damaged archive, one from a newer fixdesk or needing
    plugins not installed, another kind of database than the site's, and (without
    ``force``) a site folder or database that holds anything. The database goes to
    ``db_url``, else the site's current one, else the archive's; an older schema is
    migrated. On PostgreSQL ``admin_url`` (default: the site's URL) names the role that
    creates the new database and restores into it. Stop the site's servers and workers
    first."""
    from kernel.site import SITE_FILE, Site

    site_dir = Path(site_dir).absolute()
    archive = Path(archive)
    if not archive.is_file():
        raise SiteError(_("no backup at {path}").format(path=archive))
    if site_dir.exists() and not site_dir.is_dir():
        raise SiteError(_("{path} is not a folder").format(path=site_dir))
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fixdesk-restore-", dir=site_dir.parent))
    try:
        manifest = unpack(archive, staging)
        current = _check_code(manifest)
        toml, url = _site_toml(staging / FILES / SITE_FILE, site_dir, db_url)
        target = Site(site_dir, Site.load(staging / FILES).config)
        target.config.database_url = url
        url = target.database_url
        db_path = sqlite_path(url)
        if (db_path is not None) != (manifest["database"] == "sqlite"):
            raise SiteError(_("the backup holds a {kind} database, the site uses another "
                              "kind").format(kind=manifest["database"]))
        if not force and _occupied(site_dir, url, archive):
            raise SiteError(_("{path} is not empty: pass --force to replace its database "
                              "and files").format(path=site_dir))
        if db_path is not None:
            _restore_sqlite(staging / SQLITE_MEMBER, db_path)
        else:
            _restore_postgres(staging / POSTGRES_MEMBER, url, manifest, admin_url)
        _put_files(staging / FILES, site_dir, db_path, toml, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Restored(manifest, url, [] if current else _migrate(site_dir))


def _put_files(staged: Path, site_dir: Path, db_path: Path | None, toml: bytes,
               archive: Path) -> None:
    """Move the archive's files into the site folder (renames: the staging folder is
    beside it), delete data files the archive does not have, write site.toml last."""
    from kernel.site import SITE_FILE

    site_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    incoming = site_files(staged)
    keep = [archive.resolve().parent] + [folder for folder in (
        _backup_folder(site_dir, site_dir), _backup_folder(staged, site_dir)) if folder]
    for name, path in site_files(site_dir, database=db_path, skip=tuple(keep)).items():
        if name not in incoming and path != archive.resolve():
            path.unlink(missing_ok=True)
    for name, path in incoming.items():
        if name == SITE_FILE:
            continue
        target = site_dir / name
        for folder in reversed(target.relative_to(site_dir).parents[:-1]):
            (site_dir / folder).mkdir(mode=0o750, exist_ok=True)
        os.replace(path, target)
    final = site_dir / SITE_FILE
    scratch = site_dir / f"{SITE_FILE}.tmp"
    scratch.write_bytes(toml)
    os.chmod(scratch, (staged / SITE_FILE).stat().st_mode & 0o777)
    os.replace(scratch, final)


def _backup_folder(toml_folder: Path, site_dir: Path) -> Path | None:
    """The ``[backup]`` folder that the site.toml in ``toml_folder`` names for the site in
    ``site_dir`` (its archives are never deleted by a restore), or None."""
    from kernel.backup import policy
    from kernel.site import Site

    try:
        plan = policy(Site(site_dir, Site.load(toml_folder).config))
    except SiteError:
        return None
    return plan.folder if plan is not None else None


def _migrate(site_dir: Path) -> list[str]:
    """Upgrade a restored site whose schema is older than this code's."""
    from kernel import migrate
    from kernel.site import Site

    app = Site.load(site_dir).start(owner=True)
    try:
        if all(state.up_to_date for state in migrate.migration_states(app).values()):
            return []
        return migrate.upgrade(app)
    finally:
        app.close()
