"""The inventory reports: plain functions taking a context, returning rows; :data:`REPORTS`
registers each as a :class:`kernel.Report`, so the kernel shows it on the desk, answers it
as JSON, Excel, CSV and PDF (``GET /api/v1/reports/<name>?format=xlsx``) and prints it.

* :func:`stock_on_hand` (``inventory.stock_on_hand``) — part × warehouse: on hand,
  reserved, available, average cost and value, with totals;
* :func:`stock_value` (``inventory.stock_value``) — value by warehouse and category, with
  the chart of the value by warehouse (:func:`value_by_warehouse`, also on the home page);
* :func:`movements` (``inventory.movements``) — per part × warehouse for a period the
  opening balance, what came in and went out and the closing balance, in quantity and
  value (收发存); or, ``by=line``, the ledger entries of the period;
* :func:`reorder_suggestions` (``inventory.reorder_suggestions``) — parts below their
  reorder level per branch with the quantity to buy (purchasing's
  :func:`~plugins.inventory.purchasing.reorder_suggestions`);
* :func:`slow_movers` (``inventory.slow_movers``) — stock nothing was taken out of for N
  days (``Stock.last_issue_at``, else the last receipt);
* :func:`expiring` (``inventory.expiring``) — stock expiring within N days, per receipt
  still on the shelf (first in, first out: what remains of a stock is its newest
  receipts);
* ``inventory.reserve_shortfalls`` — :mod:`plugins.inventory.reserve`.

Every report runs as the reader: ``inventory_stock.read`` (the movements
``inventory_ledger_entry.read``) and the branches the reader sees (``branch`` narrows to
one). Sums are made by the database (``GROUP BY``, a window function for the receipts
left), never one query per row and never the ledger loaded into Python: the movements
read the shorter side of the ledger, up to the period's end (opening = everything before
it) or from its start (opening = on hand now − everything since).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import aliased

from kernel import ChartData, Column, Money, Param, Report, ValidationError
from kernel.i18n import N_, _
from kernel.models import Branch

from .ledger import CENT, ZERO, share_of_value, unindexed
from .models import (
    LedgerEntry,
    Movement,
    Part,
    PartCategory,
    Stock,
    Supplier,
    Warehouse,
    WarehouseKind,
)
from .reserve import REPORT as RESERVE_REPORT

STOCK_READ = "inventory_stock.read"
LEDGER_READ = "inventory_ledger_entry.read"
#: the longest period the movements report covers
MAX_DAYS = 366
#: the lines of the movements report at most (``by=line``): a longer list is refused
MAX_LINES = 100_000
#: the receipts of the expiring report at most: a longer list is refused
MAX_EXPIRING = 50_000


# ---------------------------------------------------------------------------
# scope, filters, small helpers
# ---------------------------------------------------------------------------


def branch_ids(ctx, branch: Any = None) -> list[int]:
    """The ids of the branches a report covers: ``branch`` (a record the kernel checked)
    when given, else every branch the reader may see."""
    if branch is not None:
        return [branch.id]
    return [b.id for b in ctx.session.scalars(select(Branch).order_by(Branch.code))
            if ctx.can_see(b)]


def _narrowed(query, warehouse=None, category=None, part=None, *, rows=Stock):
    """``query`` limited to a warehouse, a category and a part when given (``rows``: the
    entity whose part and warehouse are compared; the query joins :class:`Part`)."""
    if warehouse is not None:
        query = query.where(rows.warehouse_id == warehouse.id)
    if category is not None:
        query = query.where(Part.category_id == category.id)
    if part is not None:
        query = query.where(rows.part_id == part.id)
    return query


def average(value: Decimal, qty: int) -> Decimal | None:
    """Value ÷ quantity to the fen; None for nothing on hand."""
    return (value / qty).quantize(CENT, ROUND_HALF_UP) if qty else None


def _local_day(ctx, moment: dt.datetime | None = None) -> dt.date:
    return (moment or ctx.now()).astimezone(ctx.settings.tz).date()


def _bounds(ctx, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of ``first``, start of the day after ``last``) in the site's time zone, UTC."""
    tz = ctx.settings.tz
    return (dt.datetime.combine(first, dt.time(0), tz).astimezone(dt.UTC),
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC))


def _days(days: Any, default: int, field: str = "days") -> int:
    days = default if days is None else int(days)
    if days < 0 or days > 3650:
        raise ValidationError(_("give a number of days from 0 to 3650"), field=field)
    return days


