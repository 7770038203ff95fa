"""Actions after the repair: the callback and survey (R19) and quality spot checks (R17);
and the follow-up of a maintenance contract, its renewal (R20).

Each becomes ``POST /api/v1/<entity>/{id}/<name>`` and a button on the record's desk
form while it applies (see :mod:`plugins.repair.actions` for the work order's own).
"""

from __future__ import annotations

from kernel import Action, Param
from kernel.i18n import N_

from . import callbacks, quality, rules, services
from .models import CallbackStatus, CheckStatus

LEVELS = ("4", "3", "2", "1")


def _callback_open(callback) -> bool:
    return callback.status == CallbackStatus.OPEN and callback.answered_at is None


def _check_pending(check) -> bool:
    return check.status == CheckStatus.PENDING


def _repaired(order) -> bool:
    return rules.Status(order.status) in rules.DONE


def _renewable(contract) -> bool:
    return contract.cancelled_at is None


def _rating(name: str, label: str) -> Param:
    return Param(name, "choice", label=label, required=True, choices=LEVELS,
                 help=N_("4 very satisfied, 3 satisfied, 2 fair, 1 dissatisfied"))


FOLLOW_UP_ACTIONS = [
    Action(entity="repair_callback", name="record_survey", title=N_("Record survey answers"),
           func=callbacks.record_survey, permission="repair_callback.record",
           available=_callback_open, params=(
               _rating("attitude", N_("Service attitude")),
               _rating("skill", N_("Technical skill")),
               _rating("arrival", N_("Arrival time")),
               _rating("promise", N_("Keeping promises")),
               Param("comments", "text", label=N_("Suggestions or complaints")),
               Param("channel", "choice", label=N_("Answered by"), choices=("phone", "card")),
               Param("respondent", label=N_("Respondent")))),
    Action(entity="repair_callback", name="no_answer", title=N_("No answer"),
           func=callbacks.no_answer, permission="repair_callback.record",
           available=_callback_open, params=(Param("note", label=N_("Note")),)),
    Action(entity="repair_callback", name="decline", title=N_("Customer declines"),
           func=callbacks.decline, permission="repair_callback.record",
           available=_callback_open, params=(Param("note", label=N_("Note")),)),
    Action(entity="repair_quality_check", name="record_check", title=N_("Record check result"),
           func=quality.record_check, permission="repair_quality_check.check",
           available=_check_pending, params=(
               Param("passed", "boolean", label=N_("Passed"), required=True),
               Param("findings", "text", label=N_("Findings")))),
    Action(entity="repair_work_order", name="spot_check", title=N_("Choose for spot check"),
           func=quality.choose_for_check, permission="repair_quality_check.draw",
           available=_repaired, params=(Param("note", label=N_("Note")),)),
    Action(entity="repair_contract", name="renew", title=N_("Renew contract"),
           func=services.renew_contract, permission="repair_contract.create",
           available=_renewable, params=(
               Param("number", label=N_("New contract number"), required=True,
                     max_length=50),
               Param("end_date", "date", label=N_("New end date"), required=True),
               Param("fee", "money", label=N_("Contract fee"), required=True),
               Param("start_date", "date", label=N_("Start"),
                     help=N_("Empty: the day after the contract ends.")),
               Param("note", "text", label=N_("Note")))),
]
