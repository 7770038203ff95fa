"""Commands for branch working hours, closed and extra working days, and deadlines."""

from __future__ import annotations

import datetime as dt

import click

from kernel.cli.base import CliState, FiniteFloatRange, cli, pass_state
from kernel.i18n import _

#: the most days ``calendar days`` lists at a time (a leap year)
MAX_LISTED_DAYS = 366


def _date(text: str, hint: str) -> dt.date:
    """A date as :func:`kernel.branch_calendar.parse_day` reads it (years it can show)."""
    from kernel.branch_calendar import parse_day
    from kernel.errors import ValidationError

    try:
        return parse_day(text)
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint=hint) from exc


@cli.group("calendar", help=_("Branch working hours, closed and extra working days, deadlines."))
def calendar_group():
    pass


@calendar_group.command("deadline", help=_("When N working hours after a start are up."))
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@click.option("--start", required=True, help=_("Start, local time: 2026-05-29 16:00."))
@click.option("--hours", required=True, type=FiniteFloatRange(0, 10000), help=_("Working hours."))
@pass_state
def calendar_deadline(state: CliState, branch_code, start, hours):
    from kernel.branch_calendar import deadline, local_datetime

    with state.context(branch=branch_code) as ctx:
        due = deadline(ctx, ctx.branch, local_datetime(start, ctx.settings.tz), hours)
    click.echo(due.strftime("%Y-%m-%d %H:%M %a"))


@calendar_group.command("hours", help=_("Show or set a branch's working hours."))
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@click.option("--set", "days", metavar="DAYS", help=_("Days to change: mon-fri, sat, sun ..."))
@click.argument("intervals", required=False)
@pass_state
def calendar_hours(state: CliState, branch_code, days, intervals):
    from kernel.branch_calendar import (
        DAY_NAMES,
        format_intervals,
        parse_days,
        parse_intervals,
        set_hours,
        weekly_hours,
    )

    with state.context(branch=branch_code) as ctx:
        if days is not None:
            if intervals is None:
                raise click.UsageError(_("give the hours, e.g. 09:00-12:00,13:00-18:00 or closed"))
            set_hours(ctx, ctx.branch, parse_days(days), parse_intervals(intervals))
        weekly = weekly_hours(ctx.session, ctx.branch.id)
    for number, name in enumerate(DAY_NAMES):
        # "closed" untranslated: it is the keyword --set takes back
        spans = format_intervals(weekly.get(number, [])) or "closed"
        click.echo(f"{name}\t{spans}")


@calendar_group.command("day", help=_("Mark a date closed or working at a branch (or clear it)."))
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@click.argument("date")
@click.option("--closed", "state_flag", flag_value="closed", help=_("The branch is closed."))
@click.option("--working", "state_flag", flag_value="working", help=_("The branch works."))
@click.option("--clear", "state_flag", flag_value="clear", help=_("Follow the normal calendar."))
@click.option("--note", help=_("Why (e.g. 2027 Spring Festival make-up day)."))
@pass_state
def calendar_day(state: CliState, branch_code, date, state_flag, note):
    from kernel.branch_calendar import set_day

    if state_flag is None:
        raise click.UsageError(_("say --closed, --working or --clear"))
    day = _date(date, "DATE")
    working = {"closed": False, "working": True, "clear": None}[state_flag]
    with state.context(branch=branch_code) as ctx:
        set_day(ctx, ctx.branch, day, working, note)
    click.echo(f"{branch_code.upper()} {day.isoformat()} {state_flag}")


@calendar_group.command("days", help=_("Working or closed days of a branch in a date range."))
@click.option("--branch", "branch_code", required=True, help=_("Branch code."))
@click.option("--from", "first", required=True, help=_("First date."))
@click.option("--to", "last", required=True, help=_("Last date."))
@pass_state
def calendar_days(state: CliState, branch_code, first, last):
    from kernel.branch_calendar import calendar_for, format_intervals

    start, end = _date(first, "--from"), _date(last, "--to")
    if end < start:
        raise click.BadParameter(_("the last date {last} is before the first date {first}")
                                 .format(last=end, first=start), param_hint="--to")
    if (end - start).days >= MAX_LISTED_DAYS:
        raise click.BadParameter(_("at most {n} days at a time").format(n=MAX_LISTED_DAYS),
                                 param_hint="--to")
    with state.context(branch=branch_code) as ctx:
        cal = calendar_for(ctx, ctx.branch)
        day = start
        while day <= end:
            spans = format_intervals(cal.intervals(day))
            click.echo(f"{day.isoformat()} {day:%a}\t{spans or _('rest day')}")
            day += dt.timedelta(days=1)