def _dicts(ctx, query) -> list[dict]:
    """The rows of ``query`` as dicts keyed by the selected columns' names."""
    keys = tuple(query.selected_columns.keys())
    return [dict(zip(keys, row, strict=True)) for row in ctx.session.execute(query)]


def _part_columns():
    return (Part.code.label("part_code"), Part.name.label("part_name"),
            Part.model.label("model"), Part.unit.label("unit"))


# ---------------------------------------------------------------------------
# stock on hand
# ---------------------------------------------------------------------------


ON_HAND_COLUMNS = (
    Column("warehouse", N_("Warehouse")), Column("part_code", N_("Part code")),
    Column("part_name", N_("Name")), Column("model", N_("Model")),
    Column("category", N_("Category")), Column("location", N_("Bin")),
    Column("unit", N_("Unit")), Column("qty", N_("On hand"), "int", total=True),
    Column("reserved", N_("Reserved"), "int", total=True),
    Column("available", N_("Available"), "int", total=True),
    Column("average_cost", N_("Average cost"), "money"),
    Column("value", N_("Stock value"), "money", total=True),
)


def stock_on_hand(ctx, warehouse=None, category=None, part=None, branch=None,
                  zero: bool = False) -> list[dict]:
    """Each part × warehouse with stock: on hand, reserved for jobs, available, the
    average cost and the value, by warehouse and part code (``zero``: also the stock rows
    with nothing on hand). One query."""
    ctx.require(STOCK_READ)
    query = (select(Warehouse.code.label("warehouse_code"), Warehouse.name.label("warehouse"),
                    *_part_columns(), PartCategory.name.label("category"),
                    Stock.location.label("location"), Stock.qty.label("qty"),
                    Stock.reserved.label("reserved"), Stock.value.label("value"),
                    Stock.part_id.label("part_id"), Stock.warehouse_id.label("warehouse_id"))
             .select_from(Stock).join(Part, Part.id == Stock.part_id)
             .join(Warehouse, Warehouse.id == Stock.warehouse_id)
             .outerjoin(PartCategory, PartCategory.id == Part.category_id)
             .where(Stock.branch_id.in_(branch_ids(ctx, branch)))
             .order_by(Warehouse.code, Part.code))
    if not zero:
        query = query.where(or_(Stock.qty != 0, Stock.reserved != 0))
    rows = _dicts(ctx, _narrowed(query, warehouse, category, part))
    for line in rows:
        line["available"] = line["qty"] - line["reserved"]
        line["average_cost"] = average(line["value"], line["qty"])
    return rows


# ---------------------------------------------------------------------------
# stock value by warehouse and category
# ---------------------------------------------------------------------------


VALUE_COLUMNS = (
    Column("warehouse", N_("Warehouse")), Column("kind", N_("Warehouse type"), "enum"),
    Column("category", N_("Category")), Column("parts", N_("Parts in stock"), "int"),
    Column("qty", N_("On hand"), "int", total=True),
    Column("value", N_("Stock value"), "money", total=True),
)


def stock_value(ctx, warehouse=None, branch=None) -> list[dict]:
    """The stock's value per warehouse and category (parts without a category apart):
    the parts in stock, the units and the value. One grouped query."""
    ctx.require(STOCK_READ)
    query = (select(Warehouse.code.label("warehouse_code"), Warehouse.name.label("warehouse"),
                    Warehouse.kind.label("kind"), PartCategory.code.label("category_code"),
                    PartCategory.name.label("category"),
                    func.sum(case((Stock.qty > 0, 1), else_=0)).label("parts"),
                    func.sum(Stock.qty).label("qty"), func.sum(Stock.value).label("value"))
             .select_from(Stock).join(Part, Part.id == Stock.part_id)
             .join(Warehouse, Warehouse.id == Stock.warehouse_id)
             .outerjoin(PartCategory, PartCategory.id == Part.category_id)
             .where(Stock.branch_id.in_(branch_ids(ctx, branch)), Stock.qty != 0)
             .group_by(Warehouse.code, Warehouse.name, Warehouse.kind, PartCategory.code,
                       PartCategory.name)
             .order_by(Warehouse.code, PartCategory.code.is_(None), PartCategory.code))
    query = _narrowed(query, warehouse)
    rows = []
    for row in ctx.session.execute(query):
        line = dict(row._mapping)
        line["kind"] = getattr(line["kind"], "value", line["kind"])
        line["category"] = line["category"] or _("(no category)")
        line["value"] = Decimal(line["value"] or 0)
        rows.append(line)
    return rows


