"""Records the API answers with, encoded once: not validated again by the response model.

The routes keep their response models for OpenAPI, but a record made by
:func:`kernel.records.record_dict` holds JSON values already (:func:`kernel.values.plain`),
so FastAPI checking and serialising each of them through the model again only costs time
(a third of a list's). These answers are shaped as the models say: every field of the
model, in its order, an extension switched off for the branch as ``null``; and encoded as
FastAPI would encode them (compact UTF-8).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel

from kernel.values import plain


def _fallback(value: Any) -> Any:
    """What orjson does not encode itself, as the API writes it (money, enums, links)."""
    found = plain(value)
    if found is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return found


def json_answer(data: Any, status_code: int = 200) -> Response:
    """``data`` (JSON values) as a JSON response."""
    return Response(orjson.dumps(data, default=_fallback), status_code=status_code,
                    media_type="application/json")


class Shape:
    """The fields of a response model in order, with the value each takes when missing."""

    def __init__(self, model: type[BaseModel]):
        self.defaults = {name: None if field.is_required() else field.get_default()
                         for name, field in model.model_fields.items()}

    def __call__(self, data: dict) -> dict:
        """``data`` with every field of the model (those missing with their default, in
        the model's order); as it is when it has them all, the usual case."""
        if data.keys() == self.defaults.keys():
            return data
        return {name: data.get(name, default) for name, default in self.defaults.items()}


def record_answer(shape: Shape, data: dict, status_code: int = 200) -> Response:
    """One record (:func:`kernel.records.record_dict`) shaped by ``shape`` as a response."""
    return json_answer(shape(data), status_code)


def page_answer(page_shape: Shape, item_shape: Shape, page: dict) -> Response:
    """A page of records (``items``) shaped by ``page_shape``, each record by
    ``item_shape``, as a response."""
    page = page_shape(page)
    page["items"] = [item_shape(item) for item in page["items"]]
    return json_answer(page)
