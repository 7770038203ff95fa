"""The explicit context every service call and hook receives (no thread-local globals).

A context is one unit of work: the session of its transaction, who is acting
(``user``; ``None`` for the system: CLI, worker, migrations), for which branch,
the site's settings, the branch's hook relay, and a clock that tests can freeze.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kernel.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kernel.auth import User
    from kernel.models import Branch
    from kernel.site import App


@dataclass(eq=False)
class Context:
    """Session, user, branch, settings, hook relay and clock of one unit of work."""

    session: Session
    app: App
    user: User | None = None
    branch: Branch | None = None
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    _hook: Any = field(default=None, init=False, repr=False)
    _permissions: Any = field(default=None, init=False, repr=False)
    _switched_off: Any = field(default=None, init=False, repr=False)

    def __post_init__(self):
        from kernel.audit import set_actor
        from kernel.auth import set_branch_scope

        if self.branch is None and self.user is not None:
            self.branch = self.user.home_branch
        set_branch_scope(self.session, self.user)
        set_actor(self.session, self.user)

    # -- time ------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The current instant (aware, UTC) by this context's clock."""
        return self.clock()

    # -- configuration ---------------------------------------------------

    @property
    def settings(self):
        """The site configuration (``site.toml``)."""
        return self.app.site.config

    def setting(self, key: str):
        """A declared setting's value for this context's branch (branch → site → default)."""
        from kernel.settings import get_setting

        return get_setting(self, key, self.branch)

    # -- hooks -----------------------------------------------------------

    @property
    def hook(self):
        """The hook relay of this context's branch: switched-off implementations never run."""
        if self._hook is None:
            from kernel.hookswitch import relay_for

            self._hook = relay_for(self)
        return self._hook

    @property
    def switched_off(self) -> frozenset[tuple[str, str]]:
        """The (plugin or part, hook) implementations switched off for this branch."""
        if self._switched_off is None:
            from kernel.hookswitch import switches

            self._switched_off = frozenset() if self.branch is None else \
                switches(self.session, self.branch.id)
        return self._switched_off

    def offers(self, contribution: Any) -> bool:
        """Whether a plugin's contribution (an action, a form section, a list column, an
        extension, a document) is offered in this branch: the hook implementation that
        contributed it is not switched off here."""
        registry = self.app.registry
        return not registry.switchable(contribution) or \
            registry.offered(contribution, self.switched_off)

    # -- commands ------------------------------------------------------------

    def run_action(self, entity: str, record: Any, action: str, **params):
        """Run another plugin's action on a record, by the entity's table and the action's
        name, exactly as the API and the desk run it (permission, availability, inputs,
        service, audit, hooks): ``ctx.run_action("repair_work_order", 12, "resume")``.
        See :func:`kernel.actions.run_action`."""
        from kernel.actions import run_action

        return run_action(self, entity, record, action, **params)

    # -- permissions -----------------------------------------------------

    def can(self, permission: str) -> bool:
        """Whether the acting user holds ``permission`` (the system holds every permission)."""
        if self.user is None:
            return True
        if self._permissions is None:
            with self.session.no_autoflush:  # never flush half-made changes to read rights
                self._permissions = self.app.permissions(self.session)
        return self._permissions.allows(self.user.roles, permission)

    def can_see(self, record: Any) -> bool:
        """Whether ``record`` belongs to a branch the acting user may see."""
        from kernel.models import Branch

        if self.user is None or self.user.sees_all_branches:
            return True  # before any parent is looked up: a list would ask once per row
        branch_id = record.id if isinstance(record, Branch) else getattr(record, "branch_id", None)
        from kernel.auth import PARENTS_KEY

        parent = self.session.info.get(PARENTS_KEY, {}).get(type(record))
        parent_id = getattr(record, parent[0]) if parent is not None else None
        if branch_id is None and parent_id is not None:
            owner = self.session.get(parent[1], parent_id)
            if owner is None:  # the scope hides it: another branch's parent, not none
                return False
            branch_id = getattr(owner, "branch_id", None)
        if branch_id is None:
            return True
        return branch_id in self.user.branch_ids

    def visible(self, records) -> list:
        """The ``records`` the acting user may see (:meth:`can_see`), in their order. The
        parents that records are scoped through (a work order's lines, a customer's
        contacts) are read first in one query per kind, not one per record."""
        from sqlalchemy import select

        from kernel.auth import PARENTS_KEY

        records = list(records)
        if self.user is None or self.user.sees_all_branches:
            return records
        parents = self.session.info.get(PARENTS_KEY, {})
        wanted: dict[type, set] = {}
        for record in records:
            parent = parents.get(type(record))
            if parent is not None and getattr(record, "branch_id", None) is None:
                wanted.setdefault(parent[1], set()).add(getattr(record, parent[0]))
        # held here while checking: the session's identity map only keeps weak references
        loaded = [self.session.scalars(select(cls).where(cls.id.in_(ids - {None}))).all()
                  for cls, ids in wanted.items()]
        seen = [record for record in records if self.can_see(record)]
        del loaded
        return seen

    def require(self, permission: str, record: Any = None) -> None:
        """Raise unless the user holds ``permission`` (and may see ``record``).

        A record of a branch the user may not see answers :class:`NotFound`, as if
        it did not exist; a missing permission answers :class:`PermissionDenied`.
        """
        from kernel.auth import PermissionDenied
        from kernel.errors import NotFound
        from kernel.i18n import _

        if record is not None and not self.can_see(record):
            raise NotFound(_("record not found"))
        if not self.can(permission):
            raise PermissionDenied(_("permission denied: {permission}").format(
                permission=permission))

    # -- background work --------------------------------------------------

    def enqueue(self, job: str, payload: dict | None = None, *, run_at: dt.datetime | None = None,
                max_attempts: int | None = None):
        """Queue a durable job in this transaction: it exists if and only if this commits."""
        from kernel.jobs import enqueue

        return enqueue(self, job, payload or {}, run_at=run_at, max_attempts=max_attempts)
