"""Billing's demo data (to be written)."""


def load_demo(ctx) -> None:
    """Nothing yet."""