def value_by_warehouse(ctx, ids: list[int] | None = None) -> ChartData | None:
    """The chart *Stock value by warehouse* (yuan), largest first, of the branches
    ``ids`` (default: those the reader sees). One grouped query; None when nothing is in
    stock."""
    ids = branch_ids(ctx) if ids is None else ids
    total = func.sum(Stock.value)
    found = ctx.session.execute(
        select(Warehouse.name, total).select_from(Stock)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.branch_id.in_(ids), Stock.qty != 0)
        .group_by(Warehouse.id, Warehouse.name).order_by(total.desc(), Warehouse.name)).all()
    if not found:
        return None
    return ChartData("bar", _("Stock value by warehouse (yuan)"),
                     tuple(name for name, _value in found),
                     ((_("Stock value"), tuple(float(value or 0) for _name, value in found)),),
                     decimals=0)


def _value_charts(ctx, rows: list[dict], warehouse=None, branch=None, **_params) -> list:
    if warehouse is not None:
        return []
    return [value_by_warehouse(ctx, branch_ids(ctx, branch))]


# ---------------------------------------------------------------------------
# movements: opening, in, out, closing (收发存) — or the ledger's lines
# ---------------------------------------------------------------------------


SUMMARY_COLUMNS = (
    Column("warehouse", N_("Warehouse")), Column("part_code", N_("Part code")),
    Column("part_name", N_("Name")), Column("model", N_("Model")),
    Column("opening_qty", N_("Opening quantity"), "int", total=True),
    Column("opening_value", N_("Opening value"), "money", total=True),
    Column("in_qty", N_("Quantity in"), "int", total=True),
    Column("in_value", N_("Value in"), "money", total=True),
    Column("out_qty", N_("Quantity out"), "int", total=True),
    Column("out_value", N_("Value out"), "money", total=True),
    Column("closing_qty", N_("Closing quantity"), "int", total=True),
    Column("closing_value", N_("Closing value"), "money", total=True),
)
LINE_COLUMNS = (
    Column("posted_at", N_("Posted at"), "datetime"), Column("warehouse", N_("Warehouse")),
    Column("part_code", N_("Part code")), Column("part_name", N_("Name")),
    Column("kind", N_("Movement"), "enum"), Column("qty_change", N_("Quantity"), "int", True),
    Column("unit_cost", N_("Cost per unit"), "money"),
    Column("value_change", N_("Amount"), "money", total=True),
    Column("voucher_number", N_("Document number")), Column("reversal", N_("Reversal"), "bool"),
)
_LINE_ONLY = tuple(c for c in LINE_COLUMNS if c.key not in {s.key for s in SUMMARY_COLUMNS})


def _period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError(_("the end date lies before the start date"), field="end")
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_("a report covers at most {n} days").format(n=MAX_DAYS),
                              field="end")


def movements(ctx, start: dt.date, end: dt.date, by: str = "part", warehouse=None,
              category=None, part=None, kind: str | None = None, branch=None) -> list[dict]:
    """The stock's movements from ``start`` to ``end`` (dates, both included, site time).

    ``by="part"``: per part × warehouse the opening balance, what came in and went out
    (``kind``: only movements of that kind) and the closing balance, in units and value,
    from one grouped query over the ledger up to ``end`` or from ``start`` on, whichever
    is shorter (:func:`_balances`). ``by="line"``: the ledger entries of the period in
    order (at most :data:`MAX_LINES`)."""
    ctx.require(LEDGER_READ)
    _period(start, end)
    low, high = _bounds(ctx, start, end)
    ids = branch_ids(ctx, branch)
    if by == "line":
        return _ledger_lines(ctx, low, high, ids, warehouse, category, part, kind)
    return _balances(ctx, low, high, ids, warehouse, category, part, kind)


