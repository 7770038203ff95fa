"""The repair rules as pure functions: no database, no context, no clock.

Everything here takes plain values and answers plain values, so it is tested
with tables of hand-checked cases (``tests/plugins/repair/test_repair_rules.py``);
:mod:`plugins.repair.services` loads the facts from the database and applies
these rules.

* :func:`decide_category` — the service category A/B/C/D of a new job (R3, R4, R5);
* :func:`arrival_deadline`, :func:`shift_deadline`, :func:`arrival_outcome` —
  the dispatch deadline in the branch's working time (R6, R8);
* :func:`next_status` — the work order's state machine (R10–R14): which action
  is allowed in which status, and the status it leads to.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kernel.errors import Conflict
from kernel.i18n import N_, _

# ---------------------------------------------------------------------------
# vocabularies (stored as their values; labels marked for the catalogue)
# ---------------------------------------------------------------------------


class Channel(enum.StrEnum):
    """How a repair request arrived (R1)."""

    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    WALK_IN = "walk_in"


class ServiceMode(enum.StrEnum):
    """Where the repair happens: at the customer's (R12) or in the workshop (R13)."""

    ON_SITE = "on_site"
    CARRY_IN = "carry_in"


class Category(enum.StrEnum):
    """Service category (R3)."""

    PAID = "A"  # 有费服务
    CONTRACT = "B"  # 合同服务
    FREE = "C"  # 免费服务 (warranty, repair warranty)
    INTERNAL = "D"  # 一般行政工作


class Basis(enum.StrEnum):
    """Why a job got its category."""

    INTERNAL = "internal"
    EXCLUSION = "exclusion"  # R4: not covered, paid
    REPAIR_WARRANTY = "repair_warranty"  # R5: same fault within the repair warranty
    WARRANTY = "warranty"  # the manufacturer's warranty covers the report date
    CONTRACT = "contract"  # a maintenance contract covers the equipment
    NOT_COVERED = "not_covered"  # nothing covers it: paid
    OVERRIDE = "override"  # set by staff, with a reason


class Exclusion(enum.StrEnum):
    """Damage the warranty does not cover (R4)."""

    ACCIDENT = "accident"
    MISUSE = "misuse"
    DISASTER = "disaster"
    UNAUTHORISED_REPAIR = "unauthorised_repair"
    SERIAL_TAMPERED = "serial_tampered"
    CUSTOMER_TRANSPORT = "customer_transport"


class Status(enum.StrEnum):
    """Work order status (R14), plus ``quoted`` (waiting for the customer's decision, R11)
    and ``completed`` (repaired on site, waiting for the register line to be closed)."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    QUOTED = "quoted"
    IN_REPAIR = "in_repair"
    WAITING_PARTS = "waiting_parts"
    HARD_TO_REPAIR = "hard_to_repair"
    COMPLETED = "completed"
    READY_FOR_PICKUP = "ready_for_pickup"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class QuoteStatus(enum.StrEnum):
    """Where the quote of a paid job stands (R11)."""

    NONE = "none"
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AuditResult(enum.StrEnum):
    """The supervisor's review of the repair report (R16, R17)."""

    PASSED = "passed"
    FAILED = "failed"


#: enum values shown to users, marked for the message catalogue
ENUM_LABELS = (
    N_("phone"), N_("email"), N_("web"), N_("walk_in"),
    N_("on_site"), N_("carry_in"),
    N_("A"), N_("B"), N_("C"), N_("D"),
    N_("internal"), N_("exclusion"), N_("repair_warranty"), N_("warranty"), N_("contract"),
    N_("not_covered"), N_("override"),
    N_("accident"), N_("misuse"), N_("disaster"), N_("unauthorised_repair"),
    N_("serial_tampered"), N_("customer_transport"),
    N_("pending"), N_("dispatched"), N_("quoted"), N_("in_repair"), N_("waiting_parts"),
    N_("hard_to_repair"), N_("completed"), N_("ready_for_pickup"), N_("closed"),
    N_("cancelled"),
    N_("none"), N_("accepted"), N_("rejected"),
    N_("passed"), N_("failed"),
)

