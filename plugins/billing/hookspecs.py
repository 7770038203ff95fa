"""What the billing plugin asks other plugins (added by ``fixdesk_addhooks``).

Implement a question in another plugin without importing this one: a function of the same
name marked ``@hookimpl``, in a part that ``needs=("billing",)``. It is called through the
branch's hook relay (``ctx.hook``) with keyword arguments.
"""

from __future__ import annotations

from kernel import hookspec


@hookspec(firstresult=True)
def billing_part_category(ctx, code: str) -> str | None:
    """The category code of the part with this code, for its management markup (R27):
    inventory knows its parts. Stops at the first answer.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param code: the part code as on the work order's line (trimmed).
    :return: the category's code (``"DRUM"``), or None when the part is unknown or has
        no category (the markup for every part applies).
    """


@hookspec
def billing_invoice_submitted(ctx, invoice) -> None:
    """Called when an invoice or credit note is submitted (by staff or by the system for a
    job, a statement or a contract period). Training, for one, marks its fee invoiced.

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param invoice: the :class:`plugins.billing.models.Invoice` (``kind``, ``source``,
        ``grand_total``, its ``lines``).
    """
