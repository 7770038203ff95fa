"""Callback and survey after every job (R19).

Closing an order opens its callback task (``repair_callback``), due within
``repair.callback_within_hours`` working hours. Staff phone the customer and type the
four ratings (attitude, skill, arrival time, keeping promises; 4 levels) and comments,
or type them from a returned survey card; or the customer answers on the public page
behind the signed link printed as a QR code on the voucher and survey card. The answers
are given once per order. No answer after ``repair.callback_attempts`` calls closes the
task as unreachable.

The survey link is ``<public_url>/survey/<token>``; the token signs the order id and the
last day the link works (``repair.survey_link_days`` after it was printed or sent) with
the site's key (:mod:`kernel.signing`), so a link cannot be forged, pointed at another
order, or used after it expired.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kernel import Conflict, NotFound, ValidationError
from kernel.branch_calendar import calendar_for
from kernel.i18n import N_, _
from kernel.notifications import notify, tell_branch
from kernel.signing import sign, unsign

from . import rules
from .inputs import choice, local_date, local_text, lookup, now_utc, positive_int, text
from .models import RATINGS, Callback, CallbackStatus, SurveyChannel, WorkOrder
from .scheduled import SUPERVISOR_ROLES

SIGNING_PURPOSE = "repair.survey"
#: the order's statuses in which its survey may be answered (the repair is done)
ANSWERABLE = rules.DONE
RATING_FIELDS = dict(zip(("attitude", "skill", "arrival", "promise"), RATINGS, strict=True))
#: the four questions of R19 as printed and shown, in the order of ``RATINGS``
RATING_LABELS = (N_("Service attitude"), N_("Technical skill"), N_("Arrival time"),
                 N_("Keeping promises"))


class SurveyClosed(Conflict):
    """The survey link expired or the order cannot be rated (any more)."""

    status = 410
    code = "survey_closed"


# ---------------------------------------------------------------------------
# the signed link
# ---------------------------------------------------------------------------


def _last_day(ctx) -> dt.date:
    """The last day a link made today works: ``repair.survey_link_days`` days on."""
    return local_date(ctx, now_utc(ctx)) + dt.timedelta(days=ctx.setting(
        "repair.survey_link_days"))


def survey_token(ctx, order: WorkOrder) -> str:
    """A token for ``order``'s survey page, working until :func:`_last_day`."""
    return sign(ctx.app, SIGNING_PURPOSE, f"{order.id}-{_last_day(ctx):%Y%m%d}")


def survey_url(ctx, order: WorkOrder) -> str:
    """The customer's survey link for ``order`` (printed as a QR code, sent by SMS)."""
    return f"{ctx.settings.customer_url}/survey/{survey_token(ctx, order)}"


def survey_link(ctx, order) -> dict:
    """Staff fetch an order's survey link to send it or read it out (R19):
    ``{"number", "url", "expires_on"}``. Internal jobs have no survey."""
    order = lookup(ctx, WorkOrder, order, "order", "number")
    ctx.require("repair_callback.record", order)
    if order.category == rules.Category.INTERNAL:
        raise Conflict(_("internal jobs have no customer survey"), field="order")
    return {"number": order.number, "url": survey_url(ctx, order),
            "expires_on": _last_day(ctx)}


def order_for_token(ctx, token: str) -> WorkOrder:
    """The order a survey token names. A forged or altered token is :class:`NotFound`; an
    expired one, or one for an order that is not repaired, :class:`SurveyClosed`."""
    value = unsign(ctx.app, SIGNING_PURPOSE, str(token or "")[:200])
    order_id, _sep, last_day = (value or "").partition("-")
    try:
        expires = dt.datetime.strptime(last_day, "%Y%m%d").date()
        order = ctx.session.get(WorkOrder, int(order_id))
    except ValueError:
        order = None
    if order is None:
        raise NotFound(_("This survey link is not valid."), field="token")
    if local_date(ctx, now_utc(ctx)) > expires:
        raise SurveyClosed(_("This survey link expired on {day}.").format(day=expires),
                           field="token")
    if rules.Status(order.status) not in ANSWERABLE:
        raise SurveyClosed(_("The survey opens when the repair is done."), field="token")
    return order


