"""The dispatch board through HTTP (SQLite and PostgreSQL): what it shows, dispatching and
rescheduling from it with the same effect as the ``dispatch`` action, and who is refused
(R7, R9)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from kernel.models import Branch, Employee
from plugins.repair import board, services
from plugins.repair.models import Appointment, StatusChange, WorkOrder
from plugins.repair.rules import Status

from .conftest import SHANGHAI

BOARD = "/desk/repair_work_order/board"


#: when the calls came in (the same for every order: the same deadline)
REPORTED = (dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=5)).replace(second=0,
                                                                         microsecond=0)


def _register(web, user: str, equipment: str, fault: str = "卡纸") -> int:
    with web.state.fixdesk.context(user=user) as ctx:
        return services.register(ctx, channel="phone", equipment=equipment,
                                 fault_description=fault, reported_at=REPORTED).id


def _order(web, order_id: int) -> WorkOrder:
    with web.state.fixdesk.sessions() as session:
        found = session.get(WorkOrder, order_id)
        session.expunge(found)
        return found


def _appointments(web, order_id: int) -> list[tuple[str, int | None, dt.datetime]]:
    with web.state.fixdesk.sessions() as session:
        return [(a.status.value, a.engineer_id, a.starts_at) for a in session.scalars(
            select(Appointment).where(Appointment.order_id == order_id)
            .order_by(Appointment.id))]


def _events(web, order_id: int) -> list[str]:
    with web.state.fixdesk.sessions() as session:
        return list(session.scalars(select(StatusChange.event).where(
            StatusChange.order_id == order_id).order_by(StatusChange.id)))


def _employee(web, code: str) -> int:
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(Employee.id).where(Employee.code == code))


def _days() -> tuple[dt.date, dt.date, dt.date]:
    today = dt.datetime.now(SHANGHAI).date()
    return today - dt.timedelta(days=1), today, today + dt.timedelta(days=1)


def _cell(page: str, code: str, day: dt.date) -> str:
    return page.split(f'data-cell="{code}|{day.isoformat()}"', 1)[1].split("</td>", 1)[0]


def _queue(page: str) -> str:
    return page.split("data-queue", 1)[1].split("</section>", 1)[0]


@pytest.fixture
def orders(web):
    """Two new SH orders (front desk 郑丽) and a JD one (何娟)."""
    return {"a": _register(web, "zhengli", "E335M820091"),
            "b": _register(web, "zhengli", "QXY20614", "不进纸"),
            "jd": _register(web, "hejuan", "LV93X10235")}


def test_the_board_shows_the_branch_s_engineers_days_and_queue(web, login, orders):
    page = login("wufang").get(BOARD)
    assert page.status_code == 200
    text = page.text
    assert re.findall(r'<tr data-engineer="([^"]+)">', text) == [
        "E001", "E002", "E003", "E004", "E005"]  # SH's field engineers, not the office
    _yesterday, today, _tomorrow = _days()
    days = re.findall(r'data-cell="E001\|([0-9-]+)"', text)
    assert days == [(today + dt.timedelta(days=i)).isoformat() for i in range(7)]
    queue = _queue(text)
    a, b, jd = (_order(web, orders[k]).number for k in ("a", "b", "jd"))
    assert a in queue and b in queue and jd not in text
    assert "派工看板" in text and 'name="target"' in text and "data-dnd-form" in text
    # the list and the home page lead here
    supervisor = login("wufang")
    assert f'href="{BOARD}"' in supervisor.get("/desk/repair_work_order").text
    assert f'href="{BOARD}"' in supervisor.get("/").text
    # the front desk sees the board but cannot dispatch from it
    front = login("zhengli").get(BOARD).text
    assert a in front and 'name="target"' not in front and "data-dnd-form" not in front


def test_dispatching_from_the_board_is_the_dispatch_action(web, login, orders):
    supervisor = login("wufang")
    _yesterday, _today, tomorrow = _days()
    e002 = _employee(web, "E002")
    done = supervisor.post(BOARD, data={
        "csrf": supervisor.csrf, "branch": "SH", "order": orders["a"],
        "target": f"{e002}|{tomorrow.isoformat()}", "time": "10:30"})
    assert done.status_code == 303, done.text
    page = supervisor.get(done.headers["location"]).text
    number = _order(web, orders["a"]).number
    assert "已将" in page and number in _cell(page, "E002", tomorrow)
    assert number not in _queue(page)

    # the same dispatch through the action, as the form's button and the API run it
    at = dt.datetime.combine(tomorrow, dt.time(10, 30), tzinfo=SHANGHAI)
    with web.state.fixdesk.context(user="wufang") as ctx:
        ctx.run_action("repair_work_order", orders["b"], "dispatch", engineer="E002",
                       appointment_at=at.isoformat())
    board_order, action_order = _order(web, orders["a"]), _order(web, orders["b"])
    for name in ("status", "engineer_id", "appointment_at", "deadline_at", "paused_minutes"):
        assert getattr(board_order, name) == getattr(action_order, name), name
    assert board_order.status == Status.DISPATCHED and board_order.engineer_id == e002
    assert board_order.appointment_at == at
    assert _events(web, orders["a"]) == _events(web, orders["b"])
    assert _appointments(web, orders["a"]) == [("booked", e002, at)] == \
        _appointments(web, orders["b"])

    # moving the appointment to another engineer and day keeps its time (rescheduled)
    e003, later = _employee(web, "E003"), tomorrow + dt.timedelta(days=1)
    moved = supervisor.post(BOARD, data={"csrf": supervisor.csrf, "branch": "SH",
                                         "order": orders["a"],
                                         "target": f"{e003}|{later.isoformat()}"})
    assert moved.status_code == 303
    new_at = dt.datetime.combine(later, dt.time(10, 30), tzinfo=SHANGHAI)
    assert _appointments(web, orders["a"]) == [("rescheduled", e002, at),
                                               ("booked", e003, new_at)]
    page = supervisor.get(BOARD).text
    assert number in _cell(page, "E003", later) and number not in _cell(page, "E002", tomorrow)


def test_the_board_refuses_clearly_and_writes_nothing(web, login, orders):
    supervisor = login("wufang")
    yesterday, today, tomorrow = _days()
    e001, e006 = _employee(web, "E001"), _employee(web, "E006")

    def post(client, **data):
        return client.post(BOARD, data={"csrf": client.csrf, "branch": "SH", **data})

    cases = [
        ({"target": f"{e001}|{tomorrow}"}, "请先选择工单"),
        ({"order": orders["a"], "target": f"{e001}|{yesterday}"}, "该日期已过"),
        ({"order": orders["a"], "target": f"{e006}|{tomorrow}"}, "该工程师不在此派工看板上"),
        ({"order": orders["a"], "target": f"{e001}|{tomorrow}", "time": "25:70"},
         "时:分"),
        ({"order": orders["a"], "target": "nonsense"}, "请在看板上选择"),
    ]
    for data, message in cases:
        answer = post(supervisor, **data)
        assert answer.status_code == 422, (data, answer.status_code)
        assert message in re.search(r'data-problem>([^<]+)<', answer.text).group(1)
    assert _order(web, orders["a"]).status == Status.PENDING

    # the front desk may not dispatch; another branch's supervisor does not see the order
    front = login("zhengli")
    assert post(front, order=orders["a"], target=f"{e001}|{tomorrow}").status_code == 403
    jd = login("huangtao")
    assert jd.post(BOARD, data={"csrf": jd.csrf, "branch": "JD", "order": orders["a"],
                                "target": f"{e006}|{tomorrow}"}).status_code == 404
    assert post(jd, order=orders["jd"], target=f"{e001}|{tomorrow}").status_code == 404
    forged = supervisor.post(BOARD, data={"csrf": "forged", "branch": "SH",
                                          "order": orders["a"],
                                          "target": f"{e001}|{tomorrow}"})
    assert forged.status_code == 403
    for key in ("a", "jd"):
        order = _order(web, orders[key])
        assert (order.status, order.engineer_id) == (Status.PENDING, None)
        assert _appointments(web, orders[key]) == []
    # a closed order cannot be dispatched: the action's own refusal, on the board
    with web.state.fixdesk.context(user="zhengli") as ctx:
        services.cancel(ctx, orders["b"], reason="客户取消")
    refused = post(supervisor, order=orders["b"], target=f"{e001}|{today}")
    assert refused.status_code == 409 and "data-problem" in refused.text
    assert _appointments(web, orders["b"]) == []


def _waiting(web) -> int:
    """SH's orders waiting for dispatch."""
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(func.count()).select_from(WorkOrder).join(WorkOrder.branch)
                              .where(Branch.code == "SH", WorkOrder.status == Status.PENDING,
                                     WorkOrder.engineer_id.is_(None),
                                     WorkOrder.partner_outlet.is_(None)))


