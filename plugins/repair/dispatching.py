"""Dispatch help (R7, R9): engineers ranked for an order, and the queue of orders waiting
for dispatch (urgent first, then the oldest report, so yesterday's jobs come first in the
morning)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kernel.i18n import N_, _
from kernel.models import Branch, Employee, Grade

from .inputs import lookup, text
from .models import WorkOrder, open_status
from .rules import Status

# ---------------------------------------------------------------------------
# dispatch suggestions and the morning queue (R7, R9)
# ---------------------------------------------------------------------------

#: skill → words in an order's model or fault that call for it (checked in this order)
SKILL_WORDS: dict[str, tuple[str, ...]] = {
    "copier": ("copier", "复印", "taskalfa", "bizhub", "imagerunner", "ir-adv"),
    "printer": ("printer", "打印机", "laserjet"),
    "fax": ("fax", "传真"),
}
#: the skills' names on the desk
SKILL_TITLES = {"copier": N_("copier"), "printer": N_("printer"), "fax": N_("fax")}
#: orders that keep an engineer busy (assigned, not repaired yet)
BUSY = frozenset({Status.DISPATCHED, Status.QUOTED, Status.IN_REPAIR, Status.WAITING_PARTS,
                  Status.HARD_TO_REPAIR})
GRADE_RANK = {Grade.EXPERT: 3, Grade.SENIOR: 2, Grade.REGULAR: 1, Grade.TRAINEE: 0}


def needed_skill(ctx, order: WorkOrder) -> str:
    """The skill an order calls for: a skill word in its model, else in its fault
    description, else ``repair.default_skill`` (``copier``)."""
    for words in (order.model, order.fault_description):
        folded = (words or "").casefold()
        for skill, words in SKILL_WORDS.items():
            if any(word in folded for word in words):
                return skill
    return ctx.setting("repair.default_skill")


def _place_texts(order: WorkOrder) -> tuple[list[str], list[str]]:
    """(full addresses, districts) of the order's site."""
    addresses, districts = [order.address or ""], []
    site = order.equipment.address if order.equipment is not None else None
    if site is None and order.customer is not None:
        site = next((a for a in order.customer.addresses if a.is_default), None)
    if site is not None:
        addresses.append(site.address or "")
        districts.append(site.district or "")
    return [a for a in addresses if a], [d for d in districts if d]


def _region_matches(region: str | None, addresses: list[str], districts: list[str]) -> bool:
    region = (region or "").strip()
    if not region:
        return False
    return any(region in place for place in addresses + districts) or \
        any(district in region for district in districts)


def suggest_engineers(ctx, order, skill: str | None = None, limit: int = 10) -> list[dict]:
    """Engineers to dispatch ``order`` to (R7), best first, each with the reasons.

    Candidates are the active employees the user may see who work in the field (a
    service region or an equipment skill). They are ranked by: same branch as the order;
    the skill the order calls for (``skill``, else :func:`needed_skill`); their service
    region found in the order's address or district; fewest open orders (dispatched, not
    repaired yet); higher grade; employee code.
    """
    order = lookup(ctx, WorkOrder, order, "order", "number")
    ctx.require("repair_work_order.dispatch", order)
    skill = text(skill, "skill", required=False, max_length=50) or needed_skill(ctx, order)
    addresses, districts = _place_texts(order)
    loads = dict(ctx.session.execute(
        select(WorkOrder.engineer_id, func.count(WorkOrder.id))
        .where(WorkOrder.engineer_id.is_not(None), WorkOrder.status.in_(BUSY),
               WorkOrder.id != order.id)
        .group_by(WorkOrder.engineer_id)).all())
    people = ctx.session.scalars(select(Employee).where(
        Employee.active.is_(True), Employee.company_id == order.company_id)).all()
    ranked = []
    for person in people:
        skills = [str(s).strip().casefold() for s in person.skills or []]
        if not person.service_region and not set(skills) & set(SKILL_WORDS):
            continue  # office staff
        same_branch = person.branch_id == order.branch_id
        has_skill = skill.casefold() in skills
        in_region = _region_matches(person.service_region, addresses, districts)
        load = loads.get(person.id, 0)
        reasons = [
            _("same branch ({branch})") if same_branch else _("other branch ({branch})"),
            _("skilled in {skill}") if has_skill else _("not skilled in {skill}"),
        ]
        if person.service_region:
            reasons.append(_("covers {region}") if in_region
                           else _("covers {region}, not this address"))
        reasons.append(_("open orders: {count}"))
        values = {"branch": person.branch.code,
                  "skill": _(SKILL_TITLES[skill]) if skill in SKILL_TITLES else skill,
                  "region": person.service_region, "count": load}
        ranked.append(((not same_branch, not has_skill, not in_region, load,
                        -GRADE_RANK.get(Grade(person.grade), 0), person.code), {
            "employee_id": person.id, "code": person.code, "name": person.name,
            "branch": person.branch.code, "grade": Grade(person.grade).value,
            "service_region": person.service_region, "skills": list(person.skills or []),
            "same_branch": same_branch, "skill_match": has_skill, "region_match": in_region,
            "open_orders": load, "reasons": [r.format(**values) for r in reasons]}))
    ranked.sort(key=lambda pair: pair[0])
    rows = _ranked_by_others(ctx, order, [row for _key, row in ranked])
    return [{"rank": i, **row} for i, row in enumerate(rows[:limit], start=1)]


def _ranked_by_others(ctx, order: WorkOrder, rows: list[dict]) -> list[dict]:
    """``rows`` in the order another module prefers (``repair_rank_engineers``): the ids it
    names first, the rest after them as repair ranked them."""
    answer = ctx.hook.repair_rank_engineers(ctx=ctx, order=order, candidates=rows)
    if not answer:
        return rows
    position = {employee_id: i for i, employee_id in enumerate(answer)}
    return sorted(rows, key=lambda row: position.get(row["employee_id"], len(position)))


def waiting_for_dispatch() -> list:
    """The conditions of an order waiting to be dispatched: pending, no engineer, no
    partner outlet (the queue, the board's count of it and the home page's card; the
    services store no blank outlet)."""
    return [*open_status(Status.PENDING), WorkOrder.engineer_id.is_(None),
            WorkOrder.partner_outlet.is_(None)]


def waiting_filters() -> list[tuple[str, str, str]]:
    """The desk list's filter rows (:func:`kernel.list_links.list_url`) of the orders
    waiting for dispatch: the home page's card and the board's link to the whole queue."""
    return [("status", "eq", _(Status.PENDING.value)), ("engineer_id", "empty", ""),
            ("partner_outlet", "empty", "")]


def dispatch_queue(ctx, branch=None, limit: int = 200) -> list[WorkOrder]:
    """Orders waiting to be dispatched (pending, no engineer or outlet) at ``branch``
    (object, id or code; default the user's branch, else every branch the user sees):
    urgent ones first (R9), then the oldest report first, so that yesterday's jobs come
    before today's in the morning (R7)."""
    ctx.require("repair_work_order.read")
    query = select(WorkOrder).where(*waiting_for_dispatch())
    if branch not in (None, ""):
        branch = lookup(ctx, Branch, branch, "branch", "code")
    else:
        branch = ctx.branch
    if branch is not None:
        query = query.where(WorkOrder.branch_id == branch.id)
    # the queue shows each order's customer and branch: loaded with it, not one by one
    return list(ctx.session.scalars(query.options(
        joinedload(WorkOrder.customer), joinedload(WorkOrder.branch)).order_by(
        WorkOrder.urgent.desc(), WorkOrder.reported_at, WorkOrder.id).limit(limit)))

