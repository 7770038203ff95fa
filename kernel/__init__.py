"""fixdesk kernel: the public API a plugin may import.

``from kernel import hookimpl, Base, Money, Context`` and so on. Importing this
package is cheap and has no side effects: names are loaded on first use
(PEP 562), so ``fixdesk --help`` does not pay for SQLAlchemy, and nothing is
discovered, registered or connected until a site starts.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Context": "kernel.context",
    "Action": "kernel.contributions",
    "ChartData": "kernel.contributions",
    "DashboardCard": "kernel.contributions",
    "DashboardChart": "kernel.contributions",
    "PERIOD_CHART_KEEP": "kernel.contributions",
    "Document": "kernel.contributions",
    "Extension": "kernel.contributions",
    "FormSection": "kernel.contributions",
    "ListColumn": "kernel.contributions",
    "Part": "kernel.contributions",
    "Role": "kernel.contributions",
    "SectionContent": "kernel.contributions",
    "JobHandler": "kernel.contributions",
    "Param": "kernel.contributions",
    "Permission": "kernel.contributions",
    "ScheduledJob": "kernel.contributions",
    "Setting": "kernel.contributions",
    "TimelineEvent": "kernel.contributions",
    "Base": "kernel.db",
    "BranchMixin": "kernel.db",
    "CompanyMixin": "kernel.db",
    "IdMixin": "kernel.db",
    "Money": "kernel.db",
    "TimestampMixin": "kernel.db",
    "UTCDateTime": "kernel.db",
    "Conflict": "kernel.errors",
    "FixdeskError": "kernel.errors",
    "NotFound": "kernel.errors",
    "PluginError": "kernel.errors",
    "SiteError": "kernel.errors",
    "ValidationError": "kernel.errors",
    "DocStatus": "kernel.lifecycle",
    "SubmittableMixin": "kernel.lifecycle",
    "RecordLink": "kernel.links",
    "link_column": "kernel.links",
    "Column": "kernel.reports.registry",
    "Report": "kernel.reports.registry",
    "hookimpl": "kernel.hookspecs",
    "hookspec": "kernel.hookspecs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
