"""Backup and restore of a whole site: its database and the files in its folder.

``fixdesk backup`` writes one ``.tar.gz`` archive::

    database/fixdesk.sqlite3      an SQLite copy made with SQLite's online backup API
    database/fixdesk.pgdump       or pg_dump --format=custom of the PostgreSQL database
    files/site.toml               every data file of the site folder: site.toml,
    files/secret.key              the signing key, templates/, files/attachments/,
    files/templates/...           assets/ ... (caches and the database file itself are
    files/files/attachments/...   left out, see :data:`LEFT_OUT`)
    manifest.json                 the fixdesk version, site name, database kind, Alembic
                                  heads, plugins, creation time, sha256 and size of each
                                  member

Both dumps are consistent while the site serves (one snapshot; the backup API copies
the database in one read transaction). Restoring (``fixdesk restore``) first unpacks
the whole archive beside the site and checks every member against the manifest: a
damaged or truncated archive, one from a newer fixdesk (a migration revision this code
does not know) or one needing plugins that are not installed changes nothing; then
:mod:`kernel.restore` replaces the database atomically and puts the files in place.

The scheduled job ``kernel.backup`` writes archives into the folder the ``[backup]``
table of ``site.toml`` names, every ``every_hours``, and keeps the ``keep`` newest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import SiteError
from kernel.i18n import _

#: the version of the archive layout (the manifest's ``format``)
FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/fixdesk.sqlite3"
POSTGRES_MEMBER = "database/fixdesk.pgdump"
FILES = "files/"
SUFFIX = ".tar.gz"
#: what of a site folder is not data, relative to it: caches made again when needed
#: (thumbnails of attachments, print spool of finished batches)
LEFT_OUT = (Path("files") / "thumbnails", Path("spool"))
#: scratch files of fixdesk itself (half-written files, temporary folders), and archives
#: (a backup never holds another)
SCRATCH = re.compile(r"^(\.fixdesk-|\.secret-)|\.tmp$|\.restore-[0-9a-f]+$"
                     r"|^fixdesk-.+\.tar\.gz$")
#: the ``[backup]`` table of site.toml and its defaults
DEFAULT_EVERY_HOURS = 24
DEFAULT_KEEP = 14
#: the largest manifest read (a manifest lists one line per file)
MAX_MANIFEST = 64 * 1024 * 1024
#: the scheduled job (:func:`scheduled_backup`) and how often the worker asks it
JOB_NAME = "kernel.backup"
TICK_SECONDS = 3600
#: a scheduled backup may start this much before ``every_hours`` have passed (the
#: worker's ticks are not exactly on the hour)
SLACK = dt.timedelta(minutes=10)


class DamagedArchive(SiteError):
    """The archive is not one ``fixdesk backup`` wrote, or not whole."""


# --------------------------------------------------------------------------
# the [backup] table of site.toml
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Scheduled backups of a site: where, how often, how many are kept."""

    folder: Path
    every_hours: int = DEFAULT_EVERY_HOURS
    keep: int = DEFAULT_KEEP


