"""Pydantic models generated from each exposed entity, for validation and OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from kernel.contributions import Param
from kernel.entities import EntityInfo, FieldInfo
from kernel.params import action_params
from kernel.values import TEXT_MAX_LENGTH

MONEY_PATTERN = r"^-?\d+(\.\d{1,2})?$"


class RecordLink(BaseModel):
    """A link to one record of any entity (:mod:`kernel.links`): the entity's table and
    the record's id."""

    model_config = ConfigDict(extra="forbid")

    entity: str = Field(min_length=1, max_length=60, examples=["customer"])
    id: int = Field(ge=1, le=2**31 - 1, examples=[12])


def _link_note(spec: FieldInfo) -> dict:
    """What OpenAPI says about a link field: the entities it may point to."""
    if spec.targets:
        return {"description": "a link to a record of " + ", ".join(spec.targets)}
    return {"description": "a link to a record of any entity"}


def _read_type(spec: FieldInfo) -> Any:
    if spec.kind == "link":
        return RecordLink | None if spec.nullable else RecordLink
    base = {"string": str, "text": str, "integer": int, "boolean": bool, "date": dt.date,
            "datetime": dt.datetime, "time": dt.time, "money": str, "json": Any}.get(spec.kind)
    if spec.kind == "enum":
        base = Literal[spec.choices] if spec.choices else str
    return base | None if spec.nullable else base


def _write_type(spec: FieldInfo) -> tuple[Any, dict]:
    """The annotation of a writable field and its constraints."""
    if spec.kind in ("string", "text"):
        constraints = {"max_length": spec.max_length or TEXT_MAX_LENGTH}
        if not spec.nullable:
            constraints["min_length"] = 1
        return str, constraints
    if spec.kind == "money":
        return str, {"pattern": MONEY_PATTERN, "examples": ["557.00"]}
    if spec.kind == "link":
        return RecordLink, _link_note(spec)
    if spec.kind == "enum":
        return Literal[spec.choices], {}
    if spec.kind == "integer" and spec.max_int is not None:
        return int, {"ge": -spec.max_int, "le": spec.max_int}
    if spec.kind in ISO_FORMATS:
        return ISO_TYPES[spec.kind], {}
    return {"integer": int, "boolean": bool, "json": Any}[spec.kind], {}


#: dates and times are ISO text in JSON, nothing else: pydantic would take ``0`` (and
#: ``"0"``) as 1970-01-01. The service reads the text (and its range) and names the field.
ISO_FORMATS = {"date": "date", "datetime": "date-time", "time": "time"}