def _ledger_lines(ctx, low, high, ids, warehouse, category, part, kind) -> list[dict]:
    query = (select(LedgerEntry.posted_at.label("posted_at"),
                    Warehouse.name.label("warehouse"), Part.code.label("part_code"),
                    Part.name.label("part_name"), LedgerEntry.kind.label("kind"),
                    LedgerEntry.qty_change.label("qty_change"),
                    LedgerEntry.unit_cost.label("unit_cost"),
                    LedgerEntry.value_change.label("value_change"),
                    LedgerEntry.voucher_number.label("voucher_number"),
                    LedgerEntry.reversal.label("reversal"))
             .select_from(LedgerEntry).join(Part, Part.id == LedgerEntry.part_id)
             .join(Warehouse, Warehouse.id == LedgerEntry.warehouse_id)
             .where(LedgerEntry.posted_at >= low, LedgerEntry.posted_at < high,
                    unindexed(ctx.session, LedgerEntry.branch_id).in_(ids))
             .order_by(LedgerEntry.posted_at, LedgerEntry.id).limit(MAX_LINES + 1))
    if kind:
        query = query.where(LedgerEntry.kind == Movement(kind))
    rows = _dicts(ctx, _narrowed(query, warehouse, category, part, rows=LedgerEntry))
    if len(rows) > MAX_LINES:
        raise ValidationError(_("more than {n} lines: choose a shorter period or a part "
                                "or warehouse").format(n=MAX_LINES), field="end")
    return rows


def reads_forward(ctx, low: dt.datetime, high: dt.datetime) -> bool:
    """Whether the ledger before ``high`` is shorter than the ledger from ``low`` on,
    judged by the time from the first posting to ``high`` against the time from ``low``
    to the last (both found through the ``posted_at`` index)."""
    first = select(func.min(LedgerEntry.posted_at)).scalar_subquery()
    last = select(func.max(LedgerEntry.posted_at)).scalar_subquery()
    first, last = ctx.session.execute(select(first, last)).one()
    if first is None:
        return False
    return high - first < last - low


