"""Settings that plugins declare, with values per site and per branch.

A plugin declares each setting once (``fixdesk_settings``: key, type, default,
description, per-branch or site-wide). An admin sets values with
``fixdesk settings set``; reading falls back branch → site → declared default.
Values are validated against the declared type before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import Setting
from kernel.db import Base, IdMixin, TimestampMixin
from kernel.errors import NotFound, ValidationError
from kernel.i18n import _


class SiteSettingValue(IdMixin, TimestampMixin, Base):
    """A site-wide value of a declared setting."""

    __tablename__ = "setting_value"
    __expose__ = False  # managed by its own commands, not the generic API

    key: Mapped[str] = mapped_column(String(100), unique=True)
    value: Mapped[Any] = mapped_column(JSON)


class BranchSettingValue(IdMixin, TimestampMixin, Base):
    """A branch's own value of a per-branch setting."""

    __tablename__ = "branch_setting_value"
    __expose__ = False  # managed by its own commands, not the generic API
    __table_args__ = (UniqueConstraint("branch_id", "key"),)

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)


SETTING_ENTITIES = [SiteSettingValue, BranchSettingValue]

_TYPE_NAMES = {str: "text", int: "integer", bool: "yes/no", Decimal: "decimal",
               float: "number", dt.time: "time HH:MM", list: "comma-separated list"}


def type_name(kind: type) -> str:
    return _TYPE_NAMES.get(kind, kind.__name__)


def parse_value(setting: Setting, raw: Any) -> Any:
    """Turn ``raw`` (text from the CLI or a JSON value) into the setting's type, or raise."""
    kind = setting.type
    bad = ValidationError(_("{key} expects {type}, got {value!r}").format(
        key=setting.key, type=type_name(kind), value=raw), field=setting.key)
    try:
        if isinstance(raw, kind) and kind is not int:
            return raw
        if kind is bool:
            from kernel.values import parse_bool

            return parse_bool(raw)
        if kind is int:
            if isinstance(raw, bool) or (isinstance(raw, str) and not raw.strip().lstrip(
                    "-").isdigit()):
                raise bad
            return int(raw)
        if kind is Decimal:
            value = Decimal(str(raw).strip())
            if not value.is_finite():
                raise bad
            return value
        if kind is float:
            return float(raw)
        if kind is dt.time:
            return dt.time.fromisoformat(str(raw).strip())
        if kind is list:
            return [p.strip() for p in str(raw).split(",") if p.strip()]
        if kind is str:
            return str(raw)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise bad from exc
    raise bad


def _store(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    return value


def format_value(value: Any) -> str:
    """A setting value as an admin types it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    return "" if value is None else str(value)


def declared(app, key: str) -> Setting:
    """The declaration of ``key``, or a :class:`NotFound` naming the known keys' plugins."""
    setting = app.settings_registry.get(key)
    if setting is None:
        raise NotFound(_("unknown setting {key!r} (see: fixdesk settings list)").format(key=key),
                       field="key")
    return setting


def get_setting(ctx, key: str, branch=None) -> Any:
    """Value of ``key`` for ``branch`` (branch value → site value → declared default)."""
    setting = declared(ctx.app, key)
    raw = None
    if setting.per_branch and branch is not None:
        raw = ctx.session.scalar(select(BranchSettingValue.value).where(
            BranchSettingValue.branch_id == branch.id, BranchSettingValue.key == key))
    if raw is None:
        raw = ctx.session.scalar(select(SiteSettingValue.value).where(
            SiteSettingValue.key == key))
    return setting.default if raw is None else parse_value(setting, raw)


def set_setting(ctx, key: str, raw: Any, branch=None) -> Any:
    """Validate and store a value site-wide or (for per-branch settings) for one branch."""
    ctx.require("settings.update")
    setting = declared(ctx.app, key)
    if branch is not None and not setting.per_branch:
        raise ValidationError(_("{key} is site-wide; it cannot be set per branch").format(
            key=key), field="branch")
    value = parse_value(setting, raw)
    if setting.validate is not None:
        setting.validate(value)
    if branch is None:
        row = ctx.session.scalar(select(SiteSettingValue).where(SiteSettingValue.key == key))
        row = row or SiteSettingValue(key=key)
    else:
        row = ctx.session.scalar(select(BranchSettingValue).where(
            BranchSettingValue.branch_id == branch.id, BranchSettingValue.key == key))
        row = row or BranchSettingValue(key=key, branch_id=branch.id)
    row.value = json.loads(json.dumps(_store(value)))
    ctx.session.add(row)
    ctx.session.flush()
    return value
