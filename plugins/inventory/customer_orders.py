"""Customers' pre-orders of parts (R25).

The front desk takes a pre-order through the generic API or desk
(``inventory_customer_order``: customer, part, quantity, the warehouse to collect at, a
contact with a phone or e-mail); it waits (``waiting``). Nothing is reserved when it is
taken: a pre-order is for a part that is not in stock. When units of the part come into
that warehouse (a purchase receipt, an incoming stock entry, parts returned or let go,
:func:`plugins.inventory.arrivals.stock_arrived`), the reservations that were short are
served first, then the waiting pre-orders, oldest first: each gets a reservation of its
quantity (all of it, or what there is and the rest short, filled by the next arrival).
Once all of it is held the pre-order has **arrived** (``arrived_at``) and a job tells the
customer in the site's language — by SMS to the phone when a plugin delivers SMS, else by
e-mail — and sets ``notified_at``; with neither, the front desk phones (``notified_at``
stays empty).

Actions: **collect** (the customer takes the part: it is issued on a stock entry the system
writes, status ``collected``) and **cancel** (the reservation is let go and offered to
whoever waits).
"""

from __future__ import annotations

from sqlalchemy import select

from kernel import Action, Conflict, JobHandler, RecordLink
from kernel.i18n import N_, _
from kernel.links import link_columns
from kernel.models import Branch
from kernel.notifications import notify

from . import arrivals, ledger
from .models import CustomerOrder, CustomerOrderStatus, Reservation, ReservationStatus

ENTITY = "inventory_customer_order"
TELL_JOB = "inventory.tell_customer"
#: the message a customer gets (``templates/notifications/``)
TEMPLATE = "inventory_preorder_arrived"


def _link(order: CustomerOrder) -> RecordLink:
    return RecordLink(ENTITY, order.id)


def reservation_of(ctx, order: CustomerOrder) -> Reservation | None:
    """The reservation holding a pre-order's units (None before it is served or after it
    was let go)."""
    return ctx.session.scalars(select(Reservation).where(
        Reservation.source == _link(order),
        Reservation.status != ReservationStatus.RELEASED).order_by(Reservation.id)).first()


def reserve_waiting(ctx, part_id: int, warehouse_id: int) -> list[Reservation]:
    """Reserve free units of a part in a warehouse for the pre-orders waiting there without
    a reservation yet, oldest first, while units are free; returns the reservations that
    hold all their units."""
    entity, source_id = link_columns(Reservation.source)
    served = select(source_id).where(entity == ENTITY,
                                     Reservation.status != ReservationStatus.RELEASED)
    waiting = list(ctx.session.scalars(select(CustomerOrder).where(
        CustomerOrder.part_id == part_id, CustomerOrder.warehouse_id == warehouse_id,
        CustomerOrder.status == CustomerOrderStatus.WAITING, CustomerOrder.qty > 0,
        CustomerOrder.id.not_in(served)).order_by(CustomerOrder.id)))
    complete = []
    for order in waiting:
        stock = ledger.locked_stock(ctx, part_id, warehouse_id)
        if stock.qty - stock.reserved <= 0:
            break
        held = ledger.reserve(ctx, part_id, warehouse_id, order.qty, job=_link(order),
                              source=_link(order))
        if held.short == 0:
            complete.append(held)
    return complete


def arrived(ctx, order_id: int) -> None:
    """All of a waiting pre-order is held: mark it arrived and queue the job that tells the
    customer (once: an order that arrived already is left alone)."""
    order = ctx.session.get(CustomerOrder, order_id)
    if order is None or order.status != CustomerOrderStatus.WAITING:
        return
    order.status, order.arrived_at = CustomerOrderStatus.ARRIVED, ctx.now()
    ctx.session.flush()
    ctx.enqueue(TELL_JOB, {"order_id": order.id})


def _sms_available(ctx) -> bool:
    return bool(ctx.app.pm.hook.fixdesk_send_notification.get_hookimpls())


