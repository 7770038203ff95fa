"""Demo history of the repair plugin: maintenance contracts and a few hundred work orders.

Loaded by ``fixdesk new-site --demo`` after the kernel's demo master data (branches
SH urban and JD suburban, engineers E001–E008, 40 customers with copiers). Every
order is made **through the services** (register, dispatch, arrive, diagnose, quote,
start, wait for parts, complete, review, close, cancel), each step as the demo user
who would do it (front desk, supervisor, the engineer's own account where there is
one) and with the context's clock frozen at the step's moment, so numbers,
deadlines, arrival outcomes and the history are what the live system would have
written.

Deterministic: :data:`SEED` drives every choice; dates are relative to the moment
the demo is loaded (the last :data:`DAYS` days). Steps that would lie in the future
are not taken, so recent orders stay open.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from kernel.auth import User
from kernel.branch_calendar import calendar_for
from kernel.context import Context
from kernel.demo import DemoDesk
from kernel.i18n import N_
from kernel.models import Branch, CustomerEquipment, Employee
from kernel.progress import report

from . import callbacks, quality, services
from .models import Callback, QualityCheck
from .rules import Category, ServiceMode, Status

SEED = 20260601
#: how many orders, over how many days before the demo is loaded
ORDERS = 300
DAYS = 60
#: the step the history reports while it loads (a bar on the terminal, kernel.progress)
HISTORY_STEP = N_("Loading the demo order history")

#: (front desk, supervisor) account per branch; engineers with an account of their own
DESK = {"SH": ("zhengli", "wufang"), "JD": ("hejuan", "huangtao")}
ENGINEER_ACCOUNTS = {"E001": "wanggong", "E006": "zhaolei"}

# fault code, what the customer says, diagnosis, cause, method, parts [(part, cost)]
FAULTS = [
    ("SC542", "复印机显示 SC542，无法打印", "定影热敏电阻损坏", "定影热敏电阻老化开路",
     "更换定影热敏电阻，测试复印 50 张正常", [("定影热敏电阻", "85.00")]),
    ("J001", "频繁卡纸，纸张在定影处皱折", "定影分离爪磨损", "分离爪磨损、搓纸轮老化",
     "更换分离爪和搓纸轮，清洁纸路", [("定影分离爪", "36.00"), ("搓纸轮", "48.00")]),
    ("drum", "复印件有黑线、底灰严重", "感光鼓磨损", "感光鼓超寿命使用",
     "更换感光鼓组件，调整浓度", [("感光鼓组件", "380.00")]),
    ("SC320", "开机报 SC320，激光单元错误", "激光单元多面镜电机故障", "多面镜电机轴承磨损",
     "更换激光单元", [("激光单元", "620.00")]),
    ("net", "无法网络打印，扫描到文件夹失败", "网卡设置被改动、SMB 版本不匹配",
     "客户路由器更换后 IP 冲突", "重设固定 IP 与 SMB 参数，测试打印扫描正常", []),
    ("ADF", "输稿器不进纸", "输稿器搓纸组件磨损", "搓纸橡胶老化", "更换输稿器搓纸组件",
     [("输稿器搓纸组件", "120.00")]),
    ("noise", "运行时异响", "主驱动齿轮缺齿", "齿轮长期缺油磨损", "更换驱动齿轮并润滑",
     [("主驱动齿轮", "65.00")]),
    ("toner", "打印浅淡，提示更换碳粉后仍不正常", "供粉电机不转", "供粉电机线束接触不良",
     "重新压接线束，清洁显影单元", []),
    ("fuser", "复印件一擦就掉粉", "定影上辊磨损", "定影辊超寿命", "更换定影上辊和清洁刮板",
     [("定影上辊", "260.00"), ("清洁刮板", "30.00")]),
    ("panel", "操作面板触摸失灵", "触摸屏排线松动", "搬动机器时排线松脱",
     "重新固定排线，校准触摸屏", []),
]
INTERNAL_JOBS = ["季度设备巡检", "备件盘点与整理", "工具保养", "新员工培训：复印机定影原理"]
CANCEL_REASONS = ["客户自行解决", "客户改约至下月，另行报修", "重复报修", "客户不接受上门费用"]
PAUSE_REASONS = ["客户办公室装修，等待客户通知", "客户联系人出差"]
EXCLUSIONS = ["accident", "misuse", "customer_transport", "unauthorised_repair"]


@dataclass
class _Plan:
    """What happens to one order, decided up front with the random generator."""

    machine: CustomerEquipment
    branch: Branch
    reported_at: dt.datetime
    channel: str
    mode: str
    urgent: bool
    fault: tuple
    internal: bool = False
    exclusion: str | None = None
    end: str = "closed"  # the status the order is driven to (if time allows)
    on_time: bool = True
    late_appointment: bool = False
    pause: bool = False
    wait_parts: bool = False
    hard: bool = False
    reject_quote: bool = False
    audit: str | None = None  # "passed", "failed" or None
    engineer: Employee | None = None
    hours: Decimal = Decimal("1")
    extra: dict = field(default_factory=dict)


def load_demo(ctx: Context) -> None:
    """Add the demo contracts and order history (needs the kernel's demo master data)."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    users = set(ctx.session.scalars(select(User.username)))
    if not {"SH", "JD"} <= set(branches) or not {u for pair in DESK.values()
                                                   for u in pair} <= users:
        return  # not the demo company: nothing to add
    History(ctx, branches).load()


class History:
    def __init__(self, ctx: Context, branches: dict[str, Branch]):
        self.ctx = ctx
        self.now = ctx.now().astimezone(dt.UTC)
        self.tz = ctx.settings.tz
        self.today = self.now.astimezone(self.tz).date()
        self.branches = branches
        self.rng = random.Random(SEED)
        self.desk = DemoDesk(ctx)
        self.calendars = {code: calendar_for(ctx, b) for code, b in branches.items()}
        engineers = ctx.session.scalars(select(Employee).where(
            Employee.code.like("E%")).order_by(Employee.code)).all()
        self.engineers = {code: [e for e in engineers if e.branch_id == b.id]
                          for code, b in branches.items()}
        self.machines = ctx.session.scalars(
            select(CustomerEquipment).order_by(CustomerEquipment.id)).all()
        self.code_of = {b.id: code for code, b in branches.items()}

    # -- time ------------------------------------------------------------

    def later(self, branch: str, moment: dt.datetime, hours: float) -> dt.datetime:
        """``hours`` working hours after ``moment`` at the branch, in UTC."""
        return self.calendars[branch].add_working_hours(
            moment, Decimal(str(round(hours, 2)))).astimezone(dt.UTC)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    # -- contracts ---------------------------------------------------------

    def contracts(self) -> None:
        """申达物流's Ricoh under contract until next March (scenario 1), the hospital's two
        Ricohs, the JD dealer's Kyocera (ends within a month: an expiry notice is due), and
        one that ended last month."""
        end_year = self.today.year + 1 if self.today.month >= 4 else self.today.year
        soon = self.today + dt.timedelta(days=20)
        ended = self.today - dt.timedelta(days=25)
        specs = [
            ("SH", f"BY-{end_year - 1}-018", "C0001", ["E335M820091"],
             dt.date(end_year - 1, 4, 1), dt.date(end_year, 3, 31), 12, "4800.00"),
            ("SH", f"BY-{end_year - 1}-022", "C0004", ["G176R400123", "G176R400124"],
             dt.date(end_year - 1, 6, 1), dt.date(end_year, 5, 31), None, "9600.00"),
            ("JD", f"BY-{soon.year - 1}-031", "C0003", ["LV93X10235"],
             soon.replace(year=soon.year - 1) + dt.timedelta(days=1), soon, 6, "2400.00"),
            ("SH", f"BY-{ended.year - 1}-007", "C0006", ["E71835K5N"],
             ended.replace(year=ended.year - 1) + dt.timedelta(days=1), ended, 4, "1500.00"),
        ]
        known = {m.serial_no for m in self.machines}
        for branch, number, customer, serials, start, end, visits, fee in specs:
            if not set(serials) <= known:
                continue
            signed = dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10),
                                         self.tz)
            services.create_contract(
                self.desk.at(DESK[branch][1], signed), number=number, customer=customer,
                equipment=serials, start_date=start, end_date=end, visits_included=visits,
                fee=fee, note="演示数据")

    # -- planning ----------------------------------------------------------

    def _report_time(self) -> dt.datetime:
        rng = self.rng
        while True:
            day = self.today - dt.timedelta(days=int(rng.random() ** 0.9 * DAYS))
            if day.weekday() >= 5 and rng.random() < 0.85:
                continue  # few reports at weekends (web and e-mail)
            minute = rng.randint(8 * 60 + 30, 17 * 60 + 40)
            moment = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), self.tz)
            if moment.astimezone(dt.UTC) < self.now - dt.timedelta(minutes=20):
                return moment.astimezone(dt.UTC)

    def plan(self) -> list[_Plan]:
        rng = self.rng
        plans = []
        for _number in range(ORDERS):
            machine = rng.choice(self.machines)
            branch = self.branches[self.code_of[machine.branch_id]]
            reported = self._report_time()
            channel = rng.choices(["phone", "email", "web", "walk_in"], [55, 10, 15, 20])[0]
            mode = "carry_in" if channel == "walk_in" or rng.random() < 0.05 else "on_site"
            plan = _Plan(machine=machine, branch=branch, reported_at=reported, channel=channel,
                         mode=mode, urgent=rng.random() < 0.12, fault=rng.choice(FAULTS))
            plan.internal = rng.random() < 0.04
            if not plan.internal and rng.random() < 0.06:
                plan.exclusion = rng.choice(EXCLUSIONS)
            age = (self.now - reported).days
            if age >= 7:
                plan.end = rng.choices(
                    ["closed", "cancelled", "completed", "ready_for_pickup", "waiting_parts",
                     "hard_to_repair"], [84, 7, 2, 3, 3, 1])[0]
            elif age >= 2:
                plan.end = rng.choices(
                    ["closed", "cancelled", "completed", "ready_for_pickup", "waiting_parts",
                     "in_repair", "quoted", "dispatched", "hard_to_repair"],
                    [35, 6, 10, 10, 12, 10, 6, 6, 3])[0]
            else:
                plan.end = rng.choices(["pending", "dispatched", "in_repair", "closed"],
                                       [30, 35, 20, 15])[0]
            plan.on_time = rng.random() < 0.82
            plan.late_appointment = rng.random() < 0.05
            plan.pause = not plan.late_appointment and rng.random() < 0.04
            plan.wait_parts = plan.end == "waiting_parts" or rng.random() < 0.12
            plan.hard = plan.end == "hard_to_repair" or rng.random() < 0.02
            plan.reject_quote = rng.random() < 0.1
            plan.audit = rng.choices([None, "passed", "failed"], [70, 28, 2])[0]
            pool = self.engineers[self.code_of[branch.id]]
            plan.engineer = rng.choices(pool, [4, 3, 3, 2, 1][:len(pool)])[0]
            plan.hours = Decimal(rng.choice(["0.5", "1", "1", "1.5", "2", "2.5", "3"]))
            plan.extra = {"dispatch_after": rng.uniform(0.1, 1.5),
                          "arrive_share": rng.uniform(0.25, 0.95),
                          "late_hours": rng.uniform(0.2, 5),
                          "decide_after": rng.uniform(0.5, 12),
                          "parts_days": rng.randint(1, 4),
                          "close_after": rng.uniform(0.5, 14),
                          "cancel_reason": rng.choice(CANCEL_REASONS),
                          "pause_reason": rng.choice(PAUSE_REASONS),
                          "pause_hours": rng.uniform(1, 6),
                          "labour": ["0.5", "1", "1.5"][rng.randint(0, 2)],
                          "quote": (rng.choice(["120", "180", "240"]), rng.choice(["0", "50"])),
                          "parts": rng.random() < 0.8}
            plans.append(plan)
        plans.sort(key=lambda p: p.reported_at)
        return plans

    # -- one order ---------------------------------------------------------

    def load(self) -> None:
        self.contracts()
        plans = self.plan()
        for done, plan in enumerate(plans):
            report(HISTORY_STEP, done, len(plans))  # a bar on the terminal (new-site --demo)
            self.run(plan)
        report(HISTORY_STEP, len(plans), len(plans))
        self.spot_checks()
        self.surveys()
        self.desk.done()
        self.ctx.session.flush()

    # -- after the repair (R17, R19) -----------------------------------------

    def spot_checks(self) -> None:
        """Each morning's draw of the day before (R17), checked by the supervisor a few
        hours later: most pass; a failed one is reworked and closed again."""
        first = self.today - dt.timedelta(days=DAYS)
        for offset in range(DAYS):
            day = first + dt.timedelta(days=offset)
            morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(7, 30), self.tz)
            if morning.astimezone(dt.UTC) > self.now:
                break
            checks = quality.draw_spot_checks(self.desk.at("admin", morning), day=day,
                                              rng=self.rng)
            for check in checks:
                self.check(check, morning)

    def check(self, check: QualityCheck, morning: dt.datetime) -> None:
        order = check.order
        code = self.code_of[order.branch_id]
        front, boss = DESK[code]
        when = self.later(code, morning, self.rng.uniform(1, 6))
        if when > self.now:
            return
        if self.rng.random() < 0.9 or Status(order.status) not in (Status.COMPLETED,
                                                                   Status.READY_FOR_PICKUP,
                                                                   Status.CLOSED):
            quality.record_check(self.desk.at(boss, when), check, passed=True,
                                 findings="抽查合格")
            return
        quality.record_check(self.desk.at(boss, when), check, passed=False,
                             findings="抽查发现定影部位未清洁干净，返工")
        hands = ENGINEER_ACCOUNTS.get(order.engineer.code, boss) if order.engineer else boss
        again = self.later(code, when, 2)
        if again > self.now:
            return
        services.complete(self.desk.at(hands, again), order, method="返工：重新清洁定影部位",
                          cause="首次维修清洁不彻底", hours="0.5")
        closed = self.later(code, again, 1)
        if closed <= self.now:
            services.close(self.desk.at(front, closed), order, "返工完成，客户确认")

    def surveys(self) -> None:
        """The callback of each closed job (R19): most customers answer (by phone, a few on
        the survey card or through the QR link), some cannot be reached or decline, the
        latest ones are still open."""
        self.desk.done()  # every branch's callbacks, not the last acting user's
        for callback in self.ctx.session.scalars(select(Callback).order_by(Callback.id)).all():
            order = callback.order
            code = self.code_of[order.branch_id]
            front = DESK[code][0]
            when = self.later(code, order.closed_at, self.rng.uniform(0.5, 7))
            if when > self.now or callback.answered_at is not None:
                continue
            fate = self.rng.choices(["phone", "card", "link", "no_answer", "decline"],
                                    [62, 8, 15, 10, 5])[0]
            ratings = [self.rng.choices([4, 3, 2, 1], [68, 27, 4, 1])[0] for _ in range(4)]
            comment = self.rng.choice([None, None, None, "师傅很专业，响应及时",
                                       "希望能提前电话告知到达时间", "维修后效果很好"])
            if fate in ("phone", "card"):
                callbacks.record_survey(self.desk.at(front, when), callback, *ratings,
                                        comments=comment, channel=fate)
            elif fate == "link":
                acting = self.desk.at("admin", when)
                token = callbacks.survey_token(acting, order)
                callbacks.answer_by_link(Context(session=self.ctx.session, app=self.ctx.app,
                                                 branch=order.branch, clock=lambda at=when: at),
                                         token, *ratings, comments=comment)
            elif fate == "no_answer":
                for attempt in range(self.rng.randint(1, 3)):
                    moment = self.later(code, when, attempt * 3)
                    if moment <= self.now:
                        callbacks.no_answer(self.desk.at(front, moment), callback, "无人接听")
            else:
                callbacks.decline(self.desk.at(front, when), callback, "客户表示不需要回访")

    def run(self, plan: _Plan) -> None:
        code = self.code_of[plan.branch.id]
        front, boss = DESK[code]
        x = plan.extra
        step = plan.reported_at
        desk = self.desk

        def may(when: dt.datetime) -> bool:
            return when <= self.now

        fault_code, complaint, diagnosis, cause, method, parts = plan.fault
        if plan.internal:
            complaint, fault_code = self.rng.choice(INTERNAL_JOBS), None
        order = services.register(
            desk.at(front, step), channel=plan.channel, equipment=plan.machine,
            fault_description=complaint, fault_code=fault_code, urgent=plan.urgent,
            service_mode=plan.mode, internal=plan.internal, exclusion=plan.exclusion,
            reported_at=step)
        if plan.end == "pending":
            return
        if plan.end == "cancelled" and self.rng.random() < 0.3:
            when = self.later(code, step, 0.5)
            if may(when):
                services.cancel(desk.at(front, when), order, x["cancel_reason"])
            return
        # dispatch (R7), perhaps with an appointment later than the deadline
        step = self.later(code, step, x["dispatch_after"])
        if not may(step):
            return
        engineer = plan.engineer
        hands = ENGINEER_ACCOUNTS.get(engineer.code, boss)
        deadline = order.deadline_at
        if order.service_mode == ServiceMode.ON_SITE and deadline is not None:
            if plan.late_appointment:
                arrival = self.later(code, deadline, 2 + x["late_hours"])
                appointment = arrival
            elif plan.on_time:
                budget = (self.calendars[code].working_hours_between(step, deadline)
                          .total_seconds() / 3600)
                arrival = self.later(code, step, max(0.1, budget * x["arrive_share"]))
                appointment = arrival
            else:
                arrival = self.later(code, deadline, x["late_hours"])
                appointment = None
        else:
            arrival = self.later(code, step, 0.5 + x["arrive_share"] * 4)
            appointment = None
        if plan.pause and deadline is not None and not plan.on_time:
            plan.pause = False
        services.dispatch(desk.at(boss, step), order, engineer=engineer,
                          appointment_at=appointment)
        if plan.end == "dispatched":
            return
        if plan.pause and order.deadline_at is not None:
            paused = self.later(code, step, 0.1)
            resumed = self.later(code, paused, x["pause_hours"])
            if may(resumed):
                services.pause(desk.at(front, paused), order, x["pause_reason"])
                services.resume(desk.at(front, resumed), order)
                arrival = self.later(code, resumed, 0.5)
        if not may(arrival):
            return
        step = arrival
        if order.service_mode == ServiceMode.ON_SITE:
            services.record_arrival(desk.at(hands, step), order)
        if plan.end == "cancelled":
            step = self.later(code, step, 0.3)
            if may(step):
                services.cancel(desk.at(front, step), order, x["cancel_reason"])
            return
        # diagnosis, and the quote of a paid job (R10, R11)
        step = self.later(code, step, 0.4)
        if not may(step):
            return
        services.diagnose(desk.at(hands, step), order, diagnosis, fault_code)
        if order.category == Category.PAID and not plan.internal:
            labour, travel = x["quote"]
            parts_total = sum((Decimal(cost) for _part, cost in parts), Decimal("0"))
            services.quote(desk.at(hands, self.later(code, step, 0.2)), order, labour=labour,
                           parts=(parts_total * Decimal("1.15")).quantize(Decimal("0.01")),
                           travel=travel)
            step = self.later(code, step, 0.2 + x["decide_after"])
            if plan.end == "quoted" or not may(step):
                return
            if plan.reject_quote:
                services.reject_quote(desk.at(front, step), order, "客户认为价格偏高")
                step = self.later(code, step, 0.5)
                if may(step):
                    services.close(desk.at(front, step), order, "报价未被接受，未修复")
                return
            services.accept_quote(desk.at(front, step), order, "客户电话确认")
        step = self.later(code, step, 0.2)
        if not may(step):
            return
        services.start(desk.at(hands, step), order)
        if plan.hard:
            step = self.later(code, step, 0.5)
            if not may(step):
                return
            services.hard_to_repair(desk.at(hands, step), order, "需与厂家技术支持讨论")
            if plan.end == "hard_to_repair":
                return
            step = self.later(code, step, 8)
            if not may(step):
                return
            services.start(desk.at(hands, step), order, "厂家给出维修方案")
        if x["parts"] and not plan.internal:
            for part, cost in parts:
                services.add_part(desk.at(hands, step), order, part, 1, cost)
        if plan.wait_parts and parts and not plan.internal:
            step = self.later(code, step, 0.3)
            if not may(step):
                return
            services.wait_for_parts(desk.at(hands, step), order, "备件缺货，已向供应商订货")
            if plan.end == "waiting_parts":
                return
            step = self.later(code, step, 9 * x["parts_days"])
            if not may(step):
                return
            services.start(desk.at(hands, step), order, "备件已到")
        if plan.end == "in_repair":
            return
        step = self.later(code, step, float(plan.hours))
        if not may(step):
            return
        services.complete(desk.at(hands, step), order, method=method, cause=cause,
                          hours=plan.hours)
        if plan.audit == "failed" and plan.end == "closed":
            step = self.later(code, step, 2)
            if not may(step):
                return
            services.audit(desk.at(boss, step), order, False, "复印件仍有轻微底灰，返工")
            step = self.later(code, step, 3)
            if not may(step):
                return
            services.add_labour(desk.at(hands, step), order, x["labour"], note="返工")
            services.complete(desk.at(hands, step), order, method=method + "；返工后清洁显影单元",
                              cause=cause)
        if plan.end in ("completed", "ready_for_pickup") and \
                order.status in (Status.COMPLETED, Status.READY_FOR_PICKUP):
            return
        step = self.later(code, step, x["close_after"])
        if not may(step):
            return
        if plan.audit == "passed":
            services.audit(desk.at(boss, step), order, True)
        note = "客户已取机，收据收回作废" if order.service_mode == ServiceMode.CARRY_IN \
            else "服务凭证已签字归档"
        services.close(desk.at(front, step), order, note)
