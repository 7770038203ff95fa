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
from pathlib import Path

from itsdangerous import BadSignature, Signer

SECRET_FILE = "secret.key"
SECRET_ENV = "FIXDESK_SECRET_KEY"


def _read_or_create(path: Path) -> str:
    """The secret in ``path``; created atomically (O_EXCL) so that two processes starting
    together agree on one key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        value = secrets.token_urlsafe(48)
        fh.write(value + "\n")
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