def _whole(table: dict, key: str, default: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise SiteError(_("[backup] {key} must be a whole number from 1 to {high}, "
                          "not {value!r}").format(key=key, high=high, value=value))
    return value


def policy(site) -> Policy | None:
    """The site's scheduled backups (``[backup]`` in site.toml), None when no ``folder``
    is set; a relative folder is inside the site folder. Bad values raise
    :class:`SiteError`."""
    table = getattr(site.config, "backup", None) or {}
    if not isinstance(table, dict):
        raise SiteError(_("[backup] in site.toml must be a table"))
    unknown = sorted(set(table) - {"folder", "every_hours", "keep"})
    if unknown:
        raise SiteError(_("[backup] in site.toml: unknown key {key!r} (folder, every_hours, "
                          "keep)").format(key=unknown[0]))
    folder = table.get("folder")
    if folder is None:
        return None
    if not isinstance(folder, str) or not folder.strip():
        raise SiteError(_("[backup] folder must be the path of a folder"))
    return Policy(site.path / Path(folder).expanduser(),
                  _whole(table, "every_hours", DEFAULT_EVERY_HOURS, 24 * 366),
                  _whole(table, "keep", DEFAULT_KEEP, 100000))


def archive_name(site, when: dt.datetime) -> str:
    """``fixdesk-<site>-<UTC time>.tar.gz``: archives of one site sort by time."""
    return f"fixdesk-{_safe_name(site.name)}-{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "site"


def archives(folder: Path, site) -> list[tuple[dt.datetime, Path]]:
    """The site's archives in ``folder`` named by :func:`archive_name`, oldest first
    (other files are never counted, nor deleted)."""
    pattern = re.compile(rf"^fixdesk-{re.escape(_safe_name(site.name))}-"
                         rf"(\d{{8}}T\d{{6}}Z){re.escape(SUFFIX)}$")
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = pattern.match(path.name)
            if match and path.is_file():
                when = dt.datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
                found.append((when, path))
    return sorted(found)


def prune(folder: Path, site, keep: int) -> list[Path]:
    """Delete the site's archives in ``folder`` beyond the ``keep`` newest; returns them."""
    found = archives(folder, site)
    gone = [path for _when, path in found[:max(len(found) - keep, 0)]]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


# --------------------------------------------------------------------------
# what a site folder holds
# --------------------------------------------------------------------------


def sqlite_path(url) -> Path | None:
    from kernel.db import normalize_url

    parsed = normalize_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" else None


def _database_files(db_path: Path | None) -> set[Path]:
    if db_path is None:
        return set()
    return {Path(f"{db_path}{suffix}").resolve() for suffix in ("", "-wal", "-shm", "-journal")}


def site_files(folder: Path, *, database: Path | None = None,
               skip: tuple[Path, ...] = ()) -> dict[str, Path]:
    """The data files of a site folder by their path inside it (``/``-separated): every
    regular file except the database's own files, :data:`LEFT_OUT`, fixdesk's scratch
    files and archives (:data:`SCRATCH`) and the folders in ``skip`` (a backup folder
    inside the site). Symbolic links are not followed."""
    folder = folder.resolve()
    left_out = {folder / part for part in LEFT_OUT} | {p.resolve() for p in skip}
    database_files = _database_files(database)
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if here / d not in left_out and not SCRATCH.search(d)
                         and not (here / d).is_symlink())
        for name in sorted(names):
            path = here / name
            if SCRATCH.search(name) or path in database_files or path.is_symlink() \
                    or not path.is_file():
                continue
            found[path.relative_to(folder).as_posix()] = path
    return found


# --------------------------------------------------------------------------
# PostgreSQL tools
# --------------------------------------------------------------------------


def libpq_target(url) -> tuple[str, dict]:
    """A libpq connection URI for ``url`` without its password, and the environment
    carrying the password (never on a command line others can read)."""
    from kernel.db import normalize_url

    parsed = normalize_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return uri, env


def find_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SiteError(_("{tool} not found: install the PostgreSQL client programs "
                          "(Debian: apt install postgresql-client)").format(tool=name))
    return found


def tool_version(name: str) -> int:
    """The major version of a PostgreSQL client program (``pg_dump`` → 15)."""
    done = run_tool([find_tool(name), "--version"], os.environ)
    match = re.search(r"(\d+)(?:\.\d+)?", done)
    if match is None:
        raise SiteError(_("cannot tell the version of {tool}: {text}").format(
            tool=name, text=done.strip()))
    return int(match[1])


def run_tool(args: list[str], env: dict) -> str:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False,
                              timeout=24 * 3600)
    except OSError as exc:
        raise SiteError(_("{tool} failed: {error}").format(tool=Path(args[0]).name,
                                                           error=exc)) from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or [
            f"exit {done.returncode}"]
        raise SiteError(_("{tool} failed: {error}").format(tool=Path(args[0]).name,
                                                           error=lines[0]))
    return done.stdout


