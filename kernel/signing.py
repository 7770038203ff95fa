"""Signed tokens for links that work without a login (a survey link printed as a QR code).

The key is the site's secret: ``FIXDESK_SECRET_KEY`` when set (several machines
serving one site), else the file ``secret.key`` in the site folder, made on first
use with a random value and readable by its owner only. Every token is signed for
one *purpose* (itsdangerous' salt), so a token made for one kind of link never
opens another. A token says nothing secret; it proves the site made it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from itsdangerous import BadSignature, Signer

SECRET_FILE = "secret.key"
SECRET_ENV = "FIXDESK_SECRET_KEY"


def _read_or_create(path: Path) -> str:
    """The secret in ``path``. A new one is written to a private temporary file first and
    then linked into place, which fails if another process got there first: so two
    processes starting together agree on one key, and nobody reads a half-written file."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    value = secrets.token_urlsafe(48)
    fd, scratch = tempfile.mkstemp(prefix=".secret-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:  # mkstemp makes it 0600
            fh.write(value + "\n")
        os.link(scratch, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        os.unlink(scratch)
    return value


def site_secret(site) -> str:
    """The site's signing key (see the module docstring)."""
    from_env = os.environ.get(SECRET_ENV, "").strip()
    if from_env:
        return from_env
    cached = site.__dict__.get("_secret")
    if cached is None:
        site.path.mkdir(parents=True, exist_ok=True)
        cached = site.__dict__["_secret"] = _read_or_create(site.path / SECRET_FILE)
    return cached


def _signer(app, purpose: str) -> Signer:
    return Signer(site_secret(app.site), salt=f"fixdesk.{purpose}", sep=".")


def sign(app, purpose: str, value: str) -> str:
    """``value`` with its signature for ``purpose`` (URL-safe when ``value`` is)."""
    return _signer(app, purpose).sign(value).decode("ascii")


def unsign(app, purpose: str, token: str) -> str | None:
    """The value of a token signed for ``purpose``; None when it was altered or forged."""
    try:
        return _signer(app, purpose).unsign(token).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
