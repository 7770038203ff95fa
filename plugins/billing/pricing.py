"""The price rules (R27, R28) and what a repair job costs by them.

A rule for the job's branch wins over the site's default (``for_branch_id`` empty).
Labour: the rate for the engineer's grade and the job's difficulty (billing's field on the
work order, else the setting ``billing.default_difficulty``). Parts: each line's cost
(inventory's moving average when inventory resolved the code, else the cost typed on the
line) plus the markup of the part's category (asked through ``billing_part_category``)
or the markup for every part, per unit, rounded to the fen. Travel: the amount agreed for
a special trip, else the fee of the job's travel zone, else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from kernel.models import Grade
from kernel.settings import get_setting

from .amounts import ZERO, marked_up
from .models import (
    CommissionRate,
    Difficulty,
    LabourRate,
    MarkupRule,
    OrderTerms,
    ServiceType,
)


def _best(ctx, model, branch_id: int | None, *conditions):
    """The rule of ``model`` matching ``conditions`` for the branch, else the default."""
    rows = ctx.session.scalars(select(model).where(
        *conditions, (model.for_branch_id == branch_id) | model.for_branch_id.is_(None)))
    rows = list(rows)
    return next((r for r in rows if r.for_branch_id is not None), None) or next(
        (r for r in rows if r.for_branch_id is None), None)


def labour_rate(ctx, branch_id: int | None, grade, difficulty) -> Decimal | None:
    """The labour price for an engineer of ``grade`` on a job of ``difficulty``."""
    rule = _best(ctx, LabourRate, branch_id, LabourRate.grade == Grade(grade),
                 LabourRate.difficulty == Difficulty(difficulty))
    return rule.amount if rule is not None else None


def markup_percent(ctx, branch_id: int | None, category: str | None) -> Decimal:
    """The markup % for a part of ``category`` (its own rule, else every part's, else 0)."""
    if category:
        rule = _best(ctx, MarkupRule, branch_id, MarkupRule.part_category == category)
        if rule is not None:
            return rule.markup_percent
    rule = _best(ctx, MarkupRule, branch_id, MarkupRule.part_category.is_(None))
    return rule.markup_percent if rule is not None else ZERO


def commission_rate(ctx, branch_id: int | None, service_type) -> CommissionRate | None:
    """The commission rate for jobs of ``service_type``."""
    return _best(ctx, CommissionRate, branch_id,
                 CommissionRate.service_type == ServiceType(service_type))


def terms_of(ctx, order_id: int) -> OrderTerms | None:
    """Billing's fields on the work order (difficulty, travel zone, agreed travel)."""
    return ctx.session.get(OrderTerms, order_id)


def difficulty_of(ctx, order) -> Difficulty:
    """The job's difficulty: billing's field on the order, else the branch's default."""
    terms = terms_of(ctx, order.id)
    if terms is not None and terms.difficulty is not None:
        return Difficulty(terms.difficulty)
    return Difficulty(get_setting(ctx, "billing.default_difficulty", order.branch))


def service_type_of(ctx, order) -> ServiceType:
    """Repair, install (difficulty *install*) or outsourced (a partner outlet did it)."""
    if getattr(order, "partner_outlet", None):
        return ServiceType.OUTSOURCED
    if difficulty_of(ctx, order) is Difficulty.INSTALL:
        return ServiceType.INSTALL
    return ServiceType.REPAIR


def travel_of(ctx, order) -> Decimal:
    """The travel fee: agreed for a special trip, else the zone's, else nothing."""
    terms = terms_of(ctx, order.id)
    if terms is None:
        return ZERO
    if terms.agreed_travel is not None:
        return terms.agreed_travel
    return terms.travel_zone.fee if terms.travel_zone is not None else ZERO


def part_category(ctx, code: str | None) -> str | None:
    """The category of the part with ``code``, if a plugin (inventory) knows it."""
    code = (code or "").strip()
    if not code or not hasattr(ctx.hook, "billing_part_category"):
        return None
    return ctx.hook.billing_part_category(ctx=ctx, code=code)


@dataclass
class JobPrice:
    """A job priced by the rules: the customer's amounts, each part line's unit price,
    and the internal cost (parts at cost)."""

    labour: Decimal | None
    parts: Decimal
    travel: Decimal
    parts_cost: Decimal
    line_prices: dict[int, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return (self.labour or ZERO) + self.parts + self.travel

    @property
    def internal_cost(self) -> Decimal:
        return (self.labour or ZERO) + self.parts_cost + self.travel


def price_job(ctx, order, lines) -> JobPrice:
    """``order`` (a work order) with its part ``lines`` priced by the rules of its branch.
    ``labour`` is None when no rate fits (no engineer, or no rule for the grade)."""
    engineer = getattr(order, "engineer", None)
    grade = engineer.grade if engineer is not None else Grade.REGULAR
    labour = labour_rate(ctx, order.branch_id, grade, difficulty_of(ctx, order))
    prices, parts, cost = {}, ZERO, ZERO
    for line in lines:
        percent = markup_percent(ctx, order.branch_id, part_category(ctx, line.part_code))
        prices[line.id] = marked_up(line.unit_cost, percent)
        parts += prices[line.id] * line.quantity
        cost += line.unit_cost * line.quantity
    return JobPrice(labour, parts, travel_of(ctx, order), cost, prices)
