"""Small helpers for the Excel (.xlsx) exports of lists and reports (R33)."""

from __future__ import annotations


def sheet_title(title: str) -> str:
    """``title`` as Excel accepts a sheet name: no ``[]:*?/\\``, at most 31 characters."""
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"
