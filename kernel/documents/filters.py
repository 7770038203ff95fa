"""Template filters and helpers for printed papers (locale- and timezone-aware)."""

from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal
from functools import lru_cache

from kernel.db import Money


def money(value, currency: str = "CNY", locale: str = "zh_CN") -> str:
    """``¥1,234.50``: currency symbol and exactly two decimals."""
    from babel.numbers import format_currency

    if value is None:
        return ""
    return format_currency(Money.to_decimal(value), currency, locale=locale,
                           currency_digits=False, format="¤#,##0.00")


def capital(value) -> str:
    """The amount in Chinese capital numerals (人民币大写): 壹佰贰拾叁元肆角伍分, 伍佰伍拾柒元整."""
    import cn2an

    amount = Money.to_decimal(value)
    if amount < 0:
        return "负" + capital(-amount)
    return cn2an.an2cn(format(amount, "f"), "rmb")


def _local(value, tz):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a template: pass aware values")
        return value.astimezone(tz)
    return value


def date(value, tz, locale: str = "zh_CN", format: str = "medium") -> str:
    """A date (or the local date of an instant) in the site's locale: 2026年5月29日."""
    from babel.dates import format_date

    if value is None:
        return ""
    value = _local(value, tz)
    return format_date(value.date() if isinstance(value, dt.datetime) else value,
                       format=format, locale=locale)


def datetime(value, tz, locale: str = "zh_CN", format: str = "yyyy-MM-dd HH:mm") -> str:
    """An instant in the site's time zone: 2026-05-29 16:00."""
    from babel.dates import format_datetime

    if value is None:
        return ""
    return format_datetime(_local(value, tz), format=format, tzinfo=tz, locale=locale)


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


#: the QR mask every code is drawn with. Any of the eight reads back the same; choosing
#: the "best" one tries all eight in pure Python, three quarters of a code's time and
#: half of preparing a service voucher, for a code that a laser printer prints sharp
QR_MASK = 0


# Codes are small PNGs, not SVG: WeasyPrint draws an SVG node by node (a barcode is
# a hundred rectangles), which costs more than the rest of a voucher's page.
@lru_cache(maxsize=512)
def qr(data: str) -> str:
    """A QR code of ``data`` as an inline PNG image (``<img src="{{ x|qr }}">``)."""
    import qrcode

    code = qrcode.QRCode(border=1, box_size=4, error_correction=qrcode.constants.ERROR_CORRECT_M,
                         mask_pattern=QR_MASK)
    code.add_data(str(data))
    buffer = io.BytesIO()
    code.make_image().get_image().convert("1").save(buffer, format="PNG", optimize=True)
    return _png_uri(buffer.getvalue())


@lru_cache(maxsize=512)
def barcode(data: str) -> str:
    """A Code 128 barcode of ``data`` as an inline PNG image."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    buffer = io.BytesIO()
    Code128(str(data), writer=ImageWriter(mode="1")).write(
        buffer, options={"module_width": 0.25, "module_height": 8.0, "write_text": False,
                         "quiet_zone": 2.0, "dpi": 200})
    return _png_uri(buffer.getvalue())


def number(value, locale: str = "zh_CN", digits: int | None = None) -> str:
    """A number with the locale's grouping (and ``digits`` decimals)."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    if digits is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-digits))
    return format_decimal(value, locale=locale)
