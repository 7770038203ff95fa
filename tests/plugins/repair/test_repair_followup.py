"""After the repair: appointments (R7), the callback and survey with its signed public link
(R19), quality spot checks (R17), and branch scoping of the order's child records.

Runs on the repair demo site of ``conftest.py`` (SQLite and PostgreSQL) with frozen
clocks; the public survey page goes through real HTTP (the ASGI app).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kernel import Conflict, ValidationError, hookimpl
from kernel.auth import PermissionDenied, get_user
from kernel.hookswitch import switch
from kernel.jobs import Job
from kernel.masterdata import get_branch
from kernel.signing import sign
from kernel.web.app import create_app
from plugins.repair import callbacks, quality, services
from plugins.repair.models import (
    Appointment,
    Callback,
    QualityCheck,
    StatusChange,
    WorkOrder,
)

from .conftest import local


def _repaired(as_user, when: str = "2026-11-30 10:00", equipment: str = "XQH30112",
              close: bool = True, **register) -> str:
    """An in-warranty job (category C) repaired and, with ``close``, closed: its number.
    The default machine is 嘉定实验学校's Canon (JD); ``equipment="E335M820091"`` with
    ``category`` gives an SH job."""
    jd = equipment == "XQH30112"
    front, boss, engineer = ("hejuan", "huangtao", "zhaolei") if jd else \
        ("zhengli", "wufang", "wanggong")
    with as_user(front, when) as ctx:
        number = services.register(ctx, channel="phone", equipment=equipment,
                                   fault_description="卡纸", **register).number
    with as_user(boss, when) as ctx:
        services.dispatch(ctx, number, engineer="E006" if jd else "E001")
    with as_user(engineer, when) as ctx:
        services.record_arrival(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="清理搓纸轮", cause="搓纸轮脏污")
    if close:
        with as_user(front, when) as ctx:
            services.close(ctx, number)
    return number


def _callback(app, number: str) -> Callback:
    with app.sessions() as session:
        return session.scalar(select(Callback).join(WorkOrder).where(WorkOrder.number == number))


def _notify_payloads(app, template: str) -> list[dict]:
    with app.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.name == "kernel.notify").order_by(Job.id))
        return [j.payload for j in jobs if j.payload["template"] == template]


# ---------------------------------------------------------------------------
# appointments (R7)
# ---------------------------------------------------------------------------


def test_appointments_are_booked_rescheduled_kept_and_cancelled(repair_app, as_user):
    with as_user("zhengli", "2026-11-30 10:20") as ctx:
        first = services.register(ctx, channel="phone", equipment="QXY20614",
                                  fault_description="卡纸").number
        second = services.register(ctx, channel="phone", equipment="QXY20614",
                                   fault_description="缺粉").number
    with as_user("wufang", "2026-11-30 10:40") as ctx:
        services.dispatch(ctx, first, engineer="E001",
                          appointment_at="2026-11-30T14:00:00+08:00")
        services.dispatch(ctx, first, engineer="E001",
                          appointment_at="2026-11-30T14:00:00+08:00")  # same: kept as is
        services.dispatch(ctx, first, engineer="E002",
                          appointment_at="2026-11-30T15:30:00+08:00", reason="王工请假")
        services.dispatch(ctx, second, engineer="E001",
                          appointment_at="2026-12-01T09:30:00+08:00")
    with as_user("liming", "2026-11-30 15:20") as ctx:
        services.record_arrival(ctx, first)
    with as_user("zhengli", "2026-11-30 16:00") as ctx:
        services.cancel(ctx, second, reason="客户自行解决")
    with repair_app.sessions() as session:
        rows = session.execute(select(WorkOrder.number, Appointment.starts_at,
                                      Appointment.status, Appointment.arrived_at,
                                      Appointment.actor)
                               .join(WorkOrder).order_by(Appointment.id)).all()
    assert [(n, s, st.value, a, who) for n, s, st, a, who in rows] == [
        (first, local("2026-11-30 14:00"), "rescheduled", None, "wufang"),
        (first, local("2026-11-30 15:30"), "kept", local("2026-11-30 15:20"), "wufang"),
        (second, local("2026-12-01 09:30"), "cancelled", None, "wufang")]


# ---------------------------------------------------------------------------
# callback and survey (R19)
# ---------------------------------------------------------------------------


def test_every_closed_job_gets_a_callback_due_within_8_working_hours(repair_app, as_user):
    # closed Monday 15:00; JD works 09:00-12:00 and 13:00-18:00: 3 h Monday, 3 h Tuesday
    # morning, 2 h Tuesday afternoon -> Tuesday 15:00
    number = _repaired(as_user, "2026-11-30 15:00")
    callback = _callback(repair_app, number)
    assert callback.due_at == local("2026-12-01 15:00")
    assert (callback.status.value, callback.attempts, callback.answered_at) == ("open", 0, None)
    with repair_app.sessions() as session:
        order = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert callback.engineer_id == order.engineer_id and callback.branch_id == \
            order.branch_id
    with as_user("hejuan", "2026-11-30 15:00") as ctx:  # internal jobs get none
        internal = services.register(ctx, channel="phone", internal=True,
                                     fault_description="工具保养").number
    with as_user("huangtao", "2026-11-30 15:00") as ctx:
        services.dispatch(ctx, internal, engineer="E006")
    with as_user("zhaolei", "2026-11-30 15:00") as ctx:
        services.start(ctx, internal)
        services.complete(ctx, internal, method="保养", cause="例行")
    with as_user("hejuan", "2026-11-30 16:00") as ctx:
        services.close(ctx, internal)
    assert _callback(repair_app, internal) is None


def test_the_callback_records_the_four_ratings_once(repair_app, as_user):
    number = _repaired(as_user)
    callback_id = _callback(repair_app, number).id
    with as_user("zhaolei", "2026-12-01 10:00") as ctx:  # engineers do not rate themselves
        with pytest.raises(PermissionDenied):
            callbacks.record_survey(ctx, callback_id, 4, 4, 4, 4)
    with as_user("hejuan", "2026-12-01 10:00") as ctx:
        with pytest.raises(ValidationError) as bad:
            callbacks.record_survey(ctx, callback_id, 4, 5, 4, 3)
        assert bad.value.field == "skill"
        with pytest.raises(ValidationError):
            callbacks.record_survey(ctx, callback_id, 4, 4, 4)  # keeping promises missing
    assert _callback(repair_app, number).answered_at is None  # nothing written
    with as_user("hejuan", "2026-12-01 10:05") as ctx:
        callbacks.record_survey(ctx, callback_id, "4", 4, 4, 3, comments="师傅很专业",
                                respondent="李老师")
    callback = _callback(repair_app, number)
    assert callback.ratings == (4, 4, 4, 3) and callback.score == Decimal("3.75")
    assert (callback.status.value, callback.channel.value, callback.recorded_by,
            callback.answered_at) == ("done", "phone", "hejuan", local("2026-12-01 10:05"))
    assert _notify_payloads(repair_app, "repair_poor_rating") == []
    with as_user("hejuan", "2026-12-01 10:10") as ctx:
        with pytest.raises(Conflict):
            callbacks.record_survey(ctx, callback_id, 1, 1, 1, 1)


def test_a_poor_rating_is_reported_to_the_branchs_supervisors(repair_app, as_user):
    with repair_app.context() as ctx:
        get_user(ctx.session, "huangtao").email = "huangtao@example.com"
    number = _repaired(as_user)
    with as_user("hejuan", "2026-12-01 10:00") as ctx:
        callbacks.record_survey(ctx, _callback(repair_app, number).id, 2, 4, 1, 3,
                                channel="card", comments="工程师态度差，地毯上留了墨粉")
    [payload] = _notify_payloads(repair_app, "repair_poor_rating")
    assert payload["to"] == "huangtao@example.com"
    assert payload["context"]["number"] == number
    assert [(r["label"], r["value"]) for r in payload["context"]["ratings"]] == [
        ("Service attitude", 2), ("Arrival time", 1)]


def test_unanswered_calls_end_as_unreachable(repair_app, as_user):
    number = _repaired(as_user)
    callback_id = _callback(repair_app, number).id
    for hour in ("10", "14", "16"):
        with as_user("hejuan", f"2026-12-01 {hour}:00") as ctx:
            callbacks.no_answer(ctx, callback_id, note="无人接听")
    callback = _callback(repair_app, number)
    assert (callback.status.value, callback.attempts, callback.last_attempt_at) == \
        ("unreachable", 3, local("2026-12-01 16:00"))
    with as_user("hejuan", "2026-12-02 10:00") as ctx:
        with pytest.raises(Conflict):
            callbacks.no_answer(ctx, callback_id)


class SmsGateway:
    """A plugin that delivers SMS, so that the survey link goes out by SMS."""

    @hookimpl
    def fixdesk_send_notification(self, message):
        return None


def test_closing_sends_the_survey_link_unless_the_branch_switched_it_off(repair_app,
                                                                       as_user):
    repair_app.pm.register(SmsGateway(), name="sms_gateway")
    try:
        sent = _repaired(as_user)
        with repair_app.context() as ctx:  # JD phones its customers instead (scenario 8)
            assert switch(ctx, "repair", "repair_order_closed", get_branch(ctx, "JD"), False)
        phoned = _repaired(as_user)
    finally:
        repair_app.pm.unregister(name="sms_gateway")
    [payload] = _notify_payloads(repair_app, "repair_survey_link")
    assert (payload["channel"], payload["to"], payload["context"]["number"]) == \
        ("sms", "021-5952 1100", sent)
    assert payload["context"]["url"].startswith("http://127.0.0.1:8000/survey/")
    assert _callback(repair_app, sent).link_sent_to == "sms:021-5952 1100"
    assert _callback(repair_app, phoned).link_sent_at is None  # the callback task is there


@pytest.fixture
def web(repair_app):
    """The site's web app (real HTTP through ASGI) for the public survey page."""
    with TestClient(create_app(repair_app.site), raise_server_exceptions=False) as client:
        yield client