def _iso_text(kind: str) -> PlainValidator:
    """A check that a value is text (the service parses it); otherwise pydantic's
    ``<kind>_type`` error, which the API words in the user's language."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            return value
        raise PydanticCustomError(f"{kind}_type", "must be ISO text")

    return PlainValidator(check)


ISO_TYPES = {kind: Annotated[str, _iso_text(kind), WithJsonSchema(
    {"type": "string", "format": fmt})] for kind, fmt in ISO_FORMATS.items()}


def read_model(info: EntityInfo) -> type[BaseModel]:
    """A record as the API returns it; other plugins' fields as an object per plugin
    (absent, null, where the plugin's extension is switched off for the branch)."""
    fields: dict[str, Any] = {f.name: (_read_type(f), ...) for f in info.fields}
    for extension in info.extensions:
        model = create_model(
            f"{_camel(info.name)}{_camel(extension.namespace)}",
            __doc__=f"Fields the {extension.namespace} plugin adds to {info.name}.",
            **{f.name: (_read_type(f), None) for f in extension.fields})
        fields[extension.namespace] = (model | None, None)
    return create_model(f"{_camel(info.name)}", __config__=ConfigDict(from_attributes=True),
                        **fields)


def _write_fields(specs, *, partial: bool) -> dict[str, Any]:
    """The pydantic fields of the writable ``specs`` (read-only ones left out)."""
    fields = {}
    for spec in specs:
        if spec.readonly:
            continue
        annotation, constraints = _write_type(spec)
        optional = partial or not spec.required
        if optional and (spec.nullable or partial):
            annotation = annotation | None
        default = None if optional else ...
        fields[spec.name] = (annotation, Field(default, **constraints))
    return fields


def write_model(info: EntityInfo, *, partial: bool) -> type[BaseModel]:
    """The body of a create (``partial=False``) or a partial update: the entity's writable
    fields (none when the entity offers no such operation) and, optional, an object per
    plugin that adds fields to it."""
    suffix = "Update" if partial else "Create"
    operation = "update" if partial else "create"
    own = info.fields if info.offers(operation) else ()
    fields = _write_fields(own, partial=partial)
    for extension in info.extensions:
        model = create_model(
            f"{_camel(info.name)}{_camel(extension.namespace)}{suffix}",
            __config__=ConfigDict(extra="forbid"),
            __doc__=f"Fields the {extension.namespace} plugin adds to {info.name} "
                    f"(needs {extension.permission}).",
            **_write_fields(extension.fields, partial=True))
        fields[extension.namespace] = (model | None, Field(None))
    model = create_model(f"{_camel(info.name)}{suffix}",
                         __config__=ConfigDict(extra="forbid"), **fields)
    # a read-only field sent anyway "cannot be changed" (kernel.web.errors), not "unknown"
    model.__fixdesk_readonly__ = frozenset(f.name for f in info.fields if f.readonly)
    return model


def page_model(info: EntityInfo, item: type[BaseModel]) -> type[BaseModel]:
    """The answer of a list: a page of records and the cursors to the pages around it."""
    return create_model(
        f"{_camel(info.name)}Page", items=(list[item], ...),
        total=(int | None, Field(None, description="every matching record; only with "
                                 "count=true")),
        limit=(int, ...), offset=(int, ...),
        next=(str | None, Field(None, description="pass as after= for the next page; "
                                "null on the last page")),
        previous=(str | None, Field(None, description="pass as before= for the page "
                                    "before; null on the first page")))


# --------------------------------------------------------------------------
# action bodies
# --------------------------------------------------------------------------

#: per param kind: the JSON types accepted (values reach the service as sent: it parses
#: and validates them) and how OpenAPI shows them
PARAM_TYPES: dict[str, tuple[tuple[type, ...], list[dict]]] = {
    "string": ((str,), [{"type": "string"}]),
    "text": ((str,), [{"type": "string"}]),
    "date": ((str,), [{"type": "string", "format": "date"}]),
    "datetime": ((str,), [{"type": "string", "format": "date-time"}]),
    "choice": ((str,), [{"type": "string"}]),
    "integer": ((int, str), [{"type": "integer"}, {"type": "string"}]),
    "number": ((int, float, str), [{"type": "number"}, {"type": "string"}]),
    "money": ((int, float, str), [{"type": "number"}, {"type": "string"}]),
    "boolean": ((bool, str), [{"type": "boolean"}, {"type": "string"}]),
    "reference": ((int, str), [{"type": "integer", "minimum": 1}, {"type": "string"}]),
}
PARAM_EXAMPLES = {"date": "2026-05-29", "datetime": "2026-05-29T16:00:00+08:00",
                  "money": "557.00", "number": "1.5", "boolean": True, "integer": 2}
JSON_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def _param_schema(param: Param) -> dict:
    """The JSON Schema of one param: its JSON types (and null unless it is required)."""
    alternatives = [dict(a) for a in PARAM_TYPES[param.kind][1]]
    if param.kind == "choice":
        alternatives[0]["enum"] = list(param.choices)
    if not param.required:
        alternatives.append({"type": "null"})
    schema = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
    schema["title"] = param.label or param.name.replace("_", " ").capitalize()
    notes = [param.help] if param.help else []
    if param.kind == "reference":
        notes.append(f"a {param.reference}, by id or code")
    if notes:
        schema["description"] = "; ".join(notes)
    if param.kind in PARAM_EXAMPLES:
        schema["examples"] = [PARAM_EXAMPLES[param.kind]]
    return schema


def _json_types(param: Param) -> PlainValidator:
    """A check that a value has one of the param's JSON types, and keeps it as sent."""
    types = PARAM_TYPES[param.kind][0]
    expected = " or ".join(JSON_NAMES[t] for t in types)

    def check(value: Any) -> Any:
        if value is None and not param.required:
            return value
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise PydanticCustomError("param_type", "must be {expected}",
                                      {"expected": expected})
        return value

    return PlainValidator(check)


def action_body_model(info: EntityInfo | None, action) -> type[BaseModel]:
    """The JSON body of ``action``: a property per param, typed by its kind, optional
    (null allowed) unless the param is required; unknown properties are refused.

    Only JSON types are checked: values reach the service as sent, numbers and booleans
    also in their string forms (``"2"``, ``"true"``), and the service validates them
    and names the field when one is wrong. Dump with ``by_alias=True``.
    """
    fields: dict[str, Any] = {}
    for param in action_params(info, action):
        annotation = Annotated[Any, _json_types(param), WithJsonSchema(_param_schema(param))]
        # inner names never shadow BaseModel's attributes (json, copy, model_*)
        fields[f"p_{param.name}"] = (annotation, Field(... if param.required else None,
                                                       alias=param.name))
    entity = info.name if info is not None else action.entity
    return create_model(f"{_camel(entity)}{_camel(action.name)}Params",
                        __config__=ConfigDict(extra="forbid"), **fields)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
