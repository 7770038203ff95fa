"""The explicit context every service and hook receives (no thread-local globals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kernel.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kernel.site import App


@dataclass
class Context:
    """One unit of work: the session of its transaction, the running app, who and when.

    ``clock`` returns the current aware instant; tests pass a frozen one.
    """

    session: Session
    app: App
    user: Any = None
    branch: Any = None
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    @property
    def hook(self):
        """The hook relay for this context's branch."""
        return self.app.pm.hook

    @property
    def settings(self):
        """The site configuration."""
        return self.app.site.config

    def now(self) -> dt.datetime:
        """The current instant (aware, UTC) according to this context's clock."""
        return self.clock()