class SurveyListener:
    def __init__(self):
        self.answers = []

    @hookimpl
    def repair_survey_answered(self, order, callback):
        self.answers.append((order.number, callback.ratings, callback.channel.value))


def test_the_customer_answers_through_the_signed_link_once(repair_app, as_user, web):
    from plugins.repair.documents import gather_order

    number = _repaired(as_user, close=False)  # repaired, the voucher not filed yet
    with as_user("hejuan", "2026-11-30 10:00") as ctx:
        url = gather_order(ctx, services.load_order(ctx, number, "read"))["qr_data"]
    path = url.removeprefix("http://127.0.0.1:8000")
    page = web.get(path + "?lang=en")
    assert page.status_code == 200 and number in page.text and "Service attitude" in page.text
    assert "Dissatisfied" in page.text and "赵磊" in page.text
    listener = SurveyListener()
    served = web.app.state.fixdesk  # the web app runs its own plugin manager
    served.pm.register(listener, name="survey_listener")
    try:
        missing = web.post(path, data={"attitude": "4", "skill": "4", "arrival": "3"})
        assert missing.status_code == 422 and 'name="promise"' in missing.text
        assert 'value="3" checked' in missing.text  # what was chosen is kept
        assert _callback(repair_app, number) is None  # nothing written
        done = web.post(path + "?lang=en", data={
            "attitude": "4", "skill": "4", "arrival": "3", "promise": "4",
            "comments": "很满意", "respondent": "李老师"})
        assert done.status_code == 200 and "Thank you for your answers" in done.text
        again = web.post(path, data={"attitude": "1", "skill": "1", "arrival": "1",
                                     "promise": "1"})
        assert again.status_code == 409
    finally:
        served.pm.unregister(name="survey_listener")
    assert listener.answers == [(number, (4, 4, 3, 4), "link")]
    callback = _callback(repair_app, number)
    assert (callback.ratings, callback.channel.value, callback.recorded_by,
            callback.comments, callback.status.value) == \
        ((4, 4, 3, 4), "link", "customer", "很满意", "done")
    assert web.get(path).status_code == 409  # the page says it is answered
    # closing later keeps the answers
    with as_user("hejuan", "2026-12-01 09:00") as ctx:
        services.close(ctx, number)
    assert _callback(repair_app, number).ratings == (4, 4, 3, 4)


