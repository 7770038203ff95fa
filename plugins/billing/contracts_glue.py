"""Glue for repair's maintenance contracts (the part ``billing.contracts``, registered
only where repair runs; switch it off for a branch that bills its contracts by hand).

Repair is reached only through its hook (:mod:`plugins.repair.hookspecs`): a contract
signed or renewed gets its billing plan (:func:`plugins.billing.contracts.plan_for`),
whose periods the scheduled job ``billing.contract_fees`` invoices.
"""

from __future__ import annotations

from kernel import hookimpl
from kernel.contributions import titled
from kernel.i18n import N_


@hookimpl
@titled(N_("Plan the billing of maintenance contract fees"))
def repair_contract_signed(ctx, contract, renewal_of):
    """Make the contract's billing plan (once per contract; none without a fee): billed
    at the branch's ``billing.contract_frequency``, the renewed contract noted."""
    from .contracts import plan_for

    plan_for(ctx, contract, renewal_of)
