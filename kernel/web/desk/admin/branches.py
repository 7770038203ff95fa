"""Admin console section: branches and their calendars.

``/desk/admin/branches``: the branches (code, name, zone, address, phone), each with a
link to its calendar and to its record form. ``/desk/admin/branches/<code>/calendar``:
the branch's year calendar (``?year=``; public holidays, make-up working days and the
branch's own days), a day's form (``?day=``), the weekly working hours and the deadline
calculator (``?start=&hours=``). ``POST .../calendar/day`` marks a day closed, working
or back to normal; ``POST .../hours`` sets the weekly hours. The same services as
``fixdesk calendar day|hours|deadline`` (:mod:`kernel.branch_calendar`).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import branch_calendar as calendar
from kernel.errors import FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, _, zone_name
from kernel.masterdata import BRANCH_CODE, get_branch, list_branches
from kernel.web.desk.admin.shell import admin_context, read_form, render_admin, text_field, token
from kernel.web.desk.render import DeskRoute, redirect

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
WEEKDAYS_SHORT = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))
#: a day's kind → its name in the legend and the cells' titles
KINDS = {
    "working": N_("Working day"),
    "weekend": N_("Day off"),
    "holiday": N_("Public holiday"),
    "makeup": N_("Make-up working day"),
    "closed": N_("Closed at this branch"),
    "extra": N_("Extra working day at this branch"),
}
#: a day form's choice → set_day's ``working``
STATES = {"clear": None, "closed": False, "working": True}
DONE = {"day": N_("The day is saved."), "hours": N_("The working hours are saved.")}


def _branch(ctx, code: str):
    """The branch with ``code`` (checked after the admin check: 404 for no such branch)."""
    code = (code or "").upper()
    if not BRANCH_CODE.fullmatch(code):
        raise NotFound(_("There is no such branch."))
    return get_branch(ctx, code)


def _locale(request: Request) -> str:
    return getattr(request.state, "desk_locale", None) or "en"


def _day_label(day: dt.date) -> str:
    return f"{day.isoformat()} {_(WEEKDAYS_SHORT[day.weekday()])}"


def _title(day: calendar.DayView) -> str:
    """What a cell says when pointed at: the kind, the holiday, the branch's note."""
    parts = [_day_label(day.day), _(KINDS[day.kind])]
    if day.holiday:
        parts.append(day.holiday)
    if day.own is not None and day.official is not None:
        parts.append(_("public calendar: {kind}").format(
            kind=_(KINDS["makeup" if day.official else "holiday"])))
    if day.note:
        parts.append(day.note)
    if day.hours:
        parts.append(day.hours)
    return " · ".join(parts)


class Keep:
    """The page's query (year, deadline inputs) carried through links and forms."""

    def __init__(self, year: int, start: str = "", hours: str = ""):
        self.year, self.start, self.hours = year, start[:40], hours[:40]

    def fields(self) -> dict[str, str]:
        found = {"year": str(self.year)}
        if self.start or self.hours:
            found.update(start=self.start, hours=self.hours)
        return found

    def url(self, code: str, **extra) -> str:
        query = {**self.fields(), **{k: v for k, v in extra.items() if v is not None}}
        return f"/desk/admin/branches/{quote(code)}/calendar?{urlencode(query)}"


def _deadline(ctx, branch, start: str, hours: str) -> dict | None:
    """The calculator's answer (or its problem) for the page's ``start`` and ``hours``."""
    if not start.strip() and not hours.strip():
        return None
    try:
        begin = calendar.local_datetime(start, ctx.settings.tz)
        due = calendar.deadline(ctx, branch, begin, hours)
    except FixdeskError as exc:
        return {"error": exc.message, "field": exc.field, "result": None, "start": None}
    return {"error": None, "field": None,
            "result": f"{due:%Y-%m-%d %H:%M} {_(WEEKDAYS_SHORT[due.weekday()])}",
            "value": f"{begin:%Y-%m-%dT%H:%M}",
            "start": f"{begin:%Y-%m-%d %H:%M} {_(WEEKDAYS_SHORT[begin.weekday()])}"}