# ---------------------------------------------------------------------------
# the callback task
# ---------------------------------------------------------------------------


def callback_of(ctx, order: WorkOrder) -> Callback | None:
    """The order's callback task, if it has one."""
    return ctx.session.scalar(select(Callback).where(Callback.order_id == order.id))


def open_callback(ctx, order: WorkOrder) -> Callback:
    """Give a closed order its callback task (R19: every job, not a sample), due within
    ``repair.callback_within_hours`` working hours of the branch. Closing again after a
    reopen moves the due time of a task still open; answers already given stay."""
    hours = ctx.setting("repair.callback_within_hours")
    from kernel.models import Branch

    branch = ctx.session.get(Branch, order.branch_id)
    due = calendar_for(ctx, branch).add_working_hours(order.closed_at or now_utc(ctx),
                                                      hours).astimezone(dt.UTC)
    callback = callback_of(ctx, order)
    if callback is None:
        callback = Callback(company_id=order.company_id, branch_id=order.branch_id,
                            order_id=order.id, engineer_id=order.engineer_id, due_at=due,
                            status=CallbackStatus.OPEN, attempts=0)
        ctx.session.add(callback)
    elif callback.status == CallbackStatus.OPEN:
        callback.due_at, callback.engineer_id = due, order.engineer_id
    ctx.session.flush()
    return callback


def _callback(ctx, callback, permission: str) -> Callback:
    callback = lookup(ctx, Callback, callback, "callback", "id")
    ctx.require(f"repair_callback.{permission}", callback)
    ctx.session.refresh(callback, with_for_update=True)
    return callback


def _still_open(callback: Callback) -> None:
    if callback.answered_at is not None:
        raise Conflict(_("the survey of this order is answered already"), field="status")
    if callback.status != CallbackStatus.OPEN:
        raise Conflict(_("the callback is closed ({status})").format(
            status=_(CallbackStatus(callback.status).value)), field="status")


def _rating(value, field: str) -> int:
    """A rating from 1 (dissatisfied) to 4 (very satisfied)."""
    try:
        number = positive_int(value, field, maximum=4)
    except ValidationError:
        raise ValidationError(_("{field}: choose a rating from 1 to 4").format(field=field),
                              field=field) from None
    return number


def _answer(ctx, callback: Callback, order: WorkOrder, ratings: dict, comments, respondent,
            channel: SurveyChannel, recorded_by: str) -> Callback:
    values = {column: _rating(ratings.get(name), name) for name, column in RATING_FIELDS.items()}
    comments = text(comments, "comments", required=False, max_length=2000)
    respondent = text(respondent, "respondent", required=False, max_length=100)
    for column, value in values.items():
        setattr(callback, column, value)
    callback.comments, callback.respondent, callback.channel = comments, respondent, channel
    callback.answered_at, callback.recorded_by = now_utc(ctx), recorded_by
    callback.status = CallbackStatus.DONE
    ctx.session.flush()
    _report_poor_rating(ctx, callback, order)
    ctx.hook.repair_survey_answered(ctx=ctx, order=order, callback=callback)
    return callback


def record_survey(ctx, callback, attitude=None, skill=None, arrival=None, promise=None,
                  comments: str | None = None, channel: str | None = None,
                  respondent: str | None = None) -> Callback:
    """Staff record the customer's answers: from the callback phone call (``channel``
    ``phone``, the default) or from a returned survey card (``card``). Each rating is 1
    (dissatisfied) to 4 (very satisfied). The answers are given once."""
    callback = _callback(ctx, callback, "record")
    channel = choice(SurveyChannel, channel or SurveyChannel.PHONE, "channel")
    if channel == SurveyChannel.LINK:
        raise ValidationError(_("answers through the link come from the customer"),
                              field="channel")
    _still_open(callback)
    return _answer(ctx, callback, callback.order,
                   {"attitude": attitude, "skill": skill, "arrival": arrival,
                    "promise": promise}, comments, respondent, channel,
                   ctx.user.username if ctx.user else "system")


