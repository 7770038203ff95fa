"""What the repair plugin offers other plugins: its hooks (added by ``fixdesk_addhooks``)
and, below, the names to extend it by.

Implement the hooks in another plugin without importing this one: define a function
of the same name marked ``@hookimpl`` (in a part that ``needs=("repair",)``, so it is
registered only where repair is enabled). They are called through the branch's
hook relay (``ctx.hook``), with keyword arguments, inside the transaction of the
service that calls them: an exception in an implementation rolls the whole
operation back. ``order`` is always a flushed
:class:`plugins.repair.models.WorkOrder` (it has its id and number) whose
status is already the new one; read it, do not change it (run repair's actions
instead, below). Unless said otherwise a hook returns nothing.

Three kinds of hooks:

- **events** (``repair_order_*``, ``repair_parts_*``, ``repair_survey_answered``,
  ``repair_quality_checked``, ``repair_contract_signed``) tell what happened. An event may reach an
  implementation more than once for the same order: a job sent back for rework is
  completed again (``repair_order_completed`` then says ``completion=2``), a cancelled
  order reopened is cancelled again, a job is re-dispatched. Implementations must be
  idempotent: key what they do on the order (one invoice per order, one commission
  line per order and completion), never on the call.
- **questions** (``firstresult``: ``repair_quote_requested``, ``repair_resolve_part``,
  ``repair_override_deadline``, ``repair_rank_engineers``) ask other modules for an
  answer; the first implementation that answers (not None) wins, in plugin order.
  Without an answer repair does what it does alone.
- **contributions**: ``repair_history_extra`` adds to the customer's history page.

Names to extend repair by (never its classes):

- entities: ``repair_work_order`` (with the ``number``, ``status``, ``category``,
  ``branch_id``, ``customer_id``, ``equipment_id``, ``engineer_id`` fields),
  ``repair_work_order_line`` (parts), ``repair_labour_entry``, ``repair_status_change``,
  ``repair_contract``,
  ``repair_appointment``, ``repair_callback``, ``repair_quality_check``. Extend them with
  fields (``fixdesk_extensions``), form sections, list columns, actions and documents
  named by these tables;
- actions to run with ``ctx.run_action("repair_work_order", order_id, <name>, ...)``:
  ``dispatch`` (engineer, appointment_at), ``pause`` (reason) and ``resume`` (inventory
  resumes a job when its parts arrive), ``edit`` (urgent: emergency raises a job's
  priority), ``wait_for_parts`` (reason), ``add_part`` (part_code, quantity, and
  description/unit_cost unless ``repair_resolve_part`` answers), ``cancel`` (reason),
  and the others listed by ``GET /api/v1/repair_work_order/{id}/<action>`` in the
  API's documentation;
- settings: ``repair.urban_deadline_hours``, ``repair.suburban_deadline_hours`` (per
  branch), ``repair.repair_warranty_days``, …, ``fixdesk settings list``.

Who is expected to implement what: inventory reserves, issues and takes back
parts (``repair_parts_needed``, ``repair_parts_returned``); billing prices
quotes (``repair_quote_requested``), invoices on completion
(``repair_order_completed``) and plans contract fees (``repair_contract_signed``);
commission is computed from ``repair_order_audited``, ``repair_survey_answered`` and
``repair_quality_checked``; notifications are queued from
``repair_order_status_changed``. The repair plugin itself implements
``repair_order_closed`` to send the customer the survey link (switch it off for a
branch whose front desk phones customers instead).
"""

from __future__ import annotations

from kernel import hookspec


@hookspec
def repair_order_registered(ctx, order) -> None:
    """Called when a repair request was registered (R1), after its number, category and
    deadline are set and its first history entry is written.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the new work order (status ``pending``).
    """


@hookspec
def repair_order_dispatched(ctx, order, previous: dict | None) -> None:
    """Called when a work order was dispatched or re-dispatched (R7).

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order with its new ``engineer_id`` or ``partner_outlet`` and
        ``appointment_at``.
    :param previous: ``None`` for the first dispatch; for a re-dispatch the former
        assignment, ``{"engineer_id": int | None, "partner_outlet": str | None,
        "appointment_at": datetime | None}``.
    """


