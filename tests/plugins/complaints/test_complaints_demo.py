"""The complaints demo: the departments and people, scenario 5 told to the end, complaints
open in every state and a year of history — on a site with complaints alone (both
databases) and beside repair, inventory and billing (SQLite: the full demo is slow),
where the complaints are about repair's work orders."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from kernel.auth import User
from kernel.demo import demo_accounts_text
from kernel.models import Branch, Employee
from plugins.complaints.models import Approval, Complaint, Department, Escalation
from plugins.complaints.rules import Status

EVERYTHING = ["repair", "inventory", "billing", "complaints"]


def _scenario_5(ctx) -> Complaint:
    return ctx.session.scalars(select(Complaint).where(
        Complaint.description.like("回访卡意见栏%碳粉洒在%"))).one()


def _check_demo(app) -> dict:
    """What every demo has, whatever else runs beside complaints; returns facts for more."""
    with app.context(user="admin") as ctx:
        session = ctx.session
        heads = dict(session.execute(select(Department.code, Employee.code).join(
            Employee, Employee.id == Department.head_id)).all())
        assert heads == {"SVC": "S001", "HR": "M002", "TECH": "E003", "SALES": "M003",
                         "QA": "M004"}
        vgm = session.scalar(select(User).where(User.username == "zhouzong"))
        assert list(vgm.roles) == ["vice_general_manager"] and vgm.company_wide and vgm.email
        hr_head = session.scalar(select(User).where(User.username == "linhui"))
        assert hr_head.employee_id == session.scalar(select(Employee.id).where(
            Employee.code == "M002"))

        # scenario 5: registered, called the same day, attributed to 王工, approved by SVC
        # and HR, carried out, the customer told, closed
        story = _scenario_5(ctx)
        assert (story.status, story.category, story.severity, story.channel) == (
            Status.CLOSED, "human_factors", "serious", "survey")
        engineer = session.scalar(select(Employee).where(Employee.code == "E001"))
        assert story.engineer_id == story.responsible_employee_id == engineer.id
        assert story.our_fault and story.responsible_department.code == "SVC"
        approvals = {(a.department.code, a.state, session.get(User, a.decided_by_id).username)
                     for a in story.approvals}
        assert approvals == {("SVC", "approved", "wufang"), ("HR", "approved", "linhui")}
        tz = ctx.settings.tz
        first = story.contacts[0]
        assert first.contacted_at.astimezone(tz).date() == story.received_at.astimezone(
            tz).date()
        assert story.received_at < story.agreed_at < story.carried_out_at < \
            story.informed_at <= story.closed_at <= ctx.now()
        assert max(a.decided_at for a in story.approvals) < story.agreed_at

        # complaints open in every state
        found = session.execute(select(Complaint.status, Complaint.severity)).all()
        assert (Status.INVESTIGATING, "critical") in found
        waiting = session.scalars(select(Approval).where(
            Approval.state == "pending")).all()
        assert [a.department.code for a in waiting] == ["HR"]
        assert session.scalar(select(func.count(Escalation.id))) >= 1
        assert session.scalar(select(func.count(Complaint.id)).where(
            Complaint.paused_at.is_not(None))) == 1

        # a year of history in both branches: complaints in most of the last 12 months
        months = {}
        for code, received in session.execute(
                select(Branch.code, Complaint.received_at).join(Branch)
                .where(Complaint.topic == "complaint")):
            months.setdefault(code, set()).add(received.astimezone(tz).strftime("%Y-%m"))
        assert len(months["SH"]) >= 11 and len(months["JD"]) >= 6
        assert session.scalar(select(func.count(Complaint.id)).where(
            Complaint.received_at > ctx.now())) == 0
        return {"about": story.about}


def test_the_demo_on_complaints_alone(make_site, app_of):
    app = app_of(make_site(["complaints"], demo=True, branch_code="SH",
                           branch_name="上海服务中心"))
    facts = _check_demo(app)
    assert facts["about"].entity == "customer_equipment"  # no work orders without repair
    text = demo_accounts_text(app)
    for line in ("zhouzong", "vice_general_manager", "linhui", "department_head"):
        assert line in text


def test_the_demo_beside_repair_is_about_its_work_orders(make_site, app_of, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the full demo is checked on SQLite")
    app = app_of(make_site(EVERYTHING, demo=True, branch_code="SH",
                           branch_name="上海服务中心"))
    facts = _check_demo(app)
    assert facts["about"].entity == "repair_work_order"
    orders = app.entity_class("repair_work_order")
    with app.context(user="admin") as ctx:
        order = ctx.session.get(orders, facts["about"].id)
        story = _scenario_5(ctx)
        assert order.engineer_id == story.engineer_id
        assert order.customer_id == story.customer_id
        assert order.closed_at < story.received_at
        # complaints a poor survey opened during repair's history were handled too
        stale = ctx.session.scalar(select(func.count(Complaint.id)).where(
            Complaint.status == Status.REGISTERED,
            Complaint.received_at < ctx.now() - dt.timedelta(days=14)))
        assert stale == 0
        linked = ctx.session.scalar(select(func.count(Complaint.id)).where(
            Complaint.about_entity == "repair_work_order"))
        assert linked >= 5
