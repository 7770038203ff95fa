"""What the inventory plugin offers other plugins: its hooks (added by ``fixdesk_addhooks``)
and, below, the names to extend it by.

Implement a hook in another plugin without importing this one: define a function of the
same name marked ``@hookimpl`` (in a part that ``needs=("inventory",)``, so that it is
registered only where inventory is enabled). Hooks are called through the branch's hook
relay (``ctx.hook``), with keyword arguments, inside the transaction of the service that
calls them: an exception in an implementation rolls the whole operation back (the receipt
is not posted). Read the records you are given; change stock only through inventory's
documents and actions.

Events may reach an implementation more than once for the same stock (a receipt
cancelled and amended arrives again): key what you do on the reservations or the job,
never on the call.

Names to extend inventory by (never its classes):

- entities: ``inventory_part`` (``code``, ``name``, ``model``, ``specification``,
  ``category_id``), ``inventory_warehouse`` (``code``, ``branch_id``, ``kind``,
  ``engineer_id`` of a van), ``inventory_stock`` (``qty``, ``reserved``, ``value`` per
  part × warehouse), ``inventory_ledger_entry``, ``inventory_reservation`` (stock held for
  a ``job`` and a ``source``, both links to any record: ``qty``, ``reserved``, ``short``,
  ``issued``, ``returned``, ``status``), ``inventory_requisition``,
  ``inventory_customer_order`` and the other documents;
- actions to run with ``ctx.run_action(<table>, id, <name>, ...)``: on
  ``inventory_requisition`` ``approve``, ``reject`` (reason), ``issue`` (line_id, qty),
  ``return_parts`` (line_id, qty), ``write_off``; on ``inventory_customer_order``
  ``collect`` and ``cancel``; ``submit``, ``cancel`` (reason) and ``amend`` on every
  document;
- settings: ``inventory.job_warehouse`` (per branch: the warehouse code repair jobs take
  parts from), the documents' numbering series (``fixdesk settings list``).
"""

from __future__ import annotations

from kernel import hookspec


@hookspec
def inventory_stock_arrived(ctx, part, warehouse, reservations: list) -> None:
    """Called when units of a part came into a warehouse, or were let go there, and may
    fill what waits for them: a purchase receipt or an incoming stock entry was posted, a
    requisition or stock entry was cancelled, parts were returned, a reservation was
    released. Inventory has already given the units to the reservations that were short
    (oldest first) and to customers' waiting pre-orders; repair jobs resume here (the part
    ``inventory.repair`` queues the job that restarts each work order whose parts are all
    there).

    :param ctx: the :class:`kernel.Context` of the transaction.
    :param part: the :class:`plugins.inventory.models.Part` that arrived.
    :param warehouse: the :class:`plugins.inventory.models.Warehouse` it is in.
    :param reservations: the :class:`plugins.inventory.models.Reservation` rows this
        arrival completed (all their units are held now); may be empty. Each has a
        ``job`` and a ``source`` (:class:`kernel.RecordLink`): a work order and its part
        line, a customer pre-order, a requisition slip's line.
    """
