"""The complaints plugin's entities; tables are prefixed ``complaints_``.

A complaint (客户投诉) is registered through the generic create (API, desk, CLI, the
public form, mail intake, a poor survey): its intake fields are written once, then only
the services in :mod:`plugins.complaints.services` change it, through its actions
(``POST /api/v1/complaints_complaint/{id}/determine``, ...). What it is about is a link
to any record (a work order, a machine, an engineer, an invoice, a training), so
complaints runs alone and never names another plugin's table by foreign key.

Departments are company master data: the handling form of a serious or critical
complaint is approved by each department involved, by its head or one of its members.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import (
    Base,
    BranchMixin,
    CompanyMixin,
    IdMixin,
    RecordLink,
    TimestampMixin,
    UTCDateTime,
    link_column,
)
from kernel.db import all_columns_readonly, choice_type, utcnow
from kernel.i18n import N_
from kernel.models import Branch, Customer, Employee

from .rules import (
    ApprovalState,
    Category,
    Channel,
    ContactMethod,
    DeadlineKind,
    Severity,
    Status,
    Topic,
)

#: what a complaint may be about (a target whose plugin is off is not offered)
SUBJECTS = ("repair_work_order", "repair_contract", "customer_equipment", "employee",
            "billing_invoice", "training_course", "training_contract")

#: the intake fields: typed once when the complaint is registered
INTAKE = ("branch_id", "topic", "category", "severity", "channel", "received_at",
          "customer_id", "company_name", "contact_name", "phone", "email", "about",
          "engineer_id", "description")


class Department(IdMixin, TimestampMixin, CompanyMixin, Base):
    """A department of the company that answers for complaints and approves their handling
    forms (售后服务部, 人事部, 技术部, 业务部, 质管部)."""

    __tablename__ = "complaints_department"
    __title__ = N_("Department")
    __default_sort__ = "code"
    __list_columns__ = ("code", "name", "head_id", "active")
    __search__ = ("code", "name")
    __labels__ = {"head_id": N_("Head of department")}

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    head_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list[DepartmentMember]] = relationship(
        lambda: DepartmentMember, back_populates="department",
        order_by=lambda: DepartmentMember.id)


class DepartmentMember(IdMixin, TimestampMixin, Base):
    """An employee who may approve handling forms for a department besides its head (a
    user decides as the employee his account belongs to)."""

    __tablename__ = "complaints_department_member"
    __title__ = N_("Department member")
    __permission__ = "complaints_department"
    __lines_of__ = ("department_id", "complaints_department")
    __line_columns__ = ("employee_id",)
    __list_columns__ = ("department_id", "employee_id")
    __labels__ = {"department_id": N_("Department"), "employee_id": N_("Employee")}
    __table_args__ = (UniqueConstraint("department_id", "employee_id"),)

    department_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_department.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)

    department: Mapped[Department] = relationship(lambda: Department,
                                                  back_populates="members")


class Complaint(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A customer's complaint, praise, inquiry or suggestion (客户投诉登记表), R26."""

    __tablename__ = "complaints_complaint"
    __title__ = N_("Complaint")
    __deletable__ = False
    __operations__ = ("create",)  # afterwards only its actions change it
    __naming_series__ = "complaints_complaint"
    __default_sort__ = "-received_at"
    __list_columns__ = ("number", "status", "topic", "severity", "category", "customer_id",
                        "received_at", "resolution_due_at", "escalation_level")
    __search__ = ("number", "contact_name", "company_name", "phone", "description")
    __workflow__ = "status"
    __workflow_side__ = ("passed_on", "cancelled")
    # the deadlines count clock time on the header; the "Deadlines" section
    # (plugins.complaints.views) says how late in working time
    __header__ = ("number", "customer_id", ("topic", "category", "severity", "channel"),
                  ("response_due_at", "deadline", "responded_at", "paused_at", "closed_at",
                   "cancelled_at"),
                  ("resolution_due_at", "deadline", "informed_at", "paused_at", "closed_at",
                   "cancelled_at"),
                  "about", "engineer_id")
    # the clock's own fields are read in the "Deadlines" block (views.deadline_summary)
    __technical__ = ("origin_key", "source_address", "responded_at", "paused_at",
                     "pause_reason", "paused_minutes", "escalation_level")
    __groups__ = (
        (N_("Intake"), ("received_at", "channel", "topic", "category", "severity",
                        "customer_id", "company_name", "contact_name", "phone", "email",
                        "about", "engineer_id", "description", "branch_id")),
        (N_("Investigation"), ("investigated_by_id", "investigation_started_at", "cause",
                               "our_fault", "responsible_department_id",
                               "responsible_employee_id", "evidence", "determined_at")),
        (N_("Resolution"), ("resolution", "proposed_at", "agreed_at", "agreement_note",
                            "carried_out_at", "carried_out_note", "informed_at",
                            "result_note", "customer_satisfied")),
        (N_("Close"), ("passed_on_to_id", "closed_at", "closed_by_id", "reopen_count",
                       "reopen_reason", "cancelled_at", "cancel_reason")),
    )
    __labels__ = {
        "number": N_("Number"), "topic": N_("Topic"), "category": N_("Complaint category"),
        "severity": N_("Severity"), "channel": N_("Received through"),
        "received_at": N_("Complaint received at"),
        "customer_id": N_("Customer"), "company_name": N_("Company (as given)"),
        "contact_name": N_("Contact"), "phone": N_("Phone"), "email": N_("Email"),
        "about": N_("About"), "about_entity": N_("About (record type)"),
        "engineer_id": N_("Engineer concerned"),
        "description": N_("The customer's words"), "status": N_("Status"),
        "response_due_at": N_("First response due"), "responded_at": N_("First contact at"),
        "resolution_due_at": N_("Resolution due"), "paused_at": N_("Waiting on customer since"),
        "pause_reason": N_("Waiting for"), "paused_minutes": N_("Paused working minutes"),
        "escalation_level": N_("Escalation level"),
        "investigated_by_id": N_("Investigated by"),
        "investigation_started_at": N_("Investigation started at"),
        "cause": N_("Cause of the complaint"),
        "our_fault": N_("Our responsibility"),
        "responsible_department_id": N_("Responsible department"),
        "responsible_employee_id": N_("Responsible person"),
        "evidence": N_("Evidence shown to the customer"), "determined_at": N_("Determined at"),
        "resolution": N_("Resolution"), "proposed_at": N_("Proposed at"),
        "agreed_at": N_("Agreed with the customer at"), "agreement_note": N_("Agreement"),
        "carried_out_at": N_("Carried out at"), "carried_out_note": N_("What was done"),
        "informed_at": N_("Customer told the result at"), "result_note": N_("Result told"),
        "customer_satisfied": N_("Customer satisfied"),
        "passed_on_to_id": N_("Passed on to"), "closed_at": N_("Closed at"),
        "closed_by_id": N_("Closed by"), "reopen_count": N_("Reopened"),
        "reopen_reason": N_("Reopen reason"), "cancelled_at": N_("Cancelled at"),
        "cancel_reason": N_("Cancel reason"), "origin_key": N_("Origin"),
        "source_address": N_("Sent from address"),
    }
    __table_args__ = (
        Index("ix_complaints_complaint_branch_received", "branch_id", "received_at"),
        Index("ix_complaints_complaint_status_received", "status", "received_at"),
        Index("ix_complaints_complaint_customer_status", "customer_id", "status"),
    )

    number: Mapped[str] = mapped_column(String(40), unique=True)
    # intake
    topic: Mapped[Topic] = mapped_column(choice_type(Topic, "topic"), default=Topic.COMPLAINT)
    category: Mapped[Category] = mapped_column(choice_type(Category, "complaint_category"),
                                               default=Category.OTHER)
    severity: Mapped[Severity] = mapped_column(choice_type(Severity, "severity"),
                                               default=Severity.ORDINARY)
    channel: Mapped[Channel] = mapped_column(choice_type(Channel, "complaint_channel"),
                                             default=Channel.PHONE)
    # now unless typed (set by the services on the site's clock; the default for the form)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True, default=utcnow)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    company_name: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    about: Mapped[RecordLink | None] = link_column("about", targets=SUBJECTS)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    # the process
    status: Mapped[Status] = mapped_column(choice_type(Status, "complaint_status"),
                                           default=Status.REGISTERED)
    response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    investigated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    investigation_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cause: Mapped[str | None] = mapped_column(Text)
    our_fault: Mapped[bool | None] = mapped_column(Boolean)
    responsible_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints_department.id"), index=True)
    responsible_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"),
                                                                index=True)
    evidence: Mapped[str | None] = mapped_column(Text)
    determined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    proposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    agreed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    agreement_note: Mapped[str | None] = mapped_column(String(500))
    carried_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    carried_out_note: Mapped[str | None] = mapped_column(Text)
    informed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result_note: Mapped[str | None] = mapped_column(Text)
    customer_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    passed_on_to_id: Mapped[int | None] = mapped_column(ForeignKey("complaints_department.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # where it came from: one complaint per survey answer or e-mail (idempotent intake)
    origin_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    source_address: Mapped[str | None] = mapped_column(String(64), index=True)

    branch = relationship(lambda: Branch)
    customer = relationship(lambda: Customer)
    engineer = relationship(lambda: Employee, foreign_keys=lambda: [Complaint.engineer_id])
    responsible_employee = relationship(
        lambda: Employee, foreign_keys=lambda: [Complaint.responsible_employee_id])
    responsible_department = relationship(
        lambda: Department, foreign_keys=lambda: [Complaint.responsible_department_id])
    passed_on_to = relationship(lambda: Department,
                                foreign_keys=lambda: [Complaint.passed_on_to_id])
    contacts: Mapped[list[Contact]] = relationship(
        lambda: Contact, back_populates="complaint", order_by=lambda: Contact.id)
    approvals: Mapped[list[Approval]] = relationship(
        lambda: Approval, back_populates="complaint", order_by=lambda: Approval.id)
    escalations: Mapped[list[Escalation]] = relationship(
        lambda: Escalation, back_populates="complaint", order_by=lambda: Escalation.id)


_WORKFLOW = ("status", "response_due_at", "responded_at", "resolution_due_at", "paused_at",
             "pause_reason", "paused_minutes", "escalation_level", "investigated_by_id",
             "investigation_started_at", "cause", "our_fault", "responsible_department_id",
             "responsible_employee_id", "evidence", "determined_at", "resolution",
             "proposed_at", "agreed_at", "agreement_note", "carried_out_at",
             "carried_out_note", "informed_at", "result_note", "customer_satisfied",
             "passed_on_to_id", "closed_at", "closed_by_id", "reopen_count", "reopen_reason",
             "cancelled_at", "cancel_reason", "number", "origin_key", "source_address",
             "company_id")
Complaint.__readonly__ = _WORKFLOW


@all_columns_readonly
class Contact(IdMixin, TimestampMixin, Base):
    """The supervisor's (or a delegate's) personal contact with the complaining customer:
    R26 asks for one on every complaint before it is closed."""

    __tablename__ = "complaints_contact"
    __title__ = N_("Contact with the customer")
    __permission__ = "complaints_complaint"
    __branch_parent__ = ("complaint_id", "complaints_complaint")
    __deletable__ = False
    __lines_of__ = ("complaint_id", "complaints_complaint")
    __line_columns__ = ("contacted_at", "method", "contacted_by_id", "summary")
    __line_order__ = "contacted_at,id"
    __line_action__ = "record_contact"
    __list_columns__ = ("complaint_id", "contacted_at", "method", "contacted_by_id")
    __search__ = ("summary",)
    __labels__ = {"complaint_id": N_("Complaint"), "contacted_at": N_("Contacted at"),
                  "method": N_("How"), "contacted_by_id": N_("Contacted by"),
                  "recorded_by_id": N_("Recorded by"), "summary": N_("What was said")}

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id"),
                                              index=True)
    contacted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    method: Mapped[ContactMethod] = mapped_column(choice_type(ContactMethod, "contact_method"))
    contacted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    summary: Mapped[str] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(lambda: Complaint, back_populates="contacts")


@all_columns_readonly
class Approval(IdMixin, TimestampMixin, Base):
    """One department's approval of a serious complaint's handling form (客户投诉处理表):
    who decided, when, and what they said."""

    __tablename__ = "complaints_approval"
    __title__ = N_("Department approval")
    __permission__ = "complaints_complaint"
    __branch_parent__ = ("complaint_id", "complaints_complaint")
    __deletable__ = False
    __lines_of__ = ("complaint_id", "complaints_complaint")
    __line_columns__ = ("department_id", "state", "decided_by_id", "decided_at", "comment",
                        "round")
    __line_order__ = "round,id"
    __line_action__ = "approve"
    __list_columns__ = ("complaint_id", "department_id", "state", "decided_by_id",
                        "decided_at")
    __labels__ = {"complaint_id": N_("Complaint"), "department_id": N_("Department"),
                  "state": N_("Decision"), "decided_by_id": N_("Decided by"),
                  "decided_at": N_("Decided at"), "comment": N_("Comment"),
                  "round": N_("Round")}
    __table_args__ = (UniqueConstraint("complaint_id", "round", "department_id"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id"),
                                              index=True)
    #: a rejected proposal starts a new round: the earlier decisions stay on record
    round: Mapped[int] = mapped_column(Integer, default=1)
    department_id: Mapped[int] = mapped_column(ForeignKey("complaints_department.id"))
    state: Mapped[ApprovalState] = mapped_column(choice_type(ApprovalState, "approval_state"),
                                                 default=ApprovalState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(String(500))

    complaint: Mapped[Complaint] = relationship(lambda: Complaint, back_populates="approvals")
    department: Mapped[Department] = relationship(lambda: Department)


@all_columns_readonly
class Escalation(IdMixin, TimestampMixin, Base):
    """A complaint past a deadline, told to one level of its branch's chain: at most once
    per complaint and level (the row is inserted before anyone is notified)."""

    __tablename__ = "complaints_escalation"
    __translated__ = ("role",)  # a role's name is its msgid
    __title__ = N_("Escalation")
    __permission__ = "complaints_complaint"
    __branch_parent__ = ("complaint_id", "complaints_complaint")
    __deletable__ = False
    __lines_of__ = ("complaint_id", "complaints_complaint")
    __line_columns__ = ("level", "role", "deadline", "escalated_at", "notified")
    __line_order__ = "level"
    __list_columns__ = ("complaint_id", "level", "role", "deadline", "escalated_at")
    __labels__ = {"complaint_id": N_("Complaint"), "level": N_("Level"),
                  "role": N_("Told"), "deadline": N_("Deadline missed"),
                  "escalated_at": N_("Escalated at"), "notified": N_("People notified")}
    __table_args__ = (UniqueConstraint("complaint_id", "level"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id"),
                                              index=True)
    level: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    deadline: Mapped[DeadlineKind] = mapped_column(choice_type(DeadlineKind, "deadline_kind"))
    escalated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notified: Mapped[int] = mapped_column(Integer, default=0)

    complaint: Mapped[Complaint] = relationship(lambda: Complaint,
                                                back_populates="escalations")


ENTITIES = [Department, DepartmentMember, Complaint, Contact, Approval, Escalation]