def work_mem(ctx) -> None:
    """On PostgreSQL, let this transaction's sorts and hash tables use 64 MB (``SET
    LOCAL``): with the default 4 MB the planner expects the grouped sums of a busy ledger
    not to fit in memory and sorts hundreds of thousands of lines on disk instead of
    hashing them, about twice as slow."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        ctx.session.execute(text("SET LOCAL work_mem = '64MB'"))


def _balances(ctx, low, high, ids, warehouse, category, part, kind,
              forward: bool | None = None) -> list[dict]:
    """Opening, in, out and closing per part × warehouse, from the shorter side of the
    ledger (``forward``: default :func:`reads_forward`).

    Forward, the entries before ``high`` are summed per stock: those before ``low`` are
    the opening balance, closing = opening + in − out. Backward, the entries from ``low``
    on are: those from ``high`` on (``later``) are taken from what is on hand now, closing
    = on hand − later, opening = closing − in + out. The stock equals its ledger
    (:func:`~plugins.inventory.ledger.check`), so both give the same rows; a month long
    past reads the history up to it, last month only what came since. ``in``/``out`` of
    one ``kind`` only are summed apart."""
    if forward is None:
        forward = reads_forward(ctx, low, high)
    entry = LedgerEntry
    # ``edge``: before the period (forward) or after it (backward); the rest read is in it
    edge, within = ((entry.posted_at < low, entry.posted_at >= low) if forward
                    else (entry.posted_at >= high, entry.posted_at < high))
    incoming, outgoing = and_(within, entry.qty_change > 0), and_(within, entry.qty_change < 0)

    def total(condition, column):
        return func.sum(case((condition, column), else_=0))

    sums = [total(edge, entry.qty_change).label("edge_qty"),
            total(edge, entry.value_change).label("edge_value"),
            total(incoming, entry.qty_change).label("in_qty"),
            total(incoming, entry.value_change).label("in_value"),
            total(outgoing, -entry.qty_change).label("out_qty"),
            total(outgoing, -entry.value_change).label("out_value")]
    if kind:
        of_kind = entry.kind == Movement(kind)
        sums += [total(and_(incoming, of_kind), entry.qty_change).label("kind_in_qty"),
                 total(and_(incoming, of_kind), entry.value_change).label("kind_in_value"),
                 total(and_(outgoing, of_kind), -entry.qty_change).label("kind_out_qty"),
                 total(and_(outgoing, of_kind), -entry.value_change).label("kind_out_value")]
    sides = (select(entry.part_id.label("part_id"), entry.warehouse_id.label("warehouse_id"),
                    *sums)
             .where(entry.posted_at < high if forward else entry.posted_at >= low,
                    unindexed(ctx.session, entry.branch_id).in_(ids))
             .group_by(unindexed(ctx.session, entry.part_id), entry.warehouse_id))
    if warehouse is not None:
        sides = sides.where(entry.warehouse_id == warehouse.id)
    if part is not None:
        sides = sides.where(entry.part_id == part.id)
    sides = sides.subquery()

    def of(name):
        return func.coalesce(sides.c[name], 0)

    def money(expression):
        return type_coerce(expression, Money)

    moved_qty = of("in_qty") - of("out_qty")
    moved_value = of("in_value") - of("out_value")
    if forward:
        opening_qty, opening_value = of("edge_qty"), of("edge_value")
        closing_qty, closing_value = opening_qty + moved_qty, opening_value + moved_value
    else:
        closing_qty, closing_value = Stock.qty - of("edge_qty"), Stock.value - of("edge_value")
        opening_qty, opening_value = closing_qty - moved_qty, closing_value - moved_value
    prefix = "kind_" if kind else ""
    in_qty, out_qty = of(prefix + "in_qty"), of(prefix + "out_qty")
    query = (select(Warehouse.code, Warehouse.name, *_part_columns(),
                    opening_qty, money(opening_value), in_qty, money(of(prefix + "in_value")),
                    out_qty, money(of(prefix + "out_value")), closing_qty, money(closing_value))
             .select_from(Stock).join(Part, Part.id == Stock.part_id)
             .join(Warehouse, Warehouse.id == Stock.warehouse_id)
             .outerjoin(sides, and_(sides.c.part_id == Stock.part_id,
                                    sides.c.warehouse_id == Stock.warehouse_id))
             .where(Stock.branch_id.in_(ids),
                    or_(opening_qty != 0, in_qty != 0, out_qty != 0, closing_qty != 0))
             .order_by(Warehouse.code, Part.code))
    work_mem(ctx)
    return [dict(zip(BALANCE_KEYS, row, strict=True)) for row in ctx.session.execute(
        _narrowed(query, warehouse, category, part))]


BALANCE_KEYS = ("warehouse_code", "warehouse", "part_code", "part_name", "model", "unit",
                "opening_qty", "opening_value", "in_qty", "in_value", "out_qty", "out_value",
                "closing_qty", "closing_value")


def _movement_columns(rows: list[dict], by: str = "part", kind: str | None = None,
                      **_params) -> tuple:
    return LINE_COLUMNS if by == "line" else SUMMARY_COLUMNS


# ---------------------------------------------------------------------------
# reorder suggestions (purchasing's)
# ---------------------------------------------------------------------------


REORDER_COLUMNS = (
    Column("branch", N_("Branch")), Column("part_code", N_("Part code")),
    Column("part_name", N_("Name")), Column("model", N_("Model")),
    Column("supplier", N_("Default supplier")), Column("on_hand", N_("On hand"), "int"),
    Column("reserved", N_("Reserved"), "int"), Column("on_order", N_("On order"), "int"),
    Column("projected", N_("Projected"), "int"),
    Column("reorder_level", N_("Reorder level"), "int"),
    Column("reorder_qty", N_("Reorder quantity"), "int"),
    Column("suggested", N_("Suggested quantity"), "int", total=True),
    Column("standard_cost", N_("Purchase price"), "money"),
    Column("estimated_cost", N_("Estimated cost"), "money", total=True),
)


def stocking_branches(ctx, ids: list[int]) -> list[Branch]:
    """The branches among ``ids`` with an active parts warehouse (the ones that reorder),
    by code."""
    having = select(Warehouse.branch_id).where(Warehouse.kind == WarehouseKind.PARTS,
                                               Warehouse.active.is_(True))
    return list(ctx.session.scalars(select(Branch).where(Branch.id.in_(ids),
                                                         Branch.id.in_(having))
                                    .order_by(Branch.code)))


def suggestions(ctx, ids: list[int]) -> list[tuple[Branch, Any]]:
    """(branch, :class:`~plugins.inventory.purchasing.Suggestion`) of every stocking
    branch among ``ids``: one query per branch, however many parts."""
    from .purchasing import reorder_suggestions as suggest

    return [(branch, found) for branch in stocking_branches(ctx, ids)
            for found in suggest(ctx, branch.id)]


def reorder_suggestions(ctx, category=None, branch=None) -> list[dict]:
    """Per branch with a parts warehouse, the parts whose available units plus those still
    to come on open orders are below their reorder level, with the quantity to buy (the
    reorder quantity, or more to reach the level again) and what it would cost at the
    purchase price."""
    ctx.require(STOCK_READ)
    found = suggestions(ctx, branch_ids(ctx, branch))
    if not found:
        return []
    parts = {p.id: p for p in ctx.session.scalars(
        select(Part).where(Part.id.in_({s.part_id for _b, s in found})))}
    suppliers = dict(ctx.session.execute(select(Supplier.id, Supplier.name).where(
        Supplier.id.in_({p.default_supplier_id for p in parts.values()}))).all())
    rows = []
    for place, suggestion in found:
        part = parts[suggestion.part_id]
        if category is not None and part.category_id != category.id:
            continue
        cost = part.standard_cost or ZERO
        rows.append({
            "branch": place.name, "branch_code": place.code, "part_code": part.code,
            "part_name": part.name, "model": part.model,
            "supplier": suppliers.get(part.default_supplier_id),
            "on_hand": suggestion.on_hand, "reserved": suggestion.reserved,
            "on_order": suggestion.on_order, "projected": suggestion.projected,
            "reorder_level": suggestion.reorder_level, "reorder_qty": suggestion.reorder_qty,
            "suggested": suggestion.qty, "standard_cost": cost,
            "estimated_cost": (cost * suggestion.qty).quantize(CENT)})
    return rows


# ---------------------------------------------------------------------------
# slow movers
# ---------------------------------------------------------------------------


SLOW_COLUMNS = (
    Column("warehouse", N_("Warehouse")), Column("part_code", N_("Part code")),
    Column("part_name", N_("Name")), Column("model", N_("Model")),
    Column("category", N_("Category")), Column("qty", N_("On hand"), "int", total=True),
    Column("value", N_("Stock value"), "money", total=True),
    Column("last_issue_at", N_("Last issue"), "datetime"),
    Column("last_receipt_at", N_("Last receipt"), "datetime"),
    Column("idle_days", N_("Days without an issue"), "int"),
)


def slow_movers(ctx, days: int | None = None, warehouse=None, category=None,
                branch=None) -> list[dict]:
    """Stock on hand nothing was taken out of for ``days`` (default 90) days: its last
    issue (any movement out) is older — or, never issued, its last receipt is — most
    valuable first. One query."""
    ctx.require(STOCK_READ)
    days = _days(days, 90)
    now = ctx.now()
    cutoff = now - dt.timedelta(days=days)
    since = func.coalesce(Stock.last_issue_at, Stock.last_receipt_at)
    query = (select(Warehouse.name.label("warehouse"), *_part_columns(),
                    PartCategory.name.label("category"), Stock.qty.label("qty"),
                    Stock.value.label("value"), Stock.last_issue_at.label("last_issue_at"),
                    Stock.last_receipt_at.label("last_receipt_at"))
             .select_from(Stock).join(Part, Part.id == Stock.part_id)
             .join(Warehouse, Warehouse.id == Stock.warehouse_id)
             .outerjoin(PartCategory, PartCategory.id == Part.category_id)
             .where(Stock.branch_id.in_(branch_ids(ctx, branch)), Stock.qty > 0,
                    or_(since.is_(None), since < cutoff))
             .order_by(Stock.value.desc(), Warehouse.code, Part.code))
    rows = []
    for row in ctx.session.execute(_narrowed(query, warehouse, category)):
        line = dict(row._mapping)
        last = line["last_issue_at"] or line["last_receipt_at"]
        line["idle_days"] = (now - last).days if last is not None else None
        rows.append(line)
    return rows


# ---------------------------------------------------------------------------
# shelf life: what expires within N days
# ---------------------------------------------------------------------------


EXPIRING_COLUMNS = (
    Column("warehouse", N_("Warehouse")), Column("part_code", N_("Part code")),
    Column("part_name", N_("Name")), Column("model", N_("Model")),
    Column("received_at", N_("Received at"), "datetime"),
    Column("voucher_number", N_("Document number")),
    Column("expires_on", N_("Expires on"), "date"),
    Column("estimated", N_("Estimated from the shelf life"), "bool"),
    Column("days_left", N_("Days left"), "int"),
    Column("remaining", N_("Remaining"), "int", total=True),
    Column("value", N_("Stock value"), "money", total=True),
)


def _expiry(ctx, expires_on, posted_at, shelf_life_days):
    """The expiry date of an incoming entry: its own (``expires_on``), else the local date
    it was posted plus the part's shelf life (SQL for both engines)."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        estimate = cast(func.timezone(ctx.settings.tz.key, posted_at), Date) + shelf_life_days
    else:  # SQLite keeps UTC text: shift it to the site's zone, then add the days
        offset = ctx.now().astimezone(ctx.settings.tz).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        estimate = func.date(posted_at, f"{minutes:+d} minutes",
                             literal("+") + cast(shelf_life_days, String) + " days", type_=Date)
    return func.coalesce(expires_on, estimate, type_=Date)