@hookspec
def repair_order_status_changed(ctx, order, from_status: str | None, to_status: str,
                                event: str, reason: str | None) -> None:
    """Called after every entry in a work order's history: each status change, and the
    events that keep the status (re-dispatch, arrival, pausing the deadline clock, ...).
    Use it to tell the customer (R14: repaired, parts arrived, takes longer).

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order, already in ``to_status``.
    :param from_status: the status before (``None`` on registration).
    :param to_status: the status now (equal to ``from_status`` for events that keep it).
    :param event: what happened: ``register``, ``dispatch``, ``arrive``, ``pause``,
        ``resume``, ``diagnose``, ``quote``, ``accept_quote``, ``reject_quote``,
        ``start``, ``wait_for_parts``, ``hard_to_repair``, ``complete``, ``audit``,
        ``rework``, ``close``, ``cancel``, ``reopen``, ``recategorize``, ``edit``,
        ``receive_unit``, ``return_unit`` (carry-in register), and from the scheduled job
        ``overdue`` (arrival deadline missed, R8) and ``late_repair`` (carry-in promised
        date missed, R15).
    :param reason: the reason or note staff gave, if any.
    """


@hookspec
def repair_parts_needed(ctx, order, line) -> None:
    """Called when a part line is added to a work order (R24): reserve or issue the stock.

    Without an implementation the line is just free text with a quantity and a unit
    cost. Raise :class:`kernel.ValidationError` or :class:`kernel.Conflict` (for example
    not enough stock) to refuse the line; the whole addition is rolled back.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order.
    :param line: the new :class:`plugins.repair.models.WorkOrderLine` (flushed:
        ``description``, ``part_code`` (may be None), ``quantity`` > 0, ``unit_cost``).
    """


@hookspec
def repair_parts_returned(ctx, order, line) -> None:
    """Called when a part line is given back (R24): a line taken off the order, or every
    remaining line when the order is cancelled. Put the stock back.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order.
    :param line: the :class:`plugins.repair.models.WorkOrderLine`, with ``returned_at``
        and ``return_reason`` set.
    """


@hookspec(firstresult=True)
def repair_quote_requested(ctx, order, lines: list, proposed: dict | None) -> dict | None:
    """Price the quote of a paid job (R11, R27). Stops at the first non-None answer.

    Called by the ``quote`` service. Without an answer the amounts staff entered
    (``proposed``) are used.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order (category ``A``, diagnosed; ``engineer_id`` says the
        grade for the labour rate).
    :param lines: the order's part lines not given back
        (:class:`plugins.repair.models.WorkOrderLine`, at cost).
    :param proposed: what staff entered, ``{"labour": Decimal | None, "parts": Decimal |
        None, "travel": Decimal | None}``, or None when they entered nothing.
    :return: ``{"labour": amount, "parts": amount, "travel": amount}`` (Decimal, int or
        str with at most two decimals; a missing key counts as staff's amount, else 0),
        or None to leave the pricing to staff. With ``"parts"`` the answer may add
        ``"lines": {line id: unit price}``, each part line's price to the customer: repair
        keeps it on the line (``unit_price``) and the voucher prints the lines at those
        prices instead of one *Parts* line (they should add up to ``"parts"``).
    """


@hookspec
def repair_order_completed(ctx, order, completion: int) -> None:
    """Called when the repair is done and the report is written (R16): status
    ``completed`` (on site) or ``ready_for_pickup`` (carry-in). Billing invoices here.

    Fires again when a job sent back for rework (a failed review or spot check, R17) is
    completed again: invoice once per order, not once per call.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order, with ``report_fault``, ``report_cause``,
        ``report_method``, its part lines and labour entries.
    :param completion: 1 the first time the order is completed, 2 after one rework, ...
    """


@hookspec
def repair_order_audited(ctx, order, passed: bool) -> None:
    """Called when a supervisor reviewed the repair (R16, R17). A passed review is what
    commission is computed from (R28); a failed one sends the order back for rework.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order (``audit_result``, ``audited_at``, ``audit_note``).
    :param passed: whether the review passed.
    """


@hookspec
def repair_order_closed(ctx, order) -> None:
    """Called when a work order is closed: the voucher is signed on site or the customer
    picked the unit up (R12, R13). The callback and survey (R19) start here.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the closed work order.
    """


@hookspec
def repair_order_cancelled(ctx, order, reason: str) -> None:
    """Called when a work order is cancelled, after its parts were given back.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the cancelled work order.
    :param reason: why it was cancelled.
    """


