"""Excel (.xlsx) workbooks of the desk's list exports and of reports (R33)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass


def sheet_title(title: str) -> str:
    """``title`` as Excel accepts a sheet name: no ``[]:*?/\\``, at most 31 characters."""
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"


@dataclass(frozen=True)
class SheetColumn:
    """A column of a sheet: its header, width (characters) and Excel number format."""

    header: str
    width: int = 18
    number_format: str | None = None


def workbook(title: str, columns: list[SheetColumn], rows: Iterable[list],
             heading: str | None = None) -> bytes:
    """A one-sheet workbook: an optional bold ``heading`` line, a bold frozen header row,
    then ``rows`` (values in column order: dates and numbers stay typed), written as it
    goes (``write_only``), so big exports stay small in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    sheet.freeze_panes = "A3" if heading else "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    if heading:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True, size=13)
        sheet.append([cell])
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in rows:
        line = []
        for column, value in zip(columns, values, strict=True):
            if isinstance(value, str):  # control characters Excel refuses (openpyxl raises)
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if column.number_format and value is not None:
                cell.number_format = column.number_format
            line.append(cell)
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
