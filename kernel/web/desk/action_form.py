"""The desk's action boxes: an input per param of an action (:mod:`kernel.web.desk.inputs`,
the same controls as report forms), and the texts typed into them, which go to
:func:`kernel.actions.run_action` like the API's JSON does.
"""

from __future__ import annotations

from kernel.contributions import Param
from kernel.entities import EntityInfo
from kernel.i18n import _
from kernel.params import action_params, param_field
from kernel.web.desk import fields
from kernel.web.desk.inputs import control


def param_label(info: EntityInfo, param: Param) -> str:
    """The translated label of ``param``: its own, else its column's, else its name."""
    if param.label:
        return _(param.label)
    spec = param_field(info, param.name)
    return fields.label(info, spec.name if spec is not None else param.name)


def labels(info: EntityInfo, action) -> dict[str, str]:
    """The translated label of each param of ``action``, by name."""
    return {param.name: param_label(info, param) for param in action_params(info, action)}


def describe(ctx, info: EntityInfo, action, *, raw: dict | None = None,
             errors: dict | None = None, record=None) -> dict:
    """What ``form.html`` shows of ``action``: its title and a control per param.

    ``raw`` (the texts typed when the action failed) and ``errors`` (by param) show
    the form again as it was sent, opened.
    """
    errors = errors or {}
    controls = [control(ctx, param, id=f"a-{action.name}-{param.name}",
                        label=param_label(info, param), value=(raw or {}).get(param.name, ""),
                        error=errors.get(param.name), record=record)
                for param in action_params(info, action)]
    # "params" (name, label) for site templates written before params had kinds
    return {"name": action.name, "title": _(action.title), "controls": controls,
            "open": raw is not None, "params": [(c["name"], c["label"]) for c in controls]}


def typed(action, form) -> dict[str, str]:
    """The texts the user typed for each param of ``action`` (to show them again)."""
    return {name: str(form.get(name) or "") for name in action.param_names}
