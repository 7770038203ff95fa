"""Pydantic models generated from each exposed entity, for validation and OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from kernel.entities import EntityInfo, FieldInfo

MONEY_PATTERN = r"^-?\d+(\.\d{1,2})?$"


def _read_type(spec: FieldInfo) -> Any:
    base = {"string": str, "text": str, "integer": int, "boolean": bool, "date": dt.date,
            "datetime": dt.datetime, "time": dt.time, "money": str, "json": Any}.get(spec.kind)
    if spec.kind == "enum":
        base = Literal[spec.choices] if spec.choices else str
    return base | None if spec.nullable else base


def _write_type(spec: FieldInfo) -> tuple[Any, dict]:
    """The annotation of a writable field and its constraints."""
    if spec.kind in ("string", "text"):
        constraints = {"max_length": spec.max_length} if spec.max_length else {}
        if not spec.nullable:
            constraints["min_length"] = 1
        return str, constraints
    if spec.kind == "money":
        return str, {"pattern": MONEY_PATTERN, "examples": ["557.00"]}
    if spec.kind == "enum":
        return Literal[spec.choices], {}
    if spec.kind == "integer" and spec.max_int is not None:
        return int, {"ge": -spec.max_int, "le": spec.max_int}
    return {"integer": int, "boolean": bool, "date": dt.date, "datetime": AwareDatetime,
            "time": dt.time, "json": Any}[spec.kind], {}


def read_model(info: EntityInfo) -> type[BaseModel]:
    fields = {f.name: (_read_type(f), ...) for f in info.fields}
    return create_model(f"{_camel(info.name)}", __config__=ConfigDict(from_attributes=True),
                        **fields)


def _writable(info: EntityInfo) -> list[FieldInfo]:
    return [f for f in info.fields if not f.readonly]


def write_model(info: EntityInfo, *, partial: bool) -> type[BaseModel]:
    """The body of a create (``partial=False``) or a partial update."""
    fields = {}
    for spec in _writable(info):
        annotation, constraints = _write_type(spec)
        optional = partial or not spec.required
        if optional and (spec.nullable or partial):
            annotation = annotation | None
        default = None if optional else ...
        fields[spec.name] = (annotation, Field(default, **constraints))
    suffix = "Update" if partial else "Create"
    return create_model(f"{_camel(info.name)}{suffix}",
                        __config__=ConfigDict(extra="forbid"), **fields)


def page_model(info: EntityInfo, item: type[BaseModel]) -> type[BaseModel]:
    return create_model(f"{_camel(info.name)}Page", items=(list[item], ...), total=(int, ...),
                        limit=(int, ...), offset=(int, ...))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
