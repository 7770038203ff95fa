"""``fixdesk billing``: billing from a terminal.

The group collects the subcommands of billing's modules (each module's
``SUBCOMMANDS``: click commands using ``@kernel.cli.base.pass_state``), so that each
module keeps its commands beside its services. Output is tab-separated like every
``fixdesk`` table; a bad value prints one line and exits 2.
"""

from __future__ import annotations

import click

from kernel.contributions import collect
from kernel.i18n import _

#: the modules whose ``SUBCOMMANDS`` make up ``fixdesk billing``
COMMAND_MODULES = ("statements", "contracts", "commission", "reports", "views")


@click.group(name="billing", help=_("Billing: statements, contract fees, receivables and "
                                    "commission."))
def billing_cli():
    pass


for _command in collect("plugins.billing", COMMAND_MODULES, "SUBCOMMANDS"):
    billing_cli.add_command(_command)

CLI_COMMANDS = [billing_cli]