def _calendar_page(request: Request, ctx, branch, *, year: str = "", day: str = "",
                   start: str = "", hours: str = "", done: str = "", status: int = 200,
                   problem: str | None = None, day_input: dict | None = None,
                   hours_input: dict | None = None, hours_errors: dict | None = None):
    """The branch's calendar page: year grid, day form, weekly hours, deadline calculator."""
    locale = _locale(request)
    chosen = None
    try:
        number = calendar.parse_year(year) if year.strip() else None
        if day.strip():
            chosen = calendar.parse_day(day)
            number = chosen.year
    except FixdeskError as exc:
        problem, status = exc.message, max(status, exc.status)
        number, chosen = None, None
    number = number or ctx.now().astimezone(ctx.settings.tz).year
    number = min(max(number, calendar.MIN_YEAR), calendar.MAX_YEAR)
    keep = Keep(number, start, hours)
    months = calendar.year_view(ctx, branch, number, locale)
    weekly = calendar.weekly_hours(ctx.session, branch.id)
    hours_input = hours_input or {}
    week = [{"number": n, "name": calendar.DAY_NAMES[n], "title": _(WEEKDAYS[n]),
             "value": hours_input.get(n, calendar.format_intervals(weekly.get(n, []))),
             "error": (hours_errors or {}).get(n)} for n in range(7)]
    selected = None
    if chosen is not None:
        view = calendar.day_view(ctx, branch, chosen, locale)
        state = "clear" if view.own is None else ("working" if view.own else "closed")
        selected = {"view": view, "label": _day_label(chosen), "kind": _(KINDS[view.kind]),
                    "state": state, "note": view.note or "", "error": None, "field": None}
        if day_input:
            selected.update(day_input)
    answer = _deadline(ctx, branch, start, hours)
    if answer and answer.get("error"):
        status = max(status, 422)
    notice = _(DONE[done]) if done in DONE else None
    return render_admin(
        request, "branch_calendar.html", ctx, "branches",
        _("Calendar of {code} {name}").format(code=branch.code, name=branch.name),
        status=status, notice=notice, problem=problem, branch=branch, year=number,
        months=[{"title": _(MONTHS[m.month - 1]), "weeks": m.weeks} for m in months],
        weekdays=[_(name) for name in WEEKDAYS_SHORT], kinds=[(k, _(v)) for k, v in KINDS.items()],
        cell_title=_title, keep=keep, code=branch.code, selected=selected, week=week,
        deadline=answer, start_value=(answer or {}).get("value", start[:40]), hours=hours[:40],
        zone=zone_name(ctx.settings.tz),
        prev_url=keep.url(branch.code, year=str(number - 1)) if number > calendar.MIN_YEAR
        else None,
        next_url=keep.url(branch.code, year=str(number + 1)) if number < calendar.MAX_YEAR
        else None)


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/branches")
    def branches(request: Request):
        with admin_context(request) as ctx:
            rows = [{"branch": b, "zone": _(b.zone.value),
                     "calendar": f"/desk/admin/branches/{quote(b.code)}/calendar",
                     "record": f"/desk/branch/{b.id}"} for b in list_branches(ctx)]
            return render_admin(request, "branches.html", ctx, "branches",
                                _("Branches and calendars"), rows=rows,
                                zone=zone_name(ctx.settings.tz))

    @routes.get("/desk/admin/branches/{code}/calendar")
    def calendar_page(request: Request, code: str, year: str = "", day: str = "",
                      start: str = "", hours: str = "", done: str = ""):
        with admin_context(request) as ctx:
            branch = _branch(ctx, code)
            return _calendar_page(request, ctx, branch, year=year, day=day, start=start,
                                  hours=hours, done=done)

    @routes.post("/desk/admin/branches/{code}/calendar/day")
    async def save_day(request: Request, code: str):
        form = await read_form(request, 20)
        return await run_in_threadpool(_save_day, request, code, form)

    def _save_day(request: Request, code: str, form: dict):
        day_text, state = text_field(form, "day"), text_field(form, "state")
        note = text_field(form, "note")
        keep = {"year": text_field(form, "year"), "start": text_field(form, "start"),
                "hours": text_field(form, "hours")}
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                branch = _branch(ctx, code)
                day = calendar.parse_day(day_text)
                if state not in STATES:
                    raise ValidationError(_("choose closed, working or the normal calendar"),
                                          field="state")
                calendar.set_day(ctx, branch, day, STATES[state], note)
            back = Keep(day.year, keep["start"], keep["hours"])
            return redirect(back.url(branch.code, day=day.isoformat(), done="day") + "#day")
        except ValidationError as exc:
            problem, status, field = exc.message, exc.status, exc.field
        with admin_context(request, csrf=token(form)) as ctx:
            branch = _branch(ctx, code)
            shown = day_text if field != "day" else ""
            return _calendar_page(
                request, ctx, branch, year=keep["year"], day=shown, start=keep["start"],
                hours=keep["hours"], status=status,
                problem=problem if field == "day" else None,
                day_input={"state": state if state in STATES else "clear",
                           "note": note[:calendar.MAX_NOTE_LENGTH], "error": problem,
                           "field": field})

    @routes.post("/desk/admin/branches/{code}/hours")
    async def save_hours(request: Request, code: str):
        form = await read_form(request, 20)
        return await run_in_threadpool(_save_hours, request, code, form)

    def _save_hours(request: Request, code: str, form: dict):
        # a weekday the form does not send is left as it is
        texts = {n: text_field(form, f"hours_{name}")
                 for n, name in enumerate(calendar.DAY_NAMES) if f"hours_{name}" in form}
        year, start, hours = (text_field(form, k) for k in ("year", "start", "hours"))
        try:
            with admin_context(request, csrf=token(form)) as ctx:
                branch = _branch(ctx, code)
                calendar.set_week(ctx, branch, texts)
                this_year = ctx.now().astimezone(ctx.settings.tz).year
        except calendar.HoursError as exc:
            errors, status = exc.errors, exc.status
        else:
            try:
                number = calendar.parse_year(year)
            except ValidationError:  # the page's year only: the hours are saved
                number = this_year
            back = Keep(number, start, hours)
            return redirect(back.url(branch.code, done="hours") + "#hours")
        with admin_context(request, csrf=token(form)) as ctx:
            branch = _branch(ctx, code)
            return _calendar_page(
                request, ctx, branch, year=year, start=start, hours=hours,
                status=status, problem=_("The working hours were not saved: correct the "
                                         "marked days."),
                hours_input={n: t[:calendar.MAX_HOURS_TEXT] for n, t in texts.items()},
                hours_errors=errors)

    return routes
