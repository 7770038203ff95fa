"""Stock counts (盘点, R23): a count sheet freezes a warehouse's book quantities, the
counted ones are entered, and submitting it (a supervisor's approval) posts the
differences to the ledger as adjustments with their reasons.

* :func:`start_count` — the warehouse's action *Start a stock count*
  (``inventory_stock_count.create``): a draft sheet (:class:`StockCount`) frozen now, one
  line per part with a stock row in the warehouse (book quantity, book value, bin),
  optionally only a category or the bins starting with a prefix;
* counted quantities are typed into the draft's lines (``counted_qty`` and ``reason``
  are the lines' writable fields), or scanned: :func:`count` (the sheet's action *Count
  by barcode*) adds ``qty`` (default one) to the line of the part whose barcode or code
  was typed — a scanner types the barcode and Enter, so it works on a phone; a part not
  on the sheet gets a line of its own, its book quantity frozen at the stock it has now;
* :func:`post_differences` (on submit) refuses a sheet with lines not counted or a
  difference without a reason, naming the parts, then posts each difference (counted −
  book as frozen) as a :attr:`Movement.ADJUSTMENT` of the sheet: gains at the average
  cost (the purchase price when the stock is empty), losses at the average — the
  ledger's rules (:mod:`plugins.inventory.ledger`), which also refuse a loss of units
  reserved for jobs; cancelling the sheet reverses them (:func:`reverse_differences`);
* :data:`FORM_SECTIONS` — *Differences* on the sheet's form: gains and losses in
  quantity and value (estimated at the frozen average cost while a draft, the ledger's
  values once submitted), and the lines that differ.

Two drafts of one warehouse never hold the same part: each would post its difference.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kernel import (
    Action,
    Conflict,
    DocStatus,
    FormSection,
    Param,
    SectionContent,
    ValidationError,
)
from kernel.i18n import N_, _
from kernel.lifecycle import number_new_draft

from . import ledger
from .ledger import CENT, ZERO, Move, Voucher
from .models import (
    LedgerEntry,
    Movement,
    Part,
    PartCategory,
    Stock,
    StockCount,
    StockCountLine,
    Warehouse,
)

ENTITY = "inventory_stock_count"
#: parts named in a refusal before "and n more"
NAMED = 10


# ---------------------------------------------------------------------------
# starting a count
# ---------------------------------------------------------------------------


def start_count(ctx, warehouse: Warehouse, category: PartCategory | None = None,
                bin_prefix: str | None = None) -> StockCount:
    """A draft count sheet of ``warehouse`` frozen now: one line per part with a stock row
    there (book quantity, book value and bin as they are now; rows of inactive parts with
    nothing on hand left out), only of ``category`` and of bins starting with
    ``bin_prefix`` when given, ordered by bin and part code (the walk through the store).

    :raise Conflict: the warehouse is not active; a part is on another draft sheet of it.
    :raise ValidationError: the filters match no stock (field ``bin_prefix``).
    """
    if not warehouse.active:
        raise Conflict(_("warehouse {name} is not active").format(name=warehouse.name))
    prefix = (bin_prefix or "").strip()
    query = (select(Stock).join(Part, Part.id == Stock.part_id)
             .options(joinedload(Stock.part))
             .where(Stock.warehouse_id == warehouse.id,
                    or_(Stock.qty != 0, Part.active.is_(True)))
             .order_by(Stock.location.is_(None), Stock.location, Part.code))
    if category is not None:
        query = query.where(Part.category_id == category.id)
    if prefix:
        query = query.where(Stock.location.startswith(prefix, autoescape=True))
    stocks = ctx.session.scalars(query).all()
    if not stocks and (category is not None or prefix):
        raise ValidationError(_("no stock of {warehouse} matches these filters").format(
            warehouse=warehouse.name), field="bin_prefix" if prefix else "category")
    _refuse_parts_on_other_drafts(ctx, warehouse.id, {s.part_id: s.part for s in stocks})
    sheet = StockCount(branch_id=warehouse.branch_id, warehouse_id=warehouse.id,
                       frozen_at=ctx.now(), note=_filters_note(category, prefix))
    number_new_draft(ctx, sheet)
    sheet.lines = [StockCountLine(part_id=s.part_id, location=s.location, book_qty=s.qty,
                                  book_value=s.value) for s in stocks]
    ctx.session.add(sheet)
    ctx.session.flush()
    return sheet


def _filters_note(category: PartCategory | None, prefix: str) -> str | None:
    said = []
    if category is not None:
        said.append(_("only category {name}").format(name=category.name))
    if prefix:
        said.append(_("only bins starting with {prefix}").format(prefix=prefix))
    return "; ".join(said) or None


def _refuse_parts_on_other_drafts(ctx, warehouse_id: int, parts: dict[int, Part],
                                  except_sheet: int | None = None) -> None:
    """Refuse when one of ``parts`` (id → part) is on another draft sheet of the warehouse:
    both sheets would post its difference."""
    if not parts:
        return
    query = (select(StockCountLine.part_id, StockCount.number)
             .join(StockCount, StockCount.id == StockCountLine.count_id)
             .where(StockCount.warehouse_id == warehouse_id,
                    StockCount.docstatus == DocStatus.DRAFT))
    if except_sheet is not None:
        query = query.where(StockCount.id != except_sheet)
    busy = [(parts[part_id], number) for part_id, number in ctx.session.execute(query)
            if part_id in parts]
    if busy:
        raise Conflict(_("already being counted on another draft sheet: {parts}").format(
            parts=_named(f"{part.label} ({number})" for part, number in busy)))


def _named(texts) -> str:
    texts = list(texts)
    shown = ", ".join(texts[:NAMED])
    if len(texts) > NAMED:
        shown += " " + _("and {n} more").format(n=len(texts) - NAMED)
    return shown


# ---------------------------------------------------------------------------
# counting by barcode
# ---------------------------------------------------------------------------


def count(ctx, sheet: StockCount, barcode: str, qty: int | None = None) -> StockCount:
    """Add ``qty`` (default one; negative takes a miscount back) to the counted quantity
    of the part whose barcode — or else code — is ``barcode``. A part not on the sheet
    gets a new line, its book quantity and value frozen at what its stock row holds now
    (nothing when it has none).

    :raise Conflict: the sheet is not a draft; the part is on another draft sheet.
    :raise ValidationError: no such part (``barcode``); a quantity of zero or one that
        would make the counted quantity negative (``qty``).
    """
    if sheet.docstatus != DocStatus.DRAFT:
        raise Conflict(_("only a draft count sheet can be counted"))
    qty = 1 if qty is None else qty
    if qty == 0:
        raise ValidationError(_("count at least one unit"), field="qty")
    part = find_part(ctx, barcode)
    line = _line_of(ctx, sheet, part.id)
    counted = ((line.counted_qty or 0) if line is not None else 0) + qty
    if counted < 0:
        raise ValidationError(_("{part} would be counted {n}: less than nothing").format(
            part=part.label, n=counted), field="qty")
    if line is None:
        line = _new_line(ctx, sheet, part)
        counted = (line.counted_qty or 0) + qty
    line.counted_qty = counted
    ctx.session.flush()
    return sheet


def find_part(ctx, code: str) -> Part:
    """The part whose barcode is ``code``, else whose code is ``code``.

    :raise ValidationError: none (field ``barcode``)."""
    text = str(code or "").strip()
    found = None
    if text:
        found = ctx.session.scalars(select(Part).where(Part.barcode == text)).first() or \
            ctx.session.scalars(select(Part).where(Part.code == text)).first()
    if found is None:
        raise ValidationError(_("no part has the barcode or code {code}").format(code=text),
                              field="barcode")
    return found


def _line_of(ctx, sheet: StockCount, part_id: int) -> StockCountLine | None:
    """The sheet's line of a part, locked (two scanners add to one line one after the
    other)."""
    query = select(StockCountLine).where(StockCountLine.count_id == sheet.id,
                                         StockCountLine.part_id == part_id)
    if ctx.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return ctx.session.scalars(query.execution_options(populate_existing=True)).first()


def _new_line(ctx, sheet: StockCount, part: Part) -> StockCountLine:
    _refuse_parts_on_other_drafts(ctx, sheet.warehouse_id, {part.id: part},
                                  except_sheet=sheet.id)
    stock = ledger.stock_of(ctx, part.id, sheet.warehouse_id)
    line = StockCountLine(count_id=sheet.id, part_id=part.id,
                          location=stock.location if stock else None,
                          book_qty=stock.qty if stock else 0,
                          book_value=stock.value if stock else ZERO)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(line)
    except IntegrityError:  # another scanner added the part a moment ago
        line = _line_of(ctx, sheet, part.id)
    return line


# ---------------------------------------------------------------------------
# submitting and cancelling
# ---------------------------------------------------------------------------


def _lines(ctx, sheet: StockCount) -> list[StockCountLine]:
    return list(ctx.session.scalars(
        select(StockCountLine).options(joinedload(StockCountLine.part))
        .where(StockCountLine.count_id == sheet.id).order_by(StockCountLine.id)
        .execution_options(populate_existing=True)))


def post_differences(ctx, sheet: StockCount) -> list[LedgerEntry]:
    """On submit: refuse a sheet without lines, with lines not counted or with a
    difference that has no reason (naming the parts); then post each difference (counted
    − book as frozen) as an adjustment of the sheet, valued by the ledger (gains at the
    average cost or the purchase price, losses at the average).

    :raise ValidationError: as above (field ``lines``); nothing is written.
    :raise Shortage: a loss would take units reserved for jobs (or issued meanwhile).
    """
    lines = _lines(ctx, sheet)
    if not lines:
        raise ValidationError(_("the count sheet has no lines: scan or add the parts "
                                "counted"), field="lines")
    uncounted = [line.part.label for line in lines if line.counted_qty is None]
    if uncounted:
        raise ValidationError(_("not counted yet: {parts}").format(parts=_named(uncounted)),
                              field="lines")
    unexplained = [line.part.label for line in lines
                   if line.counted_qty != line.book_qty and not (line.reason or "").strip()]
    if unexplained:
        raise ValidationError(_("give the reason for each difference: {parts}").format(
            parts=_named(unexplained)), field="lines")
    moves = [Move(line.part_id, sheet.warehouse_id, line.counted_qty - line.book_qty,
                  Movement.ADJUSTMENT, line_id=line.id)
             for line in lines if line.counted_qty != line.book_qty]
    if not moves:
        return []
    return ledger.post(ctx, Voucher.of(sheet), moves)


def reverse_differences(ctx, sheet: StockCount) -> list[LedgerEntry]:
    """On cancel: the reversing entries of the adjustments the sheet posted.

    :raise Shortage: units a gain brought in are gone already."""
    return ledger.reverse(ctx, Voucher.of(sheet))


# ---------------------------------------------------------------------------
# the form's section: the differences
# ---------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"-¥{-value:,.2f}" if value < 0 else f"¥{value:,.2f}"


def _signed(n: int) -> str:
    return f"{n:+d}"


def estimated_value(line: StockCountLine, difference: int) -> Decimal:
    """What a draft line's difference would be worth: the frozen average cost (book value
    ÷ book quantity), the part's purchase price when the book was empty; a loss of all
    the book takes its whole value."""
    if difference <= -line.book_qty and line.book_qty > 0:
        return -line.book_value
    if line.book_qty > 0:
        cost = (line.book_value / line.book_qty).quantize(CENT, ROUND_HALF_UP)
    else:
        cost = line.part.standard_cost or ZERO
    return (cost * difference).quantize(CENT, ROUND_HALF_UP)


def posted_values(ctx, sheet: StockCount) -> dict[int, Decimal]:
    """The value the sheet posted per line (its original adjustments, one query)."""
    return {line_id: Decimal(value or 0) for line_id, value in ctx.session.execute(
        select(LedgerEntry.voucher_line_id, func.sum(LedgerEntry.value_change))
        .where(LedgerEntry.voucher_entity == ENTITY, LedgerEntry.voucher_id == sheet.id,
               LedgerEntry.reversal.is_(False))
        .group_by(LedgerEntry.voucher_line_id))}


def differences(ctx, sheet: StockCount) -> dict:
    """The sheet's differences: ``lines`` ((line, difference, value) of each counted line
    that differs), ``counted`` and ``total`` lines, ``gain_qty``, ``gain_value``,
    ``loss_qty``, ``loss_value`` (both positive) and ``estimated`` (values from the
    frozen average cost, not posted yet)."""
    lines = _lines(ctx, sheet)
    estimated = sheet.docstatus == DocStatus.DRAFT
    posted = {} if estimated else posted_values(ctx, sheet)
    found = {"lines": [], "counted": 0, "total": len(lines), "gain_qty": 0,
             "gain_value": ZERO, "loss_qty": 0, "loss_value": ZERO, "estimated": estimated}
    for line in lines:
        if line.counted_qty is None:
            continue
        found["counted"] += 1
        difference = line.counted_qty - line.book_qty
        if difference == 0:
            continue
        value = estimated_value(line, difference) if estimated \
            else posted.get(line.id, ZERO)
        found["lines"].append((line, difference, value))
        side = "gain" if difference > 0 else "loss"
        found[f"{side}_qty"] += abs(difference)
        found[f"{side}_value"] += abs(value)
    return found


def differences_section(ctx, sheet: StockCount) -> SectionContent:
    """*Differences*: lines counted, gains and losses (quantity and value), the net value,
    and the lines that differ with their reasons."""
    found = differences(ctx, sheet)
    summary = (
        (_("Lines counted"), f"{found['counted']} / {found['total']}"),
        (_("Gains"), f"+{found['gain_qty']} · {_money(found['gain_value'])}"),
        (_("Losses"), f"-{found['loss_qty']} · {_money(found['loss_value'])}"),
        (_("Net value"), _money(found["gain_value"] - found["loss_value"])),
    )
    rows = tuple((line.part.label, line.location or "", str(line.book_qty),
                  str(line.counted_qty), _signed(difference), _money(value), line.reason or "")
                 for line, difference, value in found["lines"])
    note = _("Values are estimated at the average cost when the book was frozen; "
             "submitting posts them at the ledger's cost.") if found["estimated"] else None
    return SectionContent(
        summary=summary,
        columns=(_("Part"), _("Bin"), _("Book quantity"), _("Counted"), _("Difference"),
                 _("Amount"), _("Reason for the difference")),
        rows=rows, note=note, empty=_("No differences counted yet."))


# ---------------------------------------------------------------------------
# what plugin.py registers
# ---------------------------------------------------------------------------


def _is_draft(sheet) -> bool:
    return sheet.docstatus == DocStatus.DRAFT


ACTIONS = [
    Action("inventory_warehouse", "start_count", N_("Start a stock count"), start_count,
           "inventory_stock_count.create", available=lambda warehouse: bool(warehouse.active),
           params=(Param("category", "reference", reference="inventory_category",
                         label=N_("Only category"), help=N_("Empty: every category")),
                   Param("bin_prefix", label=N_("Only bins starting with"), max_length=50,
                         help=N_("Empty: every bin")))),
    Action(ENTITY, "count", N_("Count by barcode"), count, "inventory_stock_count.update",
           available=_is_draft,
           params=(Param("barcode", label=N_("Barcode or part code"), required=True,
                         max_length=60),
                   Param("qty", "integer", label=N_("Quantity"),
                         help=N_("Empty: one; negative takes a miscount back")))),
]

ON_SUBMIT = {ENTITY: post_differences}
ON_CANCEL = {ENTITY: reverse_differences}

FORM_SECTIONS = [
    FormSection(ENTITY, "inventory.count_differences", N_("Differences"),
                build=differences_section, order=10, permission="inventory_stock_count.read"),
]
