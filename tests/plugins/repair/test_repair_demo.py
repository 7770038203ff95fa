"""The repair plugin's demo history (SQLite and PostgreSQL): built through the services,
it looks like a real register: every status, both branches, missed deadlines."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, select

from kernel.models import Branch, Employee
from plugins.repair import reports
from plugins.repair.demo import ORDERS
from plugins.repair.models import (
    Appointment,
    Callback,
    LabourEntry,
    MaintenanceContract,
    QualityCheck,
    StatusChange,
    WorkOrder,
)

DEMO_HISTORY = True  # see conftest: other modules' demo sites leave the history out


def test_demo_history_looks_real(make_site, app_of):
    app = app_of(make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心"))
    with app.context(user="admin") as ctx:
        session = ctx.session
        orders = session.scalars(select(WorkOrder)).all()
        assert len(orders) == ORDERS
        numbers = [o.number for o in orders]
        assert len(set(numbers)) == len(numbers)
        statuses = Counter(o.status.value for o in orders)
        assert {"pending", "dispatched", "in_repair", "waiting_parts", "ready_for_pickup",
                "completed", "closed", "cancelled"} <= set(statuses), statuses
        assert statuses["closed"] > ORDERS / 2
        assert set(Counter(o.category.value for o in orders)) == {"A", "B", "C", "D"}
        assert set(Counter(o.channel.value for o in orders)) == {"phone", "email", "web",
                                                               "walk_in"}
        branch_of = {b.id: b.code for b in session.scalars(select(Branch))}
        per_branch = Counter(branch_of[o.branch_id] for o in orders)
        assert per_branch["SH"] > 50 and per_branch["JD"] > 50
        assert all(o.number.startswith(f"WO-{branch_of[o.branch_id]}-") for o in orders)
        met = Counter(o.deadline_met for o in orders if o.deadline_at is not None)
        assert met[True] > met[False] > 5
        assert any(o.urgent for o in orders)
        # engineers of the order's branch; history, parts and labour made by the services
        engineers = {e.id: e for e in session.scalars(select(Employee))}
        assert all(engineers[o.engineer_id].branch_id == o.branch_id
                   for o in orders if o.engineer_id)
        assert session.scalar(select(func.count()).select_from(StatusChange)) > 3 * ORDERS
        assert session.scalar(select(func.count()).select_from(LabourEntry)) > ORDERS / 2
        assert any(o.lines for o in orders) and any(o.quote_total for o in orders)
        now = ctx.now()
        assert all(now - dt.timedelta(days=61) < o.reported_at <= now for o in orders)
        # 申达物流's contract runs until next March (scenario 1)
        shenda = session.scalar(select(MaintenanceContract).where(
            MaintenanceContract.number.like("BY-%-018")))
        assert shenda.end_date.month == 3 and shenda.end_date > now.date()
        assert shenda.end_date - now.date() < dt.timedelta(days=366)
        # the reports have something to show
        today = now.astimezone(ctx.settings.tz).date()
        start = today - dt.timedelta(days=60)
        register = reports.repair_register(ctx, start, today)
        assert len(register) == ORDERS
        compliance = reports.deadline_compliance(ctx, start, today)
        assert [r["branch"] for r in compliance[:2]] == ["嘉定分公司", "上海服务中心"]
        assert compliance[-1]["jobs"] > 100  # the total line
        assert 0.5 < compliance[-1]["on_time_share"] < 1
        assert reports.engineer_daily(ctx, start, today)
        assert len(reports.supervisor_daily(ctx, today - dt.timedelta(days=1))) == 2
        # after the repair: every closed job has its callback, most are answered (R19);
        # yesterday's and earlier days' spot checks were drawn and checked (R17)
        closed = [o for o in orders if o.status.value == "closed" and o.category.value != "D"]
        calls = session.scalars(select(Callback)).all()
        assert {c.order_id for c in calls} >= {o.id for o in closed}
        fates = Counter(c.status.value for c in calls)
        assert fates["done"] > len(calls) / 2 and fates["declined"] and fates["open"]
        answered = Counter(branch_of[c.branch_id] for c in calls if c.answered_at)
        assert answered["SH"] > 20 and answered["JD"] > 20
        assert set(Counter(c.channel.value for c in calls if c.channel)) == \
            {"phone", "card", "link"}
        checks = Counter(c.status.value for c in session.scalars(select(QualityCheck)))
        assert checks["passed"] > 20 and checks["failed"] >= 1
        kept = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.status == "kept"))
        assert kept > 20
