"""Exporting a list view's matching records to CSV (UTF-8 with BOM) and Excel (.xlsx)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from kernel import records
from kernel.entities import EntityInfo
from kernel.spreadsheet import SheetColumn, workbook
from kernel.web.desk import fields, links

#: the most rows one export holds (an export is a report, not a backup)
MAX_EXPORT_ROWS = 10_000


def export_fields(info: EntityInfo):
    """Every visible field but the company: the list's columns first, then the rest."""
    shown = [info.field(c) for c in info.list_columns if info.field(c) is not None]
    rest = [f for f in info.fields if f not in shown and f.name not in fields.HIDDEN_IN_FORMS]
    return [*shown, *rest]


def matching_rows(ctx, info: EntityInfo, filters: dict, q: str, sort: str):
    """Yield pages of (records, reference labels) for everything the filters match."""
    refs_specs = [f for f in export_fields(info) if f.foreign]
    done, after = 0, None
    while done < MAX_EXPORT_ROWS:
        limit = min(records.MAX_LIMIT, MAX_EXPORT_ROWS - done)
        page = records.list_records(ctx, info, filters=filters, q=q or None,
                                    sort=sort or None, limit=limit, after=after)
        rows = page.rows
        if not rows:
            return
        refs = {spec.name: fields.reference_labels(ctx, ctx.app, spec,
                                                   [getattr(r, spec.name) for r in rows])
                for spec in refs_specs}
        refs.update(links.column_labels(ctx, export_fields(info), rows))
        yield rows, refs
        done, after = done + len(rows), page.next
        if after is None:
            return


def _cell(spec, value, tz, refs):
    """A value for a spreadsheet cell: numbers and dates stay numbers and dates."""
    if value is None:
        return None
    if spec.foreign:
        return refs.get(value) or value
    if spec.kind == "money":
        return Decimal(value)
    if spec.kind == "integer" or spec.kind == "date":
        return value
    if isinstance(value, dt.datetime):
        return fields.local(value, tz).replace(tzinfo=None)
    return fields.display(spec, value, tz, refs)


def _text(spec, value, tz, refs) -> str:
    """A value for a CSV cell: as the desk shows it, amounts without thousands separators."""
    if value is None:
        return ""
    if spec.kind == "money" and not spec.foreign:
        return f"{Decimal(value):.2f}"
    return fields.display(spec, value, tz, refs)


def to_csv(ctx, info: EntityInfo, pages) -> bytes:
    """CSV with a byte-order mark, so that Excel reads the Chinese correctly."""
    tz = ctx.settings.tz
    specs = export_fields(info)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([fields.label(info, s.name) for s in specs])
    for rows, refs in pages:
        for record in rows:
            writer.writerow([_text(s, getattr(record, s.name), tz, refs.get(s.name, {}))
                             for s in specs])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(ctx, info: EntityInfo, pages, title: str) -> bytes:
    """An Excel workbook: one sheet, a bold frozen header, real dates and amounts."""
    tz = ctx.settings.tz
    specs = export_fields(info)
    formats = {"money": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
    widths = {"text": 40, "date": 12, "datetime": 17, "money": 14}
    columns = [SheetColumn(fields.label(info, spec.name), widths.get(spec.kind, 18),
                           None if spec.foreign else formats.get(spec.kind)) for spec in specs]
    rows = ([_cell(spec, getattr(record, spec.name), tz, refs.get(spec.name, {}))
             for spec in specs] for records, refs in pages for record in records)
    return workbook(title, columns, rows)
