"""The monthly review (R26): the complaint rate per branch, complaints by category, by
responsible department and by responsible person, and the 12-month trend.

The figures are plain functions of a context and a period, reused by the papers and the
dashboard; :data:`REPORTS` registers each as a :class:`kernel.Report`, so the kernel shows
it on the desk and answers it as JSON, Excel (R33), CSV and PDF
(``GET /api/v1/reports/complaints.rate?format=xlsx``); :data:`SUBCOMMANDS` is
``fixdesk complaints rate``.

* :func:`rate_rows` (``complaints.rate``, 投诉率) — per branch: complaints received in the
  period ÷ jobs done in it, as a percentage with two decimals (3 ÷ 412 = 0.73 %), the
  complaints by category, the critical ones, how many were closed and how many of those
  on time (the customer told the result by the resolution deadline);
* :func:`category_rows` (``complaints.by_category``) — per category, with its share;
* :func:`department_rows` (``complaints.by_department``) — per responsible department;
* :func:`person_rows` (``complaints.by_person``) — per responsible person: the
  responsibility figures for performance reviews;
* :func:`trend` (``complaints.trend``) — complaints, jobs and rate per month and branch,
  drawn by :func:`trend_chart` (also the dashboard's chart).

What counts: complaints (topic *complaint*, not praise, inquiries or suggestions) that
were not cancelled, by the time they were received. Periods are whole days in the site's
time zone, held as UTC instants ``[start, end)``. Jobs come from the question
``complaints_job_counts`` (repair answers it with its work orders); where nobody answers
(a site without repair, or the answer switched off for the branch) jobs and rate stay
empty, never 0.

Every figure is summed in the database: one ``GROUP BY`` per report, starting from the
branches (so that a branch without complaints has its row) and reading the complaints
through the index on ``(branch_id, received_at)``, plus one call of the question (one per
month for the trend). Each runs as the reader: only the branches they may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import click
from sqlalchemy import and_, case, func, select

from kernel import ChartData, Column, Param, Report, ValidationError
from kernel.auth import SCOPE_KEY
from kernel.cli.base import CliState, pass_state
from kernel.i18n import N_, _
from kernel.models import Branch, Employee
from kernel.months import add_months, month_end, month_start, parse_month

from .models import Complaint, Department
from .rules import Category, Severity, Status, Topic

READ = "complaints_complaint.read"
BRANCHES = Branch.__table__
#: employees and departments as plain tables: a person answering for a complaint of a
#: branch the reader sees is named even when he works in another
PEOPLE = Employee.__table__
DEPARTMENTS = Department.__table__
#: the categories in the order the reports show them (their values are the row keys),
#: with their column headers
CATEGORIES = tuple(Category)
CATEGORY_LABELS = {Category.PRODUCT_QUALITY: N_("Product quality"),
                   Category.HUMAN_FACTORS: N_("Human factors"),
                   Category.SOFTWARE: N_("Software"), Category.OTHER: N_("Other")}
#: the months the trend covers unless told, and at most
TREND_MONTHS = 12
MAX_TREND_MONTHS = 36
#: the longest period a report covers
MAX_DAYS = 3700
#: statuses in which a complaint is finished with the customer told or passed on
FINISHED = (Status.CLOSED, Status.PASSED_ON)
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------
# periods and scope
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A report's period: ``start`` and ``end`` (aware UTC instants, the end excluded) and
    the same as local days (``first`` and ``last``, both included)."""

    start: dt.datetime
    end: dt.datetime
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        """``2026-10`` for a whole month, else ``2026-10-01 – 2026-10-15``."""
        if self.first.day == 1 and self.last == month_end(self.first):
            return self.first.strftime("%Y-%m")
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def today(ctx) -> dt.date:
    """Today in the site's time zone."""
    return ctx.now().astimezone(ctx.settings.tz).date()






def midnight(ctx, day: dt.date) -> dt.datetime:
    """The instant (aware, UTC) the local ``day`` begins in the site's time zone."""
    return dt.datetime.combine(day, dt.time(), ctx.settings.tz).astimezone(dt.UTC)