#: statuses in which the order is still being worked on
OPEN = frozenset({Status.PENDING, Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR,
                  Status.WAITING_PARTS, Status.HARD_TO_REPAIR, Status.COMPLETED,
                  Status.READY_FOR_PICKUP})
#: statuses in which a unit may be taken in (the repair is not done yet)
NOT_REPAIRED = frozenset({Status.PENDING, Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR,
                          Status.WAITING_PARTS, Status.HARD_TO_REPAIR})
#: statuses in which the repair is done (the repair warranty may start)
DONE = frozenset({Status.COMPLETED, Status.READY_FOR_PICKUP, Status.CLOSED})


# ---------------------------------------------------------------------------
# service category (R3, R4, R5)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractCover:
    """A maintenance contract that lists the equipment (R20)."""

    contract_id: int
    start: dt.date
    end: dt.date
    visits_included: int | None = None  # None: unlimited
    visits_used: int = 0  # category-B jobs already made under it (not cancelled)
    cancelled: bool = False


@dataclass(frozen=True)
class PastRepair:
    """An earlier repair of the same equipment: when it was done and which fault it fixed."""

    order_id: int
    completed_on: dt.date
    fault_code: str | None = None


@dataclass(frozen=True)
class CategoryDecision:
    """The category of a new job and what it rests on."""

    category: Category
    basis: Basis
    contract_id: int | None = None
    earlier_order_id: int | None = None
    exclusion: Exclusion | None = None


def normalize_fault_code(code: str | None) -> str | None:
    """A fault code as compared for the repair warranty: trimmed, case-folded, inner blanks
    squeezed; empty is None. ``" sc 542 "`` and ``"SC 542"`` are the same fault."""
    if code is None:
        return None
    text = " ".join(str(code).split()).casefold()
    return text or None


def contract_covers(contract: ContractCover, on: dt.date) -> bool:
    """Whether ``contract`` covers a job reported on ``on``: not cancelled, ``on`` within
    its period (both ends included) and a visit left."""
    if contract.cancelled or not contract.start <= on <= contract.end:
        return False
    return contract.visits_included is None or contract.visits_used < contract.visits_included


def covering_contract(contracts: Iterable[ContractCover], on: dt.date) -> ContractCover | None:
    """The contract a job reported on ``on`` is made under: of those that cover it, the one
    ending first (then the lowest id), so that overlapping renewals use up the old one."""
    covering = [c for c in contracts if contract_covers(c, on)]
    return min(covering, key=lambda c: (c.end, c.contract_id)) if covering else None


def repair_warranty_match(report_date: dt.date, past: Iterable[PastRepair], *, days: int,
                          fault_code: str | None = None,
                          earlier_order_id: int | None = None) -> PastRepair | None:
    """The earlier repair whose repair warranty (R5) covers a job reported on ``report_date``.

    An earlier repair counts when it was completed at most ``days`` days before the report
    (day 0 .. ``days`` inclusive) and it fixed the same fault: the same normalised
    ``fault_code``, or it is the order staff named (``earlier_order_id``). ``past`` holds
    the repairs of the same equipment only. The most recent match wins.
    """
    code = normalize_fault_code(fault_code)
    matches = [
        p for p in past
        if 0 <= (report_date - p.completed_on).days <= days
        and (p.order_id == earlier_order_id
             or (code is not None and normalize_fault_code(p.fault_code) == code))
    ]
    return max(matches, key=lambda p: (p.completed_on, p.order_id)) if matches else None


