"""commission_glue (to be written)."""