def test_forged_altered_and_expired_links_are_refused(repair_app, as_user, web):
    number = _repaired(as_user)
    with repair_app.sessions() as session:
        order_id = session.scalar(select(WorkOrder.id).where(WorkOrder.number == number))
    good = sign(repair_app, "repair.survey", f"{order_id}-20991231")
    assert web.get(f"/survey/{good}").status_code == 200
    forged = f"{order_id}-20991231.AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    other_purpose = sign(repair_app, "other.purpose", f"{order_id}-20991231")
    expired = sign(repair_app, "repair.survey", f"{order_id}-20200101")
    for token, status in ((forged, 404), (other_purpose, 404), ("x" * 500, 404),
                          (expired, 410)):
        refused = web.post(f"/survey/{token}", data={
            "attitude": "1", "skill": "1", "arrival": "1", "promise": "1"})
        assert refused.status_code == status, token
    assert _callback(repair_app, number).answered_at is None


# ---------------------------------------------------------------------------
# quality spot checks (R17)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "percent", "expected"), [
    (0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3), (20, 10, 2),
    (7, Decimal("12.5"), 1), (9, Decimal("12.5"), 2), (5, 0, 0), (3, 100, 3)])
def test_the_spot_check_share_is_rounded_up(count, percent, expected):
    assert quality.share_of(count, Decimal(percent)) == expected