def decide_category(report_date: dt.date, *, internal: bool = False,
                    exclusion: Exclusion | str | None = None,
                    warranty_end: dt.date | None = None,
                    contracts: Iterable[ContractCover] = (),
                    past_repairs: Iterable[PastRepair] = (),
                    fault_code: str | None = None, earlier_order_id: int | None = None,
                    repair_warranty_days: int = 90) -> CategoryDecision:
    """The service category of a job reported on ``report_date`` (R3).

    First rule that applies wins:

    1. an internal job (inspection, parts handling, tool upkeep, staff training) → **D**;
    2. a warranty exclusion (R4: accident, misuse, ...) → **A**, whatever covers the
       machine otherwise;
    3. the same fault on the same equipment within ``repair_warranty_days`` of an
       earlier repair (R5) → **C**, linked to that order;
    4. the manufacturer's warranty runs on the report date (``report_date <=
       warranty_end``) → **C**;
    5. a maintenance contract covers the equipment on the report date, with a visit
       left → **B**, linked to the contract;
    6. otherwise → **A**.

    The warranty comes before the contract: a machine under both is repaired on the
    manufacturer's warranty and the contract's visits are kept for maintenance.
    """
    if internal:
        return CategoryDecision(Category.INTERNAL, Basis.INTERNAL)
    if exclusion is not None:
        return CategoryDecision(Category.PAID, Basis.EXCLUSION, exclusion=Exclusion(exclusion))
    earlier = repair_warranty_match(report_date, past_repairs, days=repair_warranty_days,
                                    fault_code=fault_code, earlier_order_id=earlier_order_id)
    if earlier is not None:
        return CategoryDecision(Category.FREE, Basis.REPAIR_WARRANTY,
                                earlier_order_id=earlier.order_id)
    if warranty_end is not None and report_date <= warranty_end:
        return CategoryDecision(Category.FREE, Basis.WARRANTY)
    contract = covering_contract(contracts, report_date)
    if contract is not None:
        return CategoryDecision(Category.CONTRACT, Basis.CONTRACT,
                                contract_id=contract.contract_id)
    return CategoryDecision(Category.PAID, Basis.NOT_COVERED)


# ---------------------------------------------------------------------------
# deadlines (R6, R8)
# ---------------------------------------------------------------------------


def deadline_hours(zone: str, urban_hours: Decimal, suburban_hours: Decimal) -> Decimal:
    """Working hours from report to arrival for a branch in ``zone`` (R6)."""
    return suburban_hours if str(zone) == "suburban" else urban_hours


def arrival_deadline(calendar, reported_at: dt.datetime, hours) -> dt.datetime:
    """The arrival deadline (UTC): ``hours`` working hours of ``calendar`` (the branch's
    :class:`kernel.calendar.WorkingCalendar`) after the report. A report outside working
    time starts counting at the next working moment."""
    return calendar.add_working_hours(reported_at, hours).astimezone(dt.UTC)


def shift_deadline(calendar, deadline: dt.datetime, paused: dt.timedelta) -> dt.datetime:
    """The deadline moved on by ``paused`` working time (the clock was stopped that long).
    A deadline at the end of a working interval (18:00) moves into the next one."""
    if paused <= dt.timedelta(0):
        return deadline
    return calendar.add_working_hours(deadline, paused).astimezone(dt.UTC)


def working_minutes(amount: dt.timedelta) -> int:
    """A stretch of working time in whole minutes, rounded up (a started minute counts)."""
    seconds = amount.total_seconds()
    return max(0, math.ceil(seconds / 60 - 1e-9))


def arrival_outcome(deadline: dt.datetime, arrived_at: dt.datetime,
                    late_working_time: dt.timedelta) -> tuple[bool, int]:
    """(met, missed working minutes) of an arrival (R8).

    The deadline is counted in working time, so lateness is too: the arrival is late by
    the working time between deadline and arrival (``late_working_time``, computed with
    the branch's calendar), rounded up (a started working minute counts). An arrival that
    costs no working minute is on time: a deadline at close of day (18:00) met at 09:00
    the next working morning, or one at the start of lunch met before the afternoon
    starts. So a missed deadline is always missed by at least one minute.
    """
    missed = working_minutes(late_working_time) if arrived_at > deadline else 0
    return missed == 0, missed


