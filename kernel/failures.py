"""What the machine did to a request: a full disk, a read-only folder, a database that
went away or is busy.

:func:`trouble` turns the low-level error of such a failure (SQLite's "database or
disk is full", a lost PostgreSQL connection, ``ENOSPC`` from writing a file) into an
:class:`~kernel.errors.Unavailable` the web layer answers with 503 (``Retry-After``)
and the CLI with one line. :mod:`kernel.health` checks for the same causes.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile

from kernel.errors import Unavailable
from kernel.i18n import N_, _

DISK_FULL = "disk_full"
READ_ONLY = "read_only"
DATABASE_DOWN = "database_unavailable"
DATABASE_BUSY = "database_busy"

MESSAGES = {
    DISK_FULL: N_("the site's disk is full: free some space on the server, then try again"),
    READ_ONLY: N_("the site folder is read-only: the server cannot write its database or "
                  "files"),
    DATABASE_DOWN: N_("the database is unavailable, try again in a moment"),
    DATABASE_BUSY: N_("the database is busy, try again in a moment"),
}
#: seconds a client should wait before trying again (the ``Retry-After`` header)
RETRY_AFTER = {DISK_FULL: 60, READ_ONLY: 60, DATABASE_DOWN: 5, DATABASE_BUSY: 2}

#: PostgreSQL error codes (SQLSTATE): disk full; a read-only transaction (a standby)
_PG_DISK_FULL = {"53100"}
_PG_READ_ONLY = {"25006"}


def unavailable(code: str) -> Unavailable:
    """The :class:`Unavailable` error for one of the causes above, in the current language."""
    return Unavailable(_(MESSAGES[code]), code=code, retry_after=RETRY_AFTER[code])


def trouble(exc: BaseException, site_path: str | os.PathLike | None = None) -> Unavailable | None:
    """What the site cannot do because of ``exc`` (a database or file error), or None when
    ``exc`` is something else (a bug, bad input). ``site_path``: the site folder, looked
    at when the error alone does not tell a read-only folder from another failure."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, Unavailable):
        return exc
    if isinstance(exc, OSError):
        return _os_trouble(exc, site_path)
    if isinstance(exc, PoolTimeout):  # every pooled connection is in use
        return unavailable(DATABASE_BUSY)
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    text = str(orig).lower()
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_DISK_FULL or "disk is full" in text or "no space left" in text:
        return unavailable(DISK_FULL)
    if sqlstate in _PG_READ_ONLY or "readonly database" in text \
            or "read-only file system" in text:
        return unavailable(READ_ONLY)
    if "database is locked" in text or "database table is locked" in text:
        return unavailable(DATABASE_BUSY)
    if "unable to open database file" in text or "disk i/o error" in text:
        # SQLite cannot create its -wal/-shm files or write its pages: why?
        if site_path is not None and not folder_writable(site_path):
            return unavailable(READ_ONLY)
        if site_path is not None and free_mb(site_path) < 1:
            return unavailable(DISK_FULL)
        return unavailable(DATABASE_DOWN)
    if exc.connection_invalidated:
        return unavailable(DATABASE_DOWN)
    dialect = type(orig).__module__.split(".")[0]
    if dialect == "psycopg" and isinstance(exc, OperationalError | InterfaceError):
        # the connection was lost or refused, the server shuts down, too many clients
        return unavailable(DATABASE_DOWN)
    return None


def _os_trouble(exc: OSError, site_path) -> Unavailable | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return unavailable(DISK_FULL)
    if exc.errno == errno.EROFS:
        return unavailable(READ_ONLY)
    if exc.errno in (errno.EACCES, errno.EPERM) and site_path is not None \
            and not folder_writable(site_path):
        return unavailable(READ_ONLY)
    return None


def folder_writable(path: str | os.PathLike) -> bool:
    """Whether a file can really be made in ``path`` (a mode, a read-only mount and an
    immutable attribute all count; root ignores only the first)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".fixdesk-probe-", dir=path)
    except OSError as exc:
        # a full disk still lets us make an empty file; anything else means: not writable
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    os.close(fd)
    os.unlink(name)
    return True


def free_mb(path: str | os.PathLike) -> float:
    """Free space on the disk of ``path``, in MB (for this user)."""
    return shutil.disk_usage(path).free / (1024 * 1024)