def test_a_long_backlog_shows_the_first_cards_and_links_to_the_rest(web, login, orders,
                                                                     monkeypatch):
    """The queue and an engineer's untimed jobs show their first cards only, with the
    number left out and a link to the list that shows them all."""
    monkeypatch.setattr(board, "QUEUE_SHOWN", 2)
    monkeypatch.setattr(board, "OTHER_SHOWN", 2)
    more = [_register(web, "zhengli", "E335M820091", f"卡纸 {i}") for i in range(5)]
    untimed = more[:3]
    with web.state.fixdesk.context(user="wufang") as ctx:
        for order_id in untimed:  # dispatched without a time: the "no time" column
            ctx.run_action("repair_work_order", order_id, "dispatch", engineer="E002")
    supervisor = login("wufang")
    page = supervisor.get(BOARD).text
    waiting = _waiting(web)
    queue = _queue(page)
    assert waiting >= 4 and f'<span class="count">{waiting}</span>' in queue
    assert queue.count('<li class="card') == 2
    link = re.search(r'<a href="([^"]+)" data-queue-more>([^<]+)</a>', queue)
    assert link and f"{waiting - 2}" in link.group(2) and str(waiting) in link.group(2)
    listed = supervisor.get(link.group(1).replace("&amp;", "&")).text
    for order_id in more[3:]:
        assert _order(web, order_id).number in listed

    other = page.split('<tr data-engineer="E002">', 1)[1].split("</td>", 1)[0]
    numbers = [_order(web, i).number for i in untimed]
    assert [n for n in numbers if n in other] == numbers[:2]  # the oldest first
    link = re.search(r'<a class="more" href="([^"]+)" data-more[^>]*>([^<]+)</a>', other)
    assert link and link.group(2) == "还有 1 项"  # 3 untimed jobs, 2 shown
    listed = supervisor.get(link.group(1).replace("&amp;", "&")).text
    assert all(n in listed for n in numbers)
    with web.state.fixdesk.sessions() as session:  # the filter says who, not his id
        name = session.scalar(select(Employee.name).where(Employee.code == "E002"))
    assert name in re.search(r"data-filter-ref>([^<]+)<", listed).group(1)


