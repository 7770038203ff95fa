"""The desk's inputs for :class:`kernel.Param` values: one control per kind, the same for
an action box on a record's form and a report's parameter form.

A date-time gets a date-time picker, a date a date picker, yes/no and choices a list,
a reference a list of the records it may name (when there are few and the page asks
for it) or the type-ahead lookup of its entity, a text a text area, numbers a numeric
box. ``_controls.html`` draws what :func:`control` describes. Values typed into them are
read back by the one reader of :mod:`kernel.params`.
"""

from __future__ import annotations

from kernel.contributions import Param
from kernel.errors import FixdeskError
from kernel.i18n import _, zone_name
from kernel.values import FALSE_WORDS, TRUE_WORDS

#: param kind → the control the template draws
WIDGETS = {"string": "input", "text": "textarea", "integer": "input", "number": "input",
           "money": "input", "boolean": "select", "date": "input", "datetime": "input",
           "choice": "select", "reference": "lookup"}
#: param kind → the ``type`` (and ``inputmode``) of its ``<input>``
INPUT_TYPES = {"date": ("date", None), "datetime": ("datetime-local", None),
               "integer": ("number", "numeric"), "number": ("text", "decimal"),
               "money": ("text", "decimal")}


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


def _offered_choices(ctx, param: Param, record) -> list[tuple[str, str]] | None:
    """What ``param.choices_for`` lists for ``record`` (None: the param has no such list,
    or there is no record; an empty list when it cannot say)."""
    if param.choices_for is None or record is None:
        return None
    try:
        return [(str(value), text) for value, text in param.choices_for(ctx, record)]
    except FixdeskError:
        return []


def _yes_no(value: str) -> str:
    text = value.strip().lower()
    return "true" if text in TRUE_WORDS else "false" if text in FALSE_WORDS else value


def reference_choices(ctx, param: Param) -> list[tuple[str, str]] | None:
    """(key, label) of the records a reference may name, keyed by code where the entity
    has one (readable URLs); None when there are too many for a list."""
    from sqlalchemy import select

    from kernel.params import field_of, reference_key
    from kernel.references import reference_options

    options = reference_options(ctx, ctx.app, field_of(param))
    if options is None:
        return None
    cls = ctx.app.entity_class(param.reference)
    ids = [i for i, _label in options]
    keys = {r.id: reference_key(r) for r in ctx.session.scalars(
        select(cls).where(cls.id.in_(ids)))} if ids else {}
    return [(keys.get(i, str(i)), label) for i, label in options]


def control(ctx, param: Param, *, id: str, label: str, value: str = "",
            error: str | None = None, record=None, list_references: bool = False) -> dict:
    """What ``_controls.html`` draws for ``param``: ``id`` of the input (its error and
    hint take ``<id>-error`` and ``<id>-hint``), its translated ``label``, the ``value``
    as typed or shown, the ``error`` to show at it, suggestions for ``record`` (an
    action's), and with ``list_references`` a reference as a list of the records it
    may name when there are few."""
    input_type, inputmode = _input_type(param)
    found = {"id": id, "name": param.name, "label": label, "kind": param.kind,
             "widget": WIDGETS[param.kind], "type": input_type, "inputmode": inputmode,
             "value": value, "required": param.required, "error": error, "options": None,
             "lookup": None, "hint": _(param.help) if param.help else None,
             "suggestions": _suggestions(ctx, param, record)}
    offered = _offered_choices(ctx, param, record)
    if offered is not None:  # the choices this record offers (an order's part lines)
        found["widget"], found["options"], found["suggestions"] = "select", offered, []
    elif param.kind == "choice":
        found["options"] = [(c, _(c)) for c in param.choices]
    elif param.kind == "boolean":
        found["options"] = [("true", _("yes")), ("false", _("no"))]
        found["value"] = _yes_no(value)
    elif param.kind == "reference":
        choices = reference_choices(ctx, param) if list_references else None
        if choices is not None:
            found["widget"], found["options"] = "select", choices
            return found
        target = ctx.app.exposed.get(param.reference)
        if target is not None and ctx.can(target.perm("read")):
            found["lookup"] = f"/desk/{target.name}/lookup"
        found["hint"] = found["hint"] or _("Type a code or name and pick from the list.")
    elif param.kind == "datetime":
        found["hint"] = found["hint"] or _("Local time ({zone})").format(
            zone=zone_name(ctx.settings.tz))
    return found
