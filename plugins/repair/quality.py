"""Quality spot checks (R17): supervisors check a share of the completed jobs.

Every morning the scheduled job ``repair.draw_spot_checks`` draws, per branch, the share
``repair.spot_check_percent`` (10 %, per branch) of the jobs completed the day before,
rounded up (1 to 10 jobs: one check; 11 to 20: two), at random among the jobs without a
check yet; internal jobs are not drawn. A supervisor may also choose any repaired job.
The check is recorded as passed or failed with findings; a failed check sends the job
back for rework (``in_repair``, history event ``rework`` naming the check), also when it
was closed, and the check stays linked to it.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from decimal import Decimal

from sqlalchemy import select

from kernel import Conflict, ValidationError
from kernel.i18n import _
from kernel.models import Branch
from kernel.settings import get_setting

from . import rules
from .events import load_order
from .inputs import flag, local_date, lookup, now_utc, parse_date, text
from .models import CheckStatus, DrawReason, QualityCheck, WorkOrder
from .rules import Category
from .services import send_back_for_rework

#: the system's random source for draws (not reproducible on purpose: nobody can
#: predict which jobs get checked)
_RANDOM = secrets.SystemRandom()


def share_of(count: int, percent: Decimal) -> int:
    """How many of ``count`` jobs a ``percent`` share is, rounded up (R17)."""
    if count <= 0 or percent <= 0:
        return 0
    return min(count, math.ceil(Decimal(count) * Decimal(percent) / 100))


def _new_check(ctx, order: WorkOrder, reason: DrawReason) -> QualityCheck:
    check = QualityCheck(company_id=order.company_id, branch_id=order.branch_id,
                         order_id=order.id, engineer_id=order.engineer_id,
                         drawn_at=now_utc(ctx), reason=reason,
                         drawn_by=ctx.user.username if ctx.user else "system",
                         status=CheckStatus.PENDING)
    ctx.session.add(check)
    return check


def _day_bounds(ctx, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = ctx.settings.tz
    start = dt.datetime.combine(day, dt.time(0), tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def draw_spot_checks(ctx, day=None, branch=None, rng=None) -> list[QualityCheck]:
    """Draw the day's spot checks (R17) for ``branch`` (object or code; default every
    branch the user sees): ``repair.spot_check_percent`` of the jobs completed on ``day``
    (site date; default yesterday) that are repaired, not internal and not checked yet,
    rounded up, at random (``rng``: a seeded :class:`random.Random` for the demo).
    Drawing a day again adds nothing once its share is drawn."""
    ctx.require("repair_quality_check.draw")
    day = local_date(ctx, now_utc(ctx)) - dt.timedelta(days=1) if day in (None, "") \
        else parse_date(day, "day")
    if branch not in (None, ""):
        branches = [lookup(ctx, Branch, branch, "branch", "code")]
        ctx.require("repair_quality_check.draw", branches[0])
    else:
        branches = [b for b in ctx.session.scalars(select(Branch).order_by(Branch.code))
                    if ctx.can_see(b)]
    low, high = _day_bounds(ctx, day)
    drawn: list[QualityCheck] = []
    for place in branches:
        completed = ctx.session.scalars(select(WorkOrder).where(
            WorkOrder.branch_id == place.id, WorkOrder.completed_at >= low,
            WorkOrder.completed_at < high, WorkOrder.status.in_(rules.DONE),
            WorkOrder.category != Category.INTERNAL).order_by(WorkOrder.id)
            .with_for_update()).all()
        checked = set(ctx.session.scalars(select(QualityCheck.order_id).where(
            QualityCheck.order_id.in_([o.id for o in completed]),
            QualityCheck.reason == DrawReason.RANDOM)))
        wanted = share_of(len(completed), get_setting(ctx, "repair.spot_check_percent", place))
        missing = wanted - len(checked)
        candidates = [o for o in completed if o.id not in checked]
        chosen = (rng or _RANDOM).sample(candidates, min(max(missing, 0), len(candidates)))
        drawn += [_new_check(ctx, order, DrawReason.RANDOM)
                  for order in sorted(chosen, key=lambda o: o.id)]
    ctx.session.flush()
    return drawn


def draw_yesterday(ctx) -> dict:
    """Scheduled daily (``repair.draw_spot_checks``): yesterday's draw in every branch.
    Returns the drawn order numbers."""
    return {"drawn": [check.order.number for check in draw_spot_checks(ctx)]}


def choose_for_check(ctx, order, note: str | None = None) -> WorkOrder:
    """A supervisor picks a repaired job for a spot check (besides the daily draw)."""
    order = load_order(ctx, order, "audit")
    ctx.require("repair_quality_check.draw", order)
    note = text(note, "note", required=False, max_length=500)
    if rules.Status(order.status) not in rules.DONE:
        raise Conflict(_("only repaired jobs are spot-checked; order {number} is {status}")
                       .format(number=order.number, status=_(rules.Status(order.status).value)),
                       field="status")
    if ctx.session.scalar(select(QualityCheck.id).where(
            QualityCheck.order_id == order.id, QualityCheck.status == CheckStatus.PENDING)):
        raise Conflict(_("order {number} already has a spot check waiting").format(
            number=order.number), field="order")
    check = _new_check(ctx, order, DrawReason.MANUAL)
    check.findings = note
    ctx.session.flush()
    return order


def record_check(ctx, check, passed=None, findings: str | None = None) -> QualityCheck:
    """Record the spot check's result. Failed (findings required) sends the job back for
    rework (R17): status ``in_repair`` and a history entry naming this check."""
    check = lookup(ctx, QualityCheck, check, "check", "id")
    ctx.require("repair_quality_check.check", check)
    ctx.session.refresh(check, with_for_update=True)
    passed = flag(passed, "passed")
    findings = text(findings, "findings", required=not passed, max_length=4000)
    if check.status != CheckStatus.PENDING:
        raise Conflict(_("this spot check is recorded already ({status})").format(
            status=_(CheckStatus(check.status).value)), field="status")
    order = check.order
    ctx.session.refresh(order, with_for_update=True)
    if not passed and rules.Status(order.status) not in rules.DONE:
        raise ValidationError(_("order {number} is {status}: it is not repaired, so it cannot "
                                "go back for rework").format(
                                    number=order.number,
                                    status=_(rules.Status(order.status).value)),
                              field="passed")
    check.status = CheckStatus.PASSED if passed else CheckStatus.FAILED
    check.checked_at = now_utc(ctx)
    check.checked_by = ctx.user.username if ctx.user else "system"
    check.findings = findings or check.findings
    ctx.session.flush()
    if not passed:
        send_back_for_rework(ctx, order, findings, {"quality_check_id": check.id})
    ctx.hook.repair_quality_checked(ctx=ctx, order=order, check=check, passed=passed)
    return check
