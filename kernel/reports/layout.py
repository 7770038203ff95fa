"""Columns that fit the paper: widths and a font size for a report's table.

WeasyPrint's automatic table layout gives every column about the same share when
the texts can break anywhere (Chinese can), so a register of twenty columns came out
with names one character wide. Here each column asks for the width of its longest
text (at most :data:`WRAP_AT` for texts that may wrap) and needs at least its longest
word, the table takes the largest font size at which the columns fit the paper's width
well enough, and the columns get their share as percentages (``table-layout: fixed``):
nothing is cut at the right edge.
"""

from __future__ import annotations

import unicodedata

from kernel.documents.registry import PAPERS

#: font sizes tried, largest first (points)
FONT_SIZES = (8.0, 7.5, 7.0, 6.5, 6.0)
#: a wrapping text column is never narrower than this many em (nor than its longest word)
NARROWEST = 3.0
#: texts that may wrap ask for at most this many em
WRAP_AT = 14.0
#: the share of their extra width wrapping columns should get before a smaller font is
#: tried
ENOUGH = 0.45
#: left and right page margins of the print stylesheet (mm)
PAGE_MARGINS = 20.0
#: a cell's left and right padding and borders (mm)
CELL_PADDING = 2.4
POINT = 0.3528  # mm
#: advance widths (em) of Noto Sans CJK's Latin glyphs, rounded up a little
NARROW = {**dict.fromkeys("0123456789", 0.56), **dict.fromkeys(" ", 0.23),
          **dict.fromkeys("-:.,/()'|", 0.35)}


def text_width(text: str) -> float:
    """About how wide ``text`` is in em: Chinese (and other wide) characters 1, digits
    0.56, capitals 0.7, other Latin letters 0.58."""
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            width += 1.0
        else:
            width += NARROW.get(ch, 0.7 if ch.isupper() else 0.58)
    return width * 1.04


def _longest_word(text: str) -> float:
    """The widest part of ``text`` that cannot break: a run of Latin letters and digits
    (Chinese breaks between any two characters)."""
    words, word = [], ""
    for ch in text:
        if ch.isspace() or unicodedata.east_asian_width(ch) in "WF":
            words.append(word)
            word = ch if not ch.isspace() else ""
            words.append(word)
            word = ""
        else:
            word += ch
    words.append(word)
    return max((text_width(w) for w in words), default=0.0)


def _header_width(label: str) -> float:
    """A header may take two lines."""
    return max(text_width(label) / 2, min(text_width(label), 2.0))


def plan(columns: list[dict], cells: list[list[str]], paper: str,
         orientation: str) -> tuple[list[float], float]:
    """Each column's share of the table (percent) and the font size (points) at which
    they fit the paper; a column too narrow for its longest text loses ``nowrap``.
    ``columns`` are the paper's column dicts (``label``, ``nowrap``).

    Every column has a least width (its longest text if it keeps together, else its
    longest word, at least :data:`NARROWEST`) and a wish (its longest text, at most
    :data:`WRAP_AT` if it wraps). The largest font at which the wrapping columns get
    :data:`ENOUGH` of what they wish beyond their least width wins; the room left is
    shared in proportion to the wishes."""
    width, height = PAPERS[paper]
    page = float((height if orientation == "landscape" else width).removesuffix("mm"))
    room = page - PAGE_MARGINS
    least, wish = [], []
    for index, column in enumerate(columns):
        texts = [line[index] for line in cells]
        longest = max((text_width(t) for t in texts), default=0.0)
        header = _header_width(column["label"])
        if column.get("nowrap") and column.get("kind", "text") == "text":
            low = high = max(longest, header)
        else:
            word = max((_longest_word(t) for t in texts), default=0.0)
            high = max(min(longest, WRAP_AT), header, word)
            low = min(high, max(word, header, NARROWEST if longest > NARROWEST else longest))
        least.append(low)
        wish.append(high)
    if not columns:
        return [], FONT_SIZES[0]
    padding = CELL_PADDING * len(columns)
    chosen = None
    for size in FONT_SIZES:
        em = size * POINT
        spare = room - padding - sum(least) * em
        extra = (sum(wish) - sum(least)) * em
        share = 1.0 if extra <= 0 else spare / extra
        chosen = (size, em, max(0.0, min(share, 1.0)))
        if share >= ENOUGH:
            break
    size, em, share = chosen
    widths = [(lo + (hi - lo) * share) * em + CELL_PADDING for lo, hi in zip(least, wish,
                                                                             strict=True)]
    for column, lo, hi in zip(columns, least, wish, strict=True):
        if column.get("nowrap") and lo + (hi - lo) * share < hi - 1e-6:
            column["nowrap"] = False  # squeezed: it wraps (a date above its time)
    return _shares(widths), size
def _shares(widths: list[float]) -> list[float]:
    """Percentages of the table's width; spare room goes to the columns in proportion."""
    total = sum(widths)
    return [round(100 * w / total, 2) for w in widths]
