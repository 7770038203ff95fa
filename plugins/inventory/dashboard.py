"""Inventory's cards and chart on the desk's home page (``fixdesk_dashboard``), for the
warehouse keepers, branch managers and accountants of the branches they see:

* *Stock value* (yuan, one ``SUM``) → the report *Stock value by warehouse and category*;
* *Parts below their reorder level* (warning) → *Reorder suggestions* (purchasing's
  suggestions counted, one ``COUNT`` per branch with a parts warehouse);
* *Stock expiring within 30 days* (receipts still on the shelf, warning; one ``COUNT``
  over the report's query) → *Stock expiring*;
* the chart *Stock value by warehouse* (one ``GROUP BY``) → *Stock value*.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from kernel import DashboardCard, DashboardChart
from kernel.i18n import N_

from .models import Stock
from .purchasing import count_below_reorder_level
from .reports import (
    branch_ids,
    expiring_query,
    stocking_branches,
    value_by_warehouse,
    work_mem,
)

READ = "inventory_stock.read"
ROLES = ("warehouse_keeper", "branch_manager", "accountant")
EXPIRY_DAYS = 30


def stock_value(ctx) -> int:
    """The value of the stock in the branches the user sees, in whole yuan (one SUM)."""
    total = ctx.session.scalar(select(func.sum(Stock.value))
                               .where(Stock.branch_id.in_(branch_ids(ctx))))
    return int(total or 0)


def below_reorder_level(ctx) -> int:
    """Parts (per branch) below their reorder level: purchasing's suggestions, counted
    by the database (one COUNT per branch with a parts warehouse)."""
    return sum(count_below_reorder_level(ctx, branch.id)
               for branch in stocking_branches(ctx, branch_ids(ctx)))


def expiring_soon(ctx) -> int:
    """Receipts still on the shelf that expire within 30 days or have expired (one
    COUNT)."""
    today = ctx.now().astimezone(ctx.settings.tz).date()
    query = expiring_query(ctx, today + dt.timedelta(days=EXPIRY_DAYS), branch_ids(ctx))
    work_mem(ctx)
    return ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _report(name: str, query: str = ""):
    """The desk's page of the report ``inventory.<name>``, run (with ``query``)."""
    return lambda ctx: f"/desk/reports/inventory.{name}?" + (f"{query}&" if query else "") \
        + "run=1"


def dashboard() -> list:
    """The cards and the chart (see the module's text)."""
    return [
        DashboardCard("inventory.stock_value", N_("Stock value (yuan)"), stock_value,
                      url=_report("stock_value"), permission=READ, roles=ROLES, order=40,
                      help=N_("The value of the stock in your branches at moving average "
                              "cost")),
        DashboardCard("inventory.below_reorder", N_("Parts below their reorder level"),
                      below_reorder_level, url=_report("reorder_suggestions"),
                      permission=READ, roles=ROLES, order=41, tone="warning",
                      help=N_("Available plus still to come on purchase orders is below "
                              "the part's reorder level")),
        DashboardCard("inventory.expiring", N_("Stock expiring within 30 days"),
                      expiring_soon, url=_report("expiring", f"days={EXPIRY_DAYS}"),
                      permission=READ, roles=ROLES, order=42, tone="warning",
                      help=N_("Receipts still on the shelf that expire within 30 days or "
                              "have expired")),
        DashboardChart("inventory.value_by_warehouse", N_("Stock value by warehouse"),
                       value_by_warehouse, permission=READ, roles=ROLES, order=40,
                       url=_report("stock_value")),
    ]
