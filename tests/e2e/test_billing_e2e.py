"""Scenario 2 billed through the desk in headless Chromium, in Chinese (issue 13's proof),
against a real ``fixdesk serve`` of the demo company with repair, inventory and billing
(billing's price rules; without repair's order history, so the walk is quick).

周志华 walked in with his Canon iR 2206 (out of warranty: category A, carry-in); the drums
on their way arrived in the Shanghai parts store; 李明 (E002, regular grade) diagnosed a
worn drum and put the drum DR-2206 on the order (prepared through repair's services).
In the browser 李明 presses *Quote* without typing an amount: the drum at ¥380.00 plus
15 % is ¥437.00, labour for a medium repair ¥120.00, ¥557.00 in all. The front desk
records that the customer accepted; 李明 repairs and completes the job, which SH invoices
at once. The accountant 钱慧 opens the invoice from the order's *Charges and invoice*,
prints it (¥557.00 on the PDF), records the customer's transfer for it and sees it
settled.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pdf_tools import pdftotext
from sqlalchemy import select

from .conftest import demo_user_session, serving
from .test_desk_browser import pytestmark  # noqa: F401 (the same skip rule)

PLUGINS = ["repair", "inventory", "billing"]


def prepare(ctx) -> None:
    """The engineer 李明's account; the drums on their way received; scenario 2's job up
    to the diagnosis with the drum on it — each step as the one who does it."""
    from kernel.auth import add_user, get_user
    from kernel.demo import DEMO_PASSWORD, DemoDesk
    from kernel.lifecycle import submit
    from kernel.masterdata import get_branch
    from kernel.models import Employee
    from plugins.inventory.models import OrderStatus, PurchaseOrder
    from plugins.repair import services

    add_user(ctx, "liming", "李明", DEMO_PASSWORD, get_branch(ctx, "SH"), roles=["engineer"])
    get_user(ctx.session, "liming").employee_id = ctx.session.scalar(
        select(Employee.id).where(Employee.code == "E002"))
    ctx.session.flush()
    desk, now = DemoDesk(ctx), ctx.now()

    def at(username: str, minutes_ago: int):
        return desk.at(username, now - dt.timedelta(minutes=minutes_ago))

    keeper = at("sunqin", 180)
    drums = keeper.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.number.like("PO-SH-%-0003"),
        PurchaseOrder.status == OrderStatus.TO_RECEIVE)).one()
    submit(keeper, keeper.run_action("inventory_purchase_order", drums.id, "receive"))
    order = services.register(at("zhengli", 120), channel="walk_in", equipment="QXY20614",
                              fault_description="复印件有黑线、底灰严重")
    services.dispatch(at("wufang", 110), order, engineer="E002")
    services.diagnose(at("liming", 60), order, "感光鼓磨损，需更换感光鼓组件")
    services.add_part(at("liming", 59), order, part_code="DR-2206", quantity=1)
    desk.done()


@pytest.fixture(scope="module")
def billing_server(tmp_path_factory):
    """The demo company with repair, inventory and billing (without repair's order history)
    and scenario 2's job diagnosed, served over HTTP."""
    import plugins.repair.demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins.repair.demo, "load_demo", lambda ctx: None)
        with serving(tmp_path_factory.mktemp("e2e-billing") / "site", PLUGINS, [],
                     prepare=prepare) as served:
            yield served


def _order(served) -> tuple[int, str]:
    from plugins.repair.models import WorkOrder

    app = served["site"].start()
    try:
        with app.context() as ctx:
            order = ctx.session.scalars(select(WorkOrder).order_by(WorkOrder.id.desc())).first()
            return order.id, order.number
    finally:
        app.close()