def _email_of(order: CustomerOrder) -> str | None:
    if order.email:
        return order.email
    customer = order.customer
    contacts = sorted(customer.contacts, key=lambda c: not c.is_primary)
    return next((c.email for c in contacts if c.email), None) or customer.email


def tell_customer(ctx, order_id: int) -> str | None:
    """Job ``inventory.tell_customer``: tell the customer the pre-ordered part is there, by
    SMS to the pre-order's phone when a plugin delivers SMS, else by e-mail (the
    pre-order's, else the customer's), else by SMS to the customer's phone; sets
    ``notified_at``. Runs once per pre-order (a second run finds it told). Returns where
    the message went, or None."""
    order = ctx.session.get(CustomerOrder, order_id)
    if order is None or order.notified_at is not None or \
            order.status != CustomerOrderStatus.ARRIVED:
        return None
    sms = _sms_available(ctx)
    if order.phone and sms:
        channel, to = "sms", order.phone
    elif _email_of(order):
        channel, to = "email", _email_of(order)
    elif order.customer.phone and sms:
        channel, to = "sms", order.customer.phone
    else:
        return None  # no way to write: the front desk phones
    warehouse = order.warehouse
    notify(ctx, channel=channel, to=to, template=TEMPLATE, context={
        "number": order.number, "customer": order.contact_name or order.customer.name,
        "part": order.part.label, "qty": order.qty, "unit": order.part.unit,
        "warehouse": warehouse.name, "address": warehouse.address or "",
        "company": ctx.session.get(Branch, order.branch_id).name})
    order.notified_at = ctx.now()
    ctx.session.flush()
    return f"{channel}:{to}"


def collect(ctx, order: CustomerOrder) -> CustomerOrder:
    """The customer takes the part: the held units are issued on a stock entry the system
    writes (linked to the pre-order), and the pre-order is ``collected``.

    :raise Conflict: the pre-order has not arrived (or is collected or cancelled).
    """
    if order.status != CustomerOrderStatus.ARRIVED:
        raise Conflict(_("pre-order {number} is {status}: only an arrived pre-order can be "
                         "collected").format(number=order.number, status=_(order.status.value)))
    held = reservation_of(ctx, order)
    warehouse = order.warehouse
    arrivals.issue_reservations(
        ctx, warehouse, _link(order),
        _("Pre-order {number} collected by {customer}").format(
            number=order.number, customer=order.customer.name),
        [(held, held.qty - held.issued)] if held is not None else [])
    order.status, order.collected_at = CustomerOrderStatus.COLLECTED, ctx.now()
    ctx.session.flush()
    return order


def cancel(ctx, order: CustomerOrder) -> CustomerOrder:
    """Cancel a waiting or arrived pre-order: what it holds is let go and offered to whoever
    waits for the part.

    :raise Conflict: the pre-order is collected or cancelled already.
    """
    if order.status not in (CustomerOrderStatus.WAITING, CustomerOrderStatus.ARRIVED):
        raise Conflict(_("pre-order {number} is {status} and cannot be cancelled").format(
            number=order.number, status=_(order.status.value)))
    held = reservation_of(ctx, order)
    order.status = CustomerOrderStatus.CANCELLED
    if held is not None:
        ledger.release(ctx, held)
        arrivals.stock_arrived(ctx, held.part_id, held.warehouse_id)
    ctx.session.flush()
    return order


def _open(*states):
    return lambda order: order.status in states


ACTIONS = [
    Action(ENTITY, "collect", N_("Customer collects"), collect,
           f"{ENTITY}.collect", available=_open(CustomerOrderStatus.ARRIVED),
           next_for=("arrived",)),
    Action(ENTITY, "cancel", N_("Cancel pre-order"), cancel, f"{ENTITY}.cancel",
           available=_open(CustomerOrderStatus.WAITING, CustomerOrderStatus.ARRIVED),
           order=200),
]
ON_SUBMIT: dict = {}
ON_CANCEL: dict = {}
JOB_HANDLERS = [JobHandler(TELL_JOB, tell_customer)]
