"""dashboard (to be written)."""
