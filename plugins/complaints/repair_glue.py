"""Glue for repair (the part ``complaints.repair``, registered only where repair runs),
switchable per branch like every part:

- a survey answered with a poor rating, or with complaint words in its comments, opens a
  complaint about the work order and its engineer (``repair_survey_answered``; ``fixdesk
  hooks disable complaints.repair repair_survey_answered --branch JD`` stops it for JD);
- registering a repair shows the customer's open complaints (``repair_history_extra``);
- the work order's form has a "Complaints" section listing the complaints about it.

Repair is reached through its hooks and its table's name only, never imported.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from kernel import FormSection, RecordLink, SectionContent, hookimpl
from kernel.contributions import titled
from kernel.i18n import N_, _, use_locale
from kernel.settings import get_setting

from . import services
from .rules import Category, Channel, Severity, Status, Topic

ORDERS = "repair_work_order"
COMPLAINTS = "complaints_complaint"
READ = "complaints_complaint.read"
CREATE = "complaints_complaint.create"
#: the survey's ratings (columns of ``repair_callback``) and how a complaint names them
RATINGS = (("rating_attitude", N_("Service attitude")),
           ("rating_skill", N_("Technical skill")),
           ("rating_arrival", N_("Arrival time")),
           ("rating_promise", N_("Keeping promises")))
#: the rating that speaks of the people (with complaint words: human factors)
PEOPLE = "rating_attitude"
#: the customer's open complaints shown at registration at most
HISTORY_LIMIT = 20


# ---------------------------------------------------------------------------
# a poor survey opens a complaint
# ---------------------------------------------------------------------------


def _words(ctx, branch) -> list[str]:
    """The branch's complaint words (``complaints.survey_words``), lower case."""
    value = str(get_setting(ctx, "complaints.survey_words", branch) or "")
    return [word.strip().lower() for word in re.split(r"[,，、;；]", value) if word.strip()]


def poor_ratings(ctx, order, callback) -> list[tuple[str, int]]:
    """The ratings of ``callback`` at or below the branch's ``complaints.survey_poor_rating``,
    as ``(column, rating)``."""
    threshold = get_setting(ctx, "complaints.survey_poor_rating", order.branch)
    return [(column, getattr(callback, column)) for column, _label in RATINGS
            if getattr(callback, column, None) is not None
            and getattr(callback, column) <= threshold]


def complaint_words(ctx, order, callback) -> list[str]:
    """The branch's complaint words found in the survey's comments."""
    comments = (callback.comments or "").lower()
    return [word for word in _words(ctx, order.branch) if word in comments] if comments else []


def _description(ctx, order, poor: list[tuple[str, int]]) -> str:
    """The complaint's text when the customer wrote nothing: the poor ratings, named, in
    the site's language (as the work order's history is written)."""
    labels = dict(RATINGS)
    with use_locale(ctx.settings.locale):
        separator = "，" if ctx.settings.locale == "zh_CN" else ", "
        ratings = separator.join(f"{_(labels[column])} {rating}" for column, rating in poor)
        return _("The survey of {number} rated it poorly: {ratings}").format(
            number=order.number, ratings=ratings)


@contextmanager
def _registering(ctx):
    """The survey opens the complaint, not the person who typed the answers: one without
    the right to register complaints registers it as the system (the audit trail still
    names them)."""
    if ctx.can(CREATE):
        yield
        return
    user, ctx.user = ctx.user, None
    try:
        yield
    finally:
        ctx.user = user


