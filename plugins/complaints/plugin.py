"""The complaints plugin's hook implementations: short, delegating to the modules beside them.

Nothing here imports another plugin. The glue for repair is a part registered only
where repair is enabled (``complaints.repair``: a poor survey opens a complaint, the
customer's open complaints at registration, a "Complaints" section on the work order);
repair answers complaints' questions (jobs per branch for the complaint rate, who a work
order concerns) through its own part ``repair.complaints``.
"""

from __future__ import annotations

from kernel import Part, Permission, Role, Setting, ValidationError, hookimpl
from kernel.contributions import collect
from kernel.i18n import N_, _
from kernel.numbering import series_setting

#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Complaints")

EVERYONE = ("branch_manager", "service_supervisor", "front_desk", "engineer",
            "warehouse_keeper", "accountant")
OFFICE = ("branch_manager", "service_supervisor", "front_desk", "accountant")
HANDLERS = ("branch_manager", "service_supervisor")
INTAKE = ("branch_manager", "service_supervisor", "front_desk")
MANAGEMENT = "vice_general_manager"
DEPARTMENT_HEAD = "department_head"

#: entity → {actions: roles}; admins hold every permission
PERMISSIONS = {
    "complaints_department": {"read": EVERYONE,
                              **dict.fromkeys(("create", "update", "delete"),
                                              ("branch_manager",))},
    "complaints_complaint": {"read": OFFICE, "create": INTAKE, "handle": HANDLERS,
                             "contact": HANDLERS, "approve": EVERYONE},
}

#: the modules whose contributions this plugin collects: each may define ``ACTIONS``,
#: ``FORM_SECTIONS``, ``LIST_COLUMNS``, ``DOCUMENTS``, ``REPORTS``, ``DASHBOARD``,
#: ``SCHEDULED_JOBS``, ``JOB_HANDLERS``, ``CLI_COMMANDS`` and ``ROUTERS`` (lists)
MODULES = ("actions", "escalation", "views", "papers", "reports", "dashboard", "intake",
           "public_form", "cli")

#: working hours allowed for the first response and the resolution, by severity
DEADLINE_HOURS = {"response": {"ordinary": 8, "serious": 4, "critical": 2},
                  "resolution": {"ordinary": 40, "serious": 24, "critical": 16}}


def _collect(name: str) -> list:
    return collect("plugins.complaints", MODULES, name)


def _positive(value) -> None:
    if value <= 0 or value > 10000:
        raise ValidationError(_("must be from 1 to 10000"))


def _not_negative(value) -> None:
    if value < 0:
        raise ValidationError(_("must not be negative"))


