"""Typed errors every layer understands.

The CLI turns a :class:`FixdeskError` into one line on stderr and exit code 2;
the web layer turns it into a 4xx JSON body. Anything else is a bug.
"""

from __future__ import annotations


class FixdeskError(Exception):
    """A problem the user can fix: bad input, a missing site, a refused action."""

    #: HTTP status the web layer answers with
    status = 400
    #: stable machine-readable code for API clients
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(FixdeskError):
    """A value is missing or malformed; ``field`` names it."""

    status = 422
    code = "validation_error"


class NotFound(FixdeskError):
    """The record or object does not exist (or is invisible to this user)."""

    status = 404
    code = "not_found"


class Conflict(FixdeskError):
    """The action clashes with the current state (duplicate, wrong status, dependency)."""

    status = 409
    code = "conflict"


class SiteError(FixdeskError):
    """The site folder or its ``site.toml`` is missing or invalid."""

    code = "site_error"


class PluginError(FixdeskError):
    """A plugin cannot be enabled, disabled or loaded."""

    status = 409
    code = "plugin_error"


class Unavailable(FixdeskError):
    """The site cannot do it now, through no fault of the request: its disk is full, its
    folder read-only, its database unreachable or busy (:mod:`kernel.health`). The web
    layer answers 503 with ``Retry-After``; ``code`` names the cause."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 5):
        super().__init__(message)
        if code:
            self.code = code
        self.retry_after = retry_after
