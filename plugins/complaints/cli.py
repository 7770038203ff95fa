"""``fixdesk complaints``: complaints from a terminal.

The group collects the subcommands of this module and of the modules in
:data:`COMMAND_MODULES` (each module's ``SUBCOMMANDS``: click commands using
``@kernel.cli.base.pass_state``), so that each module keeps its commands beside its
services. Output is tab-separated like every ``fixdesk`` table; a bad value prints one
line and exits 2, never a traceback.

* ``register`` — a complaint taken by phone or at the counter; prints its number;
* ``list`` — open complaints, newest first (50 a page, ``--before`` the next page);
* ``show NUMBER`` — one complaint with its contacts, approvals and escalations;
* ``step NUMBER ACTION [--param k=v ...]`` — any step of the process (investigate,
  determine, propose, approve, agree, carry_out, inform, record_contact, close, ...)
  through :func:`kernel.actions.run_action`, the path of the API and the desk;
* ``mail-in`` — one e-mail message on standard input becomes a complaint (a mail
  server's pipe, fetchmail's ``--mda``);
* ``escalate`` — the escalation job now.

Commands run as the system unless ``--user`` names the user they act for (his
permissions and branches apply).
"""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager

import click
from sqlalchemy import and_, or_, select

from kernel.cli.base import CliState, pass_state, print_table
from kernel.contributions import collect
from kernel.errors import FixdeskError, NotFound
from kernel.i18n import N_, _

from .rules import OPEN, Category, Channel, Severity, Status, Topic

#: the modules whose ``SUBCOMMANDS`` join this module's in ``fixdesk complaints``
COMMAND_MODULES: tuple[str, ...] = ("reports",)
#: the label of the branch in ``show`` (the complaint's labels name no branch)
BRANCH = N_("Branch")
#: complaints per page of ``fixdesk complaints list``
PAGE = 50
ENTITY = "complaints_complaint"
#: ``mail-in``'s exit status when the database cannot be reached (sysexits' EX_TEMPFAIL:
#: Postfix and fetchmail keep the message and deliver it again later)
TEMPFAIL = 75


def _fail(exc: FixdeskError) -> click.ClickException:
    """A refusal as one line naming the field (``cause: is required``)."""
    fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else {})
    if fields:
        return click.ClickException("; ".join(f"{name}: {text}" for name, text in
                                              fields.items()))
    return click.ClickException(exc.message)


@contextmanager
def acting(state: CliState, user: str | None = None, branch: str | None = None):
    """One transaction as ``user`` (default: the system, audited as ``cli:<login>``) in
    ``branch``; a refusal becomes one line naming the field."""
    from kernel.audit import set_actor

    with state.app() as app:
        try:
            with app.context(user=user, branch=branch) as ctx:
                if user is None:
                    ctx.session.info["fixdesk_system_actor"] = f"cli:{getpass.getuser()}"
                    set_actor(ctx.session, None)
                yield ctx
        except FixdeskError as exc:
            raise _fail(exc) from None


def complaint_by_number(ctx, number: str):
    """The complaint numbered ``number`` as the user may see it, or :class:`NotFound`."""
    from .models import Complaint

    number = (number or "").strip()
    found = ctx.session.scalar(select(Complaint).where(Complaint.number == number)) \
        if number.isprintable() and len(number) <= 40 else None
    if found is None or not ctx.can_see(found):
        shown = "".join(ch for ch in number if ch.isprintable())[:40]
        raise NotFound(_("no complaint {number}").format(number=shown), field="number")
    ctx.require("complaints_complaint.read", found)
    return found


def _local(ctx, instant) -> str:
    from .notices import local_text

    return local_text(ctx, instant)


def _choice(enum_class) -> click.Choice:
    return click.Choice([member.value for member in enum_class])


# ---------------------------------------------------------------------------
# fixdesk complaints register
# ---------------------------------------------------------------------------