def _server_version(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000


def _pg_dump(url, target: Path) -> int:
    """Dump the database (one snapshot) in pg_dump's custom format; returns pg_dump's
    major version. Refused when pg_dump is older than the server (it would fail or
    miss what is new)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from kernel.db import normalize_url

    engine = create_engine(normalize_url(url), poolclass=NullPool)
    try:
        server = _server_version(engine)
    finally:
        engine.dispose()
    client = tool_version("pg_dump")
    if client < server:
        raise SiteError(_("pg_dump {client} cannot dump a PostgreSQL {server} server: install "
                          "postgresql-client-{server}").format(client=client, server=server))
    uri, env = libpq_target(url)
    run_tool([find_tool("pg_dump"), "--format=custom", "--no-password", f"--file={target}",
          f"--dbname={uri}"], env)
    return client


# --------------------------------------------------------------------------
# backup
# --------------------------------------------------------------------------


class _Hashing:
    """A file read through: counts and hashes what tarfile copies into the archive."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, members: dict) -> None:
    with open(path, "rb") as handle:
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _Hashing(handle)
        tar.addfile(info, reader)
    members[name] = {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database with its online backup API (one consistent snapshot,
    writers go on meanwhile)."""
    import sqlite3

    if not source.is_file():
        raise SiteError(_("the site's database {path} does not exist").format(path=source))
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _heads_of(url) -> list[str]:
    """The Alembic revisions recorded in a database."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.pool import NullPool

    from kernel.db import normalize_url

    engine = create_engine(normalize_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return []
            return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def _fixdesk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fixdesk")
    except PackageNotFoundError:
        return "unknown"


def backup(site, output: str | os.PathLike | None = None, *,
           now: dt.datetime | None = None) -> Path:
    """Write one archive of ``site`` (database and data files) and return its path.

    ``output``: the archive's path, or a folder to write it into under
    :func:`archive_name`; default the ``[backup]`` folder, else the current folder. The
    archive appears whole or not at all (written beside, then renamed) and only its
    owner may read it: it holds the site's secrets (signing key, SMTP password)."""
    from kernel.db import utcnow

    now = now or utcnow()
    plan = policy(site)
    if output is None:
        target = plan.folder if plan is not None else Path.cwd()
        with contextlib.suppress(OSError):  # made on first use; a failure is told below
            target.mkdir(mode=0o750, parents=True, exist_ok=True)
    else:
        target = Path(output)
    if target.is_dir() or str(output or "").endswith(("/", os.sep)):
        target = target / archive_name(site, now)
    if not target.parent.is_dir():
        raise SiteError(_("no folder {path} to write the backup into").format(
            path=target.parent))
    db_path = sqlite_path(site.database_url)
    kind = "sqlite" if db_path is not None else "postgresql"
    skip = (plan.folder,) if plan is not None else ()
    skip += (target.parent,) if target.parent.resolve().is_relative_to(site.path) and \
        target.parent.resolve() != site.path else ()
    try:
        scratch = Path(tempfile.mkdtemp(prefix=".fixdesk-backup-", dir=target.parent))
    except OSError as exc:
        raise SiteError(_("cannot write into {path}: {error}").format(
            path=target.parent, error=exc.strerror or exc)) from exc
    try:
        manifest = {"format": FORMAT, "fixdesk_version": _fixdesk_version(),
                    "site": site.name, "database": kind,
                    "plugins": list(site.config.plugins),
                    "created_at": now.astimezone(dt.UTC).isoformat(timespec="seconds")}
        dump = scratch / "database"
        if kind == "sqlite":
            _sqlite_copy(db_path, dump)
            os.chmod(dump, 0o600)
            manifest["alembic_heads"] = _heads_of(f"sqlite:///{dump}")
        else:
            manifest["pg_dump_version"] = _pg_dump(site.database_url, dump)
            os.chmod(dump, 0o600)
            manifest["alembic_heads"] = _heads_of(site.database_url)
        members: dict[str, dict] = {}
        partial = scratch / "archive"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            _add(tar, SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER, dump, members)
            for name, path in site_files(site.path, database=db_path, skip=skip).items():
                _add(tar, FILES + name, path, members)
            manifest["members"] = members
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
            tar.addfile(info, _Hashing(_BytesReader(data)))
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except OSError as exc:
        raise SiteError(_("cannot write the backup {path}: {error}").format(
            path=target, error=exc.strerror or exc)) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else self.at + size
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


# --------------------------------------------------------------------------
# reading an archive
# --------------------------------------------------------------------------


def _member_path(name: str) -> bool:
    """Whether an archive member's name is one :func:`backup` writes (never absolute,
    never climbing out with ``..``)."""
    if name in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER):
        return True
    if not name.startswith(FILES) or "\\" in name or "\x00" in name:
        return False
    parts = name[len(FILES):].split("/")
    return all(part not in ("", ".", "..") for part in parts)


def _damaged(archive: Path, why: str) -> DamagedArchive:
    return DamagedArchive(_("{path} is not a whole fixdesk backup: {why}").format(
        path=archive, why=why))


def unpack(archive: Path, staging: Path) -> dict:
    """Unpack ``archive`` into ``staging`` and check it: every member a regular file
    with a name :func:`backup` writes, each listed in the manifest with its size and
    sha256, none missing. Returns the manifest; :class:`DamagedArchive` otherwise."""
    seen: dict[str, dict] = {}
    manifest_data = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if not member.isfile() or not _member_path(name) or name in seen or \
                        (name == MANIFEST and manifest_data is not None):
                    raise _damaged(archive, _("unexpected member {name!r}").format(name=name))
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST:
                        raise _damaged(archive, _("the manifest is too large"))
                    manifest_data = source.read()
                    continue
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                reader = _Hashing(source)
                with open(path, "wb") as out:
                    shutil.copyfileobj(reader, out, 1024 * 1024)
                os.chmod(path, member.mode & 0o777 or 0o600)
                seen[name] = {"sha256": reader.digest.hexdigest(), "size": reader.size}
            # read the compressed stream to its end: its checksum covers the padding too
            while tar.fileobj.read(1024 * 1024):
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(archive, str(exc) or type(exc).__name__) from exc
    except OSError as exc:
        raise SiteError(_("cannot read {path}: {error}").format(
            path=archive, error=exc.strerror or exc)) from exc
    if manifest_data is None:
        raise _damaged(archive, _("no manifest"))
    try:
        manifest = json.loads(manifest_data)
        members = manifest["members"]
        if not isinstance(members, dict):
            raise TypeError
    except (ValueError, TypeError, KeyError) as exc:
        raise _damaged(archive, _("unreadable manifest")) from exc
    if manifest.get("format") != FORMAT:
        raise _damaged(archive, _("unknown format {format!r}").format(
            format=manifest.get("format")))
    for name in sorted(set(members) | set(seen)):
        if members.get(name) != seen.get(name):
            why = _("{name} is missing") if name not in seen else \
                _("{name} is not in the manifest") if name not in members else \
                _("{name} does not match its checksum")
            raise _damaged(archive, why.format(name=name))
    kind = manifest.get("database")
    expected = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}.get(kind)
    if expected is None or expected not in seen or f"{FILES}site.toml" not in seen:
        raise _damaged(archive, _("no database or no site.toml"))
    return manifest


# --------------------------------------------------------------------------
# the scheduled job
# --------------------------------------------------------------------------


def schedules(site) -> list:
    """The scheduled job ``kernel.backup`` when the site's ``[backup]`` table names a
    folder (asked every :data:`TICK_SECONDS`), else none: a site without backups queues
    no job for them."""
    from kernel.contributions import ScheduledJob

    table = getattr(site.config, "backup", None)
    if not isinstance(table, dict) or not table.get("folder"):
        return []
    return [ScheduledJob(JOB_NAME, scheduled_backup, interval_seconds=TICK_SECONDS)]



def scheduled_backup(run) -> None:
    """The job ``kernel.backup`` (asked every hour): when the site's ``[backup]`` table
    names a folder and its newest archive there is ``every_hours`` old, write a new one
    and delete those beyond the ``keep`` newest. One backup at a time per folder (a lock
    file), however many workers run."""
    import fcntl

    site = run.app.site
    plan = policy(site)
    if plan is None:
        return
    now = run.clock()
    plan.folder.mkdir(parents=True, exist_ok=True)
    with open(plan.folder / ".fixdesk-backup.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker is writing one
        found = archives(plan.folder, site)
        if found and now - found[-1][0] < dt.timedelta(hours=plan.every_hours) - SLACK:
            return
        backup(site, plan.folder / archive_name(site, now), now=now)
        prune(plan.folder, site, plan.keep)