def _instant(ctx, value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(dt.UTC)
    return midnight(ctx, value)


def days(ctx, first: dt.date, last: dt.date) -> Period:
    """The period of the local days ``first`` to ``last`` (both included)."""
    return Period(midnight(ctx, first), midnight(ctx, last + dt.timedelta(days=1)), first,
                  last)




def month_period(ctx, month: Any) -> Period:
    """The period of one calendar month (``YYYY-MM`` or a date in it)."""
    first = parse_month(month)
    return days(ctx, first, month_end(first))


def period(ctx, month: Any = None, from_date: dt.date | None = None,
           to_date: dt.date | None = None) -> Period:
    """A report's period from its parameters: ``month`` (``YYYY-MM``), or the days
    ``from_date`` to ``to_date`` (default today); without either, last month."""
    if month not in (None, "") and (from_date or to_date):
        raise ValidationError(_("give a month or dates, not both"), field="month")
    if month not in (None, ""):
        return month_period(ctx, month)
    if to_date and not from_date:
        raise ValidationError(_("give the first day too"), field="from_date")
    if from_date:
        last = to_date or today(ctx)
        if last < from_date:
            raise ValidationError(_("the last day lies before the first"), field="to_date")
        if (last - from_date).days > MAX_DAYS:
            raise ValidationError(_("a report covers at most ten years"), field="from_date")
        return days(ctx, from_date, last)
    return month_period(ctx, month_start(add_months(today(ctx), -1)))


def visible_branches(ctx, branch_ids=None) -> list[int] | None:
    """The branches a figure covers: ``branch_ids`` (ids, or Branch records) narrowed to
    those the reader may see; without them every branch the reader sees (None: every
    branch, the reader is not limited). No query: the session knows the reader's
    branches."""
    scope = ctx.session.info.get(SCOPE_KEY)
    if branch_ids is None:
        return sorted(scope) if scope is not None else None
    ids = [getattr(b, "id", b) for b in ([branch_ids] if isinstance(branch_ids, int | Branch)
                                         else branch_ids)]
    return [i for i in ids if scope is None or i in scope]


def _branch_filter(ids: list[int] | None) -> tuple:
    """The WHERE conditions on the branches' table (none when every branch is covered)."""
    return (BRANCHES.c.id.in_(ids),) if ids is not None else ()


def job_counts(ctx, ids: list[int] | None, start: dt.datetime,
               end: dt.datetime) -> dict[int, int] | None:
    """Jobs per branch in ``[start, end)`` as the plugin that counts jobs answers
    (``complaints_job_counts``: repair's work orders); None when nobody answers."""
    found = ctx.hook.complaints_job_counts(ctx=ctx, branch_ids=ids, start=start, end=end)
    if found is None:
        return None
    return {int(branch): int(jobs or 0) for branch, jobs in found.items()}


def rate(complaints: int, jobs: int | None) -> Decimal | None:
    """Complaints per hundred jobs with two decimals (3, 412 → 0.73); None without jobs."""
    if not jobs:
        return None
    return (Decimal(complaints * 100) / Decimal(jobs)).quantize(CENT, ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# SQL pieces
# ---------------------------------------------------------------------------


def counted(start: dt.datetime, end: dt.datetime) -> tuple:
    """The conditions of the complaints a figure counts: topic complaint, not cancelled,
    received in ``[start, end)``."""
    c = Complaint
    return (c.topic == Topic.COMPLAINT, c.status != Status.CANCELLED,
            c.received_at >= start, c.received_at < end)


def _count(*conditions):
    """SQL: how many of the grouped complaints meet every condition (0 over none)."""
    return func.count(case((and_(*conditions), Complaint.id)))


def on_time():
    """SQL: the complaint is finished and the customer was told the result (or it was
    passed on) by its resolution deadline."""
    c = Complaint
    return and_(c.status.in_(FINISHED), c.resolution_due_at.is_not(None),
                func.coalesce(c.informed_at, c.closed_at) <= c.resolution_due_at)


def figures() -> list:
    """SQL: the counts every report shows, labelled by their row keys."""
    c = Complaint
    return [func.count(c.id).label("complaints"),
            *(_count(c.category == category).label(category.value)
              for category in CATEGORIES),
            _count(c.our_fault.is_(True)).label("our_fault"),
            _count(c.severity == Severity.SERIOUS).label("serious"),
            _count(c.severity == Severity.CRITICAL).label("critical"),
            _count(c.status.in_(FINISHED)).label("closed"),
            _count(on_time()).label("closed_on_time")]


FIGURE_KEYS = ("complaints", *(c.value for c in CATEGORIES), "our_fault", "serious",
               "critical", "closed", "closed_on_time")


def _figures_of(row) -> dict[str, int]:
    mapping = row._mapping
    return {key: int(mapping[key] or 0) for key in FIGURE_KEYS}


# ---------------------------------------------------------------------------
# the complaint rate per branch (投诉率)
# ---------------------------------------------------------------------------


RATE_COLUMNS = (
    Column("branch", N_("Branch")),
    Column("jobs", N_("Jobs"), "int", total=True),
    Column("complaints", N_("Number of complaints"), "int", total=True),
    Column("rate", N_("Complaint rate (%)"), "number"),
    *(Column(c.value, CATEGORY_LABELS[c], "int", total=True) for c in CATEGORIES),
    Column("critical", N_("Critical"), "int", total=True),
    Column("closed", N_("Closed"), "int", total=True),
    Column("closed_on_time", N_("Closed on time"), "int", total=True),
)


def rate_rows(ctx, start, end, branch_ids=None) -> list[dict]:
    """Per branch the reader sees (or of ``branch_ids``), by code: the complaints received
    in ``[start, end)`` (aware instants, or local dates taken as their midnights) and the
    jobs of the period, the rate (complaints per hundred jobs, two decimals; None when
    nobody counts jobs or there were none), the complaints per category, the critical,
    closed and closed-on-time ones. One query and one call of ``complaints_job_counts``.

    Each row also carries ``branch_id``, ``branch_code``, ``our_fault`` and ``serious``."""
    ctx.require(READ)
    start, end = _instant(ctx, start), _instant(ctx, end)
    ids = visible_branches(ctx, branch_ids)
    query = (select(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name, *figures())
             .select_from(BRANCHES)
             .outerjoin(Complaint, and_(Complaint.branch_id == BRANCHES.c.id,
                                        *counted(start, end)))
             .where(*_branch_filter(ids))
             .group_by(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name)
             .order_by(BRANCHES.c.code))
    found = ctx.session.execute(query).all()
    jobs = job_counts(ctx, ids, start, end)
    rows = []
    for row in found:
        done = jobs.get(row.id, 0) if jobs is not None else None
        counts = _figures_of(row)
        rows.append({"branch_id": row.id, "branch_code": row.code, "branch": row.name,
                     "jobs": done, **counts, "rate": rate(counts["complaints"], done),
                     "start": start, "end": end})
    return rows


def overall(rows: list[dict]) -> dict:
    """The rate over every row of :func:`rate_rows` (all the branches together)."""
    complaints = sum(r["complaints"] for r in rows)
    known = [r["jobs"] for r in rows if r["jobs"] is not None]
    jobs = sum(known) if known else None
    return {"complaints": complaints, "jobs": jobs, "rate": rate(complaints, jobs)}


def _rate_report(ctx, month=None, from_date=None, to_date=None, branch=None) -> list[dict]:
    chosen = period(ctx, month, from_date, to_date)
    return rate_rows(ctx, chosen.start, chosen.end, [branch.id] if branch else None)


def _rate_charts(ctx, rows: list[dict], **_params) -> list:
    """The rate report's chart: the rate per branch (complaints where jobs are unknown)."""
    if not rows:
        return []
    names = tuple(r["branch"] for r in rows)
    if all(r["rate"] is None for r in rows):
        return [ChartData("bar", _("Complaints per branch"), names,
                          ((_("Number of complaints"), tuple(r["complaints"] for r in rows)),))]
    return [ChartData("bar", _("Complaint rate per branch (%)"), names,
                      ((_("Complaint rate (%)"),
                        tuple(float(r["rate"]) if r["rate"] is not None else None
                              for r in rows)),), unit="%", decimals=2)]


# ---------------------------------------------------------------------------
# by category, by responsible department, by responsible person
# ---------------------------------------------------------------------------


def _complaints_query(ctx, start, end, branch_ids, *columns):
    """``SELECT columns`` of the complaints counted in ``[start, end)`` of the covered
    branches (the caller groups)."""
    start, end = _instant(ctx, start), _instant(ctx, end)
    ids = visible_branches(ctx, branch_ids)
    query = select(*columns).select_from(Complaint).where(*counted(start, end))
    if ids is not None:
        query = query.where(Complaint.branch_id.in_(ids))
    return query


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) \
        if whole else None


CATEGORY_COLUMNS = (
    Column("category", N_("Complaint category"), "enum"),
    Column("complaints", N_("Number of complaints"), "int", total=True),
    Column("share", N_("Share"), "share"),
    Column("our_fault", N_("Our responsibility"), "int", total=True),
    Column("serious", N_("Serious"), "int", total=True),
    Column("critical", N_("Critical"), "int", total=True),
    Column("closed", N_("Closed"), "int", total=True),
    Column("closed_on_time", N_("Closed on time"), "int", total=True),
)


def category_rows(ctx, start, end, branch_ids=None) -> list[dict]:
    """Per category (product quality, human factors, software, other; each listed), the
    complaints of ``[start, end)`` in the covered branches, their share of all, how many
    were our fault, serious, critical, closed and closed on time. One query."""
    ctx.require(READ)
    query = _complaints_query(ctx, start, end, branch_ids, Complaint.category, *figures()) \
        .group_by(Complaint.category)
    found = {Category(row.category): _figures_of(row) for row in ctx.session.execute(query)}
    whole = sum(f["complaints"] for f in found.values())
    empty = dict.fromkeys(FIGURE_KEYS, 0)
    return [{"category": category, **found.get(category, empty),
             "share": _share(found.get(category, empty)["complaints"], whole)}
            for category in CATEGORIES]


DEPARTMENT_COLUMNS = (
    Column("department_code", N_("Department code")),
    Column("department", N_("Responsible department")),
    Column("complaints", N_("Number of complaints"), "int", total=True),
    Column("our_fault", N_("Our responsibility"), "int", total=True),
    *(Column(c.value, CATEGORY_LABELS[c], "int", total=True) for c in CATEGORIES),
    Column("serious", N_("Serious"), "int", total=True),
    Column("critical", N_("Critical"), "int", total=True),
    Column("closed_on_time", N_("Closed on time"), "int", total=True),
)


def department_rows(ctx, start, end, branch_ids=None) -> list[dict]:
    """Per responsible department, by code, the complaints of ``[start, end)`` in the
    covered branches attributed to it, how many were our fault, per category, serious,
    critical and closed on time; the complaints without a department (not determined
    yet, or only a person named) last. One query."""
    ctx.require(READ)
    d = DEPARTMENTS.c
    query = (_complaints_query(ctx, start, end, branch_ids, d.id, d.code, d.name, *figures())
             .outerjoin(DEPARTMENTS, d.id == Complaint.responsible_department_id)
             .group_by(d.id, d.code, d.name))
    rows = [{"department_id": row.id, "department_code": row.code or "",
             "department": row.name or _("No department named"), **_figures_of(row)}
            for row in ctx.session.execute(query)]
    rows.sort(key=lambda r: (r["department_id"] is None, r["department_code"]))
    return rows


PERSON_COLUMNS = (
    Column("employee_code", N_("Employee code")),
    Column("employee", N_("Responsible person")),
    Column("branch", N_("Branch")),
    Column("complaints", N_("Number of complaints"), "int", total=True),
    Column("our_fault", N_("Our responsibility"), "int", total=True),
    *(Column(c.value, CATEGORY_LABELS[c], "int", total=True) for c in CATEGORIES),
    Column("serious", N_("Serious"), "int", total=True),
    Column("critical", N_("Critical"), "int", total=True),
)


def person_rows(ctx, start, end, branch_ids=None) -> list[dict]:
    """The responsibility figures for performance reviews: per person named responsible
    for complaints of ``[start, end)`` in the covered branches, by code: how many, how
    many were our fault, per category, serious and critical, with the person's branch.
    One query."""
    ctx.require(READ)
    p, b = PEOPLE.c, BRANCHES.c
    query = (_complaints_query(ctx, start, end, branch_ids, p.id, p.code, p.name,
                               b.code.label("branch_code"), b.name.label("branch_name"),
                               *figures())
             .join(PEOPLE, p.id == Complaint.responsible_employee_id)
             .outerjoin(BRANCHES, b.id == p.branch_id)
             .group_by(p.id, p.code, p.name, b.code, b.name)
             .order_by(p.code, p.id))
    return [{"employee_id": row.id, "employee_code": row.code, "employee": row.name,
             "branch_code": row.branch_code, "branch": row.branch_name, **_figures_of(row)}
            for row in ctx.session.execute(query)]


def _of_period(build):
    """A report's build from a function of ``(ctx, start, end, branch_ids)``."""
    def run(ctx, month=None, from_date=None, to_date=None, branch=None) -> list[dict]:
        chosen = period(ctx, month, from_date, to_date)
        return build(ctx, chosen.start, chosen.end, [branch.id] if branch else None)

    run.__doc__ = build.__doc__
    return run


# ---------------------------------------------------------------------------
# the trend: complaints, jobs and rate per month and branch
# ---------------------------------------------------------------------------


TREND_COLUMNS = (
    Column("month", N_("Month")), Column("branch", N_("Branch")),
    Column("complaints", N_("Number of complaints"), "int", total=True),
    Column("jobs", N_("Jobs"), "int", total=True),
    Column("rate", N_("Complaint rate (%)"), "number"),
)


def trend(ctx, months: int = TREND_MONTHS, last_month: Any = None,
          branch_ids=None) -> list[dict]:
    """Per month (``YYYY-MM``, the ``months`` months up to ``last_month``, default this
    month) and branch the reader sees (or of ``branch_ids``), by month then branch code:
    complaints, jobs and the rate. One query (each complaint put in its local month by
    comparing its receipt with the months' first instants, the same on both databases),
    and one call of ``complaints_job_counts`` per month."""
    ctx.require(READ)
    if not 1 <= int(months) <= MAX_TREND_MONTHS:
        raise ValidationError(_("from 1 to {n} months").format(n=MAX_TREND_MONTHS),
                              field="months")
    last = parse_month(last_month, "to_month") if last_month not in (None, "") \
        else today(ctx).replace(day=1)
    firsts = [add_months(last, n - int(months) + 1) for n in range(int(months) + 1)]
    bounds = [midnight(ctx, day) for day in firsts]
    labels = [day.strftime("%Y-%m") for day in firsts[:-1]]
    ids = visible_branches(ctx, branch_ids)
    c = Complaint
    month = case(*((c.received_at < bounds[n + 1], labels[n]) for n in range(len(labels))))
    inner = (select(c.branch_id.label("branch_id"), month.label("month"))
             .where(*counted(bounds[0], bounds[-1])))
    if ids is not None:
        inner = inner.where(c.branch_id.in_(ids))
    inner = inner.subquery("counted")
    query = (select(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name, inner.c.month,
                    func.count(inner.c.branch_id).label("complaints"))
             .select_from(BRANCHES)
             .outerjoin(inner, inner.c.branch_id == BRANCHES.c.id)
             .where(*_branch_filter(ids))
             .group_by(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name, inner.c.month))
    branches: dict[int, tuple[str, str]] = {}
    found: dict[tuple[str, int], int] = {}
    for row in ctx.session.execute(query):
        branches[row.id] = (row.code, row.name)
        if row.month is not None:
            found[(row.month, row.id)] = int(row.complaints)
    jobs = [job_counts(ctx, ids, bounds[n], bounds[n + 1]) for n in range(len(labels))]
    rows = []
    for n, label in enumerate(labels):
        for branch_id, (code, name) in sorted(branches.items(), key=lambda i: i[1][0]):
            complaints = found.get((label, branch_id), 0)
            done = jobs[n].get(branch_id, 0) if jobs[n] is not None else None
            rows.append({"month": label, "branch_id": branch_id, "branch_code": code,
                         "branch": name, "complaints": complaints, "jobs": done,
                         "rate": rate(complaints, done)})
    return rows


def trend_chart(ctx, rows: list[dict]) -> ChartData | None:
    """The trend as a chart: a line per branch of its rate by month, or (where no plugin
    counts jobs) bars of its complaints; None when there were no complaints and no jobs."""
    if not any(r["complaints"] or r["jobs"] for r in rows):
        return None
    months = tuple(dict.fromkeys(r["month"] for r in rows))
    branches = dict.fromkeys(r["branch"] for r in rows)
    by = {(r["month"], r["branch"]): r for r in rows}
    if all(r["jobs"] is None for r in rows):
        return ChartData("bar", _("Complaints, last {n} months").format(n=len(months)),
                         months, tuple((name, tuple(by[(m, name)]["complaints"]
                                                    for m in months))
                                       for name in branches))
    return ChartData("line", _("Complaint rate, last {n} months (%)").format(n=len(months)),
                     months,
                     tuple((name, tuple(float(by[(m, name)]["rate"])
                                        if by[(m, name)]["rate"] is not None else None
                                        for m in months)) for name in branches),
                     unit="%", decimals=2)


def _trend_report(ctx, to_month=None, months=None, branch=None) -> list[dict]:
    return trend(ctx, months or TREND_MONTHS, to_month, [branch.id] if branch else None)


def _trend_charts(ctx, rows: list[dict], **_params) -> list:
    return [trend_chart(ctx, rows)]


# ---------------------------------------------------------------------------
# the catalogue: what fixdesk_reports registers
# ---------------------------------------------------------------------------


BRANCH = Param("branch", "reference", reference="branch", label=N_("Branch"),
               help=N_("Empty: every branch you may see"))
PERIOD = (Param("month", label=N_("Month"), max_length=10,
                help=N_("Like 2026-10; empty: last month, unless dates are given")),
          Param("from_date", "date", label=N_("From date"),
                help=N_("Instead of a month: the first day")),
          Param("to_date", "date", label=N_("To date"), help=N_("The last day; empty: today")),
          BRANCH)

REPORTS = [
    Report("complaints.rate", N_("Complaint rate per branch"), RATE_COLUMNS, _rate_report,
           params=PERIOD, permission=READ, orientation="landscape", charts=_rate_charts),
    Report("complaints.by_category", N_("Complaints by category"), CATEGORY_COLUMNS,
           _of_period(category_rows), params=PERIOD, permission=READ,
           orientation="landscape"),
    Report("complaints.by_department", N_("Complaints by responsible department"),
           DEPARTMENT_COLUMNS, _of_period(department_rows), params=PERIOD, permission=READ,
           orientation="landscape"),
    Report("complaints.by_person", N_("Complaints by responsible person"), PERSON_COLUMNS,
           _of_period(person_rows), params=PERIOD, permission=READ,
           orientation="landscape"),
    Report("complaints.trend", N_("Complaint rate by month"), TREND_COLUMNS, _trend_report,
           permission=READ, charts=_trend_charts,
           params=(Param("to_month", label=N_("To month"), max_length=10,
                         help=N_("Like 2026-10; empty: this month")),
                   Param("months", "integer", label=N_("Months"),
                         help=N_("How many months up to it; empty: 12")),
                   BRANCH)),
]


# ---------------------------------------------------------------------------
# fixdesk complaints rate
# ---------------------------------------------------------------------------


@click.command("rate", help=_("The complaint rate per branch: complaints received in the "
                              "month ÷ jobs done in it, by category, critical, closed on "
                              "time (tab-separated)."))
@click.option("--month", metavar="YYYY-MM", help=_("The month (default: last month)."))
@click.option("--from", "from_date", metavar="YYYY-MM-DD",
              help=_("Instead of a month: the first day."))
@click.option("--to", "to_date", metavar="YYYY-MM-DD", help=_("The last day (default: "
                                                               "today)."))
@click.option("--branch", metavar="CODE", help=_("Only this branch."))
@pass_state
def rate_command(state: CliState, month, from_date, to_date, branch):
    """Run ``complaints.rate`` as the system, as ``fixdesk report run`` does (a reading
    transaction), and print it tab-separated with its totals in the terminal's language;
    a bad value raises (one line, exit 2)."""
    import getpass

    from kernel.documents.detached import Requester
    from kernel.i18n import terminal_locale
    from kernel.reports.detached import render_detached

    given = {key: value for key, value in (("month", month), ("from_date", from_date),
                                           ("to_date", to_date), ("branch", branch))
             if value not in (None, "")}
    with state.app() as app:
        done = render_detached(app, Requester(system_actor=f"cli:{getpass.getuser()}"),
                               "complaints.rate", given, "table", terminal_locale())
    click.echo(done.content, nl=False)


#: what ``fixdesk complaints`` adds from this module
SUBCOMMANDS = [rate_command]
