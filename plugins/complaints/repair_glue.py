"""Glue for repair (the part ``complaints.repair``): to be written."""
