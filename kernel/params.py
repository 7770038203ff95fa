"""Action inputs as :class:`kernel.Param` objects, declared or inferred from the entity.

An :class:`kernel.Action` lists its ``params`` as ``Param`` objects or plain
names. A plain name becomes a ``Param`` whose kind comes from the entity's
column of that name (or ``<name>_id`` when that column is a foreign key, so
``engineer`` stands for ``engineer_id``):

==========================  ======================================
column                      param
==========================  ======================================
foreign key                 ``reference`` to the referenced table
enum                        ``choice`` with the enum's values
boolean, date, datetime,    the same kind
integer, money, text
anything else, or none      ``string``
==========================  ======================================

Inferred params are never required. The API (:mod:`kernel.web.schemas`) and the
desk (:mod:`kernel.web.desk.action_form`) both read params through
:func:`action_params`, so they always agree.
"""

from __future__ import annotations

from kernel.contributions import Action, Param
from kernel.entities import EntityInfo, FieldInfo

#: column kinds (:class:`kernel.entities.FieldInfo`) that keep their name as a param kind
SAME_KIND = frozenset({"boolean", "date", "datetime", "integer", "money", "text", "string"})


def param_field(info: EntityInfo | None, name: str) -> FieldInfo | None:
    """The column a param named ``name`` stands for: ``name``, else the foreign key
    ``<name>_id``; None when the entity has neither."""
    if info is None:
        return None
    spec = info.field(name)
    if spec is not None:
        return spec
    spec = info.field(f"{name}_id")
    return spec if spec is not None and spec.foreign else None


def infer_param(info: EntityInfo | None, name: str) -> Param:
    """The :class:`Param` for a plain ``name``, its kind taken from the entity's column."""
    spec = param_field(info, name)
    if spec is None:
        return Param(name)
    if spec.foreign:
        return Param(name, "reference", reference=spec.foreign)
    if spec.kind == "enum" and spec.choices:
        return Param(name, "choice", choices=spec.choices)
    return Param(name, spec.kind if spec.kind in SAME_KIND else "string")


def param_of(info: EntityInfo | None, param: str | Param) -> Param:
    """``param`` as a :class:`Param`: given ones as they are, names inferred."""
    return param if isinstance(param, Param) else infer_param(info, param)


def action_params(info: EntityInfo | None, action: Action) -> tuple[Param, ...]:
    """Every param of ``action`` as a :class:`Param`, in declaration order.

    ``info`` is the action's entity (None when it is not exposed: every plain name
    is then a ``string``).
    """
    return tuple(param_of(info, p) for p in action.params)
