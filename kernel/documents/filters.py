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


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@lru_cache(maxsize=512)
def qr(data: str) -> str:
    """A QR code of ``data`` as an inline SVG image (``<img src="{{ x|qr }}">``)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(str(data), image_factory=qrcode.image.svg.SvgPathImage, border=1,
                        box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return _data_uri(buffer.getvalue())


@lru_cache(maxsize=512)
def barcode(data: str) -> str:
    """A Code 128 barcode of ``data`` as an inline SVG image."""
    from barcode import Code128
    from barcode.writer import SVGWriter

    buffer = io.BytesIO()
    Code128(str(data), writer=SVGWriter()).write(
        buffer, options={"module_height": 10.0, "font_size": 0, "text_distance": 0,
                         "quiet_zone": 2.0})
    return _data_uri(buffer.getvalue())


def number(value, locale: str = "zh_CN", digits: int | None = None) -> str:
    """A number with the locale's grouping (and ``digits`` decimals)."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    if digits is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-digits))
    return format_decimal(value, locale=locale)
