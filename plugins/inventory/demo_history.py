"""The demo's stock history, written by the demo's people at moments of the past through
the documents' services: opening stock four months back, engineers' vans filled by
transfers, monthly purchases with inspection (one damaged drum rejected and returned),
requisition slips issued, partly returned and written off, a fuser roller scrapped, a
count of the Shanghai parts store that finds a difference — and today: the drum DR-2206
out of stock in Shanghai with its purchase order on the way, toner below its reorder
level, a tube of fuser grease about to expire.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from kernel.demo import DemoDesk
from kernel.lifecycle import number_new_draft, submit

from .models import (
    CustomerOrder,
    Movement,
    PurchaseRequest,
    PurchaseRequestLine,
    Requisition,
    RequisitionLine,
    StockEntry,
    StockEntryLine,
)

#: who keeps, approves and works in each branch (usernames of the demo)
STAFF = {"SH": {"keeper": "sunqin", "manager": "admin", "supervisor": "wufang",
                "engineer": "wanggong"},
         "JD": {"keeper": "liuyun", "manager": "huangtao", "supervisor": "huangtao",
                "engineer": "zhaolei"}}

#: opening stock per warehouse: part → quantity (at the part's purchase price)
OPENING = {
    "SH-P": {"DR-2206": 3, "TN-2206": 9, "TN-2630": 8, "DR-MP2555": 4, "TN-MP2555": 10,
             "FU-TH01": 8, "FU-CL01": 12, "FD-RL01": 15, "FU-UR01": 3, "CL-BL01": 12,
             "DR-TA2020": 1, "TN-TA2020": 4, "BD-MB2206": 1, "BD-PS2555": 1, "SN-PS01": 6,
             "SP-CL02": 20, "FD-SP01": 5},
    "SH-R": {"DR-2206": 1, "DR-MP2555": 1, "FU-TH01": 2, "BD-PS2555": 1},
    "JD-P": {"TN-2206": 6, "DR-TA2020": 2, "TN-TA2020": 6, "FU-TH01": 4, "FU-CL01": 6,
             "FD-RL01": 8, "CL-BL01": 6, "SP-CL02": 10, "SN-PS01": 3},
    "JD-R": {"DR-TA2020": 1, "FU-TH01": 1, "TN-TA2020": 1},
}
#: what the vans carry, moved from the branch's parts store
VANS = {"VAN-E001": ("SH-P", {"FU-TH01": 2, "FU-CL01": 4, "FD-RL01": 3, "CL-BL01": 2}),
        "VAN-E006": ("JD-P", {"FU-TH01": 1, "FU-CL01": 2, "FD-RL01": 2})}


# days back, branch, {part: quantity}, prices differing from the purchase price,
# days until it arrives (None: still on its way), {part: (rejected, reason)}
PURCHASES = [
    (100, "SH", {"DR-2206": 4, "TN-2206": 10, "FD-RL01": 10}, {}, 4,
     {"DR-2206": (1, "外包装破损，鼓面划伤")}),
    (60, "JD", {"TN-TA2020": 6, "DR-TA2020": 2}, {}, 4, {}),
    (30, "SH", {"TN-MP2555": 10, "DR-MP2555": 2, "FU-TH01": 6}, {"TN-MP2555": "152.00"}, 3,
     {}),
    (2, "SH", {"DR-2206": 4}, {}, None, {}),
]


# days back, branch, {part: quantity}, {part: unused units returned}, how far it got
REQUISITIONS = [
    (90, "SH", {"DR-2206": 2, "TN-2206": 4, "FD-RL01": 3}, {"FD-RL01": 1}, "written_off"),
    (70, "JD", {"TN-TA2020": 2, "FU-TH01": 1}, {}, "written_off"),
    (50, "SH", {"DR-2206": 2, "TN-2206": 5, "TN-MP2555": 2}, {}, "written_off"),
    (40, "JD", {"TN-TA2020": 3, "DR-TA2020": 1}, {}, "written_off"),
    (20, "SH", {"DR-2206": 2, "TN-2206": 6}, {}, "issued"),
    (1, "JD", {"FU-CL01": 2}, {}, "approved"),
    (0.2, "SH", {"FU-CL01": 2, "CL-BL01": 1}, {}, "pending"),
]


class History:
    """Writes the demo's stock history in the order it happened."""

    def __init__(self, ctx, data: dict):
        self.ctx = ctx
        self.data = data
        self.parts = data["parts"]
        self.houses = data["warehouses"]
        self.desk = DemoDesk(ctx)
        self.now = ctx.now()
        self.code_of = {part.id: code for code, part in self.parts.items()}

    def ago(self, days: float, hour: int = 10) -> dt.datetime:
        """A moment ``days`` back at about ``hour`` o'clock in the site's time zone."""
        tz = self.ctx.settings.tz
        day = (self.now - dt.timedelta(days=days)).astimezone(tz)
        return day.replace(hour=hour, minute=0, second=0, microsecond=0)

    def entry(self, who: str, when: dt.datetime, purpose: Movement, lines: dict, *,
              source: str | None = None, target: str | None = None,
              reason: str | None = None) -> StockEntry:
        """A stock entry written and submitted by ``who`` at ``when``."""
        ctx = self.desk.at(who, when)
        house = self.houses[target or source]
        entry = StockEntry(branch_id=house.branch_id, purpose=purpose, reason=reason,
                           from_warehouse_id=self.houses[source].id if source else None,
                           to_warehouse_id=self.houses[target].id if target else None,
                           lines=[StockEntryLine(part_id=self.parts[code].id, qty=qty)
                                  for code, qty in lines.items()])
        number_new_draft(ctx, entry)
        ctx.session.add(entry)
        ctx.session.flush()
        submit(ctx, entry)
        return entry

    def purchase(self, days: float, branch: str, wanted: dict, prices: dict,
                 arrives: float | None, rejected: dict) -> None:
        """A purchase request approved, ordered, and (unless still on its way) received and
        inspected: the keeper asks, the manager approves, the keeper orders and receives."""
        staff = STAFF[branch]
        keeper = self.desk.at(staff["keeper"], self.ago(days, 9))
        request = PurchaseRequest(
            branch_id=self.data["branches"][branch].id, reason="按库存与维修需求补货",
            needed_by=self.ago(days - 7).date(),
            lines=[PurchaseRequestLine(part_id=self.parts[code].id, qty=qty)
                   for code, qty in wanted.items()])
        number_new_draft(keeper, request)
        keeper.session.add(request)
        keeper.session.flush()
        submit(keeper, request)
        manager = self.desk.at(staff["manager"], self.ago(days, 11))
        manager.run_action("inventory_purchase_request", request.id, "approve", note="同意")
        keeper = self.desk.at(staff["keeper"], self.ago(days, 14))
        orders = keeper.run_action("inventory_purchase_request", request.id, "make_orders")
        for order in orders:
            for line in order.lines:
                if self.code_of[line.part_id] in prices:
                    line.unit_price = Decimal(prices[self.code_of[line.part_id]])
            order.expected_on = self.ago(days - (arrives or 4)).date()
            keeper.session.flush()
            submit(keeper, order)
            if arrives is None:
                continue
            keeper = self.desk.at(staff["keeper"], self.ago(days - arrives, 10))
            receipt = keeper.run_action("inventory_purchase_order", order.id, "receive")
            receipt.delivery_note = f"SD{order.id:06d}"
            for line in receipt.lines:
                if self.code_of[line.part_id] in rejected:
                    line.rejected_qty, line.reject_reason = rejected[self.code_of[line.part_id]]
                    line.accepted_qty -= line.rejected_qty
            keeper.session.flush()
            submit(keeper, receipt)

    def requisition(self, days: float, branch: str, wanted: dict, returned: dict,
                    until: str) -> None:
        """An engineer's slip for the branch's parts store: submitted, approved by the
        supervisor, issued by the keeper, unused units returned, written off — as far as
        ``until``."""
        staff = STAFF[branch]
        engineer = self.desk.at(staff["engineer"], self.ago(days, 9))
        store = self.houses[f"{branch}-P"]
        slip = Requisition(
            branch_id=store.branch_id, engineer_id=engineer.user.employee_id,
            warehouse_id=store.id, purpose="日常维修领用",
            lines=[RequisitionLine(part_id=self.parts[code].id, qty=qty)
                   for code, qty in wanted.items()])
        number_new_draft(engineer, slip)
        engineer.session.add(slip)
        engineer.session.flush()
        submit(engineer, slip)
        if until == "pending":
            return
        self.desk.at(staff["supervisor"], self.ago(days, 10)).run_action(
            "inventory_requisition", slip.id, "approve")
        if until == "approved":
            return
        keeper = self.desk.at(staff["keeper"], self.ago(days, 11))
        keeper.run_action("inventory_requisition", slip.id, "issue")
        for line in slip.lines:
            if self.code_of[line.part_id] in returned:
                self.desk.at(staff["keeper"], self.ago(days - 2, 16)).run_action(
                    "inventory_requisition", slip.id, "return_parts", line_id=line.id,
                    qty=returned[self.code_of[line.part_id]])
        if until == "written_off":
            self.desk.at(staff["keeper"], self.ago(days - 3, 17)).run_action(
                "inventory_requisition", slip.id, "write_off")

    def count(self, days: float) -> None:
        """The keeper counts the Shanghai parts store: one feed roller is missing (taken
        for a job without a slip), a set of separation claws turns up; the supervisor
        approves the sheet and the differences are posted."""
        keeper = self.desk.at("sunqin", self.ago(days, 16))
        sheet = keeper.run_action("inventory_warehouse", self.houses["SH-P"].id,
                                  "start_count")
        found = {"FD-RL01": (-1, "盘亏：维修取用未开领用单"),
                 "FU-CL01": (1, "盘盈：旧包装内发现一套")}
        for line in sheet.lines:
            change, reason = found.get(self.code_of[line.part_id], (0, None))
            line.counted_qty, line.reason = line.book_qty + change, reason
        keeper.session.flush()
        submit(self.desk.at("wufang", self.ago(days, 17)), sheet)

    def pre_order(self) -> None:
        """周志华 pre-orders a drum for his Canon: it comes with the order on its way."""
        from kernel.models import Customer

        front = self.desk.at("zhengli", self.ago(1, 15))
        customer = front.session.scalar(select(Customer).where(Customer.code == "C0002"))
        if customer is None:
            return
        order = CustomerOrder(company_id=customer.company_id,
                              branch_id=self.data["branches"]["SH"].id,
                              customer_id=customer.id, part_id=self.parts["DR-2206"].id,
                              qty=1, warehouse_id=self.houses["SH-P"].id,
                              contact_name=customer.name, phone=customer.phone,
                              note="客户自行更换，到货电话通知")
        number_new_draft(front, order)
        front.session.add(order)
        front.session.flush()

    def load(self) -> None:
        for house, lines in OPENING.items():
            branch = house[:2]
            self.entry(STAFF[branch]["keeper"], self.ago(120, 9), Movement.RECEIPT, lines,
                       target=house, reason="期初库存")
        # grease bought almost a year ago: its shelf life runs out within the month
        self.entry("sunqin", self.ago(340, 9), Movement.RECEIPT, {"SP-GR01": 4},
                   target="SH-P", reason="期初库存（硅脂）")
        for van, (store, lines) in VANS.items():
            self.entry(STAFF[store[:2]]["keeper"], self.ago(118, 15), Movement.TRANSFER,
                       lines, source=store, target=van, reason="工程师车载备件配置")
        events = [(p[0], self.purchase, p) for p in PURCHASES] + \
                 [(r[0], self.requisition, r) for r in REQUISITIONS]
        events.append((10, self.count, (10,)))
        events.append((45, lambda *a: self.entry(
            "sunqin", self.ago(45, 16), Movement.SCRAP, {"FU-UR01": 1}, source="SH-P",
            reason="搬运跌落，辊面损伤无法使用"), ()))
        for _days, write, args in sorted(events, key=lambda e: -e[0]):
            write(*args)
        self.pre_order()
        self.desk.done()


def load_history(ctx, data: dict) -> None:
    """Write the demo's stock history (see the module's docstring)."""
    History(ctx, data).load()


def load_repair_story(ctx) -> None:
    """Scenario 2 with repair: a Shanghai job waiting for parts needs the drum DR-2206,
    which is out of stock; its reservation is short until the purchase order on the way
    arrives (receiving it resumes the job and tells the supervisor)."""
    orders = ctx.app.exposed.get("repair_work_order")
    store = ctx.session.scalar(select(StockEntry.to_warehouse_id).where(
        StockEntry.reason == "期初库存").limit(1))
    if orders is None or store is None:
        return  # not the demo company's stock
    from kernel.models import Branch

    model = orders.cls
    waiting = ctx.session.scalar(
        select(model.id).join(Branch, Branch.id == model.branch_id)
        .where(Branch.code == "SH", model.status == "waiting_parts")
        .order_by(model.id.desc()).limit(1))
    if waiting is None:
        return
    desk = DemoDesk(ctx)
    supervisor = desk.at("wufang", ctx.now() - dt.timedelta(hours=20))
    supervisor.run_action("repair_work_order", waiting, "add_part", part_code="DR-2206",
                          quantity=1)
    desk.done()
