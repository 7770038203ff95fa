"""The repair rules, table by table, with hand-checked expected values.

Deadlines use the default calendar (Mon–Fri 09:00–12:00 and 13:00–18:00,
Asia/Shanghai, mainland China's 2026 holidays and make-up workdays: National
Day 1–7 October with make-up Sunday 20 September and Saturday 10 October).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kernel import Conflict
from kernel.calendar import WorkingCalendar
from plugins.repair import rules
from plugins.repair.rules import (
    Basis,
    Category,
    ContractCover,
    OrderState,
    PastRepair,
    QuoteStatus,
    ServiceMode,
    Status,
)

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar.default(TZ)
D = dt.date(2026, 11, 30)  # a Monday


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def days(n: int) -> dt.date:
    return D - dt.timedelta(days=n)


CONTRACT = ContractCover(7, dt.date(2026, 4, 1), dt.date(2027, 3, 31))

# ---------------------------------------------------------------------------
# category (R3, R4, R5)
# ---------------------------------------------------------------------------

CATEGORY_CASES = [
    # (case, keyword arguments, category, basis, contract, earlier order)
    ("internal job", dict(internal=True, warranty_end=D), "D", "internal", None, None),
    ("in warranty on the report date (last day)", dict(warranty_end=D), "C", "warranty",
     None, None),
    ("warranty ended the day before", dict(warranty_end=days(1)), "A", "not_covered",
     None, None),
    ("no warranty date, nothing else", dict(), "A", "not_covered", None, None),
    ("misuse in warranty (R4)", dict(exclusion="misuse", warranty_end=D), "A", "exclusion",
     None, None),
    ("customer transport under contract (R4)",
     dict(exclusion="customer_transport", contracts=[CONTRACT]), "A", "exclusion", None, None),
    ("contract valid until next March (scenario 1)", dict(contracts=[CONTRACT]), "B",
     "contract", 7, None),
    ("contract starts the day after",
     dict(contracts=[ContractCover(7, D + dt.timedelta(days=1), dt.date(2027, 11, 30))]),
     "A", "not_covered", None, None),
    ("contract ended the day before",
     dict(contracts=[ContractCover(7, dt.date(2025, 12, 1), days(1))]), "A", "not_covered",
     None, None),
    ("contract ends on the report date",
     dict(contracts=[ContractCover(7, dt.date(2025, 12, 1), D)]), "B", "contract", 7, None),
    ("cancelled contract",
     dict(contracts=[ContractCover(7, dt.date(2026, 4, 1), dt.date(2027, 3, 31),
                                   cancelled=True)]), "A", "not_covered", None, None),
    ("4 visits, 4 used",
     dict(contracts=[ContractCover(7, dt.date(2026, 4, 1), dt.date(2027, 3, 31), 4, 4)]),
     "A", "not_covered", None, None),
    ("4 visits, 3 used",
     dict(contracts=[ContractCover(7, dt.date(2026, 4, 1), dt.date(2027, 3, 31), 4, 3)]),
     "B", "contract", 7, None),
    ("overlapping renewal: the one ending first",
     dict(contracts=[ContractCover(8, dt.date(2026, 11, 1), dt.date(2027, 10, 31)),
                     ContractCover(7, dt.date(2025, 12, 1), dt.date(2026, 12, 31))]),
     "B", "contract", 7, None),
    ("warranty before contract", dict(warranty_end=D, contracts=[CONTRACT]), "C", "warranty",
     None, None),
    ("same fault 70 days after the repair (scenario 3)",
     dict(past_repairs=[PastRepair(11, days(70), "drum")], fault_code=" DRUM "), "C",
     "repair_warranty", None, 11),
    ("same fault on day 90", dict(past_repairs=[PastRepair(11, days(90), "drum")],
                                  fault_code="drum"), "C", "repair_warranty", None, 11),
    ("same fault on day 91", dict(past_repairs=[PastRepair(11, days(91), "drum")],
                                  fault_code="drum"), "A", "not_covered", None, None),
    ("same fault on day 100 (scenario 3)",
     dict(past_repairs=[PastRepair(11, days(100), "drum")], fault_code="drum"), "A",
     "not_covered", None, None),
    ("another fault 10 days after",
     dict(past_repairs=[PastRepair(11, days(10), "drum")], fault_code="fuser"), "A",
     "not_covered", None, None),
    ("no fault code given, no order named",
     dict(past_repairs=[PastRepair(11, days(10), "drum")]), "A", "not_covered", None, None),
    ("the earlier order named by staff",
     dict(past_repairs=[PastRepair(11, days(10), None)], earlier_order_id=11), "C",
     "repair_warranty", None, 11),
    ("the earlier order named, warranty over",
     dict(past_repairs=[PastRepair(11, days(120), None)], earlier_order_id=11), "A",
     "not_covered", None, None),
    ("the latest of two matching repairs",
     dict(past_repairs=[PastRepair(11, days(80), "drum"), PastRepair(15, days(20), "drum")],
          fault_code="drum"), "C", "repair_warranty", None, 15),
    ("repair warranty before contract",
     dict(past_repairs=[PastRepair(11, days(5), "sc542")], fault_code="SC542",
          contracts=[CONTRACT]), "C", "repair_warranty", None, 11),
    ("exclusion before repair warranty",
     dict(past_repairs=[PastRepair(11, days(5), "drum")], fault_code="drum",
          exclusion="accident"), "A", "exclusion", None, None),
    ("repair warranty of 60 days (setting)",
     dict(past_repairs=[PastRepair(11, days(70), "drum")], fault_code="drum",
          repair_warranty_days=60), "A", "not_covered", None, None),
    ("a repair completed after the report does not count",
     dict(past_repairs=[PastRepair(11, D + dt.timedelta(days=1), "drum")], fault_code="drum"),
     "A", "not_covered", None, None),
]


@pytest.mark.parametrize("case, kwargs, category, basis, contract, earlier", CATEGORY_CASES,
                         ids=[c[0] for c in CATEGORY_CASES])
def test_category(case, kwargs, category, basis, contract, earlier):
    decision = rules.decide_category(D, **kwargs)
    assert (decision.category, decision.basis, decision.contract_id,
            decision.earlier_order_id) == (Category(category), Basis(basis), contract, earlier)


def test_exclusion_is_kept_with_the_decision():
    decision = rules.decide_category(D, exclusion="serial_tampered")
    assert decision.exclusion == rules.Exclusion.SERIAL_TAMPERED


@pytest.mark.parametrize("code, normal", [(" SC 542 ", "sc 542"), ("Drum", "drum"),
                                          ("  ", None), (None, None), ("SC  542", "sc 542")])
def test_fault_codes_compare_normalised(code, normal):
    assert rules.normalize_fault_code(code) == normal


# ---------------------------------------------------------------------------
# deadlines (R6, R8)
# ---------------------------------------------------------------------------

DEADLINE_CASES = [
    # (case, reported at, hours, deadline)
    ("scenario 1: Monday 10:20, urban 6 h", "2026-11-30 10:20", 6, "2026-11-30 17:20"),
    ("scenario 4: Friday 17:00, suburban 7 h", "2026-11-27 17:00", 7, "2026-11-30 16:00"),
    ("ends exactly at the lunch break", "2026-11-30 11:00", 1, "2026-11-30 12:00"),
    ("reported in the lunch break", "2026-11-30 12:30", 1, "2026-11-30 14:00"),
    ("reported on Saturday", "2026-11-28 10:00", 6, "2026-11-30 16:00"),
    ("reported in the evening", "2026-11-30 20:00", 6, "2026-12-01 16:00"),
    ("across National Day", "2026-09-30 16:00", 7, "2026-10-08 15:00"),
    ("into the make-up Saturday", "2026-10-09 17:00", 6, "2026-10-10 15:00"),
    ("onto the make-up Sunday", "2026-09-19 10:00", 6, "2026-09-20 16:00"),
    ("half hours", "2026-11-30 09:00", Decimal("6.5"), "2026-11-30 16:30"),
]


@pytest.mark.parametrize("case, reported, hours, deadline", DEADLINE_CASES,
                         ids=[c[0] for c in DEADLINE_CASES])
def test_arrival_deadline(case, reported, hours, deadline):
    assert rules.arrival_deadline(CAL, at(reported), hours) == at(deadline)


@pytest.mark.parametrize("zone, hours", [("urban", Decimal("6")), ("suburban", Decimal("7"))])
def test_deadline_hours_by_zone(zone, hours):
    assert rules.deadline_hours(zone, Decimal("6"), Decimal("7")) == hours


SHIFT_CASES = [
    ("one paused hour runs into the next morning", "2026-11-30 17:20", 60, "2026-12-01 09:20"),
    ("nothing paused", "2026-11-30 16:00", 0, "2026-11-30 16:00"),
    ("from the end of the day", "2026-11-30 18:00", 30, "2026-12-01 09:30"),
    ("over the weekend", "2026-11-27 17:30", 120, "2026-11-30 10:30"),
]


@pytest.mark.parametrize("case, deadline, minutes, moved", SHIFT_CASES,
                         ids=[c[0] for c in SHIFT_CASES])
def test_shift_deadline(case, deadline, minutes, moved):
    assert rules.shift_deadline(CAL, at(deadline), dt.timedelta(minutes=minutes)) == at(moved)


ARRIVAL_CASES = [
    # (case, deadline, arrival, met, missed working minutes)
    ("early", "2026-11-30 16:00", "2026-11-30 15:59", True, 0),
    ("on the minute", "2026-11-30 16:00", "2026-11-30 16:00", True, 0),
    ("scenario 4: 40 minutes late", "2026-11-30 16:00", "2026-11-30 16:40", False, 40),
    ("late over night: 10 + 10 minutes", "2026-11-30 17:50", "2026-12-01 09:10", False, 20),
    ("late over the lunch break", "2026-11-30 11:50", "2026-11-30 13:05", False, 15),
    ("half a minute late counts as one", "2026-11-30 16:00", "2026-11-30 16:00:30", False, 1),
    # an arrival that costs no working minute is on time
    ("deadline at close of day, arrival after hours", "2026-11-30 18:00", "2026-11-30 19:00",
     True, 0),
    ("deadline at close of day, arrival at 09:00 next morning", "2026-11-30 18:00",
     "2026-12-01 09:00", True, 0),
    ("deadline at close of day, arrival at 09:01 next morning", "2026-11-30 18:00",
     "2026-12-01 09:01", False, 1),
    ("deadline at lunch, arrival during lunch", "2026-11-30 12:00", "2026-11-30 12:59",
     True, 0),
    ("deadline at lunch, arrival one minute into the afternoon", "2026-11-30 12:00",
     "2026-11-30 13:01", False, 1),
    ("deadline Friday 18:00, arrival Monday 09:00", "2026-11-27 18:00", "2026-11-30 09:00",
     True, 0),
    ("across National Day: 30 Sept 17:00 to 8 Oct 09:30", "2026-09-30 17:00",
     "2026-10-08 09:30", False, 90),
    ("across National Day, nothing lost: 30 Sept 18:00 to 8 Oct 09:00", "2026-09-30 18:00",
     "2026-10-08 09:00", True, 0),
]


@pytest.mark.parametrize("case, deadline, arrival, met, minutes", ARRIVAL_CASES,
                         ids=[c[0] for c in ARRIVAL_CASES])
def test_arrival_outcome(case, deadline, arrival, met, minutes):
    late = CAL.working_hours_between(at(deadline), at(arrival))
    assert rules.arrival_outcome(at(deadline), at(arrival), late) == (met, minutes)


# ---------------------------------------------------------------------------
# the state machine (R10–R14)
# ---------------------------------------------------------------------------


def state(status, category="A", quote="none", mode="on_site", started=False, assigned=True):
    return OrderState(status=Status(status), category=Category(category),
                      quote_status=QuoteStatus(quote), service_mode=ServiceMode(mode),
                      started=started, assigned=assigned, number="WO-SH-2026-00001")


MOVES = [
    # (action, state, resulting status)
    ("dispatch", state("pending", assigned=False), "dispatched"),
    ("dispatch", state("dispatched"), "dispatched"),
    ("dispatch", state("in_repair"), "in_repair"),  # re-dispatch keeps the status
    ("arrive", state("dispatched"), "dispatched"),
    ("pause", state("pending"), "pending"),
    ("diagnose", state("dispatched"), "dispatched"),
    ("quote", state("dispatched"), "quoted"),
    ("quote", state("in_repair", started=True), "quoted"),
    ("accept_quote", state("quoted", quote="pending"), "dispatched"),
    ("accept_quote", state("quoted", quote="pending", started=True), "in_repair"),
    ("reject_quote", state("quoted", quote="pending"), "dispatched"),
    ("start", state("dispatched", quote="accepted"), "in_repair"),
    ("start", state("dispatched", category="B"), "in_repair"),
    ("start", state("dispatched", category="C"), "in_repair"),
    ("start", state("dispatched", category="D"), "in_repair"),
    ("wait_for_parts", state("in_repair", quote="accepted"), "waiting_parts"),
    ("start", state("waiting_parts", quote="accepted"), "in_repair"),  # parts arrived
    ("hard_to_repair", state("waiting_parts", category="B"), "hard_to_repair"),
    ("start", state("hard_to_repair", category="B"), "in_repair"),
    ("complete", state("in_repair", category="B"), "completed"),
    ("complete", state("in_repair", quote="accepted", mode="carry_in"), "ready_for_pickup"),
    ("close", state("completed", category="B"), "closed"),
    ("close", state("ready_for_pickup", quote="accepted", mode="carry_in"), "closed"),
    ("close", state("dispatched", quote="rejected"), "closed"),  # declined, unrepaired
    ("cancel", state("pending", assigned=False), "cancelled"),
    ("cancel", state("waiting_parts"), "cancelled"),
    ("reopen", state("closed"), "dispatched"),
    ("reopen", state("cancelled", assigned=False), "pending"),
    ("audit", state("completed"), "completed"),
    ("rework", state("closed"), "in_repair"),
    ("add_part", state("quoted", quote="pending"), "quoted"),
    ("add_labour", state("ready_for_pickup", mode="carry_in"), "ready_for_pickup"),
]


@pytest.mark.parametrize("action, current, expected", MOVES,
                         ids=[f"{m[0]} from {m[1].status}" for m in MOVES])
def test_allowed_moves(action, current, expected):
    assert rules.next_status(action, current) == Status(expected)
    assert rules.can(action, current)


REFUSALS = [
    # (action, state, words of the refusal)
    ("start", state("dispatched"), "after the customer accepted the quote"),
    ("start", state("dispatched", quote="rejected"), "after the customer accepted the quote"),
    ("start", state("quoted", quote="pending"), "has not decided on the quote"),
    ("complete", state("cancelled"), "is cancelled: cannot complete"),
    ("cancel", state("closed"), "is closed and cannot be cancelled"),
    ("edit", state("closed"), "is closed and read-only"),
    ("dispatch", state("closed"), "is closed and read-only"),
    ("add_part", state("closed"), "is closed and read-only"),
    ("cancel", state("completed"), "cannot cancel: order WO-SH-2026-00001 is completed"),
    ("cancel", state("cancelled"), "is cancelled"),
    ("close", state("dispatched"), "cannot be closed before the repair is completed"),
    ("close", state("in_repair"), "cannot be closed before the repair is completed"),
    ("close", state("pending"), "cannot be closed before the repair is completed"),
    ("complete", state("dispatched", category="B"), "cannot complete"),
    ("complete", state("waiting_parts"), "cannot complete"),
    ("quote", state("dispatched", category="B"), "only paid (category A) jobs are quoted"),
    ("quote", state("pending"), "cannot quote"),
    ("accept_quote", state("dispatched"), "cannot accept the quote"),
    ("arrive", state("dispatched", mode="carry_in"), "carry-in job has no on-site arrival"),
    ("arrive", state("pending"), "cannot record the arrival"),
    ("pause", state("in_repair"), "cannot pause"),
    ("reopen", state("in_repair"), "cannot reopen"),
    ("wait_for_parts", state("dispatched"), "cannot wait for parts"),
    ("audit", state("in_repair"), "cannot review the repair"),
    ("recategorize", state("quoted", quote="pending"), "cannot change the category"),
]


@pytest.mark.parametrize("action, current, words", REFUSALS,
                         ids=[f"{r[0]} from {r[1].status}" for r in REFUSALS])
def test_refused_moves(action, current, words):
    with pytest.raises(Conflict) as refused:
        rules.next_status(action, current)
    assert words in refused.value.message
    assert not rules.can(action, current)


def test_every_action_has_a_label_and_closed_allows_only_reopen_and_review():
    assert set(rules.ALLOWED) == set(rules.ACTION_LABELS)
    allowed_when_closed = {a for a, statuses in rules.ALLOWED.items() if Status.CLOSED in statuses}
    assert allowed_when_closed == {"reopen", "audit", "rework"}
    assert {a for a, s in rules.ALLOWED.items() if Status.CANCELLED in s} == {"reopen"}


@pytest.mark.parametrize("amount, minutes", [(dt.timedelta(minutes=40), 40),
                                             (dt.timedelta(minutes=40, seconds=1), 41),
                                             (dt.timedelta(0), 0), (dt.timedelta(hours=-1), 0)])
def test_working_minutes_round_up(amount, minutes):
    assert rules.working_minutes(amount) == minutes
