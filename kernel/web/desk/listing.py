"""The list view's state in the URL: search, filters, sort and page, mapped to the services.

``/desk/customer?q=物流&f=tier&op=eq&v=corporate&f=created_at&op=gte&v=2026-01-01
&sort=-name&after=<cursor>&start=51`` — filter rows are repeated ``f`` (field), ``op``
(operator) and ``v`` (value) parameters; pages follow by cursor (``after``, ``before``:
:mod:`kernel.keyset`), ``start`` only numbers the rows shown, and ``count=1`` asks for the
number of matching records (a scan of them all); ``page`` (by offset) is still read;
``group=status`` counts the matching records per value of a field. A list asked for no
filter opens with the user's or the entity's default filter (``preset``,
:mod:`kernel.list_prefs`); ``all=1`` asks for none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from kernel import records
from kernel.entities import EntityInfo
from kernel.errors import ValidationError
from kernel.i18n import N_, _, translations
from kernel.web.desk import fields

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
#: operator in the URL → suffix of the services' filter keys, label
OPERATORS = {
    "eq": ("", "="),
    "ne": ("ne", "≠"),
    "contains": ("contains", N_("contains")),
    "gte": ("gte", "≥"),
    "lte": ("lte", "≤"),
    "gt": ("gt", ">"),
    "lt": ("lt", "<"),
    "in": ("in", N_("is one of")),
    "empty": ("empty", N_("is empty")),
    "notempty": ("empty", N_("is not empty")),
}
#: operators that take no value
VALUELESS = ("empty", "notempty")
#: words for days relative to today (:mod:`kernel.relative_dates`), typed in either language
RELATIVE_WORDS = (N_("today"), N_("now"))


@dataclass
class ListState:
    """What the user asked the list for."""

    q: str = ""
    sort: str = ""
    page: int = 1
    limit: int = DEFAULT_PAGE_SIZE
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    #: ``all=1``: no default filter (the user removed its chip)
    all: bool = False
    #: ``group=<field>``: counts per value of that field
    group: str = ""
    #: the default filter in force (:class:`kernel.list_prefs.Preset`), when no filter
    #: was asked for
    preset: object = None
    #: the page after / before this cursor (:func:`kernel.records.list_records`)
    after: str = ""
    before: str = ""
    #: the number of the page's first row, as the pager shows it
    start: int = 1
    #: ``count=1``: count the matching records
    count: bool = False

    @property
    def effective_filters(self) -> list[tuple[str, str, str]]:
        """The filter rows in force: those asked for, else the default filter's."""
        if self.filters or self.preset is None:
            return self.filters
        return list(self.preset.filters)

    @property
    def effective_sort(self) -> str:
        """The order asked for, else the default filter's."""
        return self.sort or (self.preset.sort if self.preset is not None else "")

    @property
    def wants_preset(self) -> bool:
        """Whether the list opens with a default filter (no filter asked, not ``all``)."""
        return not self.filters and not self.all

    @classmethod
    def from_query(cls, params) -> ListState:
        def number(name, default):
            try:
                return int(params.get(name, default))
            except (TypeError, ValueError):
                return default

        limit = number("limit", DEFAULT_PAGE_SIZE)
        rows = zip(params.getlist("f"), params.getlist("op"), params.getlist("v"), strict=False)
        return cls(q=(params.get("q") or "").strip()[:100],
                   sort=(params.get("sort") or "").strip()[:200],
                   page=max(1, number("page", 1)),
                   limit=limit if limit in PAGE_SIZES else DEFAULT_PAGE_SIZE,
                   filters=[(f, op if op in OPERATORS else "eq", v) for f, op, v in rows
                            if f and (v.strip() != "" or op in VALUELESS)][:20],
                   all=params.get("all") == "1",
                   group=(params.get("group") or "").strip()[:100],
                   after=(params.get("after") or "").strip()[:2000],
                   before=(params.get("before") or "").strip()[:2000],
                   start=max(1, number("start", 1)), count=params.get("count") == "1")

    def params(self, **changes) -> list[tuple[str, str]]:
        """The state as query parameters, with ``changes`` (q, sort, page, limit, filters,
        after, before, start, count); a change of ``page`` without a cursor starts
        again from the first row."""
        state = {"q": self.q, "sort": self.sort, "page": self.page, "limit": self.limit,
                 "filters": self.filters, "all": self.all, "group": self.group,
                 "after": self.after, "before": self.before, "start": self.start,
                 "count": self.count, **changes}
        if "page" in changes and "after" not in changes and "before" not in changes:
            state.update(after="", before="", start=1)
        pairs = [(k, str(state[k])) for k in ("q", "sort") if state[k]]
        for name, op, value in state["filters"]:
            pairs += [("f", name), ("op", op), ("v", value)]
        if state["all"] and not state["filters"]:
            pairs.append(("all", "1"))
        if state["group"]:
            pairs.append(("group", state["group"]))
        if state["limit"] != DEFAULT_PAGE_SIZE:
            pairs.append(("limit", str(state["limit"])))
        if state["page"] > 1:
            pairs.append(("page", str(state["page"])))
        pairs += [(k, state[k]) for k in ("after", "before") if state[k]]
        if state["start"] > 1 and (state["after"] or state["before"]):
            pairs.append(("start", str(state["start"])))
        if state["count"]:
            pairs.append(("count", "1"))
        return pairs

    def url(self, base: str, **changes) -> str:
        query = urlencode(self.params(**changes))
        return f"{base}?{query}" if query else base

    @property
    def offset(self) -> int:
        """The rows an old ``page=`` link skips (none when paging by cursor)."""
        if self.after or self.before:
            return 0
        return min((self.page - 1) * self.limit, records.MAX_OFFSET)

    def sorted_by(self, name: str) -> str | None:
        """'ascending' / 'descending' when the list is sorted by ``name`` first."""
        first = self.effective_sort.split(",")[0].strip()
        if first == name:
            return "ascending"
        if first == f"-{name}":
            return "descending"
        return None

    def sort_link(self, name: str) -> str:
        """The sort parameter a click on column ``name`` asks for."""
        return f"-{name}" if self.sorted_by(name) == "ascending" else name


