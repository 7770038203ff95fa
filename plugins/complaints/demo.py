"""Demo data of the complaints plugin: the company's departments and the people who answer
for complaints, scenario 5 told step by step, complaints open in every state, and a year
of closed history in both branches (so the monthly review and its 12-month trend have
figures).

- **People.** Five departments (售后服务部 SVC, 人事部 HR, 技术部 TECH, 业务部 SALES,
  质管部 QA) with their heads: SVC is the Shanghai supervisor 吴芳 (JD's supervisor 黄涛 a
  member, so that he approves for SVC at JD), TECH the expert engineer 张伟, the others
  head-office staff added here. The vice general manager 周宏 (``zhouzong``, told of
  critical complaints at once) and the heads of HR and QA (``linhui``, ``shaoting``)
  get accounts, with the password of every demo account.
- **Scenario 5** (SCENARIOS.md): a corporate customer writes on the survey card that
  王工 was rude and left toner on the carpet; registered (human factors, serious), the
  supervisor calls the same afternoon, the investigation attributes it to the engineer,
  the handling form (free cleaning, an apology, another engineer next time) is approved
  by SVC and HR, carried out, the customer told, closed — each step through the services
  as the person who takes it, at its moment.
- **Open complaints**: one waiting for HR's approval, a critical one at JD for the
  management dashboard, one past its deadlines and escalated, one waiting on the customer,
  an inquiry just in; an ordinary complaint and a praise recorded and passed on.
- **History**: about a year of complaints, praise, inquiries and suggestions in SH and JD,
  closed or passed on, written in bulk through the model classes (numbered in time
  order, deadlines from the branch's calendar, contacts and approvals on record).

Where repair runs, the history is loaded by the part ``complaints.repair`` after repair's
order history (the kernel calls a part's demo data after its partners'), so complaints
are about real work orders (``about``), found by table name; complaints a poor survey
opened during repair's history are handled to the end like the others. Deterministic:
:data:`SEED` drives every choice; dates are relative to the moment the demo is loaded,
and nothing is written in the future.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random

from sqlalchemy import select

from kernel.auth import User, UserRole, hash_password
from kernel.branch_calendar import calendar_for
from kernel.context import Context
from kernel.demo import DEMO_PASSWORD, DemoDesk
from kernel.lifecycle import number_new_draft
from kernel.links import RecordLink
from kernel.models import Branch, Customer, CustomerContact, CustomerEquipment, Employee, Tier

from . import deadlines, escalation, services
from .models import Approval, Complaint, Contact, Department, DepartmentMember
from .rules import ApprovalState, Category, Channel, ContactMethod, Severity, Status, Topic

SEED = 20261405
#: the session's note that the history waits for repair's (see :func:`load_after_repair`)
PENDING = "complaints.demo_history_pending"
ORDERS = "repair_work_order"
ENTITY = "complaints_complaint"

#: head-office staff the demo adds: code, name, e-mail (the branch is SH)
OFFICE = [("M001", "周宏", "zhouhong@hdoffice.example"),
          ("M002", "林慧", "linhui@hdoffice.example"),
          ("M003", "马骏", "majun@hdoffice.example"),
          ("M004", "邵婷", "shaoting@hdoffice.example")]
#: code, name, the head's employee code
DEPARTMENTS = [("SVC", "售后服务部", "S001"), ("HR", "人事部", "M002"), ("TECH", "技术部", "E003"),
               ("SALES", "业务部", "M003"), ("QA", "质管部", "M004")]
#: department code, employee code: members who approve besides the head
MEMBERS = [("SVC", "S003")]
#: username, employee code, role, company-wide
ACCOUNTS = [("zhouzong", "M001", "vice_general_manager"),
            ("linhui", "M002", "department_head"),
            ("shaoting", "M004", "department_head")]
#: e-mail addresses of the supervisors, so that escalations reach them
EMAILS = {"wufang": "wufang@hdoffice.example", "huangtao": "huangtao@hdoffice.example"}
#: (front desk, supervisor) per branch
DESK = {"SH": ("zhengli", "wufang"), "JD": ("hejuan", "huangtao")}
#: the user who decides for each department (JD's supervisor for SVC at JD)
DECIDES = {"SVC": {"SH": "wufang", "JD": "huangtao"}, "HR": "linhui", "QA": "shaoting"}
#: the engineer of scenario 5 and the one who goes instead next time
RUDE_ENGINEER, INSTEAD = "E001", "E003"

#: complaints a month in the history, by branch: (fewest, most); other topics likewise
PER_MONTH = {"SH": (1, 4), "JD": (0, 2)}
OTHERS_PER_MONTH = {"SH": (0, 2), "JD": (0, 1)}
MONTHS = 12

# what customers say, by category; cause, department, resolution, what was done
WORDS = {
    Category.HUMAN_FACTORS: [
        "工程师上门迟到一个多小时，事先没有电话说明",
        "维修人员说话不耐烦，对我们的问题爱答不理",
        "工程师修完机器没有清理现场，废纸和碳粉留在桌上",
        "前台接电话态度冷淡，报修登记后两天没人联系",
        "工程师在办公室大声接打私人电话，影响我们办公",
    ],
    Category.PRODUCT_QUALITY: [
        "刚更换的定影组件用了一周又开始卡纸",
        "新换的感光鼓复印有底灰，和换之前一样",
        "维修后机器异响更大了",
        "更换的搓纸轮两周就打滑，进纸歪斜",
    ],
    Category.SOFTWARE: [
        "驱动升级后网络打印经常掉线",
        "扫描到文件夹设置好后仍然无法使用",
        "计数器读数与账单上的张数不符",
    ],
    Category.OTHER: [
        "收费单上的交通费事先没有说明",
        "发票抬头开错，重开等了一周",
        "预约的保养时间被临时改期，没有提前通知",
    ],
}
HANDLING = {
    Category.HUMAN_FACTORS: ("SVC", "工程师服务规范执行不到位",
                             "向客户道歉，对工程师进行服务规范培训并按制度考核",
                             "主管上门致歉，工程师已参加服务规范培训"),
    Category.PRODUCT_QUALITY: ("QA", "更换的配件批次质量问题",
                               "免费更换同型号合格配件，该批次配件退回供应商",
                               "已免费更换配件，试印 200 张正常"),
    Category.SOFTWARE: ("TECH", "驱动与客户网络环境设置不匹配",
                        "技术部远程协助重新配置，并提供设置说明",
                        "已远程重新配置，客户测试打印扫描正常"),
    Category.OTHER: ("SALES", "收费及预约事项事先沟通不足",
                     "向客户说明收费标准并致歉，今后上门前电话确认",
                     "已电话说明并致歉，相关费用按规定减免"),
}
#: a complaint that was not our fault: (cause, evidence, resolution, what was done)
NOT_OUR_FAULT = ("客户使用非原装兼容碳粉导致故障", "向客户出示耗材检测报告及保修条款，客户认可",
                 "向客户说明原因，建议使用原装耗材，本次检测免费", "已上门说明并免费检测")
OTHER_TOPICS = {
    Topic.PRAISE: ("SVC", ["感谢工程师周末加班抢修，耐心细致", "师傅讲解很清楚，还教了我们日常保养",
                           "前台接待热情，报修处理很快"]),
    Topic.INQUIRY: ("SALES", ["询问保养合同续签的价格", "咨询彩色复印机租赁方案",
                              "询问维修费用能否开具增值税专用发票"]),
    Topic.SUGGESTION: ("SVC", ["建议维修完成后短信告知维修结果", "建议提供网上报修进度查询",
                               "建议上门前一小时电话告知到达时间"]),
}
SATISFIED = "客户表示满意"


def load_demo(ctx) -> None:
    """The departments and the people who answer for complaints; then the history,
    unless the part ``complaints.repair`` loads it after repair's order history. Only on
    the demo company (both demo branches)."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    if not {"SH", "JD"} <= set(branches):
        return
    add_people(ctx, branches)
    if _after_repair(ctx):
        ctx.session.info[PENDING] = True
    else:
        load_history(ctx)


