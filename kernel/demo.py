"""Demo master data: 华东办公设备服务有限公司 from ``SCENARIOS.md``.

Two branches (上海服务中心 SH urban, 嘉定分公司 JD suburban), engineers and
office staff of several grades, customers of every tier with their copiers.
Deterministic: the same names and serial numbers on every run; dates are
relative to the moment the demo is loaded, so warranties look current.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from sqlalchemy import select

from kernel.masterdata import add_branch, the_company
from kernel.models import (
    Branch,
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerEquipment,
    Employee,
    Grade,
    Tier,
    Zone,
)

if TYPE_CHECKING:
    from kernel.context import Context

COMPANY_NAME = "华东办公设备服务有限公司"

BRANCHES = [
    {"code": "SH", "name": "上海服务中心", "zone": "urban",
     "address": "上海市浦东新区张杨路 1500 号 8 楼", "phone": "021-5830 6600"},
    {"code": "JD", "name": "嘉定分公司", "zone": "suburban",
     "address": "上海市嘉定区城中路 138 号", "phone": "021-5991 2200"},
]

# code, name, branch, grade, skills, region, phone
EMPLOYEES = [
    ("E001", "王建国", "SH", Grade.SENIOR, ["copier", "printer"], "浦东", "139 1700 0001"),
    ("E002", "李明", "SH", Grade.REGULAR, ["copier"], "浦东", "139 1700 0002"),
    ("E003", "张伟", "SH", Grade.EXPERT, ["copier", "printer", "network"], "徐汇", "139 1700 0003"),
    ("E004", "陈静", "SH", Grade.REGULAR, ["printer", "it"], "静安", "139 1700 0004"),
    ("E005", "刘洋", "SH", Grade.TRAINEE, ["copier"], "浦东", "139 1700 0005"),
    ("E006", "赵磊", "JD", Grade.SENIOR, ["copier", "fax"], "嘉定", "139 1700 0006"),
    ("E007", "孙强", "JD", Grade.REGULAR, ["copier"], "嘉定", "139 1700 0007"),
    ("E008", "周敏", "JD", Grade.TRAINEE, ["printer"], "南翔", "139 1700 0008"),
    ("S001", "吴芳", "SH", Grade.SENIOR, ["dispatch"], None, "021-5830 6601"),
    ("S002", "郑丽", "SH", Grade.REGULAR, ["front_desk"], None, "021-5830 6602"),
    ("S003", "黄涛", "JD", Grade.SENIOR, ["dispatch"], None, "021-5991 2201"),
    ("S004", "何娟", "JD", Grade.REGULAR, ["front_desk"], None, "021-5991 2202"),
]

# The customers the scenarios talk about; more are generated below.
# code, name, tier, branch, contact, phone, address, [(brand, model, serial, age in days)]
NAMED_CUSTOMERS = [
    ("C0001", "申达物流有限公司", Tier.CORPORATE, "SH", "钱经理", "021-6888 1234",
     "上海市浦东新区张江路 88 号", [("Ricoh", "MP 2555", "E335M820091", 900)]),
    ("C0002", "周志华", Tier.INDIVIDUAL, "SH", "周志华", "138 0013 5678",
     "上海市徐汇区漕溪北路 201 弄 5 号", [("Canon", "iR 2206", "QXY20614", 730)]),
    ("C0003", "嘉定办公设备经销部", Tier.DEALER, "JD", "沈老板", "021-5995 3300",
     "上海市嘉定区博乐路 66 号", [("Kyocera", "TASKalfa 2020", "LV93X10235", 400)]),
    ("C0004", "仁济康复医院", Tier.CORPORATE, "SH", "病案室 许主任", "021-5888 7000",
     "上海市浦东新区东方路 1630 号", [("Ricoh", "MP 4055", "G176R400123", 500),
                                     ("Ricoh", "MP 4055", "G176R400124", 500),
                                     ("Canon", "iR-ADV 4525", "2LV07781", 300)]),
    ("C0005", "嘉定实验学校", Tier.CORPORATE, "JD", "总务处 顾老师", "021-5952 1100",
     "上海市嘉定区塔城路 300 号", [("Canon", "iR 2630", "XQH30112", 30)]),
    ("C0006", "联华便利连锁", Tier.RETAIL_CHAIN, "SH", "采购部 马经理", "021-6258 8800",
     "上海市静安区共和新路 3000 号", [("Brother", "MFC-8530DN", "E71835K5N", 200)]),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
COMPANY_WORDS = ["华信", "东方", "恒通", "金桥", "同济", "新亚", "宏达", "安信", "博远", "中联"]
COMPANY_KINDS = ["科技有限公司", "贸易有限公司", "会计师事务所", "律师事务所", "物业管理有限公司",
                 "设计院", "印务有限公司"]
SH_ROADS = ["浦东新区世纪大道", "徐汇区肇嘉浜路", "静安区南京西路", "黄浦区西藏中路",
            "长宁区延安西路"]
JD_ROADS = ["嘉定区沪宜公路", "嘉定区叶城路", "嘉定区胜辛路", "嘉定区南翔镇民主街"]
MODELS = [("Ricoh", "MP 2555"), ("Ricoh", "MP 3055"), ("Canon", "iR 2206"), ("Canon", "iR 2630"),
          ("Kyocera", "TASKalfa 2020"), ("Sharp", "MX-M3158N"), ("Konica Minolta", "bizhub 287"),
          ("HP", "LaserJet M528")]
WARRANTY_DAYS = 365

#: the password of every demo account (printed by ``fixdesk serve`` on a demo site)
DEMO_PASSWORD = "demo1234"
# username, employee code (or None), home branch, roles, extra branches, company-wide
DEMO_USERS = [
    ("admin", None, "SH", ["admin"], [], True),
    ("wufang", "S001", "SH", ["service_supervisor"], [], False),
    ("zhengli", "S002", "SH", ["front_desk"], [], False),
    ("wanggong", "E001", "SH", ["engineer"], [], False),
    ("huangtao", "S003", "JD", ["service_supervisor", "branch_manager"], [], False),
    ("hejuan", "S004", "JD", ["front_desk"], [], False),
    ("zhaolei", "E006", "JD", ["engineer"], [], False),
]


def _add_customer(ctx, company_id, branch, code, name, tier, contact, phone, address, machines):
    customer = Customer(company_id=company_id, branch_id=branch.id, code=code, name=name,
                        tier=tier, phone=phone)
    customer.contacts.append(CustomerContact(name=contact, phone=phone, is_primary=True))
    site = CustomerAddress(label="主地址", address=address, is_default=True)
    customer.addresses.append(site)
    ctx.session.add(customer)
    ctx.session.flush()
    today = ctx.now().date()
    for brand, model, serial, age in machines:
        bought = today - dt.timedelta(days=age)
        ctx.session.add(CustomerEquipment(
            company_id=company_id, branch_id=branch.id, customer_id=customer.id,
            address_id=site.id, brand=brand, model=model, serial_no=serial,
            purchase_date=bought, warranty_end=bought + dt.timedelta(days=WARRANTY_DAYS)))


def _add_users(ctx, company_id, branches) -> None:
    from kernel.auth import User, UserBranch, UserRole, hash_password

    employees = {e.code: e for e in ctx.session.scalars(select(Employee))}
    password = hash_password(DEMO_PASSWORD)  # one hash: the same password for all
    for username, code, branch, roles, extra, company_wide in DEMO_USERS:
        employee = employees.get(code)
        user = User(username=username, full_name=employee.name if employee else "管理员",
                    password_hash=password, home_branch_id=branches[branch].id,
                    employee_id=employee.id if employee else None, company_wide=company_wide)
        user.role_rows = [UserRole(role=r) for r in roles]
        user.branch_rows = [UserBranch(branch_id=branches[b].id) for b in extra]
        ctx.session.add(user)
    ctx.session.flush()


def add_demo_accounts(ctx, accounts: list[tuple[str, str, str]], role: str,
                      branches: dict[str, Branch]) -> None:
    """Add a plugin's demo users (password :data:`DEMO_PASSWORD`, one hash for all), each
    with the one ``role``: ``accounts`` as (username, full name, home branch code),
    ``branches`` by code; a username already taken is left as it is."""
    from kernel.auth import User, UserRole, hash_password

    taken = set(ctx.session.scalars(select(User.username)))
    password = hash_password(DEMO_PASSWORD)
    for username, name, branch in accounts:
        if username in taken:
            continue
        user = User(username=username, full_name=name, password_hash=password,
                    home_branch_id=branches[branch].id)
        user.role_rows = [UserRole(role=role)]
        ctx.session.add(user)
    ctx.session.flush()


def demo_accounts_text(app=None) -> str:
    """The demo accounts, one per line, for the terminal: the kernel's, or with ``app``
    every active account of the site (plugins' demo data add theirs, such as inventory's
    warehouse keepers)."""
    accounts = [(username, roles, "all branches" if company_wide else branch)
                for username, _code, branch, roles, _extra, company_wide in DEMO_USERS]
    if app is not None:
        from kernel.auth import User

        with app.context() as ctx:
            accounts = [(u.username, sorted(u.roles), "all branches" if u.company_wide
                         else u.home_branch.code)
                        for u in ctx.session.scalars(select(User).where(
                            User.active.is_(True)).order_by(User.id))]
    lines = [f"demo accounts (password {DEMO_PASSWORD}):"]
    for username, roles, scope in accounts:
        lines.append(f"  {username:<10} {', '.join(roles):<40} {scope}")
    return "\n".join(lines)


def load_master_data(ctx: Context) -> None:
    """Add the demo company's branches, staff, customers and equipment (idempotent per branch)."""
    company = the_company(ctx)
    if company.name != COMPANY_NAME and not company.short_name:
        company.short_name = company.name
    company.address = company.address or BRANCHES[0]["address"]
    company.phone = company.phone or BRANCHES[0]["phone"]
    branches: dict[str, Branch] = {b.code: b for b in ctx.session.scalars(select(Branch))}
    for spec in BRANCHES:
        if spec["code"] not in branches:
            branches[spec["code"]] = add_branch(ctx, spec["code"], spec["name"], spec["zone"],
                                                address=spec["address"], phone=spec["phone"])
        else:
            found = branches[spec["code"]]
            found.address = found.address or spec["address"]
            found.phone = found.phone or spec["phone"]
    for code, name, branch, grade, skills, region, phone in EMPLOYEES:
        ctx.session.add(Employee(company_id=company.id, branch_id=branches[branch].id, code=code,
                                 name=name, grade=grade, skills=skills, service_region=region,
                                 phone=phone))
    for code, name, tier, branch, contact, phone, address, machines in NAMED_CUSTOMERS:
        _add_customer(ctx, company.id, branches[branch], code, name, tier, contact, phone,
                      address, machines)
    _add_users(ctx, company.id, branches)
    rng = random.Random(2026)
    tiers = [Tier.CORPORATE] * 5 + [Tier.INDIVIDUAL] * 3 + [Tier.DEALER, Tier.RETAIL_CHAIN]
    for number in range(len(NAMED_CUSTOMERS) + 1, 41):
        branch = "SH" if number % 3 else "JD"
        tier = rng.choice(tiers)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        if tier == Tier.INDIVIDUAL:
            name = person
        else:
            name = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_KINDS)
            name = f"{name}（{'嘉定' if branch == 'JD' else '上海'}{number:02d}）"
        roads = JD_ROADS if branch == "JD" else SH_ROADS
        address = f"上海市{rng.choice(roads)} {rng.randint(1, 2000)} 号"
        phone = f"021-{rng.randint(5000, 6999)} {rng.randint(1000, 9999)}"
        machines = []
        for _unit in range(rng.choice([1, 1, 1, 2, 3])):
            brand, model = rng.choice(MODELS)
            serial = f"{brand[:1]}{rng.randint(10, 99)}{rng.randint(100000, 999999)}"
            machines.append((brand, model, serial, rng.randint(20, 1500)))
        _add_customer(ctx, company.id, branches[branch], f"C{number:04d}", name, tier, person,
                      phone, address, machines)
    ctx.session.flush()


__all__ = ["BRANCHES", "COMPANY_NAME", "Zone", "load_master_data"]


class DemoDesk:
    """Demo history written by people at moments of the past: one context per demo user on
    the demo's session; :meth:`at` switches the acting user and freezes its clock at a
    moment, :meth:`done` gives the session back to the system."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.contexts: dict[str, Context] = {}

    def at(self, username: str, when: dt.datetime) -> Context:
        from kernel.audit import set_actor
        from kernel.auth import User, set_branch_scope
        from kernel.context import Context

        acting = self.contexts.get(username)
        if acting is None:
            user = self.ctx.session.scalar(select(User).where(User.username == username))
            acting = Context(session=self.ctx.session, app=self.ctx.app, user=user)
            self.contexts[username] = acting
        else:
            set_branch_scope(acting.session, acting.user)
            set_actor(acting.session, acting.user)
        acting.clock = lambda: when
        return acting

    def done(self) -> None:
        """Give the session back to the system (no branch scope, system actor)."""
        from kernel.audit import set_actor
        from kernel.auth import set_branch_scope

        set_branch_scope(self.ctx.session, self.ctx.user)
        set_actor(self.ctx.session, self.ctx.user)
