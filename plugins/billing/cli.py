"""cli (to be written)."""
