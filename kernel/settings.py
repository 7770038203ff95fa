"""Settings that plugins declare, with values per site and per branch.

A plugin declares each setting once (``fixdesk_settings``: key, type, default,
description, per-branch or site-wide). An admin sets values with
``fixdesk settings set`` (or the admin console's Settings page) and removes them with
``fixdesk settings unset``; reading falls back branch → site → declared default.
Values are validated against the declared type before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import Setting
from kernel.db import Base, IdMixin, TimestampMixin
from kernel.errors import NotFound, ValidationError
from kernel.i18n import N_, _


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

_TYPE_NAMES = {str: N_("text"), int: N_("integer"), bool: N_("yes/no"), Decimal: N_("decimal"),
               float: N_("number"), dt.time: N_("time HH:MM"),
               list: N_("comma-separated list")}

#: the longest value a setting takes, in characters as typed
MAX_VALUE_LENGTH = 1000
#: numbers a setting takes lie within ± this
MAX_NUMBER = 10**15


def type_name(kind: type) -> str:
    """A setting type as people call it, translated ("integer", "yes/no", ...)."""
    name = _TYPE_NAMES.get(kind)
    return _(name) if name else kind.__name__


def _check_text(setting: Setting, raw: Any) -> None:
    """Refuse typed text that no setting takes: too long, or with control characters."""
    from kernel.values import BIDI_CONTROLS

    texts = raw if isinstance(raw, list) else [raw]
    texts = [str(t) for t in texts if isinstance(t, str)]
    if sum(map(len, texts)) > MAX_VALUE_LENGTH:
        raise ValidationError(_("{key}: at most {n} characters").format(
            key=setting.key, n=MAX_VALUE_LENGTH), field=setting.key)
    if any(ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc" for t in texts for ch in t):
        raise ValidationError(_("{key} must not contain control characters").format(
            key=setting.key), field=setting.key)


def _check_number(setting: Setting, value: Any) -> Any:
    """Refuse a number too large for any setting (or not a number at all: inf, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    if (isinstance(value, float) and not math.isfinite(value)) or \
            (isinstance(value, Decimal) and not value.is_finite()) or abs(value) >= MAX_NUMBER:
        raise ValidationError(_("{key}: {value} is too large").format(
            key=setting.key, value=value), field=setting.key)
    return value


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
            value = float(raw)
            if not math.isfinite(value):
                raise bad
            return value
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
        shown = key if len(key) <= 100 else key[:100] + "…"  # a form may send a megabyte
        raise NotFound(_("unknown setting {key!r} (see: fixdesk settings list)").format(
            key=shown), field="key")
    return setting


#: the memo of stored values read in a transaction (:mod:`kernel.transaction_memo`)
READ_MEMO = "settings"


def _stored_value(session, key: str, branch_id: int | None) -> Any:
    """The stored raw value of ``key`` (a branch's with ``branch_id``, else the site's;
    None when nothing is stored), read once per transaction."""
    from kernel.transaction_memo import memo

    read = memo(session, READ_MEMO)
    if (key, branch_id) not in read:
        if branch_id is None:
            query = select(SiteSettingValue.value).where(SiteSettingValue.key == key)
        else:
            query = select(BranchSettingValue.value).where(
                BranchSettingValue.branch_id == branch_id, BranchSettingValue.key == key)
        read[(key, branch_id)] = session.scalar(query)
    return read[(key, branch_id)]


def get_setting(ctx, key: str, branch=None) -> Any:
    """Value of ``key`` for ``branch`` (branch value → site value → declared default)."""
    setting = declared(ctx.app, key)
    raw = None
    if setting.per_branch and branch is not None:
        raw = _stored_value(ctx.session, key, branch.id)
    if raw is None:
        raw = _stored_value(ctx.session, key, None)
    return setting.default if raw is None else parse_value(setting, raw)


def _changed(session) -> None:
    from kernel.transaction_memo import forget

    forget(session, READ_MEMO)


def _scope(setting: Setting, branch) -> None:
    if branch is not None and not setting.per_branch:
        raise ValidationError(_("{key} is site-wide; it cannot be set per branch").format(
            key=setting.key), field="branch")


def _stored_row(ctx, key: str, branch):
    if branch is None:
        return ctx.session.scalar(select(SiteSettingValue).where(SiteSettingValue.key == key))
    return ctx.session.scalar(select(BranchSettingValue).where(
        BranchSettingValue.branch_id == branch.id, BranchSettingValue.key == key))


def set_setting(ctx, key: str, raw: Any, branch=None) -> Any:
    """Validate and store a value site-wide or (for per-branch settings) for one branch.

    Refused (:class:`ValidationError`, nothing stored): a value not of the declared type,
    one the setting's ``validate`` refuses, text longer than :data:`MAX_VALUE_LENGTH` or
    with control characters, a number of :data:`MAX_NUMBER` or more, a branch value of a
    site-wide setting; an unknown key is :class:`NotFound`."""
    ctx.require("settings.update")
    setting = declared(ctx.app, key)
    _scope(setting, branch)
    _check_text(setting, raw)
    value = _check_number(setting, parse_value(setting, raw))
    if setting.validate is not None:
        setting.validate(value)
    row = _stored_row(ctx, key, branch)
    if row is None:
        row = SiteSettingValue(key=key) if branch is None else \
            BranchSettingValue(key=key, branch_id=branch.id)
    row.value = json.loads(json.dumps(_store(value)))
    ctx.session.add(row)
    ctx.session.flush()
    _changed(ctx.session)
    return value


def clear_setting(ctx, key: str, branch=None) -> bool:
    """Remove the stored value of ``key``, site-wide or (for per-branch settings) one
    branch's override, so that reading falls back again (branch → site → declared default);
    False when nothing was stored. The row is deleted through the ORM, so the audit trail
    records it (``fixdesk settings unset``, the admin console's Settings page)."""
    ctx.require("settings.update")
    setting = declared(ctx.app, key)
    _scope(setting, branch)
    row = _stored_row(ctx, key, branch)
    if row is None:
        return False
    ctx.session.delete(row)
    ctx.session.flush()
    _changed(ctx.session)
    return True


@dataclass(frozen=True)
class SettingValues:
    """A declared setting with what is stored for it (what the admin console shows)."""

    setting: Setting
    #: the kernel or plugin that declared it
    plugin: str
    #: the stored site value, None when the declared default applies
    site: Any = None
    #: branch code → the branch's stored override (per-branch settings only)
    branches: dict[str, Any] = field(default_factory=dict)

    @property
    def site_value(self) -> Any:
        """What a branch without an override reads: the site value, else the default."""
        return self.setting.default if self.site is None else self.site


def _parsed(setting: Setting, raw: Any) -> Any:
    try:
        return parse_value(setting, raw)
    except ValidationError:  # stored before its type changed: shown as it is
        return raw


def setting_values(ctx) -> list[SettingValues]:
    """Every declared setting with its stored site value and branch overrides, the
    kernel's first, then each plugin's in the site's plugin order, by key within each."""
    from kernel.models import Branch

    ctx.require("settings.read")
    registry = ctx.app.registry
    site = dict(ctx.session.execute(select(SiteSettingValue.key, SiteSettingValue.value)).all())
    branches: dict[str, dict[str, Any]] = {}
    for key, code, raw in ctx.session.execute(
            select(BranchSettingValue.key, Branch.code, BranchSettingValue.value)
            .join(Branch, Branch.id == BranchSettingValue.branch_id)):
        branches.setdefault(key, {})[code] = raw
    order = {name: i for i, name in enumerate(ctx.app.plugin_order)}
    found = []
    for key, setting in ctx.app.settings_registry.items():
        plugin = registry.owner(setting) or "kernel"
        overrides = {code: _parsed(setting, raw)
                     for code, raw in sorted(branches.get(key, {}).items())} \
            if setting.per_branch else {}
        found.append(SettingValues(setting, plugin, None if site.get(key) is None else
                                   _parsed(setting, site[key]), overrides))
    return sorted(found, key=lambda v: (order.get(v.plugin, len(order)), v.setting.key))
