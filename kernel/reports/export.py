"""A report's table as an Excel workbook (R33), CSV, or tab-separated text for a terminal."""

from __future__ import annotations

import csv
import io

from kernel.spreadsheet import SheetColumn, workbook

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
    tz = ctx.settings.tz
    sheet_columns = [SheetColumn(text, WIDTHS.get(column.kind, 20), FORMATS.get(column.kind))
                     for column, text in zip(columns, header(columns), strict=True)]
    return workbook(title, sheet_columns,
                    ([cell_value(c, row.get(c.key), tz) for c in columns] for row in rows),
                    heading=title + (f"  {subtitle}" if subtitle else ""))


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
