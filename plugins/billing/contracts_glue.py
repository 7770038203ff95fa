"""contracts_glue (to be written)."""