def test_a_visit_never_kept_counts_among_the_cards_left_out(web, login, monkeypatch):
    """An engineer's earlier visits that were never kept come first in his column; what
    does not fit, visits or untimed jobs, is counted in "N more"."""
    monkeypatch.setattr(board, "OTHER_SHOWN", 2)
    two_days_ago = REPORTED - dt.timedelta(days=2)
    with web.state.fixdesk.context(user="zhengli") as ctx:
        missed = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="卡纸", reported_at=two_days_ago).id
    yesterday = (two_days_ago + dt.timedelta(days=1)).replace(hour=10, minute=0)
    with web.state.fixdesk.context(user="wufang") as ctx:
        ctx.run_action("repair_work_order", missed, "dispatch", engineer="E002",
                       appointment_at=yesterday.isoformat())
        for fault in ("不进纸", "卡纸"):
            order_id = services.register(ctx, channel="phone", equipment="E335M820091",
                                         fault_description=fault, reported_at=REPORTED).id
            ctx.run_action("repair_work_order", order_id, "dispatch", engineer="E002")
    other = login("wufang").get(BOARD).text.split('<tr data-engineer="E002">', 1)[1] \
        .split("</td>", 1)[0]
    assert _order(web, missed).number in other  # the visit never kept, shown first
    assert other.count('<li class="card visit') == 2
    assert re.search(r'data-more[^>]*>还有 1 项</a>', other), other  # 1 visit + 2 untimed
