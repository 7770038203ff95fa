"""invoicing_glue (to be written)."""
