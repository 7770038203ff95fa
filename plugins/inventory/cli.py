"""``fixdesk inventory``: the stock from a terminal.

``check`` proves that every stock row equals the sums of its ledger (exit 1 naming each
difference), ``stock`` shows on hand, reserved, available and value, ``ledger`` the latest
movements of a part, ``reorder`` what to buy. Output is tab-separated like every
``fixdesk`` table; a bad code or option prints one line and exits 2.
"""

from __future__ import annotations

import click

from kernel.cli.base import CliState, pass_state, print_table
from kernel.i18n import _

#: how many movements ``ledger`` shows unless told
DEFAULT_LIMIT = 20


@click.group(name="inventory", help=_("The stock: prove the ledger, show stock, movements "
                                      "and what to reorder."))
def inventory_cli():
    pass


def _printable(code: str, limit: int = 60) -> str | None:
    """``code`` when it can name a record (PostgreSQL refuses a NUL in a query)."""
    return code if code.isprintable() and len(code) <= limit else None


def part_by_code(session, code: str):
    """The part with ``code``, or :class:`kernel.NotFound`."""
    from sqlalchemy import select

    from kernel import NotFound

    from .models import Part

    found = session.scalars(select(Part).where(Part.code == code).order_by(Part.id)
                            ).first() if _printable(code) else None
    if found is None:
        raise NotFound(_("no part {code}").format(code=_shown(code)), field="part")
    return found


def warehouse_by_code(session, code: str):
    """The warehouse with ``code``, or :class:`kernel.NotFound`."""
    from sqlalchemy import select

    from kernel import NotFound

    from .models import Warehouse

    found = session.scalars(select(Warehouse).where(Warehouse.code == code)
                            .order_by(Warehouse.id)).first() if _printable(code) else None
    if found is None:
        raise NotFound(_("no warehouse {code}").format(code=_shown(code)), field="warehouse")
    return found


def _shown(code: str) -> str:
    return "".join(ch for ch in code if ch.isprintable())[:60]


@inventory_cli.command("check", help=_("Prove that every stock row (on hand, value, "
                                       "reserved) equals the sums of its ledger entries and "
                                       "reservations; exit 1 naming each difference."))
@pass_state
def check_command(state: CliState):
    from sqlalchemy import func, select

    from .ledger import check
    from .models import Stock

    with state.app() as app, app.sessions.begin() as session:
        differences = check(session)
        rows = session.scalar(select(func.count()).select_from(Stock))
    if differences:
        for difference in differences:
            click.echo(difference.text())
        click.echo(_("{count} differences between the stock and the ledger").format(
            count=len(differences)), err=True)
        raise click.exceptions.Exit(1)
    click.echo(_("ledger and stock agree: {count} stock rows").format(count=rows))


@inventory_cli.command("stock", help=_("On hand, reserved, available, average cost and "
                                       "value per part and warehouse (rows with stock)."))
@click.option("--warehouse", "warehouse_code", metavar="CODE", help=_("Only this warehouse."))
@click.option("--part", "part_code", metavar="CODE", help=_("Only this part."))
@pass_state
def stock_command(state: CliState, warehouse_code, part_code):
    from sqlalchemy import or_, select

    from .ledger import ZERO, average_cost
    from .models import Part, Stock, Warehouse

    with state.app() as app, app.sessions.begin() as session:
        query = (select(Stock, Part.code, Part.name, Warehouse.code)
                 .join(Part, Part.id == Stock.part_id)
                 .join(Warehouse, Warehouse.id == Stock.warehouse_id)
                 .where(or_(Stock.qty != 0, Stock.reserved != 0, Stock.value != 0))
                 .order_by(Part.code, Warehouse.code))
        if part_code is not None:
            query = query.where(Stock.part_id == part_by_code(session, part_code).id)
        if warehouse_code is not None:
            query = query.where(Stock.warehouse_id
                                == warehouse_by_code(session, warehouse_code).id)
        rows = [(code, name, house, stock.qty, stock.reserved, stock.available,
                 average_cost(stock), stock.value)
                for stock, code, name, house in session.execute(query)]
    total = sum((row[-1] for row in rows), ZERO)
    print_table((_("PART"), _("NAME"), _("WAREHOUSE"), _("ON HAND"), _("RESERVED"),
                 _("AVAILABLE"), _("AVERAGE COST"), _("STOCK VALUE")),
                [*rows, (_("TOTAL"), "", "", "", "", "", "", total)])


