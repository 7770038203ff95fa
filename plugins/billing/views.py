"""views (to be written)."""
