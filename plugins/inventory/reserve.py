"""The emergency reserve: the least quantity of a part a warehouse must hold
(``inventory_reserve_level`` lines on the warehouse's form), checked every morning.

* :func:`shortfall_query` — every level above the stock's *available* quantity (on hand
  minus what is reserved for jobs; nothing when the part has no stock row): one query;
* :func:`check_reserve` — the scheduled job ``inventory.check_reserve`` (daily at 07:00):
  one e-mail per branch to each of its warehouse keepers and branch managers listing that
  branch's shortfalls (``templates/notifications/inventory_reserve_short.txt``); the
  scheduler runs it once per due time, so once a day;
* :data:`REPORT` — the report ``inventory.reserve_shortfalls`` (the same rows, for the
  branches the reader sees).
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import and_, func, select

from kernel import Column, Param, Report, ScheduledJob
from kernel.i18n import N_
from kernel.models import Branch
from kernel.notifications import tell_branch

from .models import Part, ReserveLevel, Stock, Warehouse

#: who is told of the shortfalls of their branch
RECIPIENT_ROLES = ("warehouse_keeper", "branch_manager")
PERMISSION = "inventory_stock.read"


def shortfall_query(branch_ids=None, warehouse_id: int | None = None):
    """The levels above the available stock, as one SELECT of plain values ordered by
    branch, warehouse and part (``branch_ids``: only those branches)."""
    available = func.coalesce(Stock.qty, 0) - func.coalesce(Stock.reserved, 0)
    query = (select(Branch.id.label("branch_id"), Branch.code.label("branch_code"),
                    Branch.name.label("branch"), Warehouse.id.label("warehouse_id"),
                    Warehouse.code.label("warehouse_code"), Warehouse.name.label("warehouse"),
                    Part.id.label("part_id"), Part.code.label("part_code"),
                    Part.name.label("part_name"), Part.model.label("model"),
                    Part.unit.label("unit"), ReserveLevel.min_qty.label("min_qty"),
                    func.coalesce(Stock.qty, 0).label("on_hand"),
                    func.coalesce(Stock.reserved, 0).label("reserved"),
                    available.label("available"),
                    (ReserveLevel.min_qty - available).label("short"))
             .select_from(ReserveLevel)
             .join(Warehouse, Warehouse.id == ReserveLevel.warehouse_id)
             .join(Branch, Branch.id == Warehouse.branch_id)
             .join(Part, Part.id == ReserveLevel.part_id)
             .outerjoin(Stock, and_(Stock.part_id == ReserveLevel.part_id,
                                    Stock.warehouse_id == ReserveLevel.warehouse_id))
             .where(Warehouse.active.is_(True), ReserveLevel.min_qty > available)
             .order_by(Branch.code, Warehouse.code, Part.code))
    if branch_ids is not None:
        query = query.where(Warehouse.branch_id.in_(list(branch_ids)))
    if warehouse_id is not None:
        query = query.where(Warehouse.id == warehouse_id)
    return query


def shortfalls(ctx, branch_ids=None, warehouse_id: int | None = None) -> list[dict]:
    """The shortfalls as dicts (see :func:`shortfall_query`), in one query."""
    return [dict(row._mapping) for row in ctx.session.execute(
        shortfall_query(branch_ids, warehouse_id))]


def _item(row: dict) -> dict:
    return {"warehouse": row["warehouse"], "part": " ".join(
        x for x in (row["part_code"], row["part_name"], row["model"]) if x),
        "unit": row["unit"] or "", "min_qty": row["min_qty"], "available": row["available"],
        "short": row["short"]}


def check_reserve(ctx) -> dict:
    """Scheduled daily at 07:00 (``inventory.check_reserve``): find every reserve level
    above the available stock (one query) and e-mail each branch's warehouse keepers and
    branch managers the list of its shortfalls (``inventory_reserve_short``, one message
    per recipient, in the recipient's language). Returns the numbers: shortfalls,
    branches short and messages queued."""
    found = shortfalls(ctx)
    day = ctx.now().astimezone(ctx.settings.tz).date().isoformat()
    messages = branches = 0
    for branch_id, rows in groupby(found, key=lambda row: row["branch_id"]):
        rows = list(rows)
        branches += 1
        items = [_item(row) for row in rows]
        messages += tell_branch(ctx, branch_id, RECIPIENT_ROLES, "inventory_reserve_short",
                                {"branch": rows[0]["branch"], "day": day,
                                 "count": len(items), "items": items})
    return {"shortfalls": len(found), "branches": branches, "messages": messages}


SCHEDULED = [ScheduledJob("inventory.check_reserve", check_reserve, daily_at="07:00")]


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


COLUMNS = (
    Column("branch", N_("Branch")), Column("warehouse", N_("Warehouse")),
    Column("part_code", N_("Part code")), Column("part_name", N_("Name")),
    Column("model", N_("Model")), Column("min_qty", N_("Minimum quantity"), "int"),
    Column("on_hand", N_("On hand"), "int"), Column("reserved", N_("Reserved"), "int"),
    Column("available", N_("Available"), "int"),
    Column("short", N_("Short"), "int", total=True),
)


def reserve_shortfalls(ctx, warehouse=None, branch=None) -> list[dict]:
    """The report ``inventory.reserve_shortfalls``: each emergency reserve level above the
    available stock, in the branches the reader sees (``branch``, ``warehouse``: only
    that one)."""
    from .reports import branch_ids

    ctx.require(PERMISSION)
    return shortfalls(ctx, branch_ids(ctx, branch),
                      warehouse.id if warehouse is not None else None)


REPORT = Report(
    "inventory.reserve_shortfalls", N_("Emergency reserve shortfalls"), COLUMNS,
    reserve_shortfalls, permission=PERMISSION,
    params=(Param("warehouse", "reference", reference="inventory_warehouse",
                  label=N_("Warehouse")),
            Param("branch", "reference", reference="branch",
                  help=N_("Empty: every branch you may see"))))
