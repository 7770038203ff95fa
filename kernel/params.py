"""Inputs of actions and reports (:class:`kernel.Param`): declared or inferred from the
entity, and the one reader of their values.

The reader turns what arrives (text from a query string, a desk form or the command
line, JSON values, Python values from another plugin's ``ctx.run_action``) into typed
values, or one problem per input: plain kinds are read like entity fields
(:func:`kernel.values.coerce`); a ``datetime`` typed without a zone is in the site's;
a ``reference`` is found by id, code, name or label among the records the user may
see, as the desk's forms find them. Actions (:mod:`kernel.actions`) and reports read
their inputs through it, so the API, the desk, the CLI and plugins agree.

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

Inferred params are never required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from kernel.contributions import Action, Param
from kernel.entities import EntityInfo, FieldInfo
from kernel.errors import ValidationError
from kernel.i18n import _
from kernel.labels import CODE_COLUMNS, FIELD_LABELS, record_label
from kernel.references import find_reference as find_labelled
from kernel.values import coerce, with_zone

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


#: the longest text a parameter takes unless it says (``Param.max_length``): a line, a text
MAX_TEXT = 300
MAX_LONG_TEXT = 10_000
#: Param kind → the entity field kind that reads it
FIELD_KINDS = {"string": "string", "text": "text", "integer": "integer", "money": "money",
               "boolean": "boolean", "date": "date", "datetime": "datetime", "choice": "enum"}


class ParamErrors(ValidationError):
    """Some parameters are wrong: ``fields`` maps each to its problem; the message names the
    first one (``start: must be a date like 2026-05-29``)."""

    def __init__(self, fields: dict[str, str]):
        name, problem = next(iter(fields.items()))
        super().__init__(f"{name}: {problem}", field=name)
        self.fields = fields


def field_of(param: Param) -> FieldInfo:
    """The entity-field description of ``param`` (what the desk's widgets and lookups take)."""
    kind = "integer" if param.kind == "reference" else FIELD_KINDS.get(param.kind, "string")
    longest = param.max_length or (MAX_LONG_TEXT if kind == "text" else MAX_TEXT)
    return FieldInfo(name=param.name, kind=kind, required=param.required,
                     nullable=not param.required, readonly=False,
                     max_length=longest if kind in ("string", "text") else None,
                     choices=param.choices, foreign=param.reference, max_int=2**31 - 1)


def given(value: Any) -> bool:
    """Whether a raw value counts as given (an empty or blank text does not)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def read_params(ctx, params: Iterable[Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values of ``raw`` (text or already typed values), only those given.

    :raise ParamErrors: an unknown name, a missing required value, a malformed value or a
        reference that matches no record (or several) the user may see.
    """
    values, errors = read_each(ctx, params, raw)
    if errors:
        raise ParamErrors(errors)
    return values


def read_each(ctx, params: Iterable[Param], raw: Mapping[str, Any]
              ) -> tuple[dict[str, Any], dict[str, str]]:
    """Like :func:`read_params`, but every parameter on its own: the values that could be
    read, and the problem of each one that could not (for a form shown again)."""
    params = tuple(params)
    known = {p.name for p in params}
    errors = {name: _("unknown parameter {name!r}").format(name=name)
              for name in raw if name not in known}
    values: dict[str, Any] = {}
    for param in params:
        value = raw.get(param.name)
        if not given(value):
            if param.required:
                errors[param.name] = _("is required")
            continue
        try:
            values[param.name] = read_value(ctx, param, value)
        except ValueError as exc:
            errors[param.name] = str(exc)
    return values, errors


def read_value(ctx, param: Param, value: Any) -> Any:
    """One given value of ``param`` as its Python value; :class:`ValueError` says what is wrong."""
    if param.kind == "reference":
        return find_reference(ctx, param, value)
    if param.kind == "number":
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(_("must be a number"))
        return number
    if isinstance(value, str) and param.kind not in ("string", "text"):
        value = value.strip()
    if param.kind == "datetime" and isinstance(value, str):
        value = with_zone(value, ctx.settings.tz)
    return coerce(field_of(param), value)


def find_reference(ctx, param: Param, value: Any):
    """The one record of ``param.reference`` the user may see that ``value`` names: an id, a
    code, a name, or a label as the desk shows it (``E001 王建国``), found like the desk's
    forms find references (:func:`kernel.references.find_reference`)."""
    cls = ctx.app.entity_class(param.reference)
    text = str(value).strip()[:MAX_TEXT]
    if cls is None:
        raise ValueError(_("nothing matches {text}").format(text=text))
    if isinstance(value, cls):
        record, text = value, reference_key(value)
    elif text.isdigit():
        record = ctx.session.get(cls, int(text)) if int(text) < 2**31 else None
    else:
        found, problem = find_labelled(ctx, ctx.app, param.reference, text)
        if found is None:
            raise ValueError(problem)
        record = ctx.session.get(cls, found)
    if record is None or not ctx.can_see(record):  # another branch's: as if it did not exist
        raise ValueError(_("nothing matches {text}").format(text=text))
    return record


def reference_key(record) -> str:
    """How a referenced record is written in a URL or a command: its code, else its id
    (a value that is not a record, such as a code passed from Python, as it is)."""
    if not hasattr(record, "__table__"):
        return str(record)
    for column in CODE_COLUMNS:
        code = getattr(record, column, None) if column in record.__table__.columns else None
        if code not in (None, ""):
            return str(code)
    return str(record.id)


def canonical(params: Iterable[Param], values: Mapping[str, Any]) -> dict[str, str]:
    """The given values as text again, in the parameters' order: what a shareable URL, a
    command line or the print log holds (references by code, dates in ISO form)."""
    text: dict[str, str] = {}
    for param in params:
        if param.name not in values:
            continue
        value = values[param.name]
        if param.kind == "reference":
            text[param.name] = reference_key(value)
        elif param.kind == "boolean":
            text[param.name] = "true" if value else "false"
        elif isinstance(value, dt.date | dt.datetime):
            text[param.name] = value.isoformat()
        else:
            text[param.name] = str(value)
    return text


def describe(params: Iterable[Param], values: Mapping[str, Any], tz) -> list[tuple[str, str]]:
    """``(label, value)`` of each given parameter for people (the paper's and the page's
    heading): translated labels and choices, references by their label, local times."""
    shown = []
    for param in params:
        if param.name not in values:
            continue
        value = values[param.name]
        if param.kind == "reference":
            text = record_label(value) if hasattr(value, "__table__") else str(value)
        elif param.kind == "choice":
            text = _(str(value))
        elif param.kind == "boolean":
            text = _("yes") if value else _("no")
        elif isinstance(value, dt.datetime):
            text = value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        elif isinstance(value, dt.date):
            text = value.isoformat()
        else:
            text = str(value)
        shown.append((label_of(param), text))
    return shown


def label_of(param: Param) -> str:
    """The parameter's translated label: its own msgid, else the kernel's label of a field of
    that name (``branch`` → Branch), else the name made readable."""
    text = param.label or FIELD_LABELS.get(param.name) or FIELD_LABELS.get(f"{param.name}_id")
    return _(text) if text else param.name.replace("_", " ").capitalize()