def service_filters(ctx, info: EntityInfo, state: ListState) -> dict[str, str]:
    """The filter rows as :func:`kernel.records.list_records` filters.

    People type what they see, so: an enum's translated label means its value,
    yes/no mean true/false, a date-time without a zone is in the site's zone, a day may
    be relative (``today``, ``today+1``, ``now``; 今天 in Chinese), and a reference may be
    given by the code or name of the record it points to. "is empty" and "is not empty"
    take no value.
    """
    tz = ctx.settings.tz
    gettext = translations(getattr(ctx.user, "locale", None) or ctx.settings.locale).gettext
    result: dict[str, str] = {}
    for name, op, value in state.effective_filters:
        spec = info.field(name)
        if spec is None:
            raise ValidationError(_("unknown filter {key!r}").format(key=name), field=name)
        value = value.strip()
        suffix = OPERATORS[op][0]
        if op in VALUELESS:  # is (not) empty: no value to read
            result[f"{name}__empty"] = "true" if op == "empty" else "false"
            continue
        if spec.kind in ("date", "datetime"):  # 今天+1 → today+1
            for word in RELATIVE_WORDS:
                if gettext(word) != word and value.startswith(gettext(word)):
                    value = word + value[len(gettext(word)):]
        if spec.kind == "enum":
            by_label = {gettext(c).lower(): c for c in spec.choices}
            value = ",".join(by_label.get(v.strip().lower(), v.strip()) for v in value.split(","))
        elif spec.kind == "boolean":
            value = {_("yes"): "true", _("no"): "false"}.get(value, value)
        elif spec.kind == "datetime":
            value = ",".join(fields.with_zone(v.strip(), tz) for v in value.split(","))
        if spec.foreign and op in ("eq", "contains") and not value.isdigit():
            cls = fields.entity_class(ctx.app, spec.foreign)
            found = fields.lookup(ctx, ctx.app, cls, value, limit=records.MAX_LIMIT) \
                if cls is not None else []
            suffix, value = "in", ",".join(str(i) for i, _label in found)
        key = f"{name}__{suffix}" if suffix else name
        result[key] = value
    return result