def _roles(value) -> None:
    names = [role.strip() for role in str(value).split(",") if role.strip()]
    if not names or any(not name.isidentifier() for name in names):
        raise ValidationError(_("role names separated by commas"))


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """The questions and events complaints offers (see :mod:`.hookspecs`)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """Departments (with their members), complaints with their customer contacts,
    department approvals and escalations."""
    from .models import ENTITIES

    return ENTITIES


@hookimpl
def fixdesk_roles():
    """The vice general manager (副总经理): told of critical complaints at once, sees them
    on the management dashboard, approves handling forms for his departments; the head of
    a department (部门负责人) who approves its handling forms."""
    return [Role(MANAGEMENT, N_("vice_general_manager"),
                 ("complaints_complaint.read", "complaints_complaint.handle",
                  "complaints_complaint.approve", "complaints_department.read")),
            # the head of a department such as HR or QA: reads complaints and decides on
            # the handling forms of his department (R26), nothing else
            Role(DEPARTMENT_HEAD, N_("department_head"),
                 ("complaints_complaint.read", "complaints_complaint.approve",
                  "complaints_department.read"))]


@hookimpl
def fixdesk_permissions():
    """The front desk registers; supervisors and branch managers handle and contact the
    customer; department heads and members approve handling forms."""
    return [Permission(entity, action, roles)
            for entity, actions in PERMISSIONS.items() for action, roles in actions.items()]


@hookimpl
def fixdesk_settings():
    """Deadlines by severity, the escalation chain, the public form's limits, when a
    survey opens a complaint, the numbering of complaints."""
    hours = [Setting(f"complaints.{kind}_hours_{severity}", int, default,
                     N_("Working hours for the first response to a complaint of this "
                        "severity") if kind == "response" else
                     N_("Working hours to resolve a complaint of this severity"),
                     per_branch=True, validate=_positive)
             for kind, by_severity in DEADLINE_HOURS.items()
             for severity, default in by_severity.items()]
    return [series_setting("complaints_complaint", "CP-{branch}-{YYYY}-{#####}",
                           N_("Numbers of complaints")), *hours,
            Setting("complaints.escalation_chain", str,
                    "service_supervisor,branch_manager,vice_general_manager",
                    N_("Roles told when a complaint is past a deadline, lowest level first"),
                    per_branch=True, validate=_roles),
            Setting("complaints.escalation_step_hours", int, 8,
                    N_("Working hours a resolution may stay overdue before the next "
                       "level is told"), per_branch=True, validate=_not_negative),
            Setting("complaints.public_form", bool, True,
                    N_("Customers may send complaints through the public form")),
            Setting("complaints.public_branch", str, "",
                    N_("Branch code that complaints from the public form and e-mail "
                       "go to (empty: the first branch)")),
            Setting("complaints.public_hourly_per_address", int, 5,
                    N_("Complaints the public form takes per hour from one address"),
                    validate=_positive),
            Setting("complaints.public_hourly_total", int, 200,
                    N_("Complaints the public form takes per hour in all"),
                    validate=_positive),
            Setting("complaints.survey_poor_rating", int, 1,
                    N_("A survey rating at or below this (of 4) opens a complaint"),
                    per_branch=True),
            Setting("complaints.survey_words", str, "投诉,态度差,粗鲁,无礼,rude,complain",
                    N_("Words in a survey's comments that open a complaint, separated by "
                       "commas"), per_branch=True)]


@hookimpl
def fixdesk_parts():
    """The glue for repair (``complaints.repair``), switchable per branch."""
    return [Part("repair", "plugins.complaints.repair_glue", needs=("repair",),
                 title=N_("Complaints from poor surveys, on the work order and at "
                          "registration"))]


@hookimpl
def fixdesk_record_new(ctx, entity, record):
    """A new complaint: its intake checked, its receipt time and deadlines set."""
    if entity == "complaints_complaint":
        from .services import prepare

        prepare(ctx, record)


@hookimpl
def fixdesk_record_created(ctx, entity, record):
    """A registered complaint: a critical one goes to the vice general manager at once."""
    if entity == "complaints_complaint":
        from .services import started

        started(ctx, record)


@hookimpl
def fixdesk_actions():
    """The complaint's steps (:mod:`.actions`)."""
    return _collect("ACTIONS")


@hookimpl
def fixdesk_form_sections():
    """The handling form's approvals and the timeline of steps on a complaint; the
    complaints of a customer (:mod:`.views`)."""
    return _collect("FORM_SECTIONS")


@hookimpl
def fixdesk_list_columns():
    """Open complaints in the customer list (:mod:`.views`)."""
    return _collect("LIST_COLUMNS")


@hookimpl
def fixdesk_documents():
    """客户投诉登记表, 客户投诉处理表, the letter with the result, the monthly complaint
    report (templates in ``templates/complaints/``)."""
    return _collect("DOCUMENTS")


@hookimpl
def fixdesk_reports():
    """The complaint rate per branch, complaints by category, by responsible department
    and person (:mod:`.reports`)."""
    return _collect("REPORTS")


@hookimpl
def fixdesk_dashboard():
    """Open and overdue complaints, critical ones for management, the 12-month rate."""
    return _collect("DASHBOARD")


@hookimpl
def fixdesk_scheduled_jobs():
    """Escalation of complaints past a deadline (every five minutes)."""
    return _collect("SCHEDULED_JOBS")


@hookimpl
def fixdesk_job_handlers():
    """Jobs complaints queues (none besides the scheduled ones)."""
    return _collect("JOB_HANDLERS")


@hookimpl
def fixdesk_routers():
    """The public complaint form ``/complain`` and the API of reports and mail intake."""
    return _collect("ROUTERS")


@hookimpl
def fixdesk_cli_commands():
    """``fixdesk complaints ...``: register, mail intake, escalate, the monthly rate."""
    return _collect("CLI_COMMANDS")


@hookimpl
def fixdesk_demo_data(ctx):
    """Departments, the vice general manager, scenario 5 and a year of complaints."""
    from .demo import load_demo

    load_demo(ctx)
