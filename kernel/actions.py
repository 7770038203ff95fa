"""Running actions (:class:`kernel.Action`): the one path the API, the desk, the CLI, jobs
and other plugins take.

``run_action(ctx, "repair_work_order", 12, "resume")`` finds the action by its entity's
table and name, loads the record as the user sees it (another branch's record is "not
found"), checks the action's permission, that the action is offered in the user's
branch (its hook implementation is not switched off there) and possible in the record's
state, reads the inputs with the one reader of :mod:`kernel.params`, runs the plugin's
service, and tells the other plugins (``fixdesk_action_done``). The audit trail records
what the service changed, in the same transaction. A plugin commands another plugin
this way (``ctx.run_action``) instead of importing it.
"""

from __future__ import annotations

from typing import Any

from kernel.contributions import Action
from kernel.errors import Conflict, NotFound
from kernel.i18n import _
from kernel.labels import entity_title
from kernel.params import action_params, read_params


def find_action(ctx, entity: str, name: str) -> Action:
    """The action ``name`` on ``entity`` offered in the context's branch, or
    :class:`NotFound` (also for one switched off there)."""
    action = ctx.app.actions.get((entity, name))
    if action is None or not ctx.offers(action):
        raise NotFound(_("no action {name!r} on {entity}").format(name=name, entity=entity),
                       field="action")
    return action


def actions_on(ctx, entity: str) -> list[Action]:
    """The actions on ``entity`` offered in the context's branch, in registration order."""
    return [a for (table, _name), a in ctx.app.actions.items()
            if table == entity and ctx.offers(a)]


def possible_actions(ctx, entity: str, record) -> list[Action]:
    """The actions the user may run on ``record`` now: offered, permitted and possible in
    its state (the buttons of its form)."""
    return [a for a in actions_on(ctx, entity) if ctx.can(a.permission) and a.available(record)]


def load_record(ctx, entity: str, record: Any):
    """``record`` (a record of ``entity`` or its id) as the user may see it."""
    cls = ctx.app.entity_class(entity)
    if cls is None:
        raise NotFound(_("no entity {name!r}").format(name=entity), field="entity")
    if isinstance(record, cls):
        found = record if record in ctx.session else ctx.session.get(cls, record.id)
    elif isinstance(record, int) and not isinstance(record, bool) and 0 < record < 2**31:
        found = ctx.session.get(cls, record)
    else:
        found = None
    if found is None or not ctx.can_see(found):
        raise NotFound(_("no {entity} {id}").format(entity=entity_title(ctx.app, entity),
                                                    id=record))
    return found


def _not_now(action: Action, record) -> str:
    """Why ``action`` is refused for ``record``: its state, when the record has one."""
    state = getattr(record, "docstatus", None) or getattr(record, "status", None)
    if state is None:
        return _("{action} is not possible in the record's current state").format(
            action=_(action.title))
    return _("{action} is not possible while the record is {state}").format(
        action=_(action.title), state=_(str(getattr(state, "value", state))))


def run_action(ctx, entity: str, record: Any, name: str, **params):
    """Run action ``name`` on ``record`` (a record of ``entity``, or its id) with
    ``params`` (text or typed values, as the API, a form or a plugin gives them).

    :return: what the service returns, else the record.
    :raise NotFound: no such action (or switched off in the branch), no such record (or
        another branch's).
    :raise PermissionDenied: the user lacks the action's permission.
    :raise Conflict: the action is not possible in the record's state.
    :raise ValidationError: an input is wrong (``fields`` names each).
    """
    action = find_action(ctx, entity, name)
    found = load_record(ctx, entity, record)
    ctx.require(action.permission, found)
    if not action.available(found):
        raise Conflict(_not_now(action, found))
    values = read_params(ctx, action_params(ctx.app.exposed.get(entity), action), params)
    result = action.func(ctx, found, **values)
    ctx.session.flush()
    ctx.hook.fixdesk_action_done(ctx=ctx, entity=entity, record=found, action=name,
                                 params=values)
    return found if result is None else result
