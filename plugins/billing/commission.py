"""Engineer commission (R28): what a job earns, what is deducted, what is reversed, and
the monthly statement per engineer.

**The lines.** When a finished job passes the supervisor's audit, its engineer earns
``percent`` % of the job's labour value plus ``per_job`` (:class:`CommissionRate` of the
job's service type — repair, install or outsourced — for its branch, else the site's
default; no rate, no commission). The labour value is the job charge's ``labour_value``
when billing has charged the job, else the labour price of the rules
(:func:`plugins.billing.pricing.price_job`). Deductions are their own lines, each named:
``overdue`` when the engineer missed the arrival deadline (the branch setting
``billing.commission_overdue_deduction``) and ``rating:<callback id>`` when the
customer's survey rated the job poorly (``billing.commission_rating_deduction``, a
rating at or below ``billing.commission_poor_rating``). A failed spot check, a failed
audit or a reopened job reverses what the job's latest completion earned, deductions
included, with one ``reverse`` line; a later passed audit after the rework earns again
under the new completion number.

**Once only.** Every line is keyed by (work order, completion, code), unique in the
database: an event received twice finds its line and writes nothing, and two
transactions racing on PostgreSQL leave one line (the loser's insert fails in a
savepoint and counts as done). Amounts carry their sign: deductions and reversals of
earnings are negative, so a month's total is the sum of its lines.

**The month** of a line is the site's local month in which the event happened (a
reversal in December of November's earnings is December's).

Reasons are written in the site's language, as the history of a work order is.
Nothing here imports repair: work orders, their history and callbacks are read by table
name (``ctx.app.entity_class``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from kernel import NotFound
from kernel.cli.base import CliState, pass_state, print_table
from kernel.contributions import Document
from kernel.i18n import N_, _, use_locale
from kernel.models import Branch, Employee
from kernel.months import add_months, parse_month
from kernel.settings import get_setting

from . import pricing
from .amounts import ZERO, as_money, percent_of
from .models import CommissionEntry, CommissionKind, JobCharge, ServiceType

HISTORY = "repair_status_change"
CALLBACKS = "repair_callback"
READ = "billing_commission_entry.read"

EARN, OVERDUE, REVERSE, RATING = "earn", "overdue", "reverse", "rating:"
#: a complaint's deduction (or its taking back): ``complaint:<complaint id>:<n>``
#: (:mod:`plugins.billing.complaints_glue`)
COMPLAINT = "complaint:"

#: the survey's ratings (columns of ``repair_callback``) and how a deduction names them
RATINGS = (("rating_attitude", N_("attitude {rating}")),
           ("rating_skill", N_("skill {rating}")),
           ("rating_arrival", N_("arrival time {rating}")),
           ("rating_promise", N_("keeping promises {rating}")))

#: what each kind of line is called on the statement, by its code
ITEMS = {EARN: N_("Commission earned"), OVERDUE: N_("Missed arrival deadline"),
         RATING: N_("Poor survey rating"), REVERSE: N_("Reversed"),
         COMPLAINT: N_("Complaint")}

REASON_LENGTH = 300


# ---------------------------------------------------------------------------
# months and reasons
# ---------------------------------------------------------------------------


def current_month(ctx) -> dt.date:
    """The first day of the site's local month now (by the context's clock)."""
    return ctx.now().astimezone(ctx.settings.tz).date().replace(day=1)




def item_of(code: str) -> str:
    """The msgid naming a line of ``code`` on the statement (earned, a deduction, ...)."""
    for prefix in (RATING, COMPLAINT):
        if code.startswith(prefix):
            return ITEMS[prefix]
    return ITEMS.get(code, ITEMS[EARN])


def _site_text(ctx, message: str, **values) -> str:
    """``message`` translated into the site's language and filled in (a line's reason)."""
    with use_locale(ctx.settings.locale):
        text = _(message).format(**values)
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1] + "…"


def _separator(ctx) -> str:
    return "，" if ctx.settings.locale == "zh_CN" else ", "


# ---------------------------------------------------------------------------
# what a job earns
# ---------------------------------------------------------------------------


def completions(ctx, order) -> int:
    """How many times the work order has been completed (its history's ``complete``
    entries): 1 the first time, 2 after one rework, ..."""
    history = ctx.app.entity_class(HISTORY)
    return ctx.session.scalar(select(func.count()).select_from(history).where(
        history.order_id == order.id, history.event == "complete")) or 0


def labour_value(ctx, order) -> Decimal:
    """What the job's labour is worth: its job charge's labour value when billing charged
    it, else the labour price of the rules (nothing when no rate fits)."""
    charged = ctx.session.scalar(select(JobCharge.labour_value).where(
        JobCharge.order_id == order.id))
    if charged is not None:
        return charged
    return pricing.price_job(ctx, order, []).labour or ZERO


def _exists(ctx, order_id: int, completion: int, code: str) -> bool:
    return ctx.session.scalar(select(CommissionEntry.id).where(
        CommissionEntry.order_id == order_id, CommissionEntry.completion == completion,
        CommissionEntry.code == code)) is not None


def insert_once(ctx, entry: CommissionEntry) -> bool:
    """Insert ``entry`` in a savepoint; False when its (order, completion, code) is taken
    (another transaction wrote it first): the line exists, which is all that was wanted."""
    try:
        with ctx.session.begin_nested():
            ctx.session.add(entry)
    except IntegrityError:
        return False
    return True


def _write(ctx, order, *, completion: int, code: str, kind: CommissionKind,
           service_type: ServiceType, engineer_id: int, amount: Decimal, reason: str,
           base: Decimal = ZERO, rate: Decimal = ZERO) -> CommissionEntry | None:
    """A commission line of ``order``, unless the line of that key is written already."""
    if _exists(ctx, order.id, completion, code):
        return None
    entry = CommissionEntry(
        company_id=order.company_id, branch_id=order.branch_id, engineer_id=engineer_id,
        order_id=order.id, order_number=order.number, completion=completion, code=code,
        kind=kind, service_type=service_type, month=current_month(ctx), base=base,
        rate=rate, amount=amount, reason=reason, at=ctx.now().astimezone(dt.UTC))
    return entry if insert_once(ctx, entry) else None


def _poor_ratings(ctx, order, callback) -> list[str]:
    """The ratings of ``callback`` at or below the branch's poor threshold, named."""
    threshold = get_setting(ctx, "billing.commission_poor_rating", order.branch)
    with use_locale(ctx.settings.locale):
        return [_(label).format(rating=getattr(callback, column))
                for column, label in RATINGS
                if getattr(callback, column, None) is not None
                and getattr(callback, column) <= threshold]


