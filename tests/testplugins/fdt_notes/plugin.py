"""Test plugin: one entity with money, its own hookspec, demo data."""

from decimal import Decimal

from sqlalchemy import select

from kernel import hookimpl
from kernel.models import Branch

from . import hookspecs
from .models import Note


@hookimpl
def fixdesk_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    return [Note]


@hookimpl
def fixdesk_demo_data(ctx):
    ctx.demo_calls = [*getattr(ctx, "demo_calls", []), "fdt_notes"]
    branch = ctx.session.scalars(select(Branch).order_by(Branch.id)).first()
    ctx.session.add(Note(branch_id=branch.id, title="演示便签", amount=Decimal("12.30")))


def add_note(ctx, branch_id, title, amount):
    """The plugin's service: add a note and tell the other plugins."""
    note = Note(branch_id=branch_id, title=title, amount=amount)
    ctx.session.add(note)
    ctx.session.flush()
    return note, ctx.hook.fdt_notes_added(ctx=ctx, note=note)
