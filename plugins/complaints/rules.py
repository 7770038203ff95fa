"""The complaint rules (R26) as pure functions and tables: no database, no clock.

* the vocabularies (topic, category, severity, channel, ...), stored as their values;
* :data:`TRANSITIONS` and :func:`next_status` — the complaint's process: which action
  is allowed in which status, and where it leads;
* :func:`needs_approval`, :func:`needs_contact` — what a complaint must have before a
  step.
"""

from __future__ import annotations

import enum

from kernel.errors import Conflict
from kernel.i18n import N_, _


class Topic(enum.StrEnum):
    """What the customer got in touch about (服务主题)."""

    COMPLAINT = "complaint"
    PRAISE = "praise"
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"


class Category(enum.StrEnum):
    """The complaint's cause as the rules classify it: product quality, human factors
    (人为因素), software, other."""

    PRODUCT_QUALITY = "product_quality"
    HUMAN_FACTORS = "human_factors"
    SOFTWARE = "software"
    OTHER = "other"


class Severity(enum.StrEnum):
    """How grave the complaint is: ordinary (一般: recorded and passed on), serious (严重:
    the handling form approved by each department involved), critical (重大: the vice
    general manager is told at once)."""

    ORDINARY = "ordinary"
    SERIOUS = "serious"
    CRITICAL = "critical"


class Channel(enum.StrEnum):
    """How the complaint arrived."""

    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    IN_PERSON = "in_person"
    SURVEY = "survey"


class ContactMethod(enum.StrEnum):
    """How the supervisor reached the customer personally."""

    PHONE = "phone"
    VISIT = "visit"
    EMAIL = "email"
    MEETING = "meeting"


class ApprovalState(enum.StrEnum):
    """A department's decision on the handling form."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DeadlineKind(enum.StrEnum):
    """Which deadline an escalation is about."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class Status(enum.StrEnum):
    """The complaint's process (R26)."""

    REGISTERED = "registered"
    INVESTIGATING = "investigating"
    DETERMINED = "determined"
    PROPOSED = "proposed"
    AGREED = "agreed"
    CARRIED_OUT = "carried_out"
    INFORMED = "informed"
    CLOSED = "closed"
    PASSED_ON = "passed_on"
    CANCELLED = "cancelled"


#: enum values shown to users, marked for the message catalogue
ENUM_LABELS = (
    N_("complaint"), N_("praise"), N_("inquiry"), N_("suggestion"),
    N_("product_quality"), N_("human_factors"), N_("software"), N_("other"),
    N_("ordinary"), N_("serious"), N_("critical"),
    N_("phone"), N_("email"), N_("web"), N_("in_person"), N_("survey"),
    N_("visit"), N_("meeting"),
    N_("pending"), N_("approved"), N_("rejected"),
    N_("response"), N_("resolution"),
    N_("registered"), N_("investigating"), N_("determined"), N_("proposed"), N_("agreed"),
    N_("carried_out"), N_("informed"), N_("closed"), N_("passed_on"), N_("cancelled"),
)

#: statuses in which the complaint is still being handled (its deadlines run)
OPEN = frozenset({Status.REGISTERED, Status.INVESTIGATING, Status.DETERMINED,
                  Status.PROPOSED, Status.AGREED, Status.CARRIED_OUT, Status.INFORMED})
#: statuses in which it is finished
DONE = frozenset({Status.CLOSED, Status.PASSED_ON, Status.CANCELLED})
#: statuses after which the resolution deadline is met (the customer was told)
RESOLVED = frozenset({Status.INFORMED, Status.CLOSED, Status.PASSED_ON, Status.CANCELLED})

#: action → (statuses it is possible in, status it leads to; None: stays)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "investigate": (frozenset({Status.REGISTERED}), Status.INVESTIGATING),
    "determine": (frozenset({Status.INVESTIGATING, Status.DETERMINED}), Status.DETERMINED),
    "propose": (frozenset({Status.DETERMINED}), Status.PROPOSED),
    "approve": (frozenset({Status.PROPOSED}), None),
    "agree": (frozenset({Status.PROPOSED}), Status.AGREED),
    "carry_out": (frozenset({Status.AGREED}), Status.CARRIED_OUT),
    "inform": (frozenset({Status.CARRIED_OUT}), Status.INFORMED),
    "close": (frozenset({Status.INFORMED}), Status.CLOSED),
    "pass_on": (frozenset({Status.REGISTERED, Status.INVESTIGATING}), Status.PASSED_ON),
    "reopen": (frozenset({Status.CLOSED, Status.PASSED_ON}), Status.INVESTIGATING),
    "cancel": (frozenset({Status.REGISTERED, Status.INVESTIGATING}), Status.CANCELLED),
    "record_contact": (OPEN, None),
    "wait": (OPEN - {Status.INFORMED}, None),
    "resume": (OPEN, None),
    "reclassify": (OPEN, None),
}

#: what the desk's status bar offers first in each status
NEXT = {"investigate": ("registered",), "determine": ("investigating",),
        "propose": ("determined",), "agree": ("proposed",), "carry_out": ("agreed",),
        "inform": ("carried_out",), "close": ("informed",)}


def can(action: str, status: Status | str) -> bool:
    """Whether ``action`` is possible for a complaint in ``status``."""
    allowed, _target = TRANSITIONS[action]
    return Status(status) in allowed


def next_status(action: str, status: Status | str) -> Status:
    """The status ``action`` leads to from ``status``; :class:`Conflict` when it is not
    possible there, naming the status."""
    allowed, target = TRANSITIONS[action]
    current = Status(status)
    if current not in allowed:
        raise Conflict(_("not possible while the complaint is {status}").format(
            status=_(current.value)))
    return target or current


def needs_approval(severity: Severity | str, topic: Topic | str) -> bool:
    """Whether the handling form must be approved by each department involved before the
    resolution is agreed: serious and critical complaints (R26)."""
    return Topic(topic) == Topic.COMPLAINT and Severity(severity) in (Severity.SERIOUS,
                                                                     Severity.CRITICAL)


def needs_contact(topic: Topic | str) -> bool:
    """Whether closing needs the supervisor's personal contact on record: every complaint
    (R26), not praise, inquiries or suggestions."""
    return Topic(topic) == Topic.COMPLAINT


def may_pass_on(severity: Severity | str, topic: Topic | str) -> bool:
    """Ordinary complaints, and every praise, inquiry or suggestion, may be recorded and
    passed on to the department concerned without the full process."""
    return Topic(topic) != Topic.COMPLAINT or Severity(severity) == Severity.ORDINARY