def complaint_from_survey(ctx, order, callback):
    """The complaint a survey opens, or None when the survey is not poor: any rating at or
    below ``complaints.survey_poor_rating`` or a word of ``complaints.survey_words`` in the
    comments (both per branch). About the work order, its engineer and customer; human
    factors when the words or the attitude rating point to people, else other; ordinary.
    Once per survey answer (``origin_key`` ``survey:<callback id>``): a second delivery
    answers the first complaint."""
    if order.customer_id is None and not order.phone:
        return None  # an internal job: nobody outside to complain
    poor = poor_ratings(ctx, order, callback)
    words = complaint_words(ctx, order, callback)
    if not poor and not words:
        return None
    people = bool(words) or any(column == PEOPLE for column, _rating in poor)
    description = (callback.comments or "").strip() or _description(ctx, order, poor)
    with _registering(ctx):
        return services.register(
            ctx, origin_key=f"survey:{callback.id}", topic=Topic.COMPLAINT.value,
            category=(Category.HUMAN_FACTORS if people else Category.OTHER).value,
            severity=Severity.ORDINARY.value, channel=Channel.SURVEY.value,
            branch_id=order.branch_id, customer_id=order.customer_id,
            engineer_id=callback.engineer_id or order.engineer_id,
            contact_name=order.contact_name, phone=order.phone,
            about=RecordLink(ORDERS, order.id), description=description)


@hookimpl
@titled(N_("A poor survey or complaint words open a complaint"))
def repair_survey_answered(ctx, order, callback):
    """A survey with a rating at or below ``complaints.survey_poor_rating`` or complaint
    words in its comments opens a complaint about the work order and its engineer
    (R26), once per survey answer."""
    complaint_from_survey(ctx, order, callback)


# ---------------------------------------------------------------------------
# the customer's open complaints at registration
# ---------------------------------------------------------------------------


def _moment(ctx, at) -> str:
    return at.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if at else ""


def _short(text: str | None, limit: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def open_complaints_section(ctx, customer) -> dict | None:
    """The customer's complaints still being handled (newest first, at most
    :data:`HISTORY_LIMIT`) as a section of repair's customer history, or None when there
    are none or the user may not read complaints. Rows read in the order shown: number,
    received, status, severity, the customer's words (shortened)."""
    if not ctx.can(READ):
        return None
    found = services.open_for_customer(ctx, customer.id, limit=HISTORY_LIMIT)
    if not found:
        return None
    return {"name": "complaints", "title": _("Open complaints"),
            "rows": [{"number": c.number, "received": _moment(ctx, c.received_at),
                      "status": _(Status(c.status).value),
                      "severity": _(Severity(c.severity).value),
                      "description": _short(c.description)} for c in found]}


@hookimpl
@titled(N_("The customer's open complaints when a repair is registered"))
def repair_history_extra(ctx, customer):
    """The customer's open complaints, shown beside their history when the front desk
    registers a repair (R2, R26)."""
    return open_complaints_section(ctx, customer)


# ---------------------------------------------------------------------------
# the "Complaints" section of the work order's form
# ---------------------------------------------------------------------------


def work_order_complaints(ctx, order) -> SectionContent:
    """The complaints about the work order, newest first (one query): number (linked),
    status, severity, when received."""
    found = services.about_record(ctx, ORDERS, order.id)
    return SectionContent(
        columns=(_("Number"), _("Status"), _("Severity"), _("Complaint received at")),
        rows=tuple(((c.number, f"/desk/{COMPLAINTS}/{c.id}"), _(Status(c.status).value),
                    _(Severity(c.severity).value), _moment(ctx, c.received_at))
                   for c in found),
        empty=_("No complaints about this work order."))


FORM_SECTIONS = [
    FormSection(ORDERS, "complaints.work_order", N_("Complaints"),
                build=work_order_complaints, order=80, permission=READ),
]


@hookimpl
@titled(N_("The Complaints section on the work order's form"))
def fixdesk_form_sections():
    """*Complaints* on the work order's form: the complaints about the order, linked."""
    return FORM_SECTIONS


# ---------------------------------------------------------------------------
# demo data
# ---------------------------------------------------------------------------


@hookimpl
def fixdesk_demo_data(ctx):
    """After repair's demo history: scenario 5, the open complaints and a year of history,
    about repair's work orders (:func:`plugins.complaints.demo.load_after_repair`)."""
    from .demo import load_after_repair

    load_after_repair(ctx)
