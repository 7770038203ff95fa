"""What the complaints plugin asks and tells other plugins (added by ``fixdesk_addhooks``).

Implement one in another plugin without importing this one: a function of the same name
marked ``@hookimpl``, in a part that ``needs=("complaints",)`` (repair's
``repair.complaints`` answers the questions about work orders). Each is called through
the branch's hook relay (``ctx.hook``) with keyword arguments.
"""

from __future__ import annotations

from kernel import hookspec


@hookspec(firstresult=True)
def complaints_job_counts(ctx, branch_ids: list[int] | None, start, end) -> dict | None:
    """How many jobs each branch did in a period: the denominator of the complaint rate
    (R26). Repair counts its work orders registered in the period, not cancelled. Stops at
    the first answer.

    :param ctx: the :class:`kernel.Context` of the request (branch scope applies).
    :param branch_ids: the branches asked about (None: every branch).
    :param start: the first instant of the period (aware, UTC), included.
    :param end: the instant after the period, excluded.
    :return: ``{branch_id: jobs}`` (branches without jobs may be left out), or None when
        no plugin counts jobs (the rate is then not shown).
    """


@hookspec(firstresult=True)
def complaints_describe_subject(ctx, entity: str, record_id: int) -> dict | None:
    """Who a complaint about a record concerns: repair knows a work order's customer and
    engineer. Asked when a complaint is registered about ``entity:record_id``. Stops at
    the first answer.

    :param ctx: the :class:`kernel.Context` of the registration.
    :param entity: the table of the record the complaint is about.
    :param record_id: the record's id.
    :return: ``{"customer_id": ..., "engineer_id": ...}`` (either may be missing), or
        None when the record is not yours.
    """


@hookspec
def complaints_registered(ctx, complaint) -> None:
    """Called when a complaint (or praise, inquiry, suggestion) was registered, from any
    channel, in its transaction.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param complaint: the :class:`plugins.complaints.models.Complaint` (``number``,
        ``topic``, ``severity``, ``about``, ``engineer_id``).
    """


@hookspec
def complaints_attributed(ctx, complaint) -> None:
    """Called when a complaint's cause and responsibility were determined (again after a
    reopening): ``our_fault``, ``responsible_department_id``,
    ``responsible_employee_id``. Billing's commission and performance reviews take the
    responsibility figures from here. Like every event it may arrive twice for the same
    complaint: key what you record by the complaint.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param complaint: the :class:`plugins.complaints.models.Complaint`.
    """


@hookspec
def complaints_closed(ctx, complaint) -> None:
    """Called when a complaint was closed or passed on (``status`` says which).

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param complaint: the :class:`plugins.complaints.models.Complaint`.
    """