def expiring_query(ctx, horizon: dt.date, ids: list[int], warehouse=None, category=None,
                   part=None, limit: int | None = None):
    """One SELECT of the receipts still on the shelf that expire by ``horizon``, most
    urgent first (at most ``limit``).

    The incoming entries (not reversals, not reversed) of parts with a shelf life, and of
    the stocks of other parts that have a dated receipt (the partial index on dated
    entries finds them), are summed newest first per part × warehouse by a window
    function over the ledger alone (``newer``: the units of this receipt and of all later
    ones); joined to the stock, a receipt is still (partly) on the shelf while the later
    ones do not fill it: ``newer − qty < on hand``, and what is left of it is
    ``min(qty, on hand − (newer − qty))``. A reversed receipt has a reversal of the same
    voucher line: one anti-join against the reversals, which the partial index on them
    finds without reading the ledger."""
    entry, undone = LedgerEntry, aliased(LedgerEntry)

    def voucher_line(of):
        return (of.voucher_entity, of.voucher_id, of.part_id, of.warehouse_id,
                func.coalesce(of.voucher_line_id, 0))

    reversed_lines = select(*voucher_line(undone)).where(undone.reversal, undone.qty_change < 0)
    shelf_life = select(Part.id).where(Part.shelf_life_days.is_not(None))
    dated = select(undone.part_id, undone.warehouse_id).where(  # parts without a shelf life
        undone.expires_on.is_not(None), undone.part_id.not_in(shelf_life))
    part_key = unindexed(ctx.session, entry.part_id)  # SQLite: a scan, not a walk of the index
    newer = func.sum(entry.qty_change).over(
        partition_by=(part_key, entry.warehouse_id),
        order_by=(entry.posted_at.desc(), entry.id.desc()))
    batches = (select(entry.id.label("entry_id"), entry.part_id.label("part_id"),
                      entry.warehouse_id.label("warehouse_id"),
                      entry.posted_at.label("received_at"),
                      entry.voucher_number.label("voucher_number"),
                      entry.qty_change.label("qty"), entry.expires_on.label("own_expiry"),
                      newer.label("newer"))
               .where(entry.qty_change > 0, entry.reversal.is_(False),
                      or_(part_key.in_(shelf_life),
                          tuple_(part_key, entry.warehouse_id).in_(dated)),
                      tuple_(*voucher_line(entry)).not_in(reversed_lines)))
    if warehouse is not None:
        batches = batches.where(entry.warehouse_id == warehouse.id)
    if part is not None:
        batches = batches.where(entry.part_id == part.id)
    if category is not None:
        batches = batches.where(entry.part_id.in_(
            select(Part.id).where(Part.category_id == category.id)))
    batches = batches.subquery("batches")
    expires_on = _expiry(ctx, batches.c.own_expiry, batches.c.received_at,
                         Part.shelf_life_days)
    before = batches.c.newer - batches.c.qty  # the units of the later receipts
    remaining = case((batches.c.newer <= Stock.qty, batches.c.qty), else_=Stock.qty - before)
    query = (select(Warehouse.name.label("warehouse"), *_part_columns(),
                    batches.c.received_at, batches.c.voucher_number,
                    expires_on.label("expires_on"), batches.c.own_expiry,
                    remaining.label("remaining"), Stock.qty.label("on_hand"),
                    Stock.value.label("stock_value"))
             .select_from(batches)
             .join(Stock, and_(Stock.part_id == batches.c.part_id,
                               Stock.warehouse_id == batches.c.warehouse_id))
             .join(Part, Part.id == batches.c.part_id)
             .join(Warehouse, Warehouse.id == batches.c.warehouse_id)
             .where(Stock.qty > 0, Stock.branch_id.in_(ids), before < Stock.qty,
                    expires_on <= horizon)
             .order_by(expires_on, Part.code, Warehouse.code, batches.c.entry_id))
    return query if limit is None else query.limit(limit)


