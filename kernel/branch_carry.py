"""Child rows that carry their parent's branch.

A child entity seen through its parent (``__branch_parent__ = ("order_id",
"repair_work_order")``) is scoped as ``order_id IN (SELECT id FROM repair_work_order
WHERE branch_id IN …)`` on every query, which on millions of rows costs a subquery per
list. A child that has a ``branch_id`` of its own too (:class:`kernel.db.BranchMixin`)
carries its parent's branch instead: the kernel fills it from the parent when the row is
inserted and changes it with the parent's, and branch scope filters it directly, like
any branch-owned row (:func:`kernel.auth.install_branch_scope`). Its migration adds the
column and copies the parents' branches into it.
"""

from __future__ import annotations

from sqlalchemy import event, inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from kernel.db import BranchMixin


def carries_branch(cls: type) -> bool:
    """Whether ``cls`` is a child entity carrying its parent's branch in its own column."""
    return getattr(cls, "__branch_parent__", None) is not None and \
        isinstance(cls, type) and issubclass(cls, BranchMixin)


def carriers(parents: dict[type, tuple[str, type]]) -> dict[type, tuple[str, type]]:
    """The children among ``parents`` (:func:`kernel.auth.branch_parents`) that carry
    their parent's branch: ``{child: (foreign key column, parent class)}``."""
    return {cls: parent for cls, parent in parents.items() if carries_branch(cls)}


def _parent_of(session, child, column: str, parent_cls: type):
    """The parent row of a new ``child``: the one it was attached to, else by its key."""
    state = inspect(child)
    for relation in state.mapper.relationships:
        if relation.mapper.class_ is parent_cls and \
                column in {c.key for c in relation.local_columns}:
            found = state.dict.get(relation.key)
            if found is not None:
                return found
    key = getattr(child, column)
    return session.get(parent_cls, key) if key is not None else None


def install_branch_carry(sessions, carried: dict[type, tuple[str, type]]) -> None:
    """Keep the ``branch_id`` of the ``carried`` children (:func:`carriers`) equal to
    their parent's, in every session of ``sessions``."""
    if not carried:
        return
    children_of: dict[type, list[tuple[type, str]]] = {}
    for child, (column, parent) in carried.items():
        children_of.setdefault(parent, []).append((child, column))

    def before_flush(session, _context, _instances):
        for row in session.new:
            found = carried.get(type(row))
            if found is not None and row.branch_id is None:
                parent = _parent_of(session, row, *found)
                row.branch_id = getattr(parent, "branch_id", None)
        for row in session.dirty:
            children = children_of.get(type(row))
            if not children or row.id is None or \
                    not inspect(row).attrs.branch_id.history.has_changes():
                continue
            for child, column in children:  # the rows in the database, and those loaded
                session.execute(update(child.__table__)
                                .where(child.__table__.c[column] == row.id)
                                .values(branch_id=row.branch_id))
                for loaded in list(session.identity_map.values()):
                    if type(loaded) is child and getattr(loaded, column) == row.id:
                        set_committed_value(loaded, "branch_id", row.branch_id)

    event.listen(sessions, "before_flush", before_flush)
