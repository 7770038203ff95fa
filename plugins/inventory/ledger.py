"""The stock ledger (R22): posting movements, moving weighted average cost, availability.

Every movement is a :class:`~plugins.inventory.models.LedgerEntry` naming the submitted
document that made it (``voucher_entity``, ``voucher_id``, ``voucher_line_id``). The
:class:`~plugins.inventory.models.Stock` row of a part × warehouse holds the sums of its
entries (on hand and value) and the units reserved for jobs; :func:`post` changes both in
one transaction, so they never disagree (:func:`check` proves it for a site).

**Valuation** is the moving weighted average (移动加权平均): a receipt adds its cost to the
stock's value, so the average cost (value ÷ on hand) is recomputed on each receipt; an
issue takes out ``value × issued ÷ on hand`` rounded to the fen (all that is left when
the last unit goes, so no fen is ever stranded), and the entry carries that cost.

**Concurrency.** Each stock row a posting touches is locked first (``SELECT ... FOR
UPDATE`` on PostgreSQL, in part and warehouse order so that two postings never wait on
each other; SQLite's writing transactions are serial already), then checked and changed;
a ``CHECK (qty >= 0)`` on the table is the last guard. Of fifty clerks issuing the last
ten units, exactly ten get one.

**Availability.** Outgoing stock needs enough *available* units: on hand minus what is
reserved for other jobs (``Move.own_reserved`` are the caller's own reserved units).
Otherwise :class:`Shortage` names each part with what is available and what is short.

**Backdating.** A movement posted before later ones of its stock is allowed when the
running balance stays at or above zero at every later entry; otherwise it is refused
naming the first entry it would make negative. Values are not re-posted: a backdated
receipt is valued when it is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, func, select, type_coerce

from kernel import Conflict, RecordLink
from kernel.db import upsert_insert
from kernel.i18n import _

from .models import LedgerEntry, Movement, Part, Reservation, ReservationStatus, Stock, Warehouse

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Move:
    """One movement to post: ``qty`` units (positive in, negative out) of a part in a
    warehouse.

    ``unit_cost`` values an incoming move (a receipt at its price); ``value`` gives the
    exact total instead (putting back what an issue took out); without either an incoming
    move is valued at the current average cost (or the part's purchase price when the
    stock is empty). Outgoing moves are valued at the average, unless ``value`` (a
    reversed receipt) says otherwise. ``own_reserved`` units of the stock are reserved for
    the very job this move is for, so they count as available to it.
    """

    part_id: int
    warehouse_id: int
    qty: int
    kind: Movement
    unit_cost: Decimal | None = None
    value: Decimal | None = None
    line_id: int | None = None
    expires_on: dt.date | None = None
    own_reserved: int = 0


@dataclass(frozen=True)
class Shortfall:
    """Not enough of a part in a warehouse: how much is available and how much short."""

    part: str
    warehouse: str
    available: int
    needed: int

    @property
    def short(self) -> int:
        return self.needed - self.available

    def text(self) -> str:
        return _("{part} in {warehouse}: {available} available, {needed} needed, "
                 "short by {short}").format(part=self.part, warehouse=self.warehouse,
                                            available=self.available, needed=self.needed,
                                            short=self.short)


class Shortage(Conflict):
    """Not enough available stock; ``shortfalls`` names each part (HTTP 409)."""

    def __init__(self, shortfalls: list[Shortfall], field: str | None = "lines"):
        self.shortfalls = shortfalls
        super().__init__(_("not enough stock: {parts}").format(
            parts="; ".join(s.text() for s in shortfalls)), field=field)


@dataclass
class Voucher:
    """The document a posting belongs to: its table, id and number (and the job)."""

    entity: str
    id: int
    number: str | None
    branch_id: int
    job: RecordLink | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, record, job: RecordLink | None = None) -> Voucher:
        return cls(type(record).__table__.name, record.id,
                   getattr(record, getattr(type(record), "__number_field__", "number"), None),
                   record.branch_id, job if job is not None else getattr(record, "job", None))


# ---------------------------------------------------------------------------
# stock rows
# ---------------------------------------------------------------------------


def locked_stock(ctx, part_id: int, warehouse_id: int) -> Stock:
    """The stock row of a part in a warehouse, made when missing and locked for this
    transaction (``FOR UPDATE`` on PostgreSQL), with its current values."""
    session = ctx.session
    dialect = session.get_bind().dialect.name
    found = _select_locked(session, part_id, warehouse_id, dialect)
    if found is not None:
        return found
    warehouse = session.get(Warehouse, warehouse_id)
    insert = upsert_insert(dialect)
    session.execute(insert(Stock.__table__).values(
        part_id=part_id, warehouse_id=warehouse_id, branch_id=warehouse.branch_id, qty=0,
        reserved=0, value=0).on_conflict_do_nothing(index_elements=["part_id", "warehouse_id"]))
    return _select_locked(session, part_id, warehouse_id, dialect)


def _select_locked(session, part_id: int, warehouse_id: int, dialect: str) -> Stock | None:
    query = select(Stock).where(Stock.part_id == part_id, Stock.warehouse_id == warehouse_id)
    if dialect == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def stock_of(ctx, part_id: int, warehouse_id: int) -> Stock | None:
    """The stock row (unlocked), or None when the part never was in the warehouse."""
    return ctx.session.scalars(select(Stock).where(
        Stock.part_id == part_id, Stock.warehouse_id == warehouse_id)).one_or_none()


def average_cost(stock: Stock | None) -> Decimal | None:
    """The moving weighted average cost of a stock row, to the fen; None when empty."""
    if stock is None or stock.qty <= 0:
        return None
    return (stock.value / stock.qty).quantize(CENT, ROUND_HALF_UP)


def share_of_value(value: Decimal, qty: int, taken: int) -> Decimal:
    """The value ``taken`` of ``qty`` units worth ``value`` carry: all of it for the last
    unit, else ``value × taken ÷ qty`` rounded half up to the fen."""
    if taken >= qty:
        return value
    return (value * taken / qty).quantize(CENT, ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# posting
# ---------------------------------------------------------------------------


def post(ctx, voucher: Voucher, moves: list[Move], *, posted_at: dt.datetime | None = None,
         reversal: bool = False) -> list[LedgerEntry]:
    """Post ``moves`` for ``voucher`` at ``posted_at`` (default now): lock the stock rows,
    refuse (changing nothing) when outgoing units are not available or a backdated move
    would make later history negative, then write the entries and the new sums.

    :raise Shortage: outgoing units not available, every short part named.
    :raise Conflict: a backdated move would make a later balance negative.
    """
    now = ctx.now()
    posted_at = posted_at or now
    keys = sorted({(m.part_id, m.warehouse_id) for m in moves})
    stocks = {key: locked_stock(ctx, *key) for key in keys}
    _check_available(ctx, moves, stocks)
    if posted_at < now:
        _check_backdating(ctx, moves, posted_at)
    entries = []
    for move in moves:
        stock = stocks[(move.part_id, move.warehouse_id)]
        value = _value_of(ctx, stock, move)
        stock.qty += move.qty
        stock.value += value
        if move.qty > 0:
            stock.last_receipt_at = max(stock.last_receipt_at or posted_at, posted_at)
        else:
            stock.last_issue_at = max(stock.last_issue_at or posted_at, posted_at)
        entry = LedgerEntry(
            branch_id=stock.branch_id, posted_at=posted_at, created_at=now, kind=move.kind,
            part_id=move.part_id, warehouse_id=move.warehouse_id, qty_change=move.qty,
            value_change=value, unit_cost=(abs(value) / abs(move.qty)).quantize(
                CENT, ROUND_HALF_UP) if move.qty else ZERO,
            voucher_entity=voucher.entity, voucher_id=voucher.id,
            voucher_number=voucher.number, voucher_line_id=move.line_id, reversal=reversal,
            expires_on=move.expires_on, job=voucher.job)
        ctx.session.add(entry)
        entries.append(entry)
    ctx.session.flush()
    return entries


def _value_of(ctx, stock: Stock, move: Move) -> Decimal:
    """The signed value a move adds to (or takes from) its stock."""
    if move.qty > 0:
        if move.value is not None:
            return move.value
        cost = move.unit_cost if move.unit_cost is not None else average_cost(stock)
        if cost is None:
            cost = ctx.session.get(Part, move.part_id).standard_cost
        return (cost * move.qty).quantize(CENT, ROUND_HALF_UP)
    taken = -move.qty
    if taken >= stock.qty:
        return -stock.value  # the last units take what is left: nothing stays stranded
    if move.value is not None:
        return -min(abs(move.value), stock.value)
    return -share_of_value(stock.value, stock.qty, taken)


def _check_available(ctx, moves: list[Move], stocks: dict) -> None:
    needed: dict[tuple[int, int], int] = {}
    own: dict[tuple[int, int], int] = {}
    for move in moves:
        if move.qty < 0:
            key = (move.part_id, move.warehouse_id)
            needed[key] = needed.get(key, 0) - move.qty
            own[key] = own.get(key, 0) + move.own_reserved
    short = []
    for key, qty in needed.items():
        stock = stocks[key]
        available = stock.qty - max(0, stock.reserved - own[key])
        if qty > available:
            short.append(Shortfall(stock.part.label, stock.warehouse.name, max(available, 0),
                                   qty))
    if short:
        raise Shortage(short)


def _check_backdating(ctx, moves: list[Move], posted_at: dt.datetime) -> None:
    """Refuse a backdated move after which some later balance of its stock would be
    negative."""
    delta: dict[tuple[int, int], int] = {}
    for move in moves:
        key = (move.part_id, move.warehouse_id)
        delta[key] = delta.get(key, 0) + move.qty
    for (part_id, warehouse_id), change in delta.items():
        if change >= 0:
            continue
        of_stock = (LedgerEntry.part_id == part_id, LedgerEntry.warehouse_id == warehouse_id)
        balance = ctx.session.scalar(select(func.coalesce(func.sum(LedgerEntry.qty_change), 0))
                                     .where(*of_stock, LedgerEntry.posted_at <= posted_at))
        lowest, lowest_at = balance, posted_at
        later = ctx.session.execute(
            select(LedgerEntry.posted_at, LedgerEntry.qty_change)
            .where(*of_stock, LedgerEntry.posted_at > posted_at)
            .order_by(LedgerEntry.posted_at, LedgerEntry.id))
        for at, qty in later:
            balance += qty
            if balance < lowest:
                lowest, lowest_at = balance, at
        if lowest + change < 0:
            part = ctx.session.get(Part, part_id)
            raise Conflict(_("posting {part} at {at} would leave {balance} in stock on {when}: "
                             "later movements need the units").format(
                                 part=part.label, at=_local(ctx, posted_at),
                                 balance=lowest + change, when=_local(ctx, lowest_at)),
                           field="posted_at")


def _local(ctx, at: dt.datetime) -> str:
    return at.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


def entries_of(ctx, entity: str, record_id: int) -> list[LedgerEntry]:
    """The ledger entries a document posted, in order."""
    return list(ctx.session.scalars(select(LedgerEntry).where(
        LedgerEntry.voucher_entity == entity, LedgerEntry.voucher_id == record_id)
        .order_by(LedgerEntry.id)))


def reverse(ctx, voucher: Voucher, *, lines: set[int] | None = None,
            kind: Movement | None = None) -> list[LedgerEntry]:
    """Post the reversing entries of what ``voucher`` posted (all of it, or only the entries
    of ``lines``), each at its original value: a cancelled document's stock goes back.
    Entries reversed already are skipped, so a second call posts nothing.

    :raise Shortage: stock received by the document is no longer available to take out.
    """
    entries = entries_of(ctx, voucher.entity, voucher.id)
    done = any(e.reversal for e in entries)
    originals = [e for e in entries if not e.reversal]
    if lines is not None:
        originals = [e for e in originals if e.voucher_line_id in lines]
    elif done:
        return []
    moves = [Move(e.part_id, e.warehouse_id, -e.qty_change, kind or e.kind,
                  value=-e.value_change, line_id=e.voucher_line_id) for e in originals]
    if not moves:
        return []
    return post(ctx, voucher, moves, reversal=True)


# ---------------------------------------------------------------------------
# reservations
# ---------------------------------------------------------------------------


def reserve(ctx, part_id: int, warehouse_id: int, qty: int, *, job: RecordLink | None,
            source: RecordLink | None) -> Reservation:
    """Hold ``qty`` units for a job: as many as are available now, the rest marked short
    (filled by :func:`fill_short` when stock arrives)."""
    stock = locked_stock(ctx, part_id, warehouse_id)
    taken = max(0, min(qty, stock.qty - stock.reserved))
    stock.reserved += taken
    reservation = Reservation(
        branch_id=stock.branch_id, part_id=part_id, warehouse_id=warehouse_id, qty=qty,
        reserved=taken, short=qty - taken, job=job, source=source,
        status=ReservationStatus.RESERVED if taken == qty else ReservationStatus.SHORT)
    ctx.session.add(reservation)
    ctx.session.flush()
    return reservation


def release(ctx, reservation: Reservation) -> None:
    """Let go of what a reservation still holds (a cancelled job, a line given back)."""
    if reservation.status in (ReservationStatus.RELEASED, ReservationStatus.ISSUED) \
            and not reservation.reserved:
        return  # nothing held: an issued reservation stays issued
    stock = locked_stock(ctx, reservation.part_id, reservation.warehouse_id)
    stock.reserved -= reservation.reserved
    reservation.reserved, reservation.short = 0, 0
    reservation.status = ReservationStatus.RELEASED
    ctx.session.flush()


def fill_short(ctx, part_id: int, warehouse_id: int) -> list[Reservation]:
    """Hold newly arrived units for reservations that were short, oldest first; returns
    those that are now complete."""
    stock = locked_stock(ctx, part_id, warehouse_id)
    waiting = ctx.session.scalars(select(Reservation).where(
        Reservation.part_id == part_id, Reservation.warehouse_id == warehouse_id,
        Reservation.status == ReservationStatus.SHORT).order_by(Reservation.id))
    complete = []
    for reservation in waiting:
        free = stock.qty - stock.reserved
        if free <= 0:
            break
        taken = min(free, reservation.short)
        stock.reserved += taken
        reservation.reserved += taken
        reservation.short -= taken
        if reservation.short == 0:
            reservation.status = ReservationStatus.RESERVED
            complete.append(reservation)
    ctx.session.flush()
    return complete


def issue_reserved(ctx, voucher: Voucher, reservation: Reservation,
                   qty: int | None = None, *, line_id: int | None = None) -> list[LedgerEntry]:
    """Issue (up to ``qty`` of) what a reservation holds, against ``voucher`` (its entry
    names the voucher's line ``line_id``, default the reservation's source).

    :raise Shortage: the reservation is short and no free stock makes up for it.
    """
    want = (reservation.qty - reservation.issued - reservation.returned) if qty is None else qty
    if want <= 0:
        return []
    source = reservation.source
    if line_id is None and source is not None:
        line_id = source.id
    entries = post(ctx, voucher, [Move(reservation.part_id, reservation.warehouse_id, -want,
                                       Movement.ISSUE, own_reserved=reservation.reserved,
                                       line_id=line_id)])
    stock = locked_stock(ctx, reservation.part_id, reservation.warehouse_id)
    used = min(reservation.reserved, want)
    stock.reserved -= used
    reservation.reserved -= used
    reservation.short = max(0, reservation.short - (want - used))
    reservation.issued += want
    if reservation.issued - reservation.returned >= reservation.qty:
        reservation.status = ReservationStatus.ISSUED
    ctx.session.flush()
    return entries


# ---------------------------------------------------------------------------
# proof
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A stock row that disagrees with its ledger (or reservations)."""

    part: str
    warehouse: str
    what: str
    book: object
    ledger: object

    def text(self) -> str:
        return _("{part} in {warehouse}: {what} is {book} on the stock row but {ledger} "
                 "in the ledger").format(part=self.part, warehouse=self.warehouse,
                                         what=self.what, book=self.book, ledger=self.ledger)