@hookspec
def repair_survey_answered(ctx, order, callback) -> None:
    """Called when the customer's survey (R19) is answered: typed by staff from the
    callback call or a returned card, or given through the signed link. Complaints
    registers a complaint from poor ratings or comments here (R26); commission reads the
    ratings (R28).

    :param ctx: the :class:`kernel.Context` of the transaction (no user for answers given
        through the link).
    :param order: the rated work order.
    :param callback: the :class:`plugins.repair.models.Callback` with ``rating_attitude``,
        ``rating_skill``, ``rating_arrival``, ``rating_promise`` (1–4), ``comments`` and
        ``channel`` (``phone``, ``card`` or ``link``).
    """


@hookspec
def repair_quality_checked(ctx, order, check, passed: bool) -> None:
    """Called when a quality spot check (R17) is recorded. A failed check has already sent
    the order back for rework (status ``in_repair``); performance figures count it against
    the engineer.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the checked work order.
    :param check: the :class:`plugins.repair.models.QualityCheck` (``findings``).
    :param passed: whether the check passed.
    """


@hookspec
def repair_contract_signed(ctx, contract, renewal_of) -> None:
    """Called when a maintenance contract (R20) was recorded: signed anew
    (``create_contract``) or as the renewal of one that ends (``renew_contract``). Billing
    plans the contract's fee here (R27: contract fees are billed per contract).

    Key what you do on the contract (one plan per contract), never on the call.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param contract: the new :class:`plugins.repair.models.MaintenanceContract` (flushed:
        ``id``, ``number``, ``branch_id``, ``customer_id``, ``start_date``, ``end_date``
        (both included), ``fee``, ``visits_included``, its ``items``).
    :param renewal_of: the contract it renews (the one ending the day before it starts,
        by default), or None for a new contract.
    """


@hookspec(firstresult=True)
def repair_resolve_part(ctx, order, code: str) -> dict | None:
    """What a part code stands for (inventory knows its parts): asked when a part line is
    added with a code but without a description or a unit cost. Stops at the first answer.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the work order the part is for (its branch says which warehouse).
    :param code: the part code as typed (trimmed).
    :return: ``{"description": str, "unit_cost": amount}`` (either may be missing:
        then staff must give it), or None when the code is unknown to the plugin.
    """


@hookspec(firstresult=True)
def repair_override_deadline(ctx, order, deadline) -> object | None:
    """A different arrival deadline for a newly registered order (R6): emergency response
    promises 2 working hours, a contract may promise less than the zone's. Asked once per
    registration, after the order is numbered. Stops at the first answer.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param order: the new work order (``deadline_at`` is the zone's deadline, or None for
        carry-in and internal jobs).
    :param deadline: the zone's deadline (aware ``datetime``) or None.
    :return: an aware ``datetime`` not before the order's ``reported_at``, or None to keep
        the zone's deadline.
    """


@hookspec(firstresult=True)
def repair_rank_engineers(ctx, order, candidates: list[dict]) -> list[int] | None:
    """Rank the engineers to dispatch an order to (R7) another way: by commission earned,
    a training plan, a customer's wish. Asked when the dispatch suggestions are made;
    stops at the first answer.

    :param ctx: the :class:`kernel.Context` of the request.
    :param order: the work order to dispatch.
    :param candidates: repair's own ranking, best first: dicts with ``employee_id``,
        ``code``, ``name``, ``branch``, ``grade``, ``open_orders``, ``same_branch``,
        ``skill_match``, ``region_match`` and ``reasons``.
    :return: employee ids, best first (those left out follow in repair's order), or None
        to keep repair's ranking.
    """


@hookspec
def repair_history_extra(ctx, customer) -> list[dict] | dict | None:
    """Add sections to a returning customer's history (R2), shown at registration beside
    their equipment and past orders; complaints adds the open complaints here.

    Called by :func:`plugins.repair.customer_history.customer_history` (``GET
    /api/repair/history``), read-only: do not write.

    :param ctx: the :class:`kernel.Context` of the request (the user's branch scope).
    :param customer: the :class:`kernel.models.Customer`.
    :return: a section or a list of sections, each ``{"name": str, "title": str, "rows":
        list[dict]}`` (``name`` unique, like ``"complaints"``; ``title`` translated; rows
        JSON-serialisable), or None for nothing.
    """
