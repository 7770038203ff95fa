"""statements (to be written)."""
