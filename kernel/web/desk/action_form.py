"""The desk's action forms: an input per param, by kind, and the values read back.

Each param of an action (:func:`kernel.params.action_params`) gets the control
that suits its kind: a date-time picker, a date picker, a yes/no list, a list
of choices, the type-ahead lookup of a referenced entity, a text area, or a
numeric box. What the user typed goes back to the service as the API would
send it: date-times with the site's time zone, yes/no as ``"true"``/``"false"``,
a referenced record as its id.
"""

from __future__ import annotations

from kernel.contributions import Param
from kernel.entities import EntityInfo
from kernel.errors import FixdeskError
from kernel.i18n import _
from kernel.params import action_params, param_field
from kernel.web.desk import fields

#: param kind → the control the template draws
WIDGETS = {"string": "input", "text": "textarea", "integer": "input", "number": "input",
           "money": "input", "boolean": "select", "date": "input", "datetime": "input",
           "choice": "select", "reference": "lookup"}
#: param kind → the ``type`` (and ``inputmode``) of its ``<input>``
INPUT_TYPES = {"date": ("date", None), "datetime": ("datetime-local", None),
               "integer": ("number", "numeric"), "number": ("text", "decimal"),
               "money": ("text", "decimal")}


def param_label(info: EntityInfo, param: Param) -> str:
    """The translated label of ``param``: its own, else its column's, else its name."""
    if param.label:
        return _(param.label)
    spec = param_field(info, param.name)
    return fields.label(info, spec.name if spec is not None else param.name)


def labels(info: EntityInfo, action) -> dict[str, str]:
    """The translated label of each param of ``action``, by name."""
    return {param.name: param_label(info, param) for param in action_params(info, action)}


def _input_type(param: Param) -> tuple[str, str | None]:
    if param.kind == "string":
        if "email" in param.name:
            return "email", None
        if "phone" in param.name or "mobile" in param.name:
            return "tel", None
    return INPUT_TYPES.get(param.kind, ("text", None))


def _suggestions(ctx, param: Param, record) -> list[tuple[str, str]]:
    """What ``param.suggest`` offers for ``record`` (nothing when it cannot say)."""
    if param.suggest is None or record is None:
        return []
    try:
        return list(param.suggest(ctx, record))
    except FixdeskError:  # not allowed or not applicable for this user: no suggestions
        return []


def _control(ctx, info: EntityInfo, action_name: str, param: Param, value: str,
             error: str | None, record=None) -> dict:
    input_type, inputmode = _input_type(param)
    control = {"id": f"a-{action_name}-{param.name}", "name": param.name,
               "label": param_label(info, param), "kind": param.kind,
               "widget": WIDGETS[param.kind], "type": input_type, "inputmode": inputmode,
               "value": value, "required": param.required, "error": error, "options": None,
               "lookup": None, "hint": _(param.help) if param.help else None,
               "suggestions": _suggestions(ctx, param, record)}
    if param.kind == "choice":
        control["options"] = [(c, _(c)) for c in param.choices]
    elif param.kind == "boolean":
        control["options"] = [("true", _("yes")), ("false", _("no"))]
    elif param.kind == "reference":
        target = ctx.app.exposed.get(param.reference)
        if target is not None and ctx.can(target.perm("read")):
            control["lookup"] = f"/desk/{target.name}/lookup"
        control["hint"] = control["hint"] or _("Type a code or name and pick from the list.")
    elif param.kind == "datetime":
        control["hint"] = control["hint"] or _("Local time ({zone})").format(
            zone=ctx.settings.tz)
    return control


def describe(ctx, info: EntityInfo, action, *, raw: dict | None = None,
             errors: dict | None = None, record=None) -> dict:
    """What ``form.html`` shows of ``action``: its title and a control per param.

    ``raw`` (the texts typed when the action failed) and ``errors`` (by param) show
    the form again as it was sent, opened.
    """
    errors = errors or {}
    controls = [_control(ctx, info, action.name, param, (raw or {}).get(param.name, ""),
                         errors.get(param.name), record)
                for param in action_params(info, action)]
    # "params" (name, label) for site templates written before params had kinds
    return {"name": action.name, "title": _(action.title), "controls": controls,
            "open": raw is not None, "params": [(c["name"], c["label"]) for c in controls]}


def typed(action, form) -> dict[str, str]:
    """The texts the user typed for each param of ``action`` (to show them again)."""
    return {name: str(form.get(name) or "") for name in action.param_names}


def read(ctx, info: EntityInfo, action, raw: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The params for the service from the typed texts, and the problems found first.

    Empty inputs are left out (the service's default applies); an empty required one is
    a problem. A date-time without
    a zone is in the site's zone; a reference typed as a label, code or name becomes
    the id of the one record it names (a number is taken as an id).
    """
    tz = ctx.settings.tz
    values: dict = {}
    errors: dict[str, str] = {}
    for param in action_params(info, action):
        text = raw.get(param.name, "")
        if not text.strip():
            if param.required:  # say so here: the service may not even take it empty
                errors[param.name] = _("is required")
            continue
        if param.kind in ("string", "text"):
            values[param.name] = text
        elif param.kind == "datetime":
            values[param.name] = fields.with_zone(text.strip(), tz)
        elif param.kind == "reference":
            if text.strip().isdigit():
                values[param.name] = int(text.strip())
                continue
            found, problem = fields.find_reference(ctx, ctx.app, param.reference, text)
            if found is None:
                errors[param.name] = problem
            else:
                values[param.name] = found
        else:
            values[param.name] = text.strip()
    return values, errors