def expiring(ctx, days: int | None = None, warehouse=None, category=None, part=None,
             branch=None) -> list[dict]:
    """Stock that expires within ``days`` (default 30) days from today, or has expired:
    per receipt still on the shelf (first in, first out — the newest receipts are what
    remains), its expiry date (the receipt's, else estimated from the part's shelf life),
    the days left, the units left and their value at the stock's average cost. One
    query; more than :data:`MAX_EXPIRING` receipts are refused (narrow the report)."""
    ctx.require(STOCK_READ)
    today = _local_day(ctx)
    horizon = today + dt.timedelta(days=_days(days, 30))
    query = expiring_query(ctx, horizon, branch_ids(ctx, branch), warehouse, category, part,
                           limit=MAX_EXPIRING + 1)
    work_mem(ctx)
    rows = []
    for (warehouse_name, part_code, part_name, model, unit, received_at, voucher_number,
         expires_on, own_expiry, remaining, on_hand, stock_value) in ctx.session.execute(query):
        expires_on = _as_date(expires_on)
        rows.append({
            "warehouse": warehouse_name, "part_code": part_code, "part_name": part_name,
            "model": model, "unit": unit, "received_at": received_at,
            "voucher_number": voucher_number, "expires_on": expires_on,
            "estimated": own_expiry is None, "days_left": (expires_on - today).days,
            "remaining": remaining, "value": share_of_value(stock_value, on_hand, remaining)})
    if len(rows) > MAX_EXPIRING:
        raise ValidationError(_("more than {n} receipts expire by then: choose a warehouse, "
                                "a category or a part, or fewer days").format(n=MAX_EXPIRING),
                              field="days")
    return rows


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


