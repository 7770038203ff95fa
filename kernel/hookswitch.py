"""Per-branch hook switches: one plugin's implementation of one hook, off for one branch.

Example (SCENARIOS.md, 8): JD sends corporate customers a monthly statement, so
JD's admin switches off billing's "invoice on completion" hook for JD; SH keeps
it. ``ctx.hook`` for a JD context is a relay whose callers were built with
pluggy's ``subset_hook_caller`` without the switched-off plugins (pytest's
``gethookproxy`` pattern); relays are cached per set of switches.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column

from kernel.contributions import title_of
from kernel.db import Base, IdMixin, TimestampMixin
from kernel.errors import NotFound, ValidationError
from kernel.hookspecs import KERNEL
from kernel.i18n import _


class HookSwitch(IdMixin, TimestampMixin, Base):
    """One plugin's implementation of one hook, switched off for one branch."""

    __tablename__ = "hook_switch"
    __expose__ = False  # managed by its own commands, not the generic API
    __table_args__ = (UniqueConstraint("branch_id", "plugin", "hook"),)

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    plugin: Mapped[str] = mapped_column(String(100))
    hook: Mapped[str] = mapped_column(String(100))


class BranchHookRelay:
    """``relay.<hook>(...)`` like ``pm.hook.<hook>(...)``, minus the switched-off plugins."""

    def __init__(self, pm, switched_off: frozenset[tuple[str, str]]):
        self._pm = pm
        self._off: dict[str, list[str]] = {}
        for plugin, hook in switched_off:
            self._off.setdefault(hook, []).append(plugin)
        self._callers: dict[str, object] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            plugins = [self._pm.get_plugin(p) for p in self._off.get(name, ())]
            plugins = [p for p in plugins if p is not None]
            caller = (self._pm.subset_hook_caller(name, remove_plugins=plugins) if plugins
                      else getattr(self._pm.hook, name))
            self._callers[name] = caller
        return caller


#: hooks whose answers make the site itself (its tables, roles, settings, routes, jobs),
#: and the lifecycle events through which an owner posts a document's entries and their
#: reversals (switched off, a cancel would leave its stock or receivable behind): the
#: same for every branch, so not switched per branch
SITE_WIDE = frozenset({"fixdesk_addhooks", "fixdesk_parts", "fixdesk_entities", "fixdesk_roles",
                       "fixdesk_permissions", "fixdesk_settings", "fixdesk_routers",
                       "fixdesk_reports", "fixdesk_cli_commands", "fixdesk_job_handlers",
                       "fixdesk_scheduled_jobs",
                       "fixdesk_demo_data", "fixdesk_document_submitted",
                       "fixdesk_document_cancelled", "fixdesk_document_amended",
                       "fixdesk_record_new", "fixdesk_record_created"})


_switches = HookSwitch.__table__
#: a branch's switches, as a Core statement made once: read by every request that runs a
#: hook, where the ORM's statement would cost several times the query
SWITCHES_QUERY = select(_switches.c.plugin, _switches.c.hook).where(
    _switches.c.branch_id == bindparam("branch_id"))


def switches(session, branch_id: int) -> frozenset[tuple[str, str]]:
    """The (plugin, hook) pairs switched off for a branch (site-wide hooks never are)."""
    rows = session.connection().execute(SWITCHES_QUERY, {"branch_id": branch_id})
    return frozenset((plugin, hook) for plugin, hook in rows if hook not in SITE_WIDE)


def relay_for(ctx):
    """The hook relay of the context's branch (the plain relay without a branch)."""
    off = ctx.switched_off
    if not off:
        return ctx.app.pm.hook
    return ctx.app.cached_relay(off, lambda: BranchHookRelay(ctx.app.pm, off))