def test_a_share_of_yesterdays_jobs_is_drawn_once(repair_app, as_user):
    numbers = [_repaired(as_user, f"2026-11-30 {9 + i // 4:02d}:{(i % 4) * 10:02d}")
               for i in range(12)]
    with as_user("hejuan", "2026-11-30 17:00") as ctx:  # reported today: not drawn
        services.register(ctx, channel="phone", equipment="XQH30112", fault_description="x")
    with as_user("zhaolei", "2026-12-01 08:00") as ctx:
        with pytest.raises(PermissionDenied):
            quality.draw_spot_checks(ctx)
    with as_user(None, "2026-12-01 07:30") as ctx:  # the scheduled job, for yesterday
        drawn = quality.draw_yesterday(ctx)["drawn"]
    assert len(drawn) == 2 and set(drawn) <= set(numbers)  # 10 % of 12, rounded up
    with as_user("huangtao", "2026-12-01 09:00") as ctx:
        assert quality.draw_spot_checks(ctx, day="2026-11-30") == []  # drawn already
        assert quality.draw_spot_checks(ctx, day="2026-11-29", branch="JD") == []
    with repair_app.sessions() as session:
        checks = session.scalars(select(QualityCheck)).all()
    assert [(c.reason.value, c.status.value, c.drawn_by) for c in checks] == \
        [("random", "pending", "system")] * 2


