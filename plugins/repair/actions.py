"""The work order's business operations as kernel Actions.

Each becomes ``POST /api/v1/repair_work_order/{id}/<name>`` (JSON body: the
params) and a button on the order's desk form while ``available(order)`` is
true. The functions are the services; the few services that return a part
line or a labour entry are wrapped to answer the order. Params are typed
(:class:`kernel.Param`) so that the desk offers pickers and the API documents
them; a plain name takes its kind from the work order's column of that name.
"""

from __future__ import annotations

from kernel import Action, Param
from kernel.i18n import N_

from . import dispatching, next_step, rules, services
from .rules import Category, Status


def _can(action: str):
    def available(order) -> bool:
        return rules.can(action, rules.OrderState.of(order))

    return available


def _can_pause(order) -> bool:
    return (_can("pause")(order) and order.deadline_at is not None
            and order.arrived_at is None and order.paused_at is None)


def _can_resume(order) -> bool:
    return _can("resume")(order) and order.paused_at is not None


def _can_arrive(order) -> bool:
    return _can("arrive")(order) and order.arrived_at is None


def _can_receive_unit(order) -> bool:
    return Status(order.status) in services.NOT_REPAIRED and \
        not services.unit_in_workshop(order)


def _can_return_unit(order) -> bool:
    return services.unit_in_workshop(order) and (
        Status(order.status) == Status.CANCELLED or _can("close")(order))


def _add_part(ctx, order, **params):
    services.add_part(ctx, order, **params)
    return order


def _return_part(ctx, order, **params):
    services.return_part(ctx, order, **params)
    return order


def _add_labour(ctx, order, **params):
    services.add_labour(ctx, order, **params)
    return order


def _when(name: str, label: str | None = None) -> Param:
    """A date and time (the desk sends it with the site's time zone)."""
    return Param(name, "datetime", label=label)


def _required(name: str, kind: str = "string", label: str | None = None) -> Param:
    """A param the service insists on (the desk marks it, the API schema requires it)."""
    return Param(name, kind, label=label, required=True)


def _employee(name: str = "engineer", suggest=None) -> Param:
    """An employee by id or code (the desk offers the lookup of employees)."""
    return Param(name, "reference", reference="employee", suggest=suggest)


def _engineers_to_dispatch(ctx, order) -> list[tuple[str, str]]:
    """The best engineers for ``order`` with the reasons (R7), for the dispatch box."""
    return [(f"{row['code']} {row['name']}",
             " · ".join([f"{row['code']} {row['name']}", *row["reasons"]]))
            for row in dispatching.suggest_engineers(ctx, order, limit=5)]


def _part_lines(ctx, order) -> list[tuple[str, str]]:
    """The order's part lines not given back, as ``description × quantity`` (the return
    box's list: the clerk picks the line, never types its id)."""
    return [(str(line.id), f"{line.description} × {line.quantity}"
             + (f" ({line.part_code})" if line.part_code else ""))
            for line in order.active_lines]


def _money(name: str, label: str) -> Param:
    """An amount (number or string with at most two decimals)."""
    return Param(name, "money", label=label)


#: the reason the service insists on (cancel, reopen, pause, ...)
REASON = _required("reason")
#: who handed the unit over or took it back (carry-in register)
COUNTERPART = Param("counterpart", label=N_("Handed over by/to"))


def _action(name: str, title: str, func, permission: str,
            params: tuple[str | Param, ...] = (), available=None) -> Action:
    return Action(entity="repair_work_order", name=name, title=title, func=func,
                  permission=f"repair_work_order.{permission}",
                  available=available or _can(name), params=params,
                  next_for=next_step.next_for(name), order=next_step.ORDER.get(name, 100))


ACTIONS = [
    _action("edit", N_("Change details"), services.edit, "edit",
            ("contact_name", "phone", "address", "fault_description", "fault_code", "urgent",
             "promised_at")),
    _action("recategorize", N_("Change category"), services.recategorize, "categorize",
            (Param("category", "choice", choices=tuple(c.value for c in Category),
                   required=True), REASON)),
    _action("dispatch", N_("Dispatch"), services.dispatch, "dispatch",
            (_employee(suggest=_engineers_to_dispatch), "partner_outlet",
             _when("appointment_at"), "reason")),
    _action("arrive", N_("Record arrival"), services.record_arrival, "arrive",
            (_when("at", N_("Arrived at")),),
            available=_can_arrive),
    _action("pause", N_("Pause deadline clock"), services.pause, "pause", (REASON,),
            available=_can_pause),
    _action("resume", N_("Resume deadline clock"), services.resume, "pause",
            available=_can_resume),
    _action("diagnose", N_("Diagnose"), services.diagnose, "diagnose",
            (_required("diagnosis", "text"), "fault_code")),
    _action("quote", N_("Quote"), services.quote, "quote",
            (_money("labour", N_("Quote: labour")), _money("parts", N_("Quote: parts")),
             _money("travel", N_("Quote: travel")), "note")),
    _action("accept_quote", N_("Quote accepted"), services.accept_quote, "decide_quote",
            ("note",)),
    _action("reject_quote", N_("Quote rejected"), services.reject_quote, "decide_quote",
            ("reason",)),
    _action("start", N_("Start repair"), services.start, "repair", ("note",)),
    _action("wait_for_parts", N_("Wait for parts"), services.wait_for_parts, "repair",
            ("reason",)),
    _action("hard_to_repair", N_("Hard to repair"), services.hard_to_repair, "repair",
            (REASON,)),
    _action("add_part", N_("Add part"), _add_part, "repair",
            (Param("part_code", label=N_("Part code"),
                   help=N_("Known codes fill in the part and its cost (inventory).")),
             Param("description", label=N_("Part")), _required("quantity", "integer"),
             Param("unit_cost", "money"))),
    _action("return_part", N_("Return part"), _return_part, "repair",
            (Param("line_id", "integer", label=N_("Part line"), required=True,
                   choices_for=_part_lines), "reason")),
    _action("add_labour", N_("Add labour"), _add_labour, "repair",
            (_required("hours", "number"), _employee(),
             Param("work_date", "date", label=N_("Date")), "note")),
    _action("complete", N_("Complete"), services.complete, "complete",
            (_required("method", "text", N_("Report: method")),
             _required("cause", "text", N_("Report: cause")),
             Param("fault", "text", label=N_("Report: fault")), Param("hours", "number"))),
    _action("audit", N_("Review repair"), services.audit, "audit",
            (_required("passed", "boolean", N_("Review passed")), "note")),
    _action("close", N_("Close"), services.close, "close", ("note",)),
    _action("cancel", N_("Cancel"), services.cancel, "cancel", (REASON,)),
    _action("reopen", N_("Reopen"), services.reopen, "reopen", (REASON,)),
    _action("receive_unit", N_("Take unit in"), services.receive_unit, "carry_in",
            ("condition", COUNTERPART, _when("promised_at"), _when("at", N_("When"))),
            available=_can_receive_unit),
    _action("return_unit", N_("Hand unit back"), services.return_unit, "carry_in",
            ("condition", COUNTERPART, "note", _when("at", N_("When"))),
            available=_can_return_unit),
]