# ---------------------------------------------------------------------------
# the state machine (R10–R14)
# ---------------------------------------------------------------------------

S = Status
#: action → statuses it is allowed in; the target status is computed by next_status
ALLOWED: dict[str, frozenset[Status]] = {
    "edit": frozenset(OPEN),
    "recategorize": frozenset({S.PENDING, S.DISPATCHED, S.IN_REPAIR, S.WAITING_PARTS,
                               S.HARD_TO_REPAIR}),
    "dispatch": frozenset({S.PENDING, S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                           S.HARD_TO_REPAIR}),
    "arrive": frozenset({S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                         S.HARD_TO_REPAIR}),
    "pause": frozenset({S.PENDING, S.DISPATCHED}),
    "resume": frozenset({S.PENDING, S.DISPATCHED}),
    "diagnose": frozenset({S.DISPATCHED, S.IN_REPAIR, S.WAITING_PARTS, S.HARD_TO_REPAIR}),
    "quote": frozenset({S.DISPATCHED, S.IN_REPAIR, S.WAITING_PARTS, S.HARD_TO_REPAIR}),
    "accept_quote": frozenset({S.QUOTED}),
    "reject_quote": frozenset({S.QUOTED}),
    "start": frozenset({S.DISPATCHED, S.WAITING_PARTS, S.HARD_TO_REPAIR}),
    "wait_for_parts": frozenset({S.IN_REPAIR, S.HARD_TO_REPAIR}),
    "hard_to_repair": frozenset({S.IN_REPAIR, S.WAITING_PARTS}),
    "add_part": frozenset({S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                           S.HARD_TO_REPAIR, S.COMPLETED, S.READY_FOR_PICKUP}),
    "return_part": frozenset({S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                              S.HARD_TO_REPAIR, S.COMPLETED, S.READY_FOR_PICKUP}),
    "add_labour": frozenset({S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                             S.HARD_TO_REPAIR, S.COMPLETED, S.READY_FOR_PICKUP}),
    "complete": frozenset({S.IN_REPAIR}),
    "close": frozenset({S.COMPLETED, S.READY_FOR_PICKUP, S.DISPATCHED}),
    "cancel": frozenset({S.PENDING, S.DISPATCHED, S.QUOTED, S.IN_REPAIR, S.WAITING_PARTS,
                         S.HARD_TO_REPAIR}),
    "reopen": frozenset({S.CLOSED, S.CANCELLED}),
    "audit": frozenset({S.COMPLETED, S.READY_FOR_PICKUP, S.CLOSED}),
    "rework": frozenset({S.COMPLETED, S.READY_FOR_PICKUP, S.CLOSED}),
}

#: action names as shown in refusals (and on buttons, see plugin.py)
ACTION_LABELS = {
    "edit": N_("change the details"), "recategorize": N_("change the category"),
    "dispatch": N_("dispatch"), "arrive": N_("record the arrival"),
    "pause": N_("pause the deadline clock"), "resume": N_("resume the deadline clock"),
    "diagnose": N_("diagnose"), "quote": N_("quote"), "accept_quote": N_("accept the quote"),
    "reject_quote": N_("reject the quote"), "start": N_("start the repair"),
    "wait_for_parts": N_("wait for parts"), "hard_to_repair": N_("mark hard to repair"),
    "add_part": N_("add a part"), "return_part": N_("return a part"),
    "add_labour": N_("add labour"), "complete": N_("complete"), "close": N_("close"),
    "cancel": N_("cancel"), "reopen": N_("reopen"), "audit": N_("review the repair"),
    "rework": N_("send back for rework"),
}