def _functions(pm) -> dict[tuple[str, str], object]:
    """(plugin or part, hook) → the implementing function, for every switchable one."""
    found = {}
    for name, caller in vars(pm.hook).items():
        if name.startswith("_") or name in SITE_WIDE or not hasattr(caller, "get_hookimpls"):
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin_name != KERNEL:
                found[(impl.plugin_name, name)] = impl.function
    return found


def implementations(pm) -> list[tuple[str, str]]:
    """Every (plugin or part, hook) a site's plugins implement that can be switched off per
    branch (kernel and site-wide registration hooks excluded), sorted. Switching off one
    of ``fixdesk_actions``, ``fixdesk_documents``, ``fixdesk_extensions``,
    ``fixdesk_form_sections``, ``fixdesk_list_columns`` or ``fixdesk_dashboard`` hides
    what it contributes in that branch."""
    return sorted(_functions(pm))


@dataclass(frozen=True)
class Implementation:
    """One switchable hook implementation as an admin sees it (a row of ``fixdesk hooks
    list`` and of the desk's matrix)."""

    #: the plugin or part (``billing.invoicing``) by its name in the plugin manager
    plugin: str
    hook: str
    #: what it does, for people: the English msgid the plugin gave it with
    #: :func:`kernel.contributions.titled` (translate with ``_()``), or None
    title: str | None
    #: codes of the branches where it is switched off, sorted
    off: tuple[str, ...] = ()


def off_by_branch(session) -> dict[tuple[str, str], list[str]]:
    """Where implementations are switched off: (plugin or part, hook) → branch codes, sorted."""
    from kernel.models import Branch

    off: dict[tuple[str, str], list[str]] = {}
    for plugin, hook, code in session.execute(
            select(HookSwitch.plugin, HookSwitch.hook, Branch.code)
            .join(Branch, Branch.id == HookSwitch.branch_id)):
        off.setdefault((plugin, hook), []).append(code)
    return {pair: sorted(codes) for pair, codes in off.items()}


def hook_matrix(ctx) -> list[Implementation]:
    """Every switchable implementation of the site's plugins (as :func:`implementations`),
    with its title and the branches where it is switched off: what ``fixdesk hooks list``
    prints and the admin console's "Hooks per branch" page shows as a matrix."""
    functions = _functions(ctx.app.pm)
    off = off_by_branch(ctx.session)
    return [Implementation(plugin, hook, title_of(functions[(plugin, hook)]),
                           tuple(off.get((plugin, hook), ())))
            for plugin, hook in sorted(functions)]


def _short(text: str, limit: int = 60) -> str:
    """A name someone typed, cut for a message (a form may send a megabyte)."""
    return text if len(text) <= limit else text[:limit] + "…"


def _check(ctx, plugin: str, hook: str) -> None:
    if hook in SITE_WIDE:
        raise ValidationError(_("hook {hook} works the same in every branch: it cannot be "
                                "switched per branch").format(hook=_short(hook)), field="hook")
    if (plugin, hook) not in implementations(ctx.app.pm):
        raise ValidationError(_("plugin {plugin} has no implementation of hook {hook} "
                                "(see: fixdesk hooks list)").format(plugin=_short(plugin),
                                                                 hook=_short(hook)),
                              field="hook")


def switch(ctx, plugin: str, hook: str, branch, enabled: bool) -> bool:
    """Switch ``plugin``'s ``hook`` on or off for ``branch``; False when nothing changed."""
    ctx.require("hooks.update")
    _check(ctx, plugin, hook)
    if branch is None:
        raise NotFound(_("a branch is required"), field="branch")
    row = ctx.session.scalar(select(HookSwitch).where(
        HookSwitch.branch_id == branch.id, HookSwitch.plugin == plugin, HookSwitch.hook == hook))
    if enabled and row is not None:
        ctx.session.delete(row)
    elif not enabled and row is None:
        ctx.session.add(HookSwitch(branch_id=branch.id, plugin=plugin, hook=hook))
    else:
        return False
    ctx.session.flush()
    return True
