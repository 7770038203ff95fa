"""The complaint's process (R26) through its services on a site with complaints alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kernel import Conflict, ValidationError
from kernel.auth import User
from kernel.models import Customer, Employee
from plugins.complaints import services
from plugins.complaints.models import Department


def _departments(ctx) -> dict[str, Department]:
    staff = ctx.session.scalars(select(Employee).order_by(Employee.id)).all()
    made = {}
    for code, name, head in (("SVC", "售后服务部", staff[0]), ("HR", "人事部", staff[1])):
        made[code] = Department(company_id=head.company_id, code=code, name=name,
                                head_id=head.id)
        ctx.session.add(made[code])
    ctx.session.flush()
    return made


def _complaint(ctx, **values):
    customer = ctx.session.scalars(select(Customer).order_by(Customer.id)).first()
    return services.register(ctx, **{"customer_id": customer.id, "topic": "complaint",
                                     "category": "human_factors", "severity": "serious",
                                     "channel": "phone",
                                     "description": "工程师态度粗鲁，碳粉洒在地毯上", **values})


def test_serious_complaint_runs_from_registration_to_close(complaints_app):
    with complaints_app.context(user="admin", branch="SH") as ctx:
        departments = _departments(ctx)
        complaint = _complaint(ctx)
        assert complaint.number.startswith("CP-SH-")
        assert complaint.response_due_at < complaint.resolution_due_at
        services.investigate(ctx, complaint)
        services.determine(ctx, complaint, cause="态度问题", our_fault=True,
                           department=departments["SVC"])
        with pytest.raises(ValidationError):
            services.propose(ctx, complaint, resolution="免费清洁，道歉")
        services.propose(ctx, complaint, resolution="免费清洁，道歉，更换工程师",
                         departments="SVC,HR")
        services.approve(ctx, complaint, "SVC")
        with pytest.raises(Conflict, match="人事部"):
            services.agree(ctx, complaint)
        services.approve(ctx, complaint, "HR", comment="同意")
        services.agree(ctx, complaint, note="客户电话同意")
        services.carry_out(ctx, complaint, note="已清洁地毯并致歉")
        services.inform(ctx, complaint, result="已告知处理结果", satisfied=True)
        with pytest.raises(Conflict):
            services.close(ctx, complaint)
        services.record_contact(ctx, complaint, summary="主管当天致电客户致歉")
        services.close(ctx, complaint)
        assert complaint.status == "closed"
        assert complaint.responded_at is not None


def test_waiting_on_the_customer_moves_the_deadlines(complaints_app):
    with complaints_app.context(user="admin", branch="SH") as ctx:
        complaint = _complaint(ctx, severity="ordinary")
        due = complaint.resolution_due_at
        services.wait(ctx, complaint, reason="等客户回电")
        complaint.paused_at -= dt.timedelta(days=3)
        services.resume(ctx, complaint)
        assert complaint.resolution_due_at > due
        assert complaint.paused_minutes > 0


def test_registration_without_a_way_to_reach_the_customer_is_refused(complaints_app):
    with complaints_app.context(user="admin", branch="SH") as ctx:
        with pytest.raises(ValidationError):
            services.register(ctx, description="x", topic="complaint")
        user = ctx.session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