def test_a_failed_spot_check_sends_the_job_back_for_rework(repair_app, as_user):
    passed_number = _repaired(as_user)
    failed_number = _repaired(as_user)
    with as_user("huangtao", "2026-12-01 09:00") as ctx:
        quality.choose_for_check(ctx, passed_number)
        quality.choose_for_check(ctx, failed_number, note="客户投诉后复查")
        with pytest.raises(Conflict):
            quality.choose_for_check(ctx, failed_number)  # one waiting check at a time
    with repair_app.sessions() as session:
        check_ids = dict(session.execute(select(WorkOrder.number, QualityCheck.id)
                                         .join(WorkOrder)).all())
    with as_user("hejuan", "2026-12-01 10:00") as ctx:
        with pytest.raises(PermissionDenied):
            quality.record_check(ctx, check_ids[passed_number], passed=True)
    with as_user("huangtao", "2026-12-01 10:00") as ctx:
        with pytest.raises(ValidationError) as no_findings:
            quality.record_check(ctx, check_ids[failed_number], passed=False)
        assert no_findings.value.field == "findings"
        quality.record_check(ctx, check_ids[passed_number], passed="true")
        quality.record_check(ctx, check_ids[failed_number], passed="false",
                             findings="定影组件未清洁，复印件有黑线")
        with pytest.raises(Conflict):
            quality.record_check(ctx, check_ids[passed_number], passed=False,
                                 findings="again")
    with repair_app.sessions() as session:
        orders = {o.number: o for o in session.scalars(select(WorkOrder))}
        checks = {c.order_id: c for c in session.scalars(select(QualityCheck))}
        rework = session.scalar(select(StatusChange).where(
            StatusChange.order_id == orders[failed_number].id, StatusChange.event == "rework"))
    assert orders[passed_number].status.value == "closed"
    assert (orders[failed_number].status.value, orders[failed_number].closed_at) == \
        ("in_repair", None)
    assert (rework.from_status.value, rework.reason, rework.detail) == (
        "closed", "定影组件未清洁，复印件有黑线",
        {"quality_check_id": check_ids[failed_number]})
    failed = checks[orders[failed_number].id]
    assert (failed.status.value, failed.checked_by, failed.checked_at, failed.reason.value) == \
        ("failed", "huangtao", local("2026-12-01 10:00"), "manual")


# ---------------------------------------------------------------------------
# the order's records are seen with the order (branch scope)
# ---------------------------------------------------------------------------


def test_other_branches_do_not_see_an_orders_lines_history_or_follow_up(repair_app, as_user,
                                                                        web):
    with as_user("hejuan", "2026-11-30 10:00") as ctx:  # a JD job with every kind of record
        number = services.register(ctx, channel="phone", equipment="XQH30112",
                                   fault_description="卡纸").number
    with as_user("huangtao", "2026-11-30 10:10") as ctx:
        services.dispatch(ctx, number, engineer="E006",
                          appointment_at="2026-11-30T11:00:00+08:00")
    with as_user("zhaolei", "2026-11-30 11:00") as ctx:
        services.record_arrival(ctx, number)
        services.start(ctx, number)
        services.add_part(ctx, number, "搓纸轮", 1, "30.00")
        services.complete(ctx, number, method="更换搓纸轮", cause="磨损", hours="0.5")
    with as_user("hejuan", "2026-11-30 12:00") as ctx:
        services.close(ctx, number)
    with repair_app.context() as ctx:
        headers = bearer_headers(ctx, "zhengli", "hejuan")
    for entity in ("repair_work_order_line", "repair_status_change", "repair_callback",
                   "repair_appointment", "repair_labour_entry"):
        sh = web.get(f"/api/v1/{entity}?count=true", headers=headers["zhengli"])
        jd = web.get(f"/api/v1/{entity}", headers=headers["hejuan"])
        assert sh.status_code == jd.status_code == 200, (entity, sh.text)
        assert sh.json()["total"] == 0, entity
    assert web.get("/api/v1/repair_work_order_line?count=true",
                   headers=headers["hejuan"]).json()["total"] == 1
    assert web.get("/api/v1/repair_callback?count=true",
                   headers=headers["hejuan"]).json()["total"] == 1


# ---------------------------------------------------------------------------
# the engineers' monthly scores (R8, R17, R19)
# ---------------------------------------------------------------------------