def _rating_deduction(ctx, order, callback, earned: CommissionEntry) -> CommissionEntry | None:
    """The named deduction for a poorly rated survey, against the earning ``earned``."""
    poor = _poor_ratings(ctx, order, callback)
    amount = get_setting(ctx, "billing.commission_rating_deduction", order.branch)
    if not poor or amount <= 0:
        return None
    return _write(ctx, order, completion=earned.completion, code=f"{RATING}{callback.id}",
                  kind=CommissionKind.DEDUCTION, service_type=earned.service_type,
                  engineer_id=earned.engineer_id, amount=-amount,
                  reason=_site_text(ctx, N_("poor rating: {ratings}"),
                                    ratings=_separator(ctx).join(poor)))


def _answered_callback(ctx, order):
    callbacks = ctx.app.entity_class(CALLBACKS)
    if callbacks is None:
        return None
    return ctx.session.scalar(select(callbacks).where(
        callbacks.order_id == order.id, callbacks.answered_at.is_not(None)))


def earn(ctx, order) -> list[CommissionEntry]:
    """A job passed its audit: its engineer earns the commission of its service type
    for the order's latest completion, less a named deduction for a missed arrival
    deadline and (when the survey is answered already) for poor ratings. Nothing for a
    job without an engineer (a partner outlet did it) or without a commission rate, and
    nothing new when the completion's lines exist. Returns the lines written."""
    if order.engineer_id is None:
        return []
    completion = completions(ctx, order)
    if completion < 1:
        return []
    service_type = pricing.service_type_of(ctx, order)
    rate = pricing.commission_rate(ctx, order.branch_id, service_type)
    if rate is None:
        return []
    base = labour_value(ctx, order)
    amount = percent_of(base, rate.percent) + rate.per_job
    earned = _write(
        ctx, order, completion=completion, code=EARN, kind=CommissionKind.EARNED,
        service_type=service_type, engineer_id=order.engineer_id, amount=amount,
        base=base, rate=rate.percent,
        reason=_site_text(ctx, N_("{service} job passed audit: labour value ¥{base} × "
                                  "{rate} + ¥{per_job} per job"),
                          service=_site_text(ctx, service_type.value), base=base,
                          rate=f"{rate.percent}%", per_job=rate.per_job))
    if earned is None:
        return []
    written = [earned]
    overdue = get_setting(ctx, "billing.commission_overdue_deduction", order.branch)
    if order.deadline_met is False and overdue > 0:
        written.append(_write(
            ctx, order, completion=completion, code=OVERDUE, kind=CommissionKind.DEDUCTION,
            service_type=service_type, engineer_id=order.engineer_id, amount=-overdue,
            reason=_site_text(ctx, N_("missed its arrival deadline by {minutes} minutes"),
                              minutes=order.missed_minutes or 0)))
    callback = _answered_callback(ctx, order)
    if callback is not None:
        written.append(_rating_deduction(ctx, order, callback, earned))
    return [line for line in written if line is not None]


