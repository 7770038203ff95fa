"""Glue for repair (the part ``billing.invoicing``, registered only where repair runs):
an invoice for each paid job as soon as it is completed (R27: "otherwise an invoice is
issued the same day").

A branch that bills its customers by monthly statement instead switches this part's
implementation off for itself (SCENARIOS.md 8, JD)::

    fixdesk hooks disable billing.invoicing repair_order_completed --branch JD

Its completed jobs then only get their job charge (part ``billing.repair``), which the
month's statement bills.
"""

from __future__ import annotations

from kernel import hookimpl
from kernel.contributions import titled
from kernel.i18n import N_


@hookimpl
@titled(N_("Invoice each job on completion"))
def repair_order_completed(ctx, order, completion):
    """Record the job charge (:func:`plugins.billing.charges.record_charge`, idempotent)
    and, when the customer pays for the job and no invoice billed it yet, invoice it —
    labour, each part at the customer's price, travel — and issue the invoice at once.
    A rework completed again (``completion`` 2, ...) bills nothing twice: the charge
    already names its invoice."""
    from .charges import invoice_job, record_charge

    charge = record_charge(ctx, order)
    invoice_job(ctx, order, charge)