@click.command("register", help=_("Register a complaint (praise, inquiry, suggestion) taken "
                                  "by phone or at the counter; prints its number."))
@click.option("--branch", metavar="CODE", help=_("The branch (default: the customer's)."))
@click.option("--customer", "customer_code", metavar="CODE", help=_("The customer's code."))
@click.option("--topic", type=_choice(Topic), default=Topic.COMPLAINT.value,
              show_default=True, help=_("What the customer got in touch about."))
@click.option("--category", type=_choice(Category), help=_("The complaint's category."))
@click.option("--severity", type=_choice(Severity), default=Severity.ORDINARY.value,
              show_default=True, help=_("How grave the complaint is."))
@click.option("--channel", type=_choice(Channel), default=Channel.PHONE.value,
              show_default=True, help=_("How the complaint arrived."))
@click.option("--phone", help=_("The phone number to call back."))
@click.option("--email", help=_("The e-mail address to answer."))
@click.option("--contact", help=_("The person who complained."))
@click.option("--company", help=_("The company as the customer gave it (no customer code)."))
@click.option("--about", metavar="ENTITY:ID",
              help=_("What it is about, e.g. repair_work_order:12 or customer_equipment:3."))
@click.option("--description", required=True, help=_("The customer's words."))
@click.option("--user", metavar="USER", help=_("Register as this user (default: the "
                                              "system)."))
@pass_state
def register_command(state: CliState, branch, customer_code, topic, category, severity,
                     channel, phone, email, contact, company, about, description, user):
    from . import services

    values = {"topic": topic, "severity": severity, "channel": channel, "phone": phone,
              "email": email, "contact_name": contact, "company_name": company,
              "about": about, "description": description, "category": category}
    values = {key: value for key, value in values.items() if value not in (None, "")}
    with acting(state, user, branch) as ctx:
        if customer_code:
            from .intake import clean_text

            customer = _customer(ctx, clean_text(customer_code, multiline=False))
            values["customer_id"] = customer.id
            if ctx.branch is None:
                ctx.branch = customer.branch
        number = services.register(ctx, **values).number
    click.echo(number)


def _customer(ctx, code: str):
    from kernel.models import Customer

    found = ctx.session.scalars(select(Customer).where(Customer.code == code.strip())
                                .order_by(Customer.id).limit(1)).first() \
        if code.strip() and len(code) <= 30 else None
    if found is None or not ctx.can_see(found):
        raise NotFound(_("no customer {code}").format(code=code[:30]), field="customer")
    return found


# ---------------------------------------------------------------------------
# fixdesk complaints list / show
# ---------------------------------------------------------------------------


@click.command("list", help=_("Open complaints, newest first, 50 at a time (--before the "
                              "last number shown for the next page)."))
@click.option("--branch", metavar="CODE", help=_("Only this branch."))
@click.option("--status", type=_choice(Status),
              help=_("Only complaints in this status (default: every open one)."))
@click.option("--before", metavar="NUMBER",
              help=_("Start after this complaint (the last one of the previous page)."))