def latest_earning(ctx, order_id: int) -> CommissionEntry | None:
    """The earn line of the order's latest completion that earned, unless reversed."""
    earned = ctx.session.scalars(select(CommissionEntry).where(
        CommissionEntry.order_id == order_id, CommissionEntry.code == EARN)
        .order_by(CommissionEntry.completion.desc()).limit(1)).first()
    if earned is None or _exists(ctx, order_id, earned.completion, REVERSE):
        return None
    return earned


def rate_survey(ctx, order, callback) -> CommissionEntry | None:
    """The customer answered the survey: a poor rating deducts from what the job's latest
    completion earned (nothing when it earned nothing, or that was reversed)."""
    earned = latest_earning(ctx, order.id)
    if earned is None:
        return None
    return _rating_deduction(ctx, order, callback, earned)


def reverse(ctx, order, reason: str) -> CommissionEntry | None:
    """Take back what the job's latest completion earned, its deductions included, with
    one ``reverse`` line giving ``reason`` (a failed spot check or audit, a reopening).
    Nothing when the job earned nothing or was reversed already."""
    earned = latest_earning(ctx, order.id)
    if earned is None:
        return None
    net = as_money(ctx.session.scalar(select(func.sum(CommissionEntry.amount)).where(
        CommissionEntry.order_id == order.id, CommissionEntry.completion == earned.completion,
        CommissionEntry.kind.in_((CommissionKind.EARNED, CommissionKind.DEDUCTION)))))
    return _write(ctx, order, completion=earned.completion, code=REVERSE,
                  kind=CommissionKind.REVERSAL, service_type=earned.service_type,
                  engineer_id=earned.engineer_id, amount=-net, reason=reason)


def reverse_for_check(ctx, order, check) -> CommissionEntry | None:
    """A failed spot check reverses the job's commission, naming the check."""
    return reverse(ctx, order, _site_text(
        ctx, N_("reversed: spot check {check} failed: {findings}"), check=check.id,
        findings=check.findings or ""))


def reverse_for_audit(ctx, order) -> CommissionEntry | None:
    """A failed audit (of a job that had passed one) reverses the job's commission."""
    return reverse(ctx, order, _site_text(ctx, N_("reversed: the audit failed: {note}"),
                                          note=order.audit_note or ""))


def reverse_for_reopening(ctx, order, reason: str | None) -> CommissionEntry | None:
    """A reopened job's commission is reversed, naming the reopening and its reason."""
    return reverse(ctx, order, _site_text(ctx, N_("reversed: the job was reopened: {reason}"),
                                          reason=reason or ""))


