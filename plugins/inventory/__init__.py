"""Inventory: parts, warehouses, the stock ledger, purchasing, requisitions, counts (R21–R25)."""
