"""Fixtures of the repair plugin's tests: a demo site with only ``repair`` enabled.

The demo machines' warranties are dated relative to the day the demo is made;
the tests run on fixed dates, so they pin the warranties they rely on.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from desk_sessions import demo_sessions
from site_cache import no_demo
from sqlalchemy import select

from kernel import hookimpl

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: serial number → warranty end pinned for the tests
WARRANTIES = {
    "E335M820091": dt.date(2025, 5, 1),  # 申达物流's Ricoh: out of warranty, under contract
    "QXY20614": dt.date(2025, 11, 20),  # 周志华's Canon: out of warranty
    "LV93X10235": dt.date(2026, 10, 15),  # the JD dealer's Kyocera: out of warranty
    "XQH30112": dt.date(2027, 10, 1),  # 嘉定实验学校's Canon: in warranty
}


def local(text: str) -> dt.datetime:
    """``"2026-11-30 10:20"`` in Shanghai time, aware."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)



@pytest.fixture(autouse=True)
def _without_demo_history(request, monkeypatch):
    """Demo sites of these tests get the kernel's master data but not the repair plugin's
    contracts and order history (:mod:`plugins.repair.demo`): the scenario tests run on
    fixed dates with numbers and contracts of their own. A test module that wants the
    history sets ``DEMO_HISTORY = True``."""
    if not getattr(request.module, "DEMO_HISTORY", False):
        import plugins.repair.demo

        monkeypatch.setattr(plugins.repair.demo, "load_demo", no_demo)


@pytest.fixture
def repair_app(make_site, app_of):
    """A started demo site with the repair plugin, pinned warranties and an engineer user
    ``liming`` (E002 李明, regular grade, SH) beside the demo accounts."""
    from kernel import records
    from kernel.auth import add_user
    from kernel.masterdata import get_branch
    from kernel.models import CustomerEquipment

    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    app = app_of(site)
    with app.context() as ctx:
        info = app.exposed["customer_equipment"]
        for serial, end in WARRANTIES.items():
            machine = ctx.session.scalar(select(CustomerEquipment).where(
                CustomerEquipment.serial_no == serial))
            records.update_record(ctx, info, machine.id, {"warranty_end": end.isoformat()})
        add_user(ctx, "liming", "李明", "password-123", get_branch(ctx, "SH"),
                 roles=["engineer"])
    from kernel.auth import get_user
    from kernel.models import Employee

    with app.context() as ctx:  # link the account to employee E002
        get_user(ctx.session, "liming").employee_id = ctx.session.scalar(
            select(Employee.id).where(Employee.code == "E002"))
    return app


@pytest.fixture
def as_user(repair_app):
    """``with as_user("zhengli", "2026-11-30 10:20") as ctx:`` — a transaction as a demo
    user with the clock frozen at that Shanghai time."""

    @contextmanager
    def open_context(username: str | None, when: str):
        moment = local(when)
        with repair_app.context(user=username, clock=lambda: moment) as ctx:
            yield ctx

    return open_context


class Recorder:
    """Stands in for the plugins that will implement the repair hooks (inventory, billing,
    complaints): records every call."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def _log(self, hook, order):
        self.calls.append((hook, order.number))

    @hookimpl
    def repair_order_registered(self, order):
        self._log("registered", order)

    @hookimpl
    def repair_order_dispatched(self, order, previous):
        self._log("dispatched" if previous is None else "re-dispatched", order)

    @hookimpl
    def repair_parts_needed(self, order, line):
        self._log(f"parts_needed {line.description} x{line.quantity}", order)

    @hookimpl
    def repair_parts_returned(self, order, line):
        self._log(f"parts_returned {line.description}", order)

    @hookimpl
    def repair_order_completed(self, order):
        self._log("completed", order)

    @hookimpl
    def repair_order_audited(self, order, passed):
        self._log(f"audited {passed}", order)

    @hookimpl
    def repair_order_closed(self, order):
        self._log("closed", order)

    @hookimpl
    def repair_order_cancelled(self, order, reason):
        self._log(f"cancelled {reason}", order)

    def hooks(self, number: str) -> list[str]:
        return [hook for hook, n in self.calls if n == number]


@pytest.fixture
def recorder(repair_app):
    found = Recorder()
    repair_app.pm.register(found, name="recorder")
    yield found
    repair_app.pm.unregister(name="recorder")




@pytest.fixture
def web(make_site):
    """The web app (ASGI) of a demo site with the repair plugin, without its demo history."""
    from kernel.web.app import create_app

    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    yield web
    web.state.fixdesk.close()


@pytest.fixture
def login(web):
    """``login("wufang")``: a desk session (HTTP client) of a demo user; ``.csrf`` is its
    token."""
    with demo_sessions(web) as open_session:
        yield open_session
