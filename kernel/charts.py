"""Charts as SVG: one drawing of a :class:`~kernel.contributions.ChartData` for the desk's
home page and for printed papers (WeasyPrint draws SVG itself).

Drawn with pygal (a pip dependency) and made self-contained: no script (pygal's config
script and tooltips are left out, no CDN), no comments, no reference to anything outside
the SVG, and a font list that starts with the papers' Chinese faces so that Chinese labels show on
the desk and in PDFs alike. The desk shows the SVG as an image (``data:`` URI, allowed by
its Content-Security-Policy, which forbids inline styles); a paper embeds it as it is.
"""

from __future__ import annotations

import base64
import functools
import math
import re

from kernel.contributions import ChartData
from kernel.i18n import _, current_locale

#: the fonts of every chart: the papers' (templates/print/base.css), Chinese first; the
#: compact print faces (kernel.documents.fonts) are known to WeasyPrint only
FONTS = '"Fixdesk Print Sans", "Noto Sans CJK SC", "Noto Sans", "DejaVu Sans", sans-serif'
#: the series' colours: the desk's blue, then colours that print apart in grey too
COLOURS = ("#1f5fa8", "#d9822b", "#1e7a3c", "#b3261e", "#7a4fa8", "#5b6676", "#c9a227",
           "#2a9d8f")
WIDTH, HEIGHT = 720, 320

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _style():
    from pygal.style import Style

    return Style(font_family=FONTS, background="#ffffff", plot_background="#ffffff",
                 foreground="#1d2430", foreground_strong="#1d2430",
                 foreground_subtle="#d5dbe3", opacity="1", opacity_hover="1",
                 colors=COLOURS, title_font_size=16, legend_font_size=13,
                 label_font_size=12, major_label_font_size=12, value_font_size=11,
                 tooltip_font_size=12, no_data_font_size=20, transition="0s")


def _chart_class(kind: str):
    import pygal

    return {"bar": pygal.Bar, "stacked_bar": pygal.StackedBar, "line": pygal.Line,
            "pie": pygal.Pie}[kind]


def render_svg(chart: ChartData, *, title: bool = True, width: int = WIDTH,
               height: int = HEIGHT) -> str:
    """``chart`` as a self-contained SVG document (a string starting with ``<svg``).

    ``title`` draws the chart's title inside the picture (a paper wants it; the desk
    heads the chart itself).
    """
    style = _style()
    if chart.colours:
        style.colors = tuple(chart.colours) + COLOURS
    decimals = max(0, int(chart.decimals))

    def shown(value):
        if value is None:
            return ""
        return f"{value:,.{decimals}f}{chart.unit}"

    drawing = _chart_class(chart.kind)(
        js=[], style=style, width=width, height=height, disable_xml_declaration=True,
        explicit_size=False, show_legend=len(chart.series) > 1 or chart.kind == "pie",
        legend_at_bottom=True, legend_at_bottom_columns=min(4, max(1, len(chart.series))),
        print_values=len(chart.labels) <= 12 and chart.kind != "line",
        print_zeroes=False, x_label_rotation=30 if len(chart.labels) > 8 else 0,
        truncate_label=-1, truncate_legend=-1, value_formatter=shown, tooltip_border_radius=0,
        no_data_text=_("No data"), margin=12, spacing=8, include_x_axis=True,
        min_scale=1, max_scale=6)
    if chart.kind != "pie" and decimals == 0:
        drawing.y_labels = _whole_ticks(chart)  # no 0.5 shown as "1"
    if title:
        drawing.title = chart.title
    if chart.kind == "pie":
        for label, value in zip(chart.labels, chart.series[0][1] if chart.series else (),
                                strict=False):
            drawing.add(label, [value or 0])
    else:
        drawing.x_labels = list(chart.labels)
        for name, values in chart.series:
            drawing.add(name, list(values))
    svg = drawing.render(is_unicode=True)
    return _self_contained(svg)


def _whole_ticks(chart: ChartData) -> list[int]:
    """At most about six whole-number ticks from 0 to above the highest bar (the stacked
    total for a stacked chart)."""
    rows = [values for _name, values in chart.series]
    if chart.kind == "stacked_bar":
        top = max((sum(v or 0 for v in column) for column in zip(*rows, strict=False)),
                  default=0)
    else:
        top = max((v or 0 for values in rows for v in values), default=0)
    top = max(1, math.ceil(top))
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def _self_contained(svg: str) -> str:
    """The SVG without pygal's script and comments (its config carries file:// names)."""
    svg = _SCRIPT.sub("", svg)
    svg = _COMMENT.sub("", svg)
    return svg.strip()


def data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (the desk's pages allow ``data:`` images)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def drawn_uri(chart: ChartData) -> str:
    """:func:`render_svg` (without a title: the page shows it) as a :func:`data_uri`,
    remembered for the same numbers in the same language (the last :data:`DRAWINGS_KEPT`):
    a home page shows the same charts on every visit, and drawing one takes ~7 ms."""
    try:
        return _drawn(chart, current_locale())
    except TypeError:  # a value that cannot be a key (a plugin's own type): drawn anew
        return data_uri(render_svg(chart, title=False))


@functools.lru_cache(maxsize=256)
def _drawn(chart: ChartData, _locale: str) -> str:
    return data_uri(render_svg(chart, title=False))


#: drawings remembered by :func:`drawn_uri`
DRAWINGS_KEPT = _drawn.cache_info().maxsize


def table_of(chart: ChartData) -> dict:
    """The chart's numbers as a table for people who cannot see it (and for copying):
    ``{"columns": [...], "rows": [[label, text, ...], ...]}``."""
    decimals = max(0, int(chart.decimals))

    def text(value):
        return "" if value is None else f"{value:,.{decimals}f}{chart.unit}"

    if chart.kind == "pie":
        values = chart.series[0][1] if chart.series else ()
        return {"columns": ["", chart.series[0][0] if chart.series else ""],
                "rows": [[label, text(v)] for label, v in zip(chart.labels, values,
                                                              strict=False)]}
    return {"columns": ["", *[name for name, _values in chart.series]],
            "rows": [[label, *[text(values[i]) for _name, values in chart.series]]
                     for i, label in enumerate(chart.labels)]}
