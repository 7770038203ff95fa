"""Complaints with its partners, through hooks and table names only (SQLite and
PostgreSQL): repair (``complaints.repair``: a poor survey opens a complaint, the open
complaints at registration, the work order's "Complaints" section; ``repair.complaints``:
the jobs of the complaint rate, who a work order concerns) and billing
(``billing.complaints``: a complaint the engineer answers for deducts from his commission).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from desk_sessions import demo_sessions
from repair_jobs import closed_order
from sqlalchemy import select

from kernel import RecordLink
from kernel.i18n import _, use_locale
from kernel.masterdata import get_branch
from kernel.models import Employee
from kernel.web.app import create_app
from plugins.complaints import services
from plugins.complaints.models import Complaint, Department

ORDERS = "repair_work_order"


def _order(ctx, number: str):
    cls = ctx.app.entity_class(ORDERS)
    return ctx.session.scalar(select(cls).where(cls.number == number))


def _survey(app, user: str, number: str, comments: str | None = None, **ratings):
    """The callback of a closed order answered by ``user`` (the branch's front desk)."""
    from plugins.repair import callbacks

    with app.context(user=user) as ctx:
        callback = callbacks.callback_of(ctx, _order(ctx, number))
        callbacks.record_survey(ctx, callback.id, comments=comments, **{
            "attitude": 4, "skill": 4, "arrival": 4, "promise": 4, **ratings})
        return callback.id


def _complaints(app) -> list[Complaint]:
    with app.sessions() as session:
        found = list(session.scalars(select(Complaint).order_by(Complaint.id)))
        session.expunge_all()
        return found


def test_repair_and_complaints_work_together(quiet_site, fixdesk):
    site = quiet_site(["repair", "complaints"])
    web = create_app(site)
    app = web.state.fixdesk
    assert {"complaints.repair", "repair.complaints"} <= set(app.units)
    done = fixdesk("--site", site.path, "hooks", "disable", "complaints.repair",
                   "repair_survey_answered", "--branch", "JD")
    assert done.code == 0, done
    sh, jd = closed_order(app, jd=False), closed_order(app, jd=True)
    # JD switched the hook off: its poor survey opens nothing
    _survey(app, "hejuan", jd, comments="工程师态度差", attitude=1)
    assert _complaints(app) == []
    callback_id = _survey(app, "zhengli", sh, comments="工程师态度差，地毯弄脏了",
                          attitude=1, arrival=2)
    with app.context(user="zhengli") as ctx:
        order = _order(ctx, sh)
        from plugins.repair import callbacks

        # the event delivered again (a retried job): the same complaint, not a second one
        ctx.hook.repair_survey_answered(ctx=ctx, order=order,
                                        callback=callbacks.callback_of(ctx, order))
        engineer = ctx.session.scalar(select(Employee.id).where(Employee.code == "E001"))
        order_id, customer_id, phone = order.id, order.customer_id, order.phone
        branch_id = order.branch_id
    [complaint] = _complaints(app)
    assert (complaint.origin_key, complaint.channel, complaint.topic, complaint.category,
            complaint.severity, complaint.status) == (
        f"survey:{callback_id}", "survey", "complaint", "human_factors", "ordinary",
        "registered")
    assert (complaint.about, complaint.engineer_id, complaint.customer_id, complaint.phone,
            complaint.branch_id) == (RecordLink(ORDERS, order_id), engineer, customer_id,
                                     phone, branch_id)
    assert complaint.description == "工程师态度差，地毯弄脏了"

    with app.context(user="admin") as ctx:
        # repair answers complaints' questions: the jobs of a period (a cancelled job does
        # not count), who an order concerns
        from plugins.repair import services as repair

        cancelled = repair.register(ctx, channel="phone", equipment="XQH30112",
                                    fault_description="卡纸", category="C",
                                    category_reason="保修期内")
        repair.cancel(ctx, cancelled.number, reason="客户已自行解决")
        sh_id, jd_id = get_branch(ctx, "SH").id, get_branch(ctx, "JD").id
        assert branch_id == sh_id
        start = ctx.now() - dt.timedelta(days=1)
        end = ctx.now() + dt.timedelta(days=1)
        assert ctx.hook.complaints_job_counts(ctx=ctx, branch_ids=None, start=start,
                                              end=end) == {sh_id: 1, jd_id: 1}
        assert ctx.hook.complaints_job_counts(ctx=ctx, branch_ids=[jd_id], start=start,
                                              end=end) == {jd_id: 1}
    with app.context(user="wufang") as ctx:
        # SH's supervisor: SH's jobs only (the branch scope applies)
        assert ctx.hook.complaints_job_counts(ctx=ctx, branch_ids=None, start=start,
                                              end=end) == {sh_id: 1}
        assert ctx.hook.complaints_job_counts(ctx=ctx, branch_ids=None, start=end,
                                              end=end + dt.timedelta(days=1)) == {}
        assert ctx.hook.complaints_describe_subject(
            ctx=ctx, entity=ORDERS, record_id=order_id) == {"customer_id": customer_id,
                                                            "engineer_id": engineer}
        assert ctx.hook.complaints_describe_subject(ctx=ctx, entity="customer",
                                                    record_id=customer_id) is None
        # a good survey opens nothing; a poor rating without comments is named in the
        # site's language, and is not about people
        from plugins.complaints.repair_glue import complaint_from_survey

        answers = type("Answers", (), {
            "id": 999999, "engineer_id": None, "comments": None, "rating_attitude": 4,
            "rating_skill": 4, "rating_arrival": 1, "rating_promise": 3})()
        good = type("Answers", (), {
            "id": 999998, "engineer_id": None, "comments": "服务很好，谢谢",
            "rating_attitude": 4, "rating_skill": 3, "rating_arrival": 2,
            "rating_promise": 4})()
        assert complaint_from_survey(ctx, _order(ctx, sh), good) is None
        trial = ctx.session.begin_nested()
        other = complaint_from_survey(ctx, _order(ctx, sh), answers)
        assert (other.category, other.description) == (
            "other", f"{sh} 回访调查差评：到场时间 1")
        trial.rollback()

    with app.context(user="zhengli") as ctx, use_locale("zh_CN"):
        # registering a repair for the customer shows the open complaint
        from plugins.repair.customer_history import customer_history

        history = customer_history(ctx, customer_id=customer_id)
        [section] = [s for s in history["extra"] if s["name"] == "complaints"]
        title = section["title"]
        assert title == _("Open complaints") != "Open complaints"
        [row] = section["rows"]
        assert (row["number"], row["status"], row["severity"]) == (
            complaint.number, "已登记", "一般")
    with demo_sessions(web) as open_session:
        boss = open_session("wufang")
        form = boss.get(f"/desk/{ORDERS}/{order_id}")
        assert form.status_code == 200
        assert f'href="/desk/complaints_complaint/{complaint.id}"' in form.text
        assert complaint.number in form.text and "投诉" in form.text
        front = open_session("zhengli")
        looked = front.post(f"/desk/{ORDERS}/new", data={
            "csrf": front.csrf, "step": "lookup", "equipment": "E335M820091"})
        assert looked.status_code == 200
        assert title in looked.text and complaint.number in looked.text


def _rates(app) -> None:
    """Labour ¥300 for a medium job whatever the grade; 10 % + ¥5 per repair job."""
    from kernel.models import Grade
    from plugins.billing.models import CommissionRate, Difficulty, LabourRate, ServiceType

    with app.context(user="admin") as ctx:
        for grade in Grade:
            ctx.session.add(LabourRate(grade=grade, difficulty=Difficulty.MEDIUM,
                                       amount=Decimal("300.00")))
        ctx.session.add(CommissionRate(service_type=ServiceType.REPAIR,
                                       percent=Decimal("10.00"), per_job=Decimal("5.00")))


def _audited_job(app) -> str:
    """SH's warranty job repaired by 王工 (E001), audited (passed: it earns ¥35.00)."""
    from plugins.repair import services as repair

    with app.context(user="zhengli") as ctx:
        number = repair.register(ctx, channel="phone", equipment="E335M820091",
                                 fault_description="卡纸", category="C",
                                 category_reason="保修期内").number
    with app.context(user="wufang") as ctx:
        repair.dispatch(ctx, number, engineer="E001")
    with app.context(user="wanggong") as ctx:
        repair.record_arrival(ctx, number)
        repair.start(ctx, number)
        repair.complete(ctx, number, method="清理搓纸轮", cause="搓纸轮脏污")
    with app.context(user="wufang") as ctx:
        repair.audit(ctx, number, passed=True)
    return number


def test_a_complaint_the_engineer_answers_for_deducts_from_his_commission(quiet_site,
                                                                          app_of):
    from plugins.billing.commission import current_month, statement
    from plugins.billing.models import CommissionEntry

    app = app_of(quiet_site(["repair", "billing", "complaints"]))
    assert "billing.complaints" in app.units
    _rates(app)
    number = _audited_job(app)

    def lines():
        with app.sessions() as session:
            return [(e.code, e.kind, e.amount, e.reason) for e in session.scalars(
                select(CommissionEntry).where(CommissionEntry.order_number == number)
                .order_by(CommissionEntry.id))]

    with app.context(user="wufang") as ctx:
        order = _order(ctx, number)
        engineer = ctx.session.get(Employee, order.engineer_id)
        other = ctx.session.scalar(select(Employee).where(Employee.id != engineer.id))
        service = Department(company_id=engineer.company_id, code="SVC", name="售后服务部",
                             head_id=engineer.id)
        ctx.session.add(service)
        ctx.session.flush()
        complaint = services.register(
            ctx, topic="complaint", category="human_factors", severity="ordinary",
            channel="phone", about=RecordLink(ORDERS, order.id),
            description="工程师态度粗鲁")
        assert (complaint.customer_id, complaint.engineer_id) == (order.customer_id,
                                                                  engineer.id)
        services.investigate(ctx, complaint)
        services.determine(ctx, complaint, cause="态度问题", our_fault=True,
                           department=service, person=engineer)
        # the event again: nothing new
        ctx.hook.complaints_attributed(ctx=ctx, complaint=complaint)
        code, cp_number = f"complaint:{complaint.id}:", complaint.number
        month = statement(ctx, engineer.id, current_month(ctx))
        assert (month["earned"], month["deductions"], month["total"]) == (
            Decimal("35.00"), Decimal("-50.00"), Decimal("-15.00"))
    assert lines()[1:] == [(f"{code}1", "deduction", Decimal("-50.00"),
                            f"投诉 {cp_number} 扣减")]
    with app.context(user="wufang") as ctx:
        complaint = ctx.session.get(Complaint, complaint.id)
        # another person answers for it after all: the deduction is taken back, once
        services.determine(ctx, complaint, cause="客服失误", our_fault=True,
                           department=service, person=other)
        ctx.hook.complaints_attributed(ctx=ctx, complaint=complaint)
        # a department alone: still nothing against the engineer
        services.determine(ctx, complaint, cause="客服失误", our_fault=True,
                           department=service)
        assert statement(ctx, engineer.id, current_month(ctx))["total"] == Decimal("35.00")
    assert lines()[1:] == [
        (f"{code}1", "deduction", Decimal("-50.00"), f"投诉 {cp_number} 扣减"),
        (f"{code}2", "deduction", Decimal("50.00"), f"投诉 {cp_number} 扣减撤销")]
