"""A report's table as an Excel workbook (R33), CSV, or tab-separated text for a terminal."""

from __future__ import annotations

import csv
import io

from kernel.spreadsheet import sheet_title

from .formatting import cell_value, header, text_table, totals_line

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel number formats and column widths by column kind
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "hours": "0.00",
           "share": "0.0%", "money": "#,##0.00"}
WIDTHS = {"date": 12, "datetime": 17, "int": 10, "hours": 8, "share": 10, "bool": 8,
          "enum": 12, "money": 14, "number": 12}


def to_xlsx(ctx, title: str, columns, rows: list[dict], subtitle: str | None = None) -> bytes:
    """An Excel workbook of one report: a title line (and the parameters used), a bold
    frozen header in the current language, then real dates and numbers, one row each."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    tz = ctx.settings.tz
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    sheet.freeze_panes = "A3"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.kind, 20)
    heading = WriteOnlyCell(sheet, value=title + (f"  {subtitle}" if subtitle else ""))
    heading.font = Font(bold=True, size=13)
    sheet.append([heading])
    bold = Font(bold=True)
    labels = []
    for text in header(columns):
        label = WriteOnlyCell(sheet, value=text)
        label.font = bold
        labels.append(label)
    sheet.append(labels)
    for row in rows:
        line = []
        for column in columns:
            value = WriteOnlyCell(sheet, value=cell_value(column, row.get(column.key), tz))
            if column.kind in FORMATS:
                value.number_format = FORMATS[column.kind]
            line.append(value)
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _lines(ctx, columns, rows: list[dict]) -> list[list[str]]:
    tz = ctx.settings.tz
    lines = [header(columns), *text_table(columns, rows, tz)]
    total = totals_line(columns, rows, tz)
    return lines + [total] if total else lines


def to_csv(ctx, columns, rows: list[dict]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese), values as the
    desk shows them, and the totals line when the report has one."""
    out = io.StringIO()
    csv.writer(out).writerows(_lines(ctx, columns, rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_text(ctx, columns, rows: list[dict]) -> str:
    """A header line and one tab-separated line per row (the CLI's table format)."""
    return "".join("\t".join(cells) + "\n" for cells in _lines(ctx, columns, rows))