# ---------------------------------------------------------------------------
# the statement and the month's totals
# ---------------------------------------------------------------------------


def _kind_sum(kind: CommissionKind):
    return func.sum(case((CommissionEntry.kind == kind, CommissionEntry.amount), else_=0))


def statement(ctx, engineer_id: int, month: dt.date) -> dict:
    """An engineer's commission for ``month`` (the branches the user sees): the lines in
    the order they were written, and the earned, deduction, reversal and total amounts
    summed in one grouped query (deductions and reversals negative). ``jobs`` counts the
    work orders that earned."""
    ctx.require(READ)
    month = parse_month(month)
    engineer = ctx.session.get(Employee, engineer_id)
    if engineer is None or not ctx.can_see(engineer):
        raise NotFound(_("no engineer {id}").format(id=engineer_id), field="engineer")
    where = (CommissionEntry.engineer_id == engineer.id, CommissionEntry.month == month)
    lines = list(ctx.session.scalars(select(CommissionEntry).where(*where)
                                     .order_by(CommissionEntry.at, CommissionEntry.id)))
    jobs, earned, deductions, reversals, total = ctx.session.execute(select(
        func.count(func.distinct(case((CommissionEntry.kind == CommissionKind.EARNED,
                                       CommissionEntry.order_id)))),
        _kind_sum(CommissionKind.EARNED), _kind_sum(CommissionKind.DEDUCTION),
        _kind_sum(CommissionKind.REVERSAL), func.sum(CommissionEntry.amount))
        .where(*where)).one()
    return {"engineer": engineer, "month": month, "lines": lines, "jobs": jobs or 0,
            "earned": as_money(earned), "deductions": as_money(deductions),
            "reversals": as_money(reversals), "total": as_money(total)}


def _branch(ctx, branch) -> Branch | None:
    if branch in (None, ""):
        return None
    if isinstance(branch, Branch):
        return branch
    found = ctx.session.scalar(select(Branch).where(
        (Branch.code == str(branch).upper()) if not isinstance(branch, int)
        else (Branch.id == branch)))
    if found is None or not ctx.can_see(found):
        raise NotFound(_("no branch {code}").format(code=branch), field="branch")
    return found


def by_engineer(ctx, month: dt.date, branch=None) -> list[dict]:
    """Every engineer's commission of ``month`` (lines of ``branch``, object, id or code;
    default every branch the user sees), one grouped query: code, name, jobs that earned,
    earned, deductions, reversals and total, by engineer code."""
    ctx.require(READ)
    month = parse_month(month)
    place = _branch(ctx, branch)
    entry, people = CommissionEntry, Employee.__table__
    query = (select(entry.engineer_id, people.c.code, people.c.name,
                    func.count(func.distinct(case((entry.kind == CommissionKind.EARNED,
                                                   entry.order_id)))),
                    _kind_sum(CommissionKind.EARNED), _kind_sum(CommissionKind.DEDUCTION),
                    _kind_sum(CommissionKind.REVERSAL), func.sum(entry.amount))
             .join(people, people.c.id == entry.engineer_id)
             .where(entry.month == month)
             .group_by(entry.engineer_id, people.c.code, people.c.name)
             .order_by(people.c.code, entry.engineer_id))
    if place is not None:
        query = query.where(entry.branch_id == place.id)
    return [{"engineer_id": engineer_id, "code": code, "name": name, "jobs": jobs,
             "earned": as_money(earned), "deductions": as_money(deductions),
             "reversals": as_money(reversals), "total": as_money(total)}
            for engineer_id, code, name, jobs, earned, deductions, reversals, total
            in ctx.session.execute(query)]


# ---------------------------------------------------------------------------
# the paper: 提成明细表
# ---------------------------------------------------------------------------