@click.option("--user", metavar="USER", help=_("As this user: the branches he may see."))
@pass_state
def list_command(state: CliState, branch, status, before, user):
    from kernel.models import Branch, Customer

    from .models import Complaint

    with acting(state, user) as ctx:
        ctx.require("complaints_complaint.read")
        query = select(Complaint.number, Complaint.received_at, Branch.code,
                       Complaint.status, Complaint.topic, Complaint.severity,
                       Customer.name, Complaint.company_name, Complaint.contact_name,
                       Complaint.resolution_due_at, Complaint.escalation_level) \
            .join(Branch, Branch.id == Complaint.branch_id) \
            .outerjoin(Customer, Customer.id == Complaint.customer_id)
        statuses = [status] if status else [s.value for s in OPEN]
        query = query.where(Complaint.status.in_(statuses))
        if branch:
            from kernel.masterdata import branch_by_code

            query = query.where(Complaint.branch_id == branch_by_code(ctx.session, branch).id)
        if ctx.user is not None and not ctx.user.sees_all_branches:
            query = query.where(Complaint.branch_id.in_(ctx.user.branch_ids))
        if before:
            last = complaint_by_number(ctx, before)
            query = query.where(or_(Complaint.received_at < last.received_at,
                                    and_(Complaint.received_at == last.received_at,
                                         Complaint.id < last.id)))
        rows = ctx.session.execute(query.order_by(Complaint.received_at.desc(),
                                                  Complaint.id.desc()).limit(PAGE)).all()
        table = [(number, _local(ctx, received), code, _(str(state_)), _(str(topic)),
                  _(str(severity)), customer or company or contact or "",
                  _local(ctx, due), level or "")
                 for number, received, code, state_, topic, severity, customer, company,
                 contact, due, level in rows]
    print_table((_("NUMBER"), _("RECEIVED"), _("BRANCH"), _("STATUS"), _("TOPIC"),
                 _("SEVERITY"), _("CUSTOMER"), _("RESOLUTION DUE"), _("ESCALATED")), table)


@click.command("show", help=_("One complaint: its intake, deadlines, investigation, "
                              "resolution, the contacts with the customer, the handling "
                              "form's approvals and the escalations."))
@click.argument("number")
@click.option("--user", metavar="USER", help=_("As this user."))
@pass_state
def show_command(state: CliState, number, user):
    with acting(state, user) as ctx:
        lines = show_lines(ctx, complaint_by_number(ctx, number))
    for line in lines:
        click.echo(line)


#: the complaint's fields ``show`` prints (when they hold something)
SHOWN = ("number", "status", "branch_id", "received_at", "channel", "topic", "category",
         "severity", "customer_id", "company_name", "contact_name", "phone", "email",
         "about", "engineer_id", "description", "response_due_at", "responded_at",
         "resolution_due_at", "paused_at", "pause_reason", "escalation_level",
         "investigation_started_at", "cause", "our_fault", "responsible_department_id",
         "responsible_employee_id", "evidence", "determined_at", "resolution", "proposed_at",
         "agreed_at", "agreement_note", "carried_out_at", "carried_out_note", "informed_at",
         "result_note", "customer_satisfied", "passed_on_to_id", "closed_at",
         "reopen_count", "reopen_reason", "cancelled_at", "cancel_reason")


def _value(ctx, complaint, name: str) -> str:
    import datetime as dt
    import enum

    from kernel.linked import link_labels

    value = getattr(complaint, name)
    related = {"branch_id": "branch", "customer_id": "customer", "engineer_id": "engineer",
               "responsible_department_id": "responsible_department",
               "responsible_employee_id": "responsible_employee",
               "passed_on_to_id": "passed_on_to"}
    if name in related and value is not None:
        record = getattr(complaint, related[name])
        code = getattr(record, "code", None)
        return f"{code} {record.name}" if code else record.name
    if name == "about" and value is not None:
        return link_labels(ctx, [value]).get(value) or f"{value.entity}:{value.id}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, enum.Enum):
        return _(str(value.value))
    if isinstance(value, dt.datetime):
        return _local(ctx, value)
    return "" if value is None or value == 0 else str(value)


def show_lines(ctx, complaint) -> list[str]:
    """The lines ``fixdesk complaints show`` prints for ``complaint``."""
    from .models import Complaint

    labels = Complaint.__labels__
    lines = []
    for name in SHOWN:
        text = _value(ctx, complaint, name)
        if text == "":
            continue
        label = _(labels.get(name, BRANCH if name == "branch_id" else name))
        if "\n" in text:
            lines.append(f"{label}:")
            lines += [f"    {line}" for line in text.splitlines()]
        else:
            lines.append(f"{label}: {text}")
    from kernel.auth import role_title

    said, approval_word, escalation_word = (_("Contact with the customer"),
                                            _("Department approval"), _("Escalation"))
    for contact in complaint.contacts:
        lines.append(f"{said}: {_local(ctx, contact.contacted_at)}  "
                     f"{_(str(contact.method))}  {contact.summary}")
    for approval in complaint.approvals:
        lines.append(f"{approval_word} ({approval.round}): {approval.department.name}  "
                     f"{_(str(approval.state))}  {_local(ctx, approval.decided_at)}  "
                     f"{approval.comment or ''}".rstrip())
    for row in complaint.escalations:
        lines.append(f"{escalation_word} {row.level}: {role_title(ctx.app, row.role)}  "
                     f"{_(str(row.deadline))}  {_local(ctx, row.escalated_at)}")
    return lines