def load_after_repair(ctx) -> None:
    """The history :func:`load_demo` left for after repair's (the part
    ``complaints.repair`` calls this once repair's history is written)."""
    if ctx.session.info.pop(PENDING, False):
        load_history(ctx)


def _after_repair(ctx) -> bool:
    """Whether the part ``complaints.repair`` is registered and loads the history (after
    repair's, so that complaints can be about its work orders)."""
    if "complaints.repair" not in ctx.app.parts("complaints"):
        return False
    glue = importlib.import_module("plugins.complaints.repair_glue")
    return hasattr(glue, "fixdesk_demo_data")


def add_people(ctx, branches: dict[str, Branch]) -> None:
    """Head-office staff, the departments with their heads and members, the accounts of
    the vice general manager and the heads of HR and QA, the supervisors' e-mail."""
    session = ctx.session
    company_id = branches["SH"].company_id
    employees = {e.code: e for e in session.scalars(select(Employee))}
    for code, name, email in OFFICE:
        if code not in employees:
            employees[code] = Employee(company_id=company_id, branch_id=branches["SH"].id,
                                       code=code, name=name, email=email, skills=[])
            session.add(employees[code])
    session.flush()
    taken = set(session.scalars(select(Department.code)))
    for code, name, head in DEPARTMENTS:
        if code in taken:
            continue
        department = Department(company_id=company_id, code=code, name=name,
                                head_id=employees[head].id if head in employees else None)
        department.members = [DepartmentMember(employee_id=employees[member].id)
                              for dept, member in MEMBERS if dept == code
                              and member in employees]
        session.add(department)
    users = {u.username: u for u in session.scalars(select(User))}
    # every demo account has the same password: the kernel's accounts' hash serves (a
    # new hash costs half a second)
    password = users["wufang"].password_hash if "wufang" in users else \
        hash_password(DEMO_PASSWORD)
    for username, code, role in ACCOUNTS:
        if username in users:
            continue
        employee = employees[code]
        user = User(username=username, full_name=employee.name, email=employee.email,
                    password_hash=password, home_branch_id=branches["SH"].id,
                    employee_id=employee.id, company_wide=True)
        user.role_rows = [UserRole(role=role)]
        session.add(user)
    for username, email in EMAILS.items():
        if username in users and not users[username].email:
            users[username].email = email
    session.flush()