def no_answer(ctx, callback, note: str | None = None) -> Callback:
    """A call that reached nobody. After ``repair.callback_attempts`` of them the task is
    closed as unreachable."""
    callback = _callback(ctx, callback, "record")
    note = text(note, "note", required=False, max_length=500)
    _still_open(callback)
    callback.attempts += 1
    callback.last_attempt_at = now_utc(ctx)
    callback.note = note or callback.note
    if callback.attempts >= ctx.setting("repair.callback_attempts"):
        callback.status = CallbackStatus.UNREACHABLE
    ctx.session.flush()
    return callback


def decline(ctx, callback, note: str | None = None) -> Callback:
    """The customer does not want to answer: the task is closed without ratings."""
    callback = _callback(ctx, callback, "record")
    note = text(note, "note", required=False, max_length=500)
    _still_open(callback)
    callback.status, callback.note = CallbackStatus.DECLINED, note or callback.note
    callback.last_attempt_at = now_utc(ctx)
    ctx.session.flush()
    return callback


def answer_by_link(ctx, token: str, attitude=None, skill=None, arrival=None, promise=None,
                   comments: str | None = None, respondent: str | None = None) -> Callback:
    """The customer answers on the public survey page (no login: the signed token is the
    permission). One answer per order; the order's callback task is done with it (made
    now if the order is repaired but not closed yet)."""
    order = order_for_token(ctx, token)
    # the order's row lock queues two answers sent at once (a double tap, two phones):
    # the second finds the callback the first made and its answers
    ctx.session.refresh(order, with_for_update=True)
    callback = callback_of(ctx, order) or open_callback(ctx, order)
    ctx.session.refresh(callback, with_for_update=True)
    if callback.answered_at is not None:
        raise Conflict(_("Thank you: this survey is answered already."), field="token")
    callback.status = CallbackStatus.OPEN  # the customer may answer after a missed call
    return _answer(ctx, callback, order, {"attitude": attitude, "skill": skill,
                                          "arrival": arrival, "promise": promise},
                   comments, respondent, SurveyChannel.LINK, "customer")


def _report_poor_rating(ctx, callback: Callback, order: WorkOrder) -> None:
    """A rating at or below ``repair.poor_rating`` goes to the branch's supervisors, who
    contact the customer (R19, R26)."""
    threshold = ctx.setting("repair.poor_rating")
    poor = [(label, value) for label, value in zip(RATING_LABELS, callback.ratings, strict=True)
            if value is not None and value <= threshold]
    if not poor:
        return
    tell_branch(ctx, order.branch_id, SUPERVISOR_ROLES, "repair_poor_rating", {
        "number": order.number,
        "customer": order.customer.name if order.customer is not None else "",
        "phone": order.phone or "", "engineer": order.engineer.name if order.engineer
        else (order.partner_outlet or ""),
        "ratings": [{"label": label, "value": value} for label, value in poor],
        "comments": callback.comments or "", "answered_at": local_text(ctx,
                                                                       callback.answered_at),
        "branch": order.branch.name})


# ---------------------------------------------------------------------------
# sending the link when the order closes
# ---------------------------------------------------------------------------


def _sms_available(ctx) -> bool:
    return bool(ctx.app.pm.hook.fixdesk_send_notification.get_hookimpls())


def _email_of(order: WorkOrder) -> str | None:
    customer = order.customer
    if customer is None:
        return None
    contacts = sorted(customer.contacts, key=lambda c: not c.is_primary)
    return next((c.email for c in contacts if c.email), None) or customer.email


def send_survey_link(ctx, order: WorkOrder) -> str | None:
    """Send the customer the survey link (R19): by SMS to the order's phone when a plugin
    delivers SMS, else by e-mail to the customer's contact; nothing when neither is
    possible (the front desk calls instead). Returns where it went."""
    callback = callback_of(ctx, order)
    if callback is None or callback.answered_at is not None or callback.link_sent_at:
        return None
    context = {"number": order.number, "url": survey_url(ctx, order),
               "customer": order.customer.name if order.customer is not None else "",
               "company": order.branch.name}
    if order.phone and _sms_available(ctx):
        channel, to = "sms", order.phone
    elif _email_of(order):
        channel, to = "email", _email_of(order)
    else:
        return None
    notify(ctx, channel=channel, to=to, template="repair_survey_link", context=context)
    callback.link_sent_at, callback.link_sent_to = now_utc(ctx), f"{channel}:{to}"
    ctx.session.flush()
    return callback.link_sent_to