# ---------------------------------------------------------------------------
# fixdesk complaints step
# ---------------------------------------------------------------------------


def _pairs(pairs) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(_("{pair!r} is not NAME=VALUE").format(pair=pair),
                                     param_hint="--param")
        params[key.strip()] = value
    return params


@click.command("step", help=_("Run a step of a complaint's process, as the API and the desk "
                              "do: investigate, record_contact, determine, propose, "
                              "approve, reject, agree, carry_out, inform, close, pass_on, "
                              "wait, resume, reclassify, reopen, cancel."))
@click.argument("number")
@click.argument("action")
@click.option("--param", "-p", "pairs", multiple=True, metavar="NAME=VALUE",
              help=_("A parameter of the step (repeatable), e.g. cause=... our_fault=true "
                     "department=SVC."))
@click.option("--user", metavar="USER", help=_("As this user (default: the system)."))
@pass_state
def step_command(state: CliState, number, action, pairs, user):
    from kernel.actions import run_action

    params = _pairs(pairs)
    with acting(state, user) as ctx:
        complaint = complaint_by_number(ctx, number)
        ctx.branch = ctx.branch or complaint.branch  # the branch's switches apply
        run_action(ctx, ENTITY, complaint.id, action, **params)
        line = f"{complaint.number}\t{_(str(complaint.status))}"
    click.echo(line)


# ---------------------------------------------------------------------------
# fixdesk complaints mail-in / escalate
# ---------------------------------------------------------------------------


@click.command("mail-in", help=_("Register the complaint of one e-mail message read from "
                                 "standard input (a mail server's pipe, fetchmail --mda); "
                                 "prints its number. A message delivered twice makes one "
                                 "complaint."))
@pass_state
def mail_in_command(state: CliState):
    from sqlalchemy.exc import OperationalError

    from .intake import MAX_MESSAGE, register_message

    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.read(MAX_MESSAGE + 1) if stream is not None else \
        sys.stdin.read().encode("utf-8", "surrogateescape")
    try:
        with acting(state) as ctx:
            complaint, _created = register_message(ctx, raw)
            number = complaint.number
    except OperationalError as exc:  # the mail server keeps the message and tries again
        click.echo(_("error: {message}").format(message=_(
            "database unavailable: {error}").format(error=str(exc.orig or exc).splitlines()[0])),
            err=True)
        raise click.exceptions.Exit(TEMPFAIL) from None
    click.echo(number)


@click.command("escalate", help=_("Escalate every open complaint past a deadline now (the "
                                  "job runs every five minutes); prints how many levels "
                                  "were told."))
@pass_state
def escalate_command(state: CliState):
    from .escalation import escalate_due

    with acting(state) as ctx:
        told = escalate_due(ctx)
    click.echo(told)


@click.group(name="complaints", help=_("Complaints: register, list, show, run a step, mail "
                                       "intake, escalation."))
def complaints_cli():
    pass


#: what ``fixdesk complaints`` holds from this module
SUBCOMMANDS = [register_command, list_command, show_command, step_command, mail_in_command,
               escalate_command]

for _command in SUBCOMMANDS:
    complaints_cli.add_command(_command)
for _command in collect("plugins.complaints", COMMAND_MODULES, "SUBCOMMANDS"):
    complaints_cli.add_command(_command)

CLI_COMMANDS = [complaints_cli]
