"""Test plugin without tables: records when its hooks run."""

from kernel import hookimpl


@hookimpl
def fixdesk_demo_data(ctx):
    ctx.demo_calls = [*getattr(ctx, "demo_calls", []), "fdt_alpha"]


@hookimpl
def fdt_notes_added(ctx, note):
    return "alpha"