@inventory_cli.command("ledger", help=_("The latest movements of a part, newest first, with "
                                        "the balance after each."))
@click.option("--part", "part_code", required=True, metavar="CODE", help=_("The part."))
@click.option("--warehouse", "warehouse_code", metavar="CODE", help=_("Only this warehouse."))
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True,
              type=click.IntRange(1, 100000), help=_("How many movements."))
@pass_state
def ledger_command(state: CliState, part_code, warehouse_code, limit):
    from sqlalchemy import func, select

    from .models import LedgerEntry, Warehouse

    entry = LedgerEntry
    with state.app() as app, app.sessions.begin() as session:
        where = [entry.part_id == part_by_code(session, part_code).id]
        if warehouse_code is not None:
            where.append(entry.warehouse_id == warehouse_by_code(session, warehouse_code).id)
        # the window is computed over every movement that matches, before the limit
        balance = func.sum(entry.qty_change).over(partition_by=entry.warehouse_id,
                                                  order_by=(entry.posted_at, entry.id))
        found = session.execute(
            select(entry.posted_at, Warehouse.code, entry.kind, entry.qty_change,
                   entry.unit_cost, entry.value_change, balance, entry.voucher_number,
                   entry.voucher_entity, entry.voucher_id, entry.reversal)
            .join(Warehouse, Warehouse.id == entry.warehouse_id).where(*where)
            .order_by(entry.posted_at.desc(), entry.id.desc()).limit(limit)).all()
        tz = app.site.config.tz
    print_table((_("POSTED AT"), _("WAREHOUSE"), _("MOVEMENT"), _("QUANTITY"), _("UNIT COST"),
                 _("VALUE CHANGE"), _("BALANCE"), _("DOCUMENT")),
                [(at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), house,
                  _(str(kind.value)) + (" " + _("(reversal)") if reversal else ""),
                  qty, cost, value, after, number or f"{entity} {voucher_id}")
                 for at, house, kind, qty, cost, value, after, number, entity, voucher_id,
                 reversal in found])


@inventory_cli.command("reorder", help=_("Parts whose available stock and open purchase "
                                         "orders are below their reorder level, with the "
                                         "quantity to buy, per branch."))
@click.option("--branch", "branch_code", metavar="CODE", help=_("Only this branch."))
@pass_state
def reorder_command(state: CliState, branch_code):
    from sqlalchemy import select

    from kernel.masterdata import branch_by_code
    from kernel.models import Branch

    from .models import Supplier
    from .purchasing import reorder_suggestions

    with state.app() as app, app.sessions.begin() as session:
        ctx = app.context_in(session)
        if branch_code is not None:
            branches = [branch_by_code(session, branch_code)]
        else:
            branches = list(session.scalars(select(Branch).order_by(Branch.code)))
        found = [(branch, s) for branch in branches for s in reorder_suggestions(ctx, branch.id)]
        suppliers = {s.id: s.code for s in session.scalars(select(Supplier).where(
            Supplier.id.in_({s.supplier_id for _b, s in found if s.supplier_id})))}
    print_table((_("BRANCH"), _("PART"), _("NAME"), _("ON HAND"), _("RESERVED"),
                 _("ON ORDER"), _("REORDER LEVEL"), _("TO BUY"), _("SUPPLIER")),
                [(branch.code, s.code, s.name, s.on_hand, s.reserved, s.on_order,
                  s.reorder_level, s.qty, suppliers.get(s.supplier_id, ""))
                 for branch, s in found])


#: what ``fixdesk_cli_commands`` gives the kernel
COMMANDS = [inventory_cli]
