"""papers (to be written)."""