# ---------------------------------------------------------------------------
# the catalogue: what fixdesk_reports registers
# ---------------------------------------------------------------------------


WAREHOUSE = Param("warehouse", "reference", reference="inventory_warehouse",
                  label=N_("Warehouse"))
CATEGORY = Param("category", "reference", reference="inventory_category", label=N_("Category"))
PART = Param("part", "reference", reference="inventory_part", label=N_("Part"))
BRANCH = Param("branch", "reference", reference="branch",
               help=N_("Empty: every branch you may see"))

#: the movements report's choices as people read them
BY_LABELS = (N_("part"), N_("line"))

REPORTS = [
    Report("inventory.stock_on_hand", N_("Stock on hand"), ON_HAND_COLUMNS, stock_on_hand,
           permission=STOCK_READ, orientation="landscape",
           params=(WAREHOUSE, CATEGORY, PART, BRANCH,
                   Param("zero", "boolean", label=N_("Also stock with nothing on hand")))),
    Report("inventory.stock_value", N_("Stock value by warehouse and category"), VALUE_COLUMNS,
           stock_value, permission=STOCK_READ, charts=_value_charts,
           params=(WAREHOUSE, BRANCH)),
    Report("inventory.movements", N_("Stock movements"), SUMMARY_COLUMNS + _LINE_ONLY,
           movements, permission=LEDGER_READ, orientation="landscape",
           columns_for=_movement_columns,
           params=(Param("start", "date", label=N_("Start"), required=True),
                   Param("end", "date", label=N_("End"), required=True),
                   Param("by", "choice", label=N_("Show"), choices=("part", "line"),
                         help=N_("By part: opening, in, out and closing of each part; by "
                                 "line: the ledger's entries")),
                   WAREHOUSE, CATEGORY, PART,
                   Param("kind", "choice", label=N_("Movement"),
                         choices=tuple(m.value for m in Movement)),
                   BRANCH)),
    Report("inventory.reorder_suggestions", N_("Reorder suggestions"), REORDER_COLUMNS,
           reorder_suggestions, permission=STOCK_READ, orientation="landscape",
           params=(CATEGORY, BRANCH)),
    Report("inventory.slow_movers", N_("Slow-moving stock"), SLOW_COLUMNS, slow_movers,
           permission=STOCK_READ, orientation="landscape",
           params=(Param("days", "integer", label=N_("Days without an issue"),
                         help=N_("Empty: 90")), WAREHOUSE, CATEGORY, BRANCH)),
    Report("inventory.expiring", N_("Stock expiring"), EXPIRING_COLUMNS, expiring,
           permission=STOCK_READ, orientation="landscape",
           params=(Param("days", "integer", label=N_("Expiring within (days)"),
                         help=N_("Empty: 30")), WAREHOUSE, CATEGORY, PART, BRANCH)),
    RESERVE_REPORT,
]
