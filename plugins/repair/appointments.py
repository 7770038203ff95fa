"""Appointments with the customer (R7): booked when an order is dispatched with a time,
kept when the engineer arrives, rescheduled when the order is dispatched again, cancelled
with the order. Called by :mod:`plugins.repair.services` inside its transaction; the
appointments are read through the generic API and desk (``repair_appointment``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from .inputs import now_utc
from .models import Appointment, AppointmentStatus, WorkOrder


def booked(ctx, order: WorkOrder) -> Appointment | None:
    """The order's appointment that is still booked, if any."""
    return ctx.session.scalar(select(Appointment).where(
        Appointment.order_id == order.id, Appointment.status == AppointmentStatus.BOOKED)
        .order_by(Appointment.id.desc()).limit(1))


def _close(ctx, appointment: Appointment, status: AppointmentStatus) -> None:
    appointment.status, appointment.closed_at = status, now_utc(ctx)


def book(ctx, order: WorkOrder, note: str | None = None) -> Appointment | None:
    """Record the order's new assignment and time (after a dispatch). A booking that
    differs from the current one replaces it (``rescheduled``); a dispatch without a time
    cancels the current one. Returns the booked appointment (None without a time)."""
    current = booked(ctx, order)
    if current is not None and order.appointment_at is not None and (
            current.starts_at, current.engineer_id, current.partner_outlet) == (
            order.appointment_at, order.engineer_id, order.partner_outlet):
        return current
    if current is not None:
        _close(ctx, current, AppointmentStatus.RESCHEDULED if order.appointment_at
               else AppointmentStatus.CANCELLED)
    if order.appointment_at is None:
        return None
    appointment = Appointment(
        company_id=order.company_id, branch_id=order.branch_id, order_id=order.id,
        engineer_id=order.engineer_id, partner_outlet=order.partner_outlet,
        starts_at=order.appointment_at, status=AppointmentStatus.BOOKED,
        actor=ctx.user.username if ctx.user else "system", note=note)
    ctx.session.add(appointment)
    ctx.session.flush()
    return appointment


def keep(ctx, order: WorkOrder, arrived_at: dt.datetime) -> None:
    """The engineer arrived: the booked appointment was kept (at ``arrived_at``)."""
    current = booked(ctx, order)
    if current is not None:
        current.arrived_at = arrived_at
        _close(ctx, current, AppointmentStatus.KEPT)


def cancel(ctx, order: WorkOrder) -> None:
    """The order was cancelled: so is its booked appointment."""
    current = booked(ctx, order)
    if current is not None:
        _close(ctx, current, AppointmentStatus.CANCELLED)