def check(session) -> list[Difference]:
    """Every stock row whose on hand, value or reserved units differ from the sums of its
    ledger entries and held reservations (and ledger sums without a stock row): an empty
    list proves the books. Three queries whatever the ledger's size (two grouped sums and
    the stock rows), read as bare columns with money in whole fen; parts and warehouses
    are named only for the rows that differ."""
    fen = BigInteger()
    sums = {(p, w): (q, v) for p, w, q, v in session.execute(
        select(LedgerEntry.part_id, LedgerEntry.warehouse_id, func.sum(LedgerEntry.qty_change),
               func.sum(type_coerce(LedgerEntry.value_change, fen)))
        .group_by(unindexed(session, LedgerEntry.part_id), LedgerEntry.warehouse_id))}
    held = {(p, w): r for p, w, r in session.execute(
        select(Reservation.part_id, Reservation.warehouse_id, func.sum(Reservation.reserved))
        .group_by(Reservation.part_id, Reservation.warehouse_id))}
    rows = {(p, w): (q, v, r) for p, w, q, v, r in session.execute(
        select(Stock.part_id, Stock.warehouse_id, Stock.qty, type_coerce(Stock.value, fen),
               Stock.reserved))}
    differing = []  # (key, which, on the stock row, in the ledger or reservations)
    for key in sums.keys() | rows.keys():
        qty, value = sums.get(key, (0, 0))
        book_qty, book_value, book_reserved = rows.get(key, (0, 0, 0))
        reserved = held.get(key) or 0
        if book_qty != (qty or 0):
            differing.append((key, 0, book_qty, qty or 0))
        if book_value != (value or 0):
            differing.append((key, 1, _yuan(book_value), _yuan(value or 0)))
        if book_reserved != reserved:
            differing.append((key, 2, book_reserved, reserved))
    if not differing:
        return []
    names = _names(session, {d[0] for d in differing})
    what = (_("on hand"), _("value"), _("reserved"))
    return [Difference(*names[key], what[which], book, found)
            for key, which, book, found in sorted(differing, key=lambda d: d[:2])]


def _yuan(fen) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(CENT)


def unindexed(session, column):
    """``column + 0`` on SQLite (else ``column``), which keeps SQLite off the column's
    index. SQLite plans without statistics (nothing runs ``ANALYZE``): it takes an
    equality on ``branch_id`` for selective and a walk of ``(part_id, …)`` for a free
    ``GROUP BY``, and so reads the ledger through an index row by row, several times
    slower than a plain scan of the table or of the ``posted_at`` range. (Group by
    ``unindexed(part_id)`` but select the bare column: SQLite allows it, and joins on a
    bare column through an automatic index.)"""
    return column + 0 if session.get_bind().dialect.name == "sqlite" else column


def _names(session, keys) -> dict:
    parts = {p.id: p.label for p in session.scalars(
        select(Part).where(Part.id.in_({k[0] for k in keys})))} if keys else {}
    houses = {w.id: w.name for w in session.scalars(
        select(Warehouse).where(Warehouse.id.in_({k[1] for k in keys})))} if keys else {}
    return {k: (parts.get(k[0], str(k[0])), houses.get(k[1], str(k[1]))) for k in keys}
