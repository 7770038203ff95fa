"""Test plugin: a submittable stock entry (kernel.lifecycle) whose submit posts ledger
moves and whose cancel posts the reversing ones."""

from sqlalchemy import select

from kernel import Permission, hookimpl
from kernel.numbering import series_setting

from .models import EntryLine, LedgerMove, StockEntry

ENTRY = "fdt_ledger_entry"


@hookimpl
def fixdesk_entities():
    return [StockEntry, EntryLine, LedgerMove]


@hookimpl
def fixdesk_permissions():
    keepers = ("front_desk", "warehouse_keeper")
    return [Permission(ENTRY, "read", ("front_desk", "warehouse_keeper", "engineer")),
            Permission(ENTRY, "create", keepers),
            Permission(ENTRY, "update", keepers),
            Permission(ENTRY, "delete", keepers),
            Permission(ENTRY, "submit", ("front_desk",)),
            Permission(ENTRY, "cancel", ("front_desk",)),
            Permission(ENTRY, "amend", ("front_desk",)),
            Permission("fdt_ledger_line", "read", ("front_desk", "warehouse_keeper")),
            Permission("fdt_ledger_line", "create", keepers),
            Permission("fdt_ledger_line", "update", keepers),
            Permission("fdt_ledger_line", "delete", keepers),
            Permission("fdt_ledger_move", "read", ("front_desk", "warehouse_keeper")),
            Permission("fdt_ledger_move", "create", ("warehouse_keeper",))]


@hookimpl
def fixdesk_settings():
    return [series_setting(ENTRY, "SE-{branch}-{YYYY}-{####}", "Numbers of stock entries")]


@hookimpl
def fixdesk_document_submitted(ctx, entity, record):
    """The entry's lines go into the ledger."""
    if entity == ENTRY:
        post(ctx, record, reversal=False)


@hookimpl
def fixdesk_document_cancelled(ctx, entity, record):
    """The entry's moves are reversed."""
    if entity == ENTRY:
        post(ctx, record, reversal=True)


def post(ctx, entry, *, reversal: bool) -> None:
    """One move per line (negated for a reversal), once: events may arrive twice."""
    done = ctx.session.scalar(select(LedgerMove.id).where(
        LedgerMove.entry_id == entry.id, LedgerMove.reversal == reversal).limit(1))
    if done is not None:
        return
    sign = -1 if reversal else 1
    for line in entry.lines:
        ctx.session.add(LedgerMove(branch_id=entry.branch_id, entry_id=entry.id,
                                   item=line.item, qty=sign * line.qty, reversal=reversal))


def make_entry(ctx, purpose, lines, branch=None):
    """A draft stock entry with ``lines`` (``[(item, qty)]``), numbered from the series."""
    from kernel.lifecycle import number_new_draft

    ctx.require("fdt_ledger_entry.create")
    entry = StockEntry(branch_id=(branch or ctx.branch).id, purpose=purpose,
                       lines=[EntryLine(item=item, qty=qty) for item, qty in lines])
    number_new_draft(ctx, entry)
    ctx.session.add(entry)
    ctx.session.flush()
    return entry
