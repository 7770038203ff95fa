"""The record a note, an attachment or a timeline is about: named by its table and id,
found and checked like any read, and whether another user may read it too.
"""

from __future__ import annotations

from typing import Any

from kernel import records
from kernel.entities import EntityInfo
from kernel.errors import NotFound
from kernel.i18n import _


def find_record(ctx, entity: str, record_id: int) -> tuple[EntityInfo, Any]:
    """The exposed entity ``entity`` (a table name) and its record ``record_id``, read as
    the acting user: :class:`NotFound` for an unknown entity, a missing record or one of
    a branch the user may not see; ``PermissionDenied`` without its read permission."""
    info = ctx.app.exposed.get(str(entity))
    if info is None:
        raise NotFound(_("no entity {entity!r}").format(entity=entity), field="entity")
    if isinstance(record_id, bool) or not isinstance(record_id, int) or \
            not 1 <= record_id <= 2**31 - 1:
        raise NotFound(_("no {entity} {id}").format(entity=_(info.title), id=record_id),
                       field="record_id")
    return info, records.get_record(ctx, info, record_id)


def branch_of(ctx, record: Any) -> int | None:
    """The branch ``record`` belongs to: its own ``branch_id``, else its parent's (an
    entity scoped through ``__branch_parent__``), else None (company-wide records)."""
    from kernel.auth import PARENTS_KEY
    from kernel.models import Branch

    if isinstance(record, Branch):
        return record.id
    branch_id = getattr(record, "branch_id", None)
    parent = ctx.session.info.get(PARENTS_KEY, {}).get(type(record))
    if branch_id is None and parent is not None:
        owner = ctx.session.get(parent[1], getattr(record, parent[0]))
        branch_id = getattr(owner, "branch_id", None)
    return branch_id


def may_read(user, info: EntityInfo, branch_id: int | None, permissions) -> bool:
    """Whether ``user`` (not necessarily the acting one) may read a record of ``info`` in
    ``branch_id``: an active account that sees the branch and holds the read permission
    (``permissions``: the site's :class:`kernel.auth.PermissionTable`)."""
    if not user.active:
        return False
    if branch_id is not None and not user.sees_all_branches and \
            branch_id not in user.branch_ids:
        return False
    return permissions.allows(user.roles, info.perm("read"))
