from kernel import hookspec


@hookspec
def fdt_notes_added(ctx, note) -> str:
    """Called after a note is added; return a word to prove you were called."""
