"""contracts (to be written)."""
