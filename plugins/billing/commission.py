"""commission (to be written)."""
