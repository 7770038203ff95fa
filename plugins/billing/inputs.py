"""Values typed into billing's services from Python, the CLI or the API, read the way the
kernel reads an action's parameters (:func:`kernel.params.read_params`): a bad one raises
:class:`kernel.ValidationError` naming its field, before anything is written."""

from __future__ import annotations

from typing import Any

from kernel import Param, ValidationError
from kernel.params import given, read_value


def read(ctx, name: str, raw: Any, kind: str = "string", *, required: bool = False,
         **options) -> Any:
    """``raw`` as the value of a parameter ``name`` of ``kind`` (None when not given and
    not ``required``)."""
    if not given(raw):
        if required:
            from kernel.i18n import _

            raise ValidationError(_("is required"), field=name)
        return None
    try:
        return read_value(ctx, Param(name, kind, **options), raw)
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from None


def positive_amount(ctx, name: str, raw: Any) -> Any:
    """A required amount of money more than zero."""
    from kernel.i18n import _

    value = read(ctx, name, raw, "money", required=True)
    if value <= 0:
        raise ValidationError(_("must be more than zero"), field=name)
    return value