def test_the_monthly_scores_add_up_surveys_checks_and_arrivals(repair_app, as_user):
    from plugins.repair import reports

    first = _repaired(as_user, "2026-11-30 10:00")
    second = _repaired(as_user, "2026-11-30 11:00")
    with as_user("hejuan", "2026-12-01 10:00") as ctx:
        callbacks.record_survey(ctx, _callback(repair_app, first).id, 4, 4, 4, 3)
        callbacks.record_survey(ctx, _callback(repair_app, second).id, 2, 4, 1, 3)
    with as_user("huangtao", "2026-12-01 11:00") as ctx:
        quality.choose_for_check(ctx, first)
    with repair_app.sessions() as session:
        check_id = session.scalar(select(QualityCheck.id))
    with as_user("huangtao", "2026-12-01 11:30") as ctx:
        quality.record_check(ctx, check_id, passed=False, findings="未清洁")
    with as_user("huangtao", "2026-12-02 09:00") as ctx:
        november = reports.engineer_scores(ctx, "2026-11")
        december = reports.engineer_scores(ctx, "2026-12", branch="JD")
        with pytest.raises(ValidationError) as bad:
            reports.engineer_scores(ctx, "12/2026")
        assert bad.value.field == "month"
    [nov] = november  # the failed check reopened the first job: one stays closed
    assert (nov["engineer"], nov["closed"], nov["on_time"], nov["late"], nov["surveys"]) == \
        ("E006 赵磊", 1, 2, 0, 0)
    [dec] = december
    # (4+2)/2, (4+4)/2, (4+1)/2, (3+3)/2; all eight: 25/8 = 3.125, rounded half up
    assert (dec["surveys"], dec["attitude"], dec["skill"], dec["arrival"], dec["promise"],
            dec["score"], dec["poor"]) == (2, Decimal("3.00"), Decimal("4.00"),
                                           Decimal("2.50"), Decimal("3.00"),
                                           Decimal("3.13"), 1)
    assert (dec["closed"], dec["checks_passed"], dec["checks_failed"]) == (0, 0, 1)


# ---------------------------------------------------------------------------
# races on PostgreSQL: one answer per order, one draw per day
# ---------------------------------------------------------------------------


def _race(app, count: int, work) -> tuple[list, list[BaseException]]:
    """Run ``work(ctx, index)`` in ``count`` threads at once, each in its own transaction
    on its own connection; the results and the errors."""
    import threading

    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(index: int) -> None:
        try:
            with app.context() as ctx:
                ctx.session.connection()  # own connection before the race starts
                barrier.wait(timeout=30)
                results.append(work(ctx, index))
        except BaseException as exc:  # the losers: reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_eight_customers_answering_one_link_at_once_give_one_answer(repair_app, as_user):
    from kernel.site import Site

    number = _repaired(as_user, close=False)  # no callback yet: the first answer makes it
    with as_user("hejuan", "2026-11-30 12:00") as ctx:
        token = callbacks.survey_token(ctx, services.load_order(ctx, number, "read"))
    app = Site.load(repair_app.site.path).start(pool_size=10, max_overflow=0)
    try:
        results, errors = _race(app, 8, lambda ctx, i: callbacks.answer_by_link(
            ctx, token, 4, 4, 4, 1 + i % 4).id)
    finally:
        app.close()
    assert len(results) == 1 and len(errors) == 7
    assert all(isinstance(e, Conflict) for e in errors), errors
    with repair_app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_supervisors_drawing_one_day_at_once_draw_its_share_once(repair_app, as_user):
    from kernel.site import Site

    for i in range(12):
        _repaired(as_user, f"2026-11-30 {9 + i // 4:02d}:{(i % 4) * 10:02d}")
    app = Site.load(repair_app.site.path).start(pool_size=6, max_overflow=0)
    try:
        results, errors = _race(app, 4, lambda ctx, i: len(quality.draw_spot_checks(
            ctx, day="2026-11-30")))
    finally:
        app.close()
    assert not errors, errors
    assert sorted(results) == [0, 0, 0, 2]  # 10 % of 12, rounded up, drawn once
