"""Is the site able to serve: the checks of ``/healthz`` and ``/readyz``.

:func:`health` and :func:`readiness` are what ``/healthz`` and ``/readyz`` report;
:func:`refuse_read_only` is what ``fixdesk serve`` checks before it starts. What a
failed request answers is :mod:`kernel.failures`.
"""

from __future__ import annotations

import os
from pathlib import Path

from kernel.errors import SiteError
from kernel.failures import (
    DATABASE_DOWN,
    DISK_FULL,
    MESSAGES,
    READ_ONLY,
    folder_writable,
    free_mb,
    trouble,
    unavailable,
)
from kernel.i18n import _

#: below this much free space (MB) on the site folder's disk, ``/healthz`` is unhealthy
#: (``FIXDESK_MIN_FREE_MB`` changes it)
MIN_FREE_MB = 100
MIN_FREE_ENV = "FIXDESK_MIN_FREE_MB"


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------


def min_free_mb() -> float:
    """The free space below which the site counts as short of disk (MB)."""
    try:
        return float(os.environ.get(MIN_FREE_ENV, MIN_FREE_MB))
    except ValueError:
        return float(MIN_FREE_MB)


def _sqlite_file(app) -> Path | None:
    url = app.engine.url
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def read_only_reason(site) -> str | None:
    """Why ``site`` cannot be written (its folder, its SQLite database file), or None."""
    from sqlalchemy.engine import make_url

    if not folder_writable(site.path):
        return _(MESSAGES[READ_ONLY])
    url = make_url(site.database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database)
        for path in (database.parent, *(p for p in (database, Path(f"{database}-wal"),
                                                    Path(f"{database}-shm")) if p.exists())):
            writable = folder_writable(path) if path.is_dir() else _file_writable(path)
            if not writable:
                return _(MESSAGES[READ_ONLY])
    return None


def _file_writable(path: Path) -> bool:
    # access(2), never open(): closing any descriptor of an SQLite file drops every POSIX
    # lock this process holds on it, and the serving connections' writes then corrupt it.
    # access() still says no for a read-only mount (EROFS) and an immutable file, as root.
    return os.access(path, os.W_OK)


def refuse_read_only(site) -> None:
    """Raise :class:`SiteError` (one line for ``fixdesk serve``) when ``site`` is read-only."""
    reason = read_only_reason(site)
    if reason:
        raise SiteError(_("{reason} ({path})").format(reason=reason, path=site.path))


def _check(ok: bool, message: str | None = None, **details) -> dict:
    return {"ok": ok, **({"message": message} if message else {}), **details}


def database_check(app) -> dict:
    """The database answers a query."""
    from sqlalchemy import text

    try:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure: report it, never raise from a health check
        problem = trouble(exc, app.site.path) or unavailable(DATABASE_DOWN)
        return _check(False, problem.message, code=problem.code)
    return _check(True)


def writable_check(app) -> dict:
    """The site folder (and an SQLite database) can be written; PostgreSQL is not a
    read-only standby."""
    reason = read_only_reason(app.site)
    if reason:
        return _check(False, reason, code=READ_ONLY)
    if _sqlite_file(app) is None:
        from sqlalchemy import text

        try:
            with app.engine.connect() as conn:
                if conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                    return _check(False, _(MESSAGES[READ_ONLY]), code=READ_ONLY)
        except Exception:  # unreachable: the database check says so
            return _check(False, _(MESSAGES[DATABASE_DOWN]), code=DATABASE_DOWN)
    return _check(True)


def disk_check(app) -> dict:
    """The disk of the site folder (and of an SQLite database) has space left."""
    folders = {app.site.path}
    database = _sqlite_file(app)
    if database is not None:
        folders.add(database.parent)
    free = min(free_mb(folder) for folder in folders)
    limit = min_free_mb()
    details = {"free_mb": round(free, 1), "min_free_mb": limit}
    if free < limit:
        return _check(False, _(MESSAGES[DISK_FULL]), code=DISK_FULL, **details)
    return _check(True, **details)


def migrations_check(app) -> dict:
    """The database is at the head of every migration branch the site upgrades."""
    try:
        script, wanted = _migration_heads(app)
        from kernel.migrate import applied_revisions

        applied = applied_revisions(app, script)
    except Exception as exc:  # unreachable or unreadable: say so, never raise
        problem = trouble(exc, app.site.path) or unavailable(DATABASE_DOWN)
        return _check(False, problem.message, code=problem.code)
    if not wanted <= applied:
        return _check(False, _("the database schema is older than this fixdesk: run "
                               "`fixdesk migrate`"), code="migrations_pending")
    return _check(True)


def _migration_heads(app):
    """The site's migration scripts and the newest revision of each branch it upgrades
    (read once per app: the code does not change while it runs)."""
    cached = app.__dict__.get("_health_migrations")
    if cached is None:
        from alembic.script import ScriptDirectory

        from kernel.migrate import _config, migration_states

        script = ScriptDirectory.from_config(_config(app))
        wanted = {state.head for state in migration_states(app).values()}
        cached = app.__dict__["_health_migrations"] = (script, wanted)
    return cached


def health(app) -> tuple[bool, dict]:
    """Every check ``/healthz`` reports: (all passed, ``{name: {"ok", "message"?, ...}}``)."""
    checks = {"database": database_check(app), "writable": writable_check(app),
              "disk": disk_check(app), "migrations": migrations_check(app)}
    return all(check["ok"] for check in checks.values()), checks


def readiness(app) -> tuple[bool, dict]:
    """What ``/readyz`` reports: the database answers and its schema is current."""
    checks = {"database": database_check(app)}
    checks["migrations"] = migrations_check(app) if checks["database"]["ok"] else \
        _check(False, checks["database"].get("message"), code=checks["database"].get("code"))
    return all(check["ok"] for check in checks.values()), checks
