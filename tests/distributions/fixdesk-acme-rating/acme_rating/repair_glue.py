"""Glue for repair: a difficulty on every work order, named by table, never imported.

A field block listing the order's labour, two list columns (the difficulty, and the
hours weighed by it, one query per page), an action that escalates a job through
repair's own ``edit`` action, the printed difficulty sheet, and an answer to repair's
question who to dispatch a major job to.
"""

from decimal import Decimal

from sqlalchemy import func, select

from kernel import (
    Action,
    Conflict,
    Document,
    Extension,
    FormSection,
    ListColumn,
    SectionContent,
    hookimpl,
)
from kernel.i18n import N_, _

ORDERS = "repair_work_order"
LABOUR = "repair_labour_entry"
#: grades in the order a major job wants them
SENIOR_FIRST = ("expert", "senior", "regular", "trainee")


@hookimpl
def fixdesk_entities():
    """The ratings: one companion row per work order."""
    from .ratings import Rating

    return [Rating]


@hookimpl
def fixdesk_extensions():
    """Difficulty, class and note on the work order (``acme_rating.*``)."""
    from .ratings import Rating

    return [Extension(ORDERS, Rating, permission="acme_rating_rating.update",
                      title=N_("Job difficulty"))]


def _labour_rows(ctx, order):
    """The order's labour entries, read by table name (repair is not imported)."""
    entry = ctx.app.entity_class(LABOUR)
    return list(ctx.session.scalars(select(entry).where(entry.order_id == order.id)
                                    .order_by(entry.id)))


def _difficulty_section(ctx, order):
    entries = _labour_rows(ctx, order)
    hours = sum(e.minutes for e in entries) / 60
    return SectionContent(
        summary=((_("Hours worked"), f"{hours:.1f}"),),
        columns=(_("Date"), _("Engineer"), _("Hours")),
        rows=tuple((e.work_date.isoformat(), e.employee.code, f"{e.minutes / 60:.1f}")
                   for e in entries),
        empty=_("No hours recorded yet."))


@hookimpl
def fixdesk_form_sections():
    """The difficulty block, with the order's labour, on the work order's form."""
    return [FormSection(ORDERS, "acme_rating.difficulty", N_("Job difficulty"),
                        build=_difficulty_section, fields=("difficulty", "category_id", "note"),
                        order=60)]


def _weighted_hours(ctx, orders):
    """Hours of each order of a page weighed by its difficulty class: one query."""
    from .models import Category
    from .ratings import Rating

    entry = ctx.app.entity_class(LABOUR)
    rows = ctx.session.execute(
        select(entry.order_id, func.sum(entry.minutes), Category.weight_percent)
        .outerjoin(Rating, Rating.record_id == entry.order_id)
        .outerjoin(Category, Category.id == Rating.category_id)
        .where(entry.order_id.in_([o.id for o in orders]))
        .group_by(entry.order_id, Category.weight_percent))
    return {order_id: (Decimal(minutes) * (weight or 100) / 6000).quantize(Decimal("0.1"))
            for order_id, minutes, weight in rows}


@hookimpl
def fixdesk_list_columns():
    """The difficulty and the weighed hours in the work order list."""
    return [ListColumn(ORDERS, "acme_rating.difficulty", N_("Difficulty"), field="difficulty"),
            ListColumn(ORDERS, "acme_rating.weighted_hours", N_("Weighted hours"),
                       compute=_weighted_hours)]


def escalate(ctx, order):
    """Rate the job major and make it urgent, through repair's own ``edit`` action."""
    from .ratings import Difficulty, Rating

    rating = ctx.session.get(Rating, order.id) or Rating(record_id=order.id)
    if rating.difficulty == Difficulty.MAJOR and order.urgent:
        raise Conflict(_("the job is escalated already"))
    rating.difficulty = Difficulty.MAJOR
    ctx.session.add(rating)
    ctx.run_action(ORDERS, order.id, "edit", urgent=True)
    return order


@hookimpl
def fixdesk_actions():
    """Escalate an open job as a major one."""
    return [Action(ORDERS, "acme_rating_escalate", N_("Escalate as major job"), escalate,
                   "acme_rating_rating.update",
                   available=lambda order: order.status not in ("closed", "cancelled"))]


def _gather(ctx, order):
    from .ratings import Rating

    entries = _labour_rows(ctx, order)
    return {"order": order, "rating": ctx.session.get(Rating, order.id),
            "hours": sum(e.minutes for e in entries) / 60}


@hookimpl
def fixdesk_documents():
    """The difficulty sheet kept with the engineers' pay records."""
    return [Document("acme_rating.difficulty_sheet", N_("Difficulty sheet"), ORDERS,
                     "acme_rating/difficulty_sheet.html", _gather, paper="A5")]


@hookimpl
def repair_rank_engineers(ctx, order, candidates):
    """A major job goes to the most senior engineers first (a question repair asks)."""
    from .ratings import Difficulty, Rating

    rating = ctx.session.get(Rating, order.id)
    if rating is None or rating.difficulty != Difficulty.MAJOR:
        return None
    ranked = sorted(candidates, key=lambda c: SENIOR_FIRST.index(c["grade"]))
    return [c["employee_id"] for c in ranked]
