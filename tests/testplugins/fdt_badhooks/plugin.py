"""Test plugin whose hook implementations do not match the specs."""

from kernel import hookimpl


@hookimpl
def fdt_notes_added(ctx, note, mood):
    return mood
