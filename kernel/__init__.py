"""fixdesk kernel: the public API a plugin may import.

Importing this package is cheap and has no side effects: nothing is
discovered, registered or connected until a site starts.
"""

from kernel.context import Context
from kernel.contributions import Document, Permission, ScheduledJob, Setting
from kernel.db import (
    Base,
    BranchMixin,
    CompanyMixin,
    IdMixin,
    Money,
    TimestampMixin,
    UTCDateTime,
)
from kernel.errors import (
    Conflict,
    FixdeskError,
    NotFound,
    PluginError,
    SiteError,
    ValidationError,
)
from kernel.hookspecs import hookimpl, hookspec

__all__ = [
    "Base",
    "BranchMixin",
    "CompanyMixin",
    "Conflict",
    "Context",
    "Document",
    "FixdeskError",
    "IdMixin",
    "Money",
    "NotFound",
    "Permission",
    "PluginError",
    "ScheduledJob",
    "Setting",
    "SiteError",
    "TimestampMixin",
    "UTCDateTime",
    "ValidationError",
    "hookimpl",
    "hookspec",
]