@dataclass(frozen=True)
class OrderState:
    """What the state machine looks at."""

    status: Status
    category: Category = Category.PAID
    quote_status: QuoteStatus = QuoteStatus.NONE
    service_mode: ServiceMode = ServiceMode.ON_SITE
    started: bool = False  # the repair was started once (started_at is set)
    assigned: bool = False  # an engineer or a partner outlet is assigned
    number: str = ""

    @classmethod
    def of(cls, order) -> OrderState:
        """The state of a work order (any object with these attributes)."""
        return cls(status=Status(order.status), category=Category(order.category),
                   quote_status=QuoteStatus(order.quote_status or QuoteStatus.NONE),
                   service_mode=ServiceMode(order.service_mode),
                   started=order.started_at is not None,
                   assigned=order.engineer_id is not None or bool(order.partner_outlet),
                   number=order.number or "")


def _refuse(message: str) -> Conflict:
    return Conflict(message, field="status")


def next_status(action: str, state: OrderState) -> Status:
    """The status ``action`` leads to from ``state``, or :class:`kernel.Conflict` saying why
    the action is refused. Actions that do not move the order return its status."""
    status = state.status
    label = _(ACTION_LABELS[action])
    if status not in ALLOWED[action]:
        if status == S.CLOSED:
            if action == "cancel":
                raise _refuse(_("order {number} is closed and cannot be cancelled; a "
                                "supervisor may reopen it").format(number=state.number))
            raise _refuse(_("order {number} is closed and read-only; a supervisor may "
                            "reopen it").format(number=state.number))
        if status == S.CANCELLED:
            raise _refuse(_("order {number} is cancelled: cannot {action}").format(
                number=state.number, action=label))
        if action == "start" and status == S.QUOTED:
            raise _refuse(_("the customer has not decided on the quote yet"))
        if action == "close" and status in OPEN:
            raise _refuse(_("order {number} cannot be closed before the repair is "
                            "completed").format(number=state.number))
        raise _refuse(_("cannot {action}: order {number} is {status}").format(
            action=label, number=state.number, status=_(status.value)))
    if action == "dispatch":
        return S.DISPATCHED if status == S.PENDING else status
    if action == "arrive" and state.service_mode != ServiceMode.ON_SITE:
        raise _refuse(_("a carry-in job has no on-site arrival"))
    if action == "quote" and state.category != Category.PAID:
        raise _refuse(_("only paid (category A) jobs are quoted; this one is category "
                        "{category}").format(category=state.category.value))
    if action == "quote":
        return S.QUOTED
    if action in ("accept_quote", "reject_quote"):
        return S.IN_REPAIR if state.started else S.DISPATCHED
    if action == "start":
        if state.category == Category.PAID and state.quote_status != QuoteStatus.ACCEPTED:
            raise _refuse(_("a paid job starts only after the customer accepted the quote "
                            "(quote: {quote})").format(quote=_(state.quote_status.value)))
        return S.IN_REPAIR
    if action == "wait_for_parts":
        return S.WAITING_PARTS
    if action == "hard_to_repair":
        return S.HARD_TO_REPAIR
    if action == "complete":
        return S.READY_FOR_PICKUP if state.service_mode == ServiceMode.CARRY_IN \
            else S.COMPLETED
    if action == "close":
        if status == S.DISPATCHED and state.quote_status != QuoteStatus.REJECTED:
            raise _refuse(_("order {number} cannot be closed before the repair is "
                            "completed").format(number=state.number))
        return S.CLOSED
    if action == "cancel":
        return S.CANCELLED
    if action == "reopen":
        return S.DISPATCHED if state.assigned else S.PENDING
    if action == "rework":
        return S.IN_REPAIR
    return status


def can(action: str, state: OrderState) -> bool:
    """Whether ``action`` is allowed in ``state`` (for showing buttons)."""
    try:
        next_status(action, state)
    except Conflict:
        return False
    return True
