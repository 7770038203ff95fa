"""reports (to be written)."""