def gather_statement(ctx, employee, months_back: int = 0) -> dict:
    """The engineer's statement of the current month (``months_back`` 1: the previous
    one): its lines with what each is (an earning also with its amount per job), and the
    number ``<code>-<YYYYMM>``."""
    month = add_months(current_month(ctx), -months_back)
    data = statement(ctx, employee.id, month)
    tz = ctx.settings.tz
    rows = [{"line": line, "item": item_of(line.code), "day": line.at.astimezone(tz).date(),
             "per_job": line.amount - percent_of(line.base, line.rate)
             if line.code == EARN else None}
            for line in data["lines"]]
    return {**data, "rows": rows, "number": f"{employee.code}-{month:%Y%m}",
            "month_end": add_months(month, 1) - dt.timedelta(days=1),
            # drawn from the entries each time: never a draft, never cancelled
            "draft": False, "cancelled": False}


def gather_previous(ctx, employee) -> dict:
    """The engineer's statement of the previous month (paid at the start of this one)."""
    return gather_statement(ctx, employee, months_back=1)


STATEMENT = Document(
    name="billing.commission_statement", title=N_("Commission statement"),
    entity="employee", template="billing/commission_statement.html",
    gather=gather_statement, paper="A4", orientation="landscape",
    options={"permission": READ})
PREVIOUS_STATEMENT = Document(
    name="billing.commission_statement_previous",
    title=N_("Commission statement (previous month)"), entity="employee",
    template="billing/commission_statement.html", gather=gather_previous, paper="A4",
    orientation="landscape",
    options={"permission": READ})

DOCUMENTS = [STATEMENT, PREVIOUS_STATEMENT]


# ---------------------------------------------------------------------------
# fixdesk billing commission
# ---------------------------------------------------------------------------


def _engineer_by_code(ctx, code: str) -> Employee:
    found = ctx.session.scalar(select(Employee).where(Employee.code == code.strip())) \
        if code.strip().isprintable() and len(code) <= 30 else None
    if found is None:
        raise NotFound(_("no engineer {code}").format(code=code[:30]), field="engineer")
    return found


@click.command("commission", help=_("Commission of a month: each engineer's totals, or one "
                                    "engineer's lines (--engineer)."))
@click.option("--month", metavar="YYYY-MM", help=_("The month (default: this month)."))
@click.option("--engineer", "engineer_code", metavar="CODE",
              help=_("Only this engineer, line by line."))
@click.option("--branch", "branch_code", metavar="CODE", help=_("Only this branch's jobs."))
@pass_state
def commission_command(state: CliState, month, engineer_code, branch_code):
    chosen = parse_month(month) if month is not None else None
    with state.context() as ctx:
        chosen = chosen or current_month(ctx)
        if engineer_code is not None:
            data = statement(ctx, _engineer_by_code(ctx, engineer_code).id, chosen)
            tz = ctx.settings.tz
            rows = [(line.at.astimezone(tz).date(), line.order_number, _(item_of(line.code)),
                     _(line.service_type.value), line.base, line.rate, line.amount,
                     line.reason) for line in data["lines"]]
            print_table((_("DATE"), _("WORK ORDER"), _("ITEM"), _("SERVICE TYPE"),
                         _("LABOUR VALUE"), _("RATE"), _("AMOUNT"), _("REASON")),
                        [*rows, (_("EARNED"), "", "", "", "", "", data["earned"], ""),
                         (_("DEDUCTIONS"), "", "", "", "", "", data["deductions"], ""),
                         (_("REVERSALS"), "", "", "", "", "", data["reversals"], ""),
                         (_("TOTAL"), "", "", "", "", "", data["total"], "")])
            return
        rows = by_engineer(ctx, chosen, branch_code)
    keys = ("earned", "deductions", "reversals", "total")
    totals = [sum((row[key] for row in rows), ZERO) for key in keys]
    print_table((_("ENGINEER"), _("NAME"), _("JOBS"), _("EARNED"), _("DEDUCTIONS"),
                 _("REVERSALS"), _("TOTAL")),
                [*((row["code"], row["name"], row["jobs"], *(row[k] for k in keys))
                   for row in rows),
                 (_("TOTAL"), "", sum(row["jobs"] for row in rows), *totals)])


SUBCOMMANDS = [commission_command]
