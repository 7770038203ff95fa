"""Test plugin: one entity with money, its own hookspec, demo data, and every kernel service:
permissions, settings (a naming series, a per-branch limit), queued and scheduled jobs."""

import os
import time
from decimal import Decimal

from sqlalchemy import select

from kernel import (
    Action,
    Conflict,
    JobHandler,
    Permission,
    ScheduledJob,
    Setting,
    ValidationError,
    hookimpl,
)
from kernel.models import Branch
from kernel.numbering import next_number, series_setting
from kernel.settings import get_setting

from . import hookspecs
from .models import Note


@hookimpl
def fixdesk_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    return [Note]


@hookimpl
def fixdesk_permissions():
    return [Permission("fdt_note", "read", ("front_desk", "engineer")),
            Permission("fdt_note", "create", ("front_desk",)),
            Permission("fdt_note", "update", ("front_desk",)),
            Permission("fdt_notes.by_branch", "read", ("front_desk",))]


@hookimpl
def fixdesk_settings():
    return [series_setting("fdt_note", "NT-{branch}-{YYYY}-{#####}", "Numbers of notes"),
            Setting("fdt_notes.max_amount", Decimal, Decimal("1000"),
                    "Largest amount on one note", per_branch=True)]


@hookimpl
def fixdesk_job_handlers():
    return [JobHandler("fdt_notes.record", record, max_attempts=3, backoff_seconds=1),
            JobHandler("fdt_notes.slow", slow, lease_seconds=2),
            JobHandler("fdt_notes.flaky", flaky, max_attempts=2, backoff_seconds=0)]


@hookimpl
def fixdesk_scheduled_jobs():
    return [ScheduledJob("fdt_notes.hourly_sweep", sweep, interval_seconds=3600)]


@hookimpl
def fixdesk_demo_data(ctx):
    ctx.demo_calls = [*getattr(ctx, "demo_calls", []), "fdt_notes"]
    branch = ctx.session.scalars(select(Branch).order_by(Branch.id)).first()
    ctx.session.add(Note(branch_id=branch.id, title="演示便签", amount=Decimal("12.30")))


def add_note(ctx, branch_id, title, amount):
    """The plugin's service: add a note and tell the other plugins."""
    branch = ctx.session.get(Branch, branch_id)
    ctx.require("fdt_note.create", Note(branch_id=branch_id))
    limit = get_setting(ctx, "fdt_notes.max_amount", branch)
    if Decimal(amount) > limit:
        raise ValidationError(f"amount above {limit}", field="amount")
    note = Note(branch_id=branch_id, title=title, amount=amount,
                number=next_number(ctx, "fdt_note", branch=branch))
    ctx.session.add(note)
    ctx.session.flush()
    return note, ctx.hook.fdt_notes_added(ctx=ctx, note=note)


# -- jobs ---------------------------------------------------------------------


def record(ctx, branch_id, title, fail=False):
    """Writes one note; with ``fail`` it raises after writing (the write must roll back)."""
    ctx.session.add(Note(branch_id=branch_id, title=title, amount=Decimal("1")))
    ctx.session.flush()
    if fail:
        raise RuntimeError("printer on fire")


def slow(ctx, branch_id, title, marker):
    """Works for as long as the file ``marker`` exists (a test kills the worker meanwhile)."""
    deadline = time.monotonic() + 60
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    ctx.session.add(Note(branch_id=branch_id, title=title, amount=Decimal("2")))


def flaky(ctx, **_payload):
    raise ConnectionError("SMS gateway timed out")


def sweep(ctx):
    branch = ctx.session.scalars(select(Branch).order_by(Branch.id)).first()
    ctx.session.add(Note(branch_id=branch.id, title="sweep", amount=Decimal("0")))


def reply_due(ctx, note, hours=6):
    """When a note must be answered: ``hours`` working hours of its branch after it was made."""
    from kernel.branch_calendar import add_working_hours

    return add_working_hours(ctx, note.created_at, hours, ctx.session.get(Branch, note.branch_id))


def mark_urgent(ctx, note, reason=""):
    """An action: prefix the title; only for notes that are not urgent yet."""
    if note.title.startswith("[加急]"):
        raise Conflict("the note is urgent already")
    note.title = f"[加急] {note.title} {reason}".strip()
    return note


@hookimpl
def fixdesk_actions():
    return [Action(Note, "mark_urgent", "Mark urgent", mark_urgent, "fdt_note.update",
                   available=lambda note: not note.title.startswith("[加急]"),
                   params=("reason",))]


# -- a report -----------------------------------------------------------------


def notes_by_branch(ctx, since, branch=None, min_amount=None, show="all"):
    """Notes made since a date, per branch: how many, their amount, their share, the last."""
    import datetime as dt

    start = dt.datetime.combine(since, dt.time(0), ctx.settings.tz)
    query = select(Note).where(Note.created_at >= start).order_by(Note.id)
    if branch is not None:
        query = query.where(Note.branch_id == branch.id)
    if min_amount is not None:
        query = query.where(Note.amount >= min_amount)
    notes = [n for n in ctx.session.scalars(query) if ctx.can_see(n)]
    if show == "urgent":
        notes = [n for n in notes if n.title.startswith("[加急]")]
    lines = {}
    for note in notes:
        found = ctx.session.get(Branch, note.branch_id)
        line = lines.setdefault(found.code, {"branch": found.name, "code": found.code,
                                             "notes": 0, "amount": Decimal("0"), "last": None})
        line["notes"] += 1
        line["amount"] += note.amount
        line["last"] = note.created_at
    rows = [lines[code] for code in sorted(lines)]
    for row in rows:
        row["share"] = (Decimal(row["notes"]) / len(notes)).quantize(Decimal("0.0001"))
    return rows


@hookimpl
def fixdesk_reports():
    from kernel import Column, Param, Report

    return [Report(
        "fdt_notes.by_branch", "Notes by branch",
        (Column("branch", "Branch"), Column("notes", "Notes", "int", total=True),
         Column("amount", "Amount", "money", total=True), Column("share", "Share", "share"),
         Column("last", "Last note", "datetime")),
        notes_by_branch,
        params=(Param("since", "date", label="Since", required=True),
                Param("branch", "reference", reference="branch"),
                Param("min_amount", "money", label="At least"),
                Param("show", "choice", choices=("all", "urgent"))))]