def load_history(ctx) -> None:
    """Scenario 5, the open complaints and a year of history (see the module's docstring);
    only when the people of :func:`add_people` exist."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    wanted = {name for pair in DESK.values() for name in pair} | {"linhui", "zhouzong"}
    users = set(ctx.session.scalars(select(User.username)))
    if not {"SH", "JD"} <= set(branches) or not wanted <= users:
        return
    History(ctx, branches).load()


class History:
    """The complaints of the demo company: planned first, then written in time order."""

    def __init__(self, ctx, branches: dict[str, Branch]):
        session = ctx.session
        self.ctx = ctx
        self.now = ctx.now().astimezone(dt.UTC)
        self.tz = ctx.settings.tz
        self.today = self.now.astimezone(self.tz).date()
        self.rng = random.Random(SEED)
        self.desk = DemoDesk(ctx)
        self.branches = branches
        self.code_of = {b.id: code for code, b in branches.items()}
        self.calendars = {code: calendar_for(ctx, b) for code, b in branches.items()}
        self.departments = {d.code: d for d in session.scalars(select(Department))}
        self.users = {u.username: u for u in session.scalars(select(User))}
        self.employees = {e.code: e for e in session.scalars(select(Employee))}
        self.engineers = {code: [e for code_, e in sorted(self.employees.items())
                                 if code_.startswith("E") and e.branch_id == b.id]
                          for code, b in branches.items()}
        self.customers = {code: [] for code in branches}
        self.contact_of: dict[int, tuple[str | None, str | None]] = {}
        for customer, contact, phone in session.execute(
                select(Customer, CustomerContact.name, CustomerContact.phone)
                .outerjoin(CustomerContact, (CustomerContact.customer_id == Customer.id)
                           & CustomerContact.is_primary.is_(True)).order_by(Customer.id)):
            self.customers[self.code_of[customer.branch_id]].append(customer)
            self.contact_of[customer.id] = (contact, phone or customer.phone)
        self.machine_of = dict(session.execute(
            select(CustomerEquipment.customer_id, CustomerEquipment.id)
            .order_by(CustomerEquipment.id.desc())).all())  # the first machine of each
        self.orders = self._orders()
        self.hours: dict[tuple, int] = {}
        self._existing: dict[tuple[str, dt.date], int] | None = None
        self.events: list[tuple[dt.datetime, int, object]] = []
        self.made: dict[str, Complaint] = {}

    # -- time ----------------------------------------------------------------

    def moment(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """``day`` at a local time, in UTC."""
        return dt.datetime.combine(day, dt.time(hour, minute), self.tz).astimezone(dt.UTC)

    def working_days_back(self, code: str, count: int) -> dt.date:
        """The working day ``count`` working days before today (0: the last working day
        before today) at branch ``code``."""
        calendar, day, found = self.calendars[code], self.today, -1
        while found < count:
            day -= dt.timedelta(days=1)
            if calendar.is_working_day(day):
                found += 1
        return day

    def next_working_day(self, code: str, day: dt.date) -> dt.date:
        """The first working day after ``day``."""
        day += dt.timedelta(days=1)
        while not self.calendars[code].is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def after(self, code: str, when: dt.datetime, hours: float) -> dt.datetime:
        """``hours`` working hours after ``when`` at branch ``code``."""
        return self.calendars[code].add_working_hours(when, hours)

    def office_moment(self, code: str, day: dt.date) -> dt.datetime:
        """A moment of office hours on ``day`` (or the next working day)."""
        if not self.calendars[code].is_working_day(day):
            day = self.next_working_day(code, day)
        minute = self.rng.randint(9 * 60 + 10, 16 * 60 + 30)
        return self.moment(day, minute // 60, minute % 60)

    def at(self, username: str, when: dt.datetime) -> Context:
        """The demo user ``username`` acting at ``when``."""
        return self.desk.at(username, when)

    def system(self, when: dt.datetime) -> Context:
        """The system (the scheduler) at ``when``."""
        return Context(session=self.ctx.session, app=self.ctx.app, clock=lambda: when)

    def later(self, when: dt.datetime, function, *args, **values) -> None:
        """Plan ``function(when, *args, **values)``, taken in time order; nothing in the
        future."""
        if when <= self.now:
            self.events.append((when, len(self.events),
                                lambda: function(when, *args, **values)))

    # -- what repair did --------------------------------------------------------

    def _orders(self) -> list:
        """Repair's closed work orders (id, branch, customer, engineer, closed at, the
        customer's tier), oldest first: what complaints may be about where repair runs."""
        model = self.ctx.app.entity_class(ORDERS)
        if model is None:
            return []
        return self.ctx.session.execute(
            select(model.id, model.branch_id, model.customer_id, model.engineer_id,
                   model.closed_at, Customer.tier)
            .join(Customer, Customer.id == model.customer_id)
            .where(model.status == "closed", model.closed_at.is_not(None),
                   model.engineer_id.is_not(None))
            .order_by(model.closed_at, model.id)).all()

    def order_before(self, code: str, when: dt.datetime, engineer_id: int | None = None):
        """A job of the branch closed 1–10 days before ``when`` (of ``engineer_id``), or
        None."""
        branch_id = self.branches[code].id
        found = [o for o in self.orders if o.branch_id == branch_id
                 and when - dt.timedelta(days=10) <= o.closed_at <= when - dt.timedelta(days=1)
                 and (engineer_id is None or o.engineer_id == engineer_id)]
        return self.rng.choice(found) if found else None

    # -- the whole story ---------------------------------------------------------

    def load(self) -> None:
        """Scenario 5 first (it fixes where the history ends), the history in bulk, then
        the stories' steps in time order."""
        story_day = self.scenario_5()
        self.bulk(story_day - dt.timedelta(days=7))
        self.survey_complaints()
        self.open_complaints()
        self.events.sort(key=lambda event: event[:2])
        for _when, _n, event in self.events:
            event()
        self.desk.done()
        self.ctx.session.flush()

    def register(self, when: dt.datetime, key: str, username: str, **values) -> None:
        """The complaint ``key`` registered by ``username`` through the generic create."""
        if values.get("about") is not None:
            values["about"] = str(values["about"])
        self.made[key] = services.register(self.at(username, when), **values)

    def step(self, when: dt.datetime, key: str, username: str, service: str, *args,
             **values) -> None:
        """One step of the complaint ``key`` (a function of :mod:`.services`)."""
        complaint = self.made[key]
        getattr(services, service)(self.at(username, when), complaint, *args, **values)

    def story(self, key: str, steps: list[tuple]) -> None:
        """Plan the steps of one complaint: ``(when, username, service, {values})``; the
        first is ``register``."""
        for when, username, service, values in steps:
            if service == "register":
                self.later(when, self.register, key, username, **values)
            else:
                self.later(when, self.step, key, username, service, **values)

    # -- scenario 5 ---------------------------------------------------------------

    def scenario_5(self) -> dt.date:
        """王工's rude visit (SCENARIOS.md §5), from the survey card to the closed complaint;
        returns the day the complaint came in."""
        engineer = self.employees[RUDE_ENGINEER]
        wanted = [o for o in self.orders if o.engineer_id == engineer.id
                  and o.branch_id == self.branches["SH"].id and o.tier == Tier.CORPORATE
                  and o.closed_at <= self.now - dt.timedelta(days=14)]
        if wanted:
            order = wanted[-1]
            day = self.next_working_day("SH", order.closed_at.astimezone(self.tz).date())
            customer = self.ctx.session.get(Customer, order.customer_id)
            about = RecordLink(ORDERS, order.id)
        else:
            day = self.working_days_back("SH", 11)
            customer = next(c for c in self.customers["SH"] if c.code == "C0004")
            about = RecordLink("customer_equipment", self.machine_of[customer.id])
        contact, phone = self.contact_of[customer.id]
        second = self.next_working_day("SH", day)
        third = self.next_working_day("SH", second)
        fourth = self.next_working_day("SH", third)
        self.story("scenario 5", [
            (self.moment(day, 10, 20), "zhengli", "register", {
                "branch_id": self.branches["SH"].id, "topic": Topic.COMPLAINT.value,
                "category": Category.HUMAN_FACTORS.value, "severity": Severity.SERIOUS.value,
                "channel": Channel.SURVEY.value, "customer_id": customer.id,
                "contact_name": contact, "phone": phone, "about": about,
                "engineer_id": engineer.id,
                "description": "回访卡意见栏：上门维修的王工态度很差，说话生硬，"
                               "更换碳粉时没有铺垫布，碳粉洒在办公室地毯上也没有清理就走了。"}),
            (self.moment(day, 10, 45), "wufang", "investigate", {}),
            (self.moment(day, 14, 30), "wufang", "record_contact", {
                "summary": f"吴芳当天下午致电{contact}，代表公司致歉，了解经过："
                           "王工更换碳粉未铺防护布，碳粉洒落地毯；约定次日上门查看地毯",
                "method": "phone"}),
            (self.moment(second, 9, 40), "wufang", "record_contact", {
                "summary": "吴芳上门查看地毯污染情况，再次当面致歉", "method": "visit"}),
            (self.moment(second, 11, 30), "wufang", "determine", {
                "cause": "王工服务态度生硬；更换碳粉时未按规范铺设防护布，"
                         "碳粉洒落后未清理现场",
                "our_fault": True, "department": self.departments["SVC"],
                "person": engineer}),
            (self.moment(second, 14, 0), "wufang", "propose", {
                "resolution": "一、委托专业保洁公司免费清洗地毯；二、服务主管上门致歉；"
                              f"三、今后该客户改派{self.employees[INSTEAD].name}上门服务；"
                              "四、王工参加服务礼仪培训，本月绩效按制度扣分",
                "departments": "SVC,HR"}),
            (self.moment(second, 14, 20), "wufang", "approve", {
                "department": "SVC", "comment": "同意，保洁费用由售后服务部承担"}),
            (self.moment(third, 10, 5), "linhui", "approve", {
                "department": "HR", "comment": "同意；王建国本月服务态度考核扣分，"
                                               "安排参加下期服务礼仪培训"}),
            (self.moment(third, 11, 0), "wufang", "agree", {
                "note": f"{contact}电话同意处理方案"}),
            (self.moment(fourth, 16, 30), "wufang", "carry_out", {
                "note": "保洁公司已清洗地毯；吴芳上门致歉；客户档案已注明今后改派"
                        f"{self.employees[INSTEAD].name}"}),
            (self.moment(fourth, 17, 0), "wufang", "inform", {
                "result": f"电话告知{contact}处理结果，客户对地毯清洗和改派工程师表示满意",
                "satisfied": True}),
            (self.moment(fourth, 17, 10), "wufang", "close", {}),
        ])
        return day

    # -- open complaints -------------------------------------------------------------

    def open_complaints(self) -> None:
        """Complaints of the last days in every state (see the module's docstring)."""
        sh, jd = self.branches["SH"], self.branches["JD"]
        back = self.working_days_back

        def customer(code: str, index: int, tier=None):
            found = [c for c in self.customers[code] if tier is None or c.tier == tier]
            chosen = found[index % len(found)]
            contact, phone = self.contact_of[chosen.id]
            return {"customer_id": chosen.id, "contact_name": contact, "phone": phone}

        def about(code: str, when: dt.datetime, engineer_id=None) -> dict:
            order = self.order_before(code, when, engineer_id)
            if order is None:
                return {}
            return {"about": RecordLink(ORDERS, order.id), "customer_id": order.customer_id,
                    "contact_name": self.contact_of[order.customer_id][0],
                    "phone": self.contact_of[order.customer_id][1],
                    "engineer_id": order.engineer_id}

        # a serious one waiting for HR's approval of the handling form
        day = back("SH", 2)
        start = self.moment(day, 9, 50)
        lateness = {"branch_id": sh.id, "topic": "complaint", "category": "human_factors",
                    "severity": "serious", "channel": "phone",
                    **customer("SH", 3, Tier.CORPORATE),
                    "engineer_id": self.employees["E002"].id,
                    "description": "约好上午九点上门，工程师十一点才到，期间打电话也不接，"
                                   "耽误了我们开会用的材料印刷",
                    **about("SH", start, self.employees["E002"].id)}
        self.story("waiting for HR", [
            (start, "zhengli", "register", lateness),
            (self.moment(day, 10, 30), "wufang", "record_contact", {
                "summary": "致电客户致歉，说明当天工程师前一单超时，承诺核实后答复",
                "method": "phone"}),
            (self.moment(day, 10, 40), "wufang", "investigate", {}),
            (self.moment(day, 15, 0), "wufang", "determine", {
                "cause": "工程师未按约定时间到达，也未提前告知客户", "our_fault": True,
                "department": self.departments["SVC"], "person": self.employees["E002"]}),
            (self.moment(day, 15, 30), "wufang", "propose", {
                "resolution": "向客户书面致歉，本次上门服务费全免；对工程师进行守时教育并考核",
                "departments": "SVC,HR"}),
            (self.moment(day, 15, 40), "wufang", "approve", {"department": "SVC",
                                                             "comment": "同意"}),
        ])
        # a critical one at JD: the vice general manager told at once
        day = back("JD", 1)
        school = customer("JD", 0)
        school = next(({**customer("JD", n), "about": RecordLink(
            "customer_equipment", self.machine_of[c.id])}
            for n, c in enumerate(self.customers["JD"]) if c.code == "C0005"), school)
        start = self.moment(day, 14, 15)
        self.story("critical", [
            (start, "hejuan", "register", {
                "branch_id": jd.id, "topic": "complaint", "category": "product_quality",
                "severity": "critical", "channel": "in_person", **school,
                "description": "学校总务处顾老师来公司当面投诉：复印机两个月内主板烧毁两次，"
                               "期末考试试卷无法印制，要求退换整机并赔偿损失"}),
            (self.moment(day, 14, 40), "huangtao", "record_contact", {
                "summary": "黄涛当面接待顾老师致歉，承诺当天派工程师带备用机到校",
                "method": "meeting"}),
            (self.moment(day, 15, 0), "huangtao", "investigate", {}),
        ])
        # past its deadlines, nobody called: escalated
        day = back("SH", 4)
        start = self.moment(day, 15, 5)
        self.story("overdue", [
            (start, "zhengli", "register", {
                "branch_id": sh.id, "topic": "complaint", "category": "software",
                "severity": "serious", "channel": "email", **customer("SH", 7),
                "description": "扫描到邮箱功能在上次维修升级后一直不能用，"
                               "已经报过两次，至今没有人处理"}),
            (self.moment(back("SH", 3), 9, 30), "wufang", "investigate", {}),
        ])
        self.later(self.now, self.escalate, "overdue")
        # waiting on the customer: the clock stops
        day = back("SH", 3)
        self.story("waiting", [
            (self.moment(day, 11, 20), "zhengli", "register", {
                "branch_id": sh.id, "topic": "complaint", "category": "product_quality",
                "severity": "ordinary", "channel": "phone", **customer("SH", 11),
                "description": "复印件右侧总有一道淡淡的灰线，修过一次还有"}),
            (self.moment(day, 13, 30), "wufang", "record_contact", {
                "summary": "致电客户，请客户寄回有灰线的样张以便判断", "method": "phone"}),
            (self.moment(day, 13, 35), "wufang", "investigate", {}),
            (self.moment(day, 13, 40), "wufang", "wait", {"reason": "等客户寄回复印样张"}),
        ])
        # an ordinary complaint recorded and passed on to QA
        day = back("JD", 2)
        self.story("passed on", [
            (self.moment(day, 10, 0), "hejuan", "register", {
                "branch_id": jd.id, "topic": "complaint", "category": "product_quality",
                "severity": "ordinary", "channel": "phone", **customer("JD", 4),
                "description": "新买的原装碳粉盒打印颜色偏淡"}),
            (self.moment(day, 10, 50), "huangtao", "record_contact", {
                "summary": "致电客户了解碳粉批号，告知将转质管部核查该批次",
                "method": "phone"}),
            (self.moment(day, 11, 0), "huangtao", "pass_on", {
                "department": "QA", "note": "请质管部核查该批次碳粉"}),
        ])
        # a praise for JD's engineer, passed on to the service department
        day = back("JD", 1)
        self.story("praise", [
            (self.moment(day, 9, 35), "hejuan", "register", {
                "branch_id": jd.id, "topic": "praise", "category": "human_factors",
                "severity": "ordinary", "channel": "phone", **customer("JD", 2),
                "engineer_id": self.employees["E006"].id,
                "description": "赵磊师傅周六加班帮我们抢修，耐心细致，特此表扬"}),
            (self.moment(day, 9, 50), "huangtao", "pass_on", {
                "department": "SVC", "note": "表扬赵磊，计入本月服务之星评选"}),
        ])
        # an inquiry just in
        day = back("SH", 0)
        self.story("inquiry", [
            (self.moment(day, 16, 10), "zhengli", "register", {
                "branch_id": sh.id, "topic": "inquiry", "category": "other",
                "severity": "ordinary", "channel": "web", **customer("SH", 5),
                "description": "我们的保养合同下月到期，想了解续签价格和是否可以增加一台彩色机"}),
        ])

    def escalate(self, when: dt.datetime, key: str) -> None:
        """The scheduler's escalation run for one complaint (the job at ``when``)."""
        escalation.escalate(self.system(when), self.made[key], when)

    # -- complaints a poor survey opened during repair's history ------------------

    def survey_complaints(self) -> None:
        """Complaints already open (a poor survey opened them while repair's history was
        written): the supervisor calls; ordinary ones are passed on, the others handled
        to the end; the last few days' stay open."""
        found = self.ctx.session.scalars(select(Complaint).where(
            Complaint.status == Status.REGISTERED).order_by(Complaint.received_at)).all()
        for complaint in found:
            code = self.code_of[complaint.branch_id]
            if complaint.received_at > self.now - dt.timedelta(days=4):
                continue
            key = f"open {complaint.id}"
            self.made[key] = complaint
            boss = DESK[code][1]
            start = complaint.received_at
            self.story(key, self.handling(code, start, boss, complaint.category,
                                          complaint.severity, complaint.topic))

    def handling(self, code: str, start: dt.datetime, boss: str, category, severity,
                 topic) -> list[tuple]:
        """The supervisor's steps for a complaint received at ``start``."""
        contact = self.after(code, start, self.rng.uniform(0.5, 3))
        steps = [(contact, boss, "record_contact", {
            "summary": "主管致电客户致歉并了解情况", "method": "phone"})]
        if topic != Topic.COMPLAINT or severity == Severity.ORDINARY:
            department = OTHER_TOPICS.get(Topic(topic), ("SVC",))[0]
            steps.append((self.after(code, contact, 0.5), boss, "pass_on", {
                "department": department, "note": "已致电客户，转部门跟进"}))
            return steps
        category = Category(category)
        department, cause, resolution, done = HANDLING[category]
        determined = self.after(code, contact, 4)
        steps += [(self.after(code, contact, 0.2), boss, "investigate", {}),
                  (determined, boss, "determine", {
                      "cause": cause, "our_fault": True,
                      "department": self.departments[department]}),
                  (self.after(code, determined, 1), boss, "propose", {
                      "resolution": resolution, "departments": "SVC"}),
                  (self.after(code, determined, 1.2), boss, "approve", {"department": "SVC"}),
                  (self.after(code, determined, 3), boss, "agree", {}),
                  (self.after(code, determined, 10), boss, "carry_out", {"note": done}),
                  (self.after(code, determined, 12), boss, "inform", {
                      "result": SATISFIED, "satisfied": True}),
                  (self.after(code, determined, 12.2), boss, "close", {})]
        return steps

    # -- a year of history, in bulk ----------------------------------------------------

    def bulk(self, last_day: dt.date) -> None:
        """A year of closed complaints and other topics in both branches, each month's
        received until ``last_day``, written through the model classes."""
        first = (self.today.replace(day=1) - dt.timedelta(days=MONTHS * 31)).replace(day=1)
        plans = []
        month = first
        while month <= last_day:
            following = (month + dt.timedelta(days=32)).replace(day=1)
            end = min(following - dt.timedelta(days=1), last_day)
            for code in ("SH", "JD"):
                complaints = self.rng.randint(*PER_MONTH[code]) - self.existing(code, month)
                for topic, count in ((Topic.COMPLAINT, complaints),
                                     (None, self.rng.randint(*OTHERS_PER_MONTH[code]))):
                    for _n in range(count):
                        day = month + dt.timedelta(days=self.rng.randint(0, (end - month).days))
                        received = self.office_moment(code, day)
                        if received.astimezone(self.tz).date() > last_day:
                            continue
                        plans.append((received, code, topic or self.rng.choice(
                            [Topic.PRAISE, Topic.INQUIRY, Topic.SUGGESTION])))
            month = following
        plans.sort(key=lambda plan: plan[0])
        with self.ctx.session.no_autoflush:  # one flush for all
            for received, code, topic in plans:
                self.bulk_one(received, code, topic)
        self.ctx.session.flush()

    def existing(self, code: str, month: dt.date) -> int:
        """Complaints of the branch received in ``month`` before the history is written
        (poor surveys opened them while repair's history was written)."""
        if self._existing is None:
            self._existing = {}
            for branch_id, received in self.ctx.session.execute(
                    select(Complaint.branch_id, Complaint.received_at)
                    .where(Complaint.topic == Topic.COMPLAINT)):
                key = (self.code_of[branch_id],
                       received.astimezone(self.tz).date().replace(day=1))
                self._existing[key] = self._existing.get(key, 0) + 1
        return self._existing.get((code, month), 0)

    def _hours(self, kind: str, severity: Severity, code: str) -> int:
        key = (kind, severity, code)
        if key not in self.hours:
            self.hours[key] = deadlines.hours(self.ctx, kind, severity, self.branches[code])
        return self.hours[key]

    def bulk_one(self, received: dt.datetime, code: str, topic: Topic) -> None:
        """One finished complaint (or praise, inquiry, suggestion) with its contact and
        approvals, as the services would have left it."""
        rng, branch = self.rng, self.branches[code]
        front, boss = DESK[code]
        boss_user = self.users[boss]
        if topic == Topic.COMPLAINT:
            category = rng.choices(list(WORDS), [35, 30, 15, 20])[0]
            severity = rng.choices([Severity.ORDINARY, Severity.SERIOUS, Severity.CRITICAL],
                                   [65, 31, 4])[0]
            description = rng.choice(WORDS[category])
        else:
            category, severity = Category.OTHER, Severity.ORDINARY
            description = rng.choice(OTHER_TOPICS[topic][1])
        channel = rng.choices(list(Channel), [50, 10, 10, 10, 20])[0]
        engineer_id = about = None
        order = self.order_before(code, received) if category in (
            Category.HUMAN_FACTORS, Category.PRODUCT_QUALITY) else None
        if order is not None:
            customer_id, engineer_id = order.customer_id, order.engineer_id
            about = RecordLink(ORDERS, order.id)
        else:
            customer_id = rng.choice(self.customers[code]).id
            if category == Category.HUMAN_FACTORS and self.engineers[code]:
                engineer_id = rng.choice(self.engineers[code]).id
            elif category in (Category.PRODUCT_QUALITY, Category.SOFTWARE) \
                    and customer_id in self.machine_of:
                about = RecordLink("customer_equipment", self.machine_of[customer_id])
        contact_name, phone = self.contact_of[customer_id]
        complaint = Complaint(
            company_id=branch.company_id, branch_id=branch.id, branch=branch, topic=topic,
            category=category, severity=severity, channel=channel, received_at=received,
            customer_id=customer_id, contact_name=contact_name, phone=phone, about=about,
            engineer_id=engineer_id, description=description, created_at=received,
            response_due_at=self.after(code, received,
                                       self._hours("response", severity, code)),
            resolution_due_at=self.after(code, received,
                                         self._hours("resolution", severity, code)))
        number_new_draft(self.system(received), complaint)
        self.ctx.session.add(complaint)
        contacted = self.after(code, received, rng.uniform(0.3, 3.5))
        if topic == Topic.COMPLAINT or topic == Topic.INQUIRY:
            summary = ("主管致电客户致歉并了解情况" if topic == Topic.COMPLAINT
                       else "电话答复客户的咨询")
            complaint.contacts.append(Contact(
                contacted_at=contacted, method=ContactMethod.PHONE,
                contacted_by_id=boss_user.id, recorded_by_id=boss_user.id, summary=summary,
                created_at=contacted))
            complaint.responded_at = contacted
        if topic == Topic.COMPLAINT:
            complaint.investigated_by_id = boss_user.id
            complaint.investigation_started_at = self.after(code, received, 0.2)
        if topic != Topic.COMPLAINT or (severity == Severity.ORDINARY and rng.random() < 0.4):
            department = OTHER_TOPICS[topic][0] if topic != Topic.COMPLAINT else \
                HANDLING[category][0]
            complaint.status = Status.PASSED_ON
            complaint.passed_on_to_id = self.departments[department].id
            complaint.closed_at = self.after(code, contacted, 0.5)
            complaint.closed_by_id = boss_user.id
            complaint.result_note = "已转相关部门跟进"
            return
        department, cause, resolution, done = HANDLING[category]
        our_fault = rng.random() > 0.15
        complaint.determined_at = self.after(code, contacted, rng.uniform(2, 10))
        complaint.our_fault = our_fault
        if our_fault:
            complaint.cause = cause
            complaint.responsible_department_id = self.departments[department].id
            if category == Category.HUMAN_FACTORS:
                complaint.responsible_employee_id = engineer_id
        else:
            complaint.cause, complaint.evidence = NOT_OUR_FAULT[:2]
            resolution, done = NOT_OUR_FAULT[2:]
        complaint.resolution = resolution
        complaint.proposed_at = self.after(code, complaint.determined_at, 1)
        agreed = self.after(code, complaint.proposed_at, rng.uniform(1, 4))
        if severity != Severity.ORDINARY:
            other = "HR" if category == Category.HUMAN_FACTORS else "QA"
            for index, department_code in enumerate(("SVC", other)):
                decider = DECIDES[department_code]
                decider = decider[code] if isinstance(decider, dict) else decider
                decided = self.after(code, complaint.proposed_at, 0.5 + index * 2)
                complaint.approvals.append(Approval(
                    round=1,
                    department_id=self.departments[department_code].id,
                    state=ApprovalState.APPROVED, decided_by_id=self.users[decider].id,
                    decided_at=decided, comment="同意", created_at=complaint.proposed_at))
            agreed = self.after(code, complaint.proposed_at, rng.uniform(3, 6))
        complaint.agreed_at = agreed
        complaint.agreement_note = "客户电话同意处理方案"
        complaint.carried_out_at = self.after(code, agreed, rng.uniform(3, 16))
        complaint.carried_out_note = done
        complaint.informed_at = self.after(code, complaint.carried_out_at, rng.uniform(0.5, 4))
        satisfied = rng.random() < 0.9
        complaint.result_note = SATISFIED if satisfied else "客户表示可以接受"
        complaint.customer_satisfied = satisfied
        complaint.closed_at = self.after(code, complaint.informed_at, 0.3)
        complaint.closed_by_id = boss_user.id
        complaint.status = Status.CLOSED
