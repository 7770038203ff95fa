"""repair_glue (to be written)."""
