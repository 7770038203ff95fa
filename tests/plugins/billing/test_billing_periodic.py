"""Monthly statements and contract fees (SCENARIOS.md 8; R20, R27), on SQLite and
PostgreSQL.

JD bills its customers by a statement at the end of the month: its jobs are real repair
jobs completed with billing's "invoice on completion" switched off for JD, SH's are
invoiced as they are completed. Maintenance contracts signed or renewed through repair's
services get a billing plan whose periods the contract-fee job invoices once each. Runs
that race on PostgreSQL bill each charge and each period once.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kernel import ValidationError
from kernel.models import Customer
from kernel.settings import set_setting

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: seconds a racing thread may wait for the others
PATIENCE = 120


def local(text: str) -> dt.datetime:
    """``"2026-11-30 10:20"`` in Shanghai time, aware."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def desk_app(quiet_site, app_of):
    """Repair and billing on a demo site (no price rules, no history)."""
    return app_of(quiet_site(["repair", "billing"]))


def _context(app, user, when: str):
    moment = local(when)
    return app.context(user=user, clock=lambda: moment)


# ---------------------------------------------------------------------------
# real repair jobs
# ---------------------------------------------------------------------------

JD_STAFF = ("hejuan", "huangtao", "zhaolei", "E006")
SH_STAFF = ("zhengli", "wufang", "wanggong", "E001")


def paid_job(app, day: str, equipment: str, *, jd: bool = True, labour="120.00",
             parts="0.00", travel="0.00") -> str:
    """A paid carry-in job (category A) quoted by staff and completed on ``day`` by the
    demo staff of JD (or SH): its number."""
    from plugins.repair import services

    front, boss, engineer, code = JD_STAFF if jd else SH_STAFF
    with _context(app, front, f"{day} 09:00") as ctx:
        number = services.register(ctx, channel="walk_in", equipment=equipment,
                                   fault_description="卡纸，有异响", category="A",
                                   category_reason="保修期外").number
    with _context(app, boss, f"{day} 09:10") as ctx:
        services.dispatch(ctx, number, engineer=code)
    with _context(app, engineer, f"{day} 10:00") as ctx:
        services.diagnose(ctx, number, "搓纸轮磨损")
        services.quote(ctx, number, labour=labour, parts=parts, travel=travel)
    with _context(app, front, f"{day} 10:30") as ctx:
        services.accept_quote(ctx, number, note="客户电话确认")
    with _context(app, engineer, f"{day} 11:00") as ctx:
        services.start(ctx, number)
        services.complete(ctx, number, method="更换搓纸轮", cause="搓纸轮磨损")
    return number


def _switch_off_invoicing_at_jd(app) -> None:
    from kernel.hookswitch import switch
    from kernel.masterdata import branch_by_code

    with app.context(user="admin") as ctx:
        switch(ctx, "billing.invoicing", "repair_order_completed",
               branch_by_code(ctx.session, "JD"), enabled=False)


def _charges(app) -> dict[str, tuple]:
    from plugins.billing.models import JobCharge

    with app.sessions() as session:
        return {c.order_number: (c.customer_id, c.total, c.billable, c.invoice_id)
                for c in session.scalars(select(JobCharge))}


def _invoice_count(app) -> int:
    from plugins.billing.models import Invoice

    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Invoice))


def test_scenario_8_jd_bills_by_monthly_statement(desk_app):
    from kernel.models import Customer
    from plugins.billing import statements
    from plugins.billing.models import Invoice, JobCharge

    app = desk_app
    _switch_off_invoicing_at_jd(app)
    dealer = [paid_job(app, "2026-11-03", "LV93X10235", labour="120.00", parts="437.00"),
              paid_job(app, "2026-11-18", "LV93X10235", labour="80.00", travel="50.00")]
    school = [paid_job(app, "2026-11-30", "XQH30112", labour="150.00", parts="33.33")]
    december = paid_job(app, "2026-12-01", "LV93X10235", labour="60.00")
    shanghai = paid_job(app, "2026-11-10", "E335M820091", jd=False, labour="120.00")

    charges = _charges(app)
    assert all(charges[n][3] is None for n in (*dealer, *school, december))
    assert charges[shanghai][3] is not None  # SH invoiced it on completion
    before = _invoice_count(app)

    with _context(app, "admin", "2026-12-01 08:00") as ctx:
        with pytest.raises(ValidationError, match="has not ended"):
            statements.bill_month(ctx, dt.date(2026, 12, 1))
    with _context(app, "admin", "2026-12-01 08:00") as ctx:
        made = statements.bill_month(ctx, dt.date(2026, 11, 17))
        ids = [invoice.id for invoice in made]
    assert len(ids) == 2 and _invoice_count(app) == before + 2

    with app.sessions() as session:
        found = {session.get(Customer, i.customer_id).code: i
                 for i in session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
        assert set(found) == {"C0003", "C0005"}
        for invoice in found.values():
            assert (invoice.period, invoice.invoice_date) == ("2026-11", dt.date(2026, 11, 30))
            assert (str(invoice.docstatus), invoice.branch.code) == ("submitted", "JD")
            assert invoice.grand_total == sum(line.amount for line in invoice.lines)
            assert invoice.net_total + invoice.tax_total == invoice.grand_total
            assert invoice.tax_total == sum(line.tax for line in invoice.lines)
            assert invoice.outstanding == invoice.grand_total
        dealer_invoice, school_invoice = found["C0003"], found["C0005"]
        assert dealer_invoice.grand_total == D("687.00")  # 120 + 437 + 80 + 50
        assert school_invoice.grand_total == D("183.33")
        texts = [(str(line.item), line.amount, line.description)
                 for line in dealer_invoice.lines]
        assert [(item, amount) for item, amount, _t in texts] == [
            ("labour_fee", D("120.00")), ("parts_fee", D("437.00")),
            ("labour_fee", D("80.00")), ("travel_fee", D("50.00"))]
        assert dealer[0] in texts[0][2] and dealer[1] in texts[3][2]
        sources = {line.source.entity for line in dealer_invoice.lines}
        assert sources == {"repair_work_order"}
        # VAT is in the prices (13 % included): the VAT of 120.00 is 13.81
        assert dealer_invoice.lines[0].tax == D("13.81")
        billed = dict(session.execute(select(JobCharge.order_number, JobCharge.invoice_id)).all())
        assert {billed[n] for n in dealer} == {dealer_invoice.id}
        assert billed[school[0]] == school_invoice.id
        assert billed[december] is None

    # the job again (and a branch of its own): nothing billed twice
    with _context(app, "admin", "2026-12-02 08:00") as ctx:
        assert statements.bill_month(ctx, "2026-11") == []
        assert statements.bill_month(ctx, "2026-11", branch="JD") == []
    assert _invoice_count(app) == before + 2


def test_scheduled_jobs_bill_last_month_and_contract_fees_once(desk_app):
    from kernel.jobs import Job, Worker
    from plugins.billing.models import ContractPeriod, Invoice
    from plugins.repair import services

    app = desk_app
    _switch_off_invoicing_at_jd(app)
    number = paid_job(app, "2026-11-20", "LV93X10235", labour="200.00")
    with _context(app, "huangtao", "2026-11-20 15:00") as ctx:
        services.create_contract(ctx, number="BY-JD-001", customer="C0003",
                                 equipment=["LV93X10235"], start_date="2026-11-01",
                                 end_date="2027-10-31", fee="2400.00")
    moment = local("2026-12-01 06:45")
    assert Worker(app, clock=lambda: moment).run(once=True) >= 2
    with app.sessions() as session:
        jobs = {j.name: (j.status, j.last_error) for j in session.scalars(select(Job))}
        assert jobs["billing.monthly_statements"] == ("done", None)
        assert jobs["billing.contract_fees"] == ("done", None)
        statement = session.scalars(select(Invoice).where(Invoice.period == "2026-11")).one()
        assert statement.grand_total == D("200.00")
        assert number in statement.lines[0].description
        periods = session.scalars(select(ContractPeriod).order_by(
            ContractPeriod.period_start)).all()
        # monthly (JD's default): November and December have started
        assert [(p.period_start, p.amount) for p in periods] == [
            (dt.date(2026, 11, 1), D("200.00")), (dt.date(2026, 12, 1), D("200.00"))]
    # the worker again later that day: both jobs are done for the day, nothing new
    later = local("2026-12-01 07:00")
    Worker(app, clock=lambda: later).run(once=True)
    count = _invoice_count(app)
    tomorrow = local("2026-12-02 06:45")
    Worker(app, clock=lambda: tomorrow).run(once=True)  # runs both again: nothing to bill
    assert _invoice_count(app) == count


# ---------------------------------------------------------------------------
# racing runs (charges made directly: billing alone)
# ---------------------------------------------------------------------------


def _make_charges(app, count: int, customers: int = 3, day="2026-10-15") -> None:
    """``count`` billable charges of October at SH, over the first ``customers``
    customers of SH (order ids from 1000, as repair would name them)."""
    from kernel.masterdata import branch_by_code, the_company
    from kernel.models import Customer
    from plugins.billing.models import JobCharge

    with app.context(user="admin") as ctx:
        branch = branch_by_code(ctx.session, "SH")
        ids = ctx.session.scalars(select(Customer.id).where(Customer.branch_id == branch.id)
                                  .order_by(Customer.id).limit(customers)).all()
        for n in range(count):
            labour, parts = D("100.00") + n, D("33.33") * (n % 3)
            ctx.session.add(JobCharge(
                company_id=the_company(ctx).id, branch_id=branch.id, order_id=1000 + n,
                order_number=f"WO-SH-2026-{1000 + n}", customer_id=ids[n % len(ids)],
                category="A", service_type="repair",
                completed_on=dt.date.fromisoformat(day), labour=labour, parts=parts,
                travel=D("0.00"), total=labour + parts, billable=True,
                labour_value=D("50.00"), internal_cost=D("50.00") + parts - D("10.00") * (n % 3)))


def _race(app, work, threads: int = 2) -> tuple[list, list]:
    """Run ``work(ctx)`` in ``threads`` threads at once, each in a transaction of its own
    (as the system); returns the results and the exceptions."""
    barrier = threading.Barrier(threads)
    results, failed, lock = [], [], threading.Lock()

    def run():
        barrier.wait(timeout=PATIENCE)
        try:
            with app.context() as ctx:
                found = work(ctx)
                numbers = [invoice.number for invoice in found]
        except Exception as exc:  # every outcome is counted
            with lock:
                failed.append(exc)
        else:
            with lock:
                results.append(numbers)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=PATIENCE)
    assert not any(worker.is_alive() for worker in workers)
    return results, failed


def test_racing_statement_runs_bill_each_charge_once(quiet_site, app_of):
    from plugins.billing import statements
    from plugins.billing.models import Invoice, InvoiceLine, JobCharge

    site = quiet_site(["billing"])
    app = app_of(site)
    _make_charges(app, 12)
    racing = site.start(pool_size=4, max_overflow=0)
    try:
        for _round in range(3):  # three races: the later ones find nothing left
            results, failed = _race(racing, lambda ctx: statements.bill_month(
                ctx, dt.date(2026, 10, 1)), threads=3)
            assert failed == []
    finally:
        racing.close()
    with app.sessions() as session:
        invoices = session.scalars(select(Invoice)).all()
        assert len(invoices) == 3  # one per customer, whichever run made it
        charges = session.scalars(select(JobCharge)).all()
        assert all(c.invoice_id is not None for c in charges)
        lines = session.scalar(select(func.count()).select_from(InvoiceLine))
        assert lines == sum(1 + (c.parts > 0) for c in charges)
        assert sum(i.grand_total for i in invoices) == sum(c.total for c in charges)
        costs = session.scalars(select(InvoiceLine.internal_cost)).all()
        assert sum(costs) == sum(c.internal_cost for c in charges)
        for invoice in invoices:
            assert invoice.grand_total == sum(line.amount for line in invoice.lines)
            assert invoice.grand_total == sum(c.total for c in charges
                                              if c.invoice_id == invoice.id)


# ---------------------------------------------------------------------------
# contracts
# ---------------------------------------------------------------------------


def _quarterly(app, branch="SH") -> None:
    from kernel.masterdata import branch_by_code

    with app.context(user="admin") as ctx:
        set_setting(ctx, "billing.contract_frequency", "quarterly",
                    branch_by_code(ctx.session, branch))


def _sign(app, number="BY-2026-001", fee="10000.00", start="2026-01-01",
          end="2026-12-31") -> int:
    from plugins.repair import services

    with _context(app, "wufang", "2025-12-20 10:00") as ctx:
        return services.create_contract(ctx, number=number, customer="C0001",
                                        equipment=["E335M820091"], start_date=start,
                                        end_date=end, fee=fee).id


def _periods(app, contract_id: int) -> list[tuple]:
    from plugins.billing.models import ContractPeriod, ContractPlan, Invoice

    with app.sessions() as session:
        rows = session.execute(
            select(ContractPeriod.period_start, ContractPeriod.period_end,
                   ContractPeriod.amount, Invoice.grand_total, Invoice.invoice_date)
            .join(ContractPlan).join(Invoice, Invoice.id == ContractPeriod.invoice_id)
            .where(ContractPlan.contract_id == contract_id)
            .order_by(ContractPeriod.period_start))
        return [tuple(row) for row in rows]


def test_contract_is_billed_quarterly_across_a_year_once_per_period(desk_app):
    from plugins.billing import contracts
    from plugins.billing.models import ContractPlan, Invoice

    app = desk_app
    _quarterly(app)
    contract_id = _sign(app)
    free = _sign(app, number="BY-2026-002", fee="0")  # no fee: no plan
    with app.sessions() as session:
        plan = session.scalars(select(ContractPlan)).one()
        assert (plan.contract_id, plan.contract_number, str(plan.frequency), plan.fee,
                plan.renewal_of_contract_id) == (contract_id, "BY-2026-001", "quarterly",
                                                 D("10000.00"), None)
        assert free != contract_id

    days = ["2025-12-31", "2026-01-01", "2026-01-01", "2026-03-31", "2026-05-20",
            "2026-05-20", "2026-12-31", "2027-06-30"]
    made = []
    for day in days:  # a daily job that runs twice some days, and late others
        with _context(app, None, f"{day} 06:30") as ctx:
            made.append(len(contracts.bill_due(ctx, dt.date.fromisoformat(day))))
    assert made == [0, 1, 0, 0, 1, 0, 2, 0]
    periods = _periods(app, contract_id)
    assert [(start.isoformat(), end.isoformat(), amount) for start, end, amount, *_r
            in periods] == [("2026-01-01", "2026-03-31", D("2500.00")),
                            ("2026-04-01", "2026-06-30", D("2500.00")),
                            ("2026-07-01", "2026-09-30", D("2500.00")),
                            ("2026-10-01", "2026-12-31", D("2500.00"))]
    assert all(amount == total for _s, _e, amount, total, _d in periods)
    assert [day for *_r, day in periods] == [p[0] for p in periods]
    with app.sessions() as session:
        invoices = session.scalars(select(Invoice).order_by(Invoice.id)).all()
        assert sum(i.grand_total for i in invoices) == D("10000.00")
        line = invoices[0].lines[0]
        assert (str(line.item), str(line.service_type), line.source.entity, line.source.id) \
            == ("contract_fee", "contract", "repair_contract", contract_id)
        assert "BY-2026-001" in line.description
        assert invoices[0].source.id == contract_id


def test_fee_split_adds_up_and_renewal_makes_a_new_plan(desk_app):
    from plugins.billing import contracts
    from plugins.billing.models import ContractPlan
    from plugins.repair.models import MaintenanceContract

    app = desk_app
    contract_id = _sign(app, fee="1000.00")  # monthly (the default): 11 × 83.33 + 83.37
    with _context(app, None, "2026-12-31 06:30") as ctx:
        contracts.bill_due(ctx, dt.date(2026, 12, 31))
    amounts = [amount for _s, _e, amount, *_r in _periods(app, contract_id)]
    assert amounts == [D("83.33")] * 11 + [D("83.37")] and sum(amounts) == D("1000.00")

    # renewed by the action, as the desk and the API run it
    with _context(app, "wufang", "2026-12-01 10:00") as ctx:
        renewed = ctx.run_action("repair_contract", contract_id, "renew",
                                 number="BY-2027-001", end_date="2027-12-31",
                                 fee="1200.00")
        renewed_id = renewed.id
    with app.sessions() as session:
        new = session.get(MaintenanceContract, renewed_id)
        assert (new.start_date, new.end_date, new.fee, new.customer_id) == (
            dt.date(2027, 1, 1), dt.date(2027, 12, 31), D("1200.00"),
            session.get(MaintenanceContract, contract_id).customer_id)
        assert [i.equipment_id for i in new.items] == [
            i.equipment_id for i in session.get(MaintenanceContract, contract_id).items]
        plan = session.scalars(select(ContractPlan).where(
            ContractPlan.contract_id == renewed_id)).one()
        assert (plan.renewal_of_contract_id, plan.start_date, plan.fee) == (
            contract_id, dt.date(2027, 1, 1), D("1200.00"))
    with _context(app, None, "2027-02-01 06:30") as ctx:
        assert len(contracts.bill_due(ctx, dt.date(2027, 2, 1))) == 2
    assert [a for _s, _e, a, *_r in _periods(app, renewed_id)] == [D("100.00")] * 2


def test_cancelled_period_is_billed_again_and_a_new_frequency_keeps_the_fee(desk_app):
    from kernel.lifecycle import cancel
    from plugins.billing import contracts
    from plugins.billing.models import ContractPlan, Invoice

    app = desk_app
    contract_id = _sign(app, fee="1000.00")  # monthly
    with _context(app, None, "2026-03-01 06:30") as ctx:
        first = contracts.bill_due(ctx, dt.date(2026, 3, 1))
        assert len(first) == 3
        february = first[1].id
    with _context(app, "admin", "2026-03-02 10:00") as ctx:
        cancel(ctx, ctx.session.get(Invoice, february), reason="开票抬头有误")
        plan = ctx.session.scalars(select(ContractPlan)).one()
        assert [(a, b) for a, _e, b in contracts.still_to_bill(ctx, plan)][:2] == [
            (dt.date(2026, 2, 1), D("83.33")), (dt.date(2026, 4, 1), D("83.33"))]
        plan.frequency = "quarterly"  # the accountant bills the rest quarterly
    for _run in range(2):
        with _context(app, None, "2026-04-01 06:30") as ctx:
            again = contracts.bill_due(ctx, dt.date(2026, 4, 1))
            assert [i.grand_total for i in again] == ([D("83.33"), D("250.00")]
                                                      if _run == 0 else [])
    with _context(app, None, "2026-12-31 06:30") as ctx:
        contracts.bill_due(ctx, dt.date(2026, 12, 31))
    periods = _periods(app, contract_id)
    assert [(s.isoformat(), e.isoformat(), a) for s, e, a, *_r in periods] == [
        ("2026-01-01", "2026-01-31", D("83.33")), ("2026-02-01", "2026-02-28", D("83.33")),
        ("2026-03-01", "2026-03-31", D("83.33")), ("2026-04-01", "2026-06-30", D("250.00")),
        ("2026-07-01", "2026-09-30", D("250.00")), ("2026-10-01", "2026-12-31", D("250.01"))]
    assert sum(a for _s, _e, a, *_r in periods) == D("1000.00")
    with app.sessions() as session:
        submitted = session.scalars(select(Invoice.grand_total).where(
            Invoice.docstatus == "submitted")).all()
        assert sum(submitted) == D("1000.00") and len(submitted) == 6


def test_the_plan_action_bills_what_is_due_and_the_form_shows_what_is_left(desk_app):
    from api_tokens import bearer_headers
    from desk_sessions import demo_sessions
    from fastapi.testclient import TestClient

    from kernel.web.app import create_app
    from plugins.billing.models import ContractPlan

    app = desk_app
    _quarterly(app)
    contract_id = _sign(app, start="2026-10-01", end="2027-09-30", fee="4000.00")
    with app.sessions() as session:
        plan_id = session.scalars(select(ContractPlan.id)).one()
    # the real clock: the first quarter has started (and maybe more)
    with app.context(user="admin") as ctx:
        plan = ctx.session.get(ContractPlan, plan_id)
        ctx.run_action("billing_contract_plan", plan_id, "bill_now")
        billed = len(plan.periods)
        assert billed >= 1
        ctx.run_action("billing_contract_plan", plan_id, "bill_now")  # again: nothing new
        ctx.session.refresh(plan, ["periods"])
        assert len(plan.periods) == billed
    assert len(_periods(app, contract_id)) == billed

    with app.context(user="admin") as ctx:
        headers = bearer_headers(ctx, "wufang", "zhengli")
    web = create_app(app.site)
    try:
        with demo_sessions(web) as open_session:
            page = open_session("admin").get(f"/desk/billing_contract_plan/{plan_id}")
            assert page.status_code == 200, page.text
            text = page.text
            assert "Periods still to bill" in text or "待开票期间" in text
            if billed < 4:
                assert "2027-07-01" in text  # the last quarter is still to bill
        with TestClient(web) as api:  # the renewal through repair's action in the API
            url = f"/api/v1/repair_contract/{contract_id}/renew"
            bad = api.post(url, headers=headers["wufang"],
                           json={"number": "BY-2027-009", "end_date": "2028-09-30",
                                 "fee": "-1"})
            assert bad.status_code == 422 and "fee" in bad.json()["error"]["fields"]
            refused = api.post(url, headers=headers["zhengli"],  # front desk
                               json={"number": "BY-2027-009", "end_date": "2028-09-30",
                                     "fee": "4400.00"})
            assert refused.status_code == 403
            renewed = api.post(url, headers=headers["wufang"],
                               json={"number": "BY-2027-009", "end_date": "2028-09-30",
                                     "fee": "4400.00"})
            assert renewed.status_code == 200, renewed.text
            assert (renewed.json()["number"], renewed.json()["start_date"]) == (
                "BY-2027-009", "2027-10-01")
    finally:
        web.state.fixdesk.close()
    with app.sessions() as session:
        plan = session.scalars(select(ContractPlan).where(
            ContractPlan.contract_number == "BY-2027-009")).one()
        assert (plan.renewal_of_contract_id, plan.fee, str(plan.frequency)) == (
            contract_id, D("4400.00"), "quarterly")


def test_racing_contract_fee_runs_bill_each_period_once(desk_app):
    from plugins.billing import contracts
    from plugins.billing.models import ContractPeriod, Invoice

    app = desk_app
    for n in range(4):
        _sign(app, number=f"BY-2026-10{n}", fee="1200.00")
    racing = app.site.start(pool_size=4, max_overflow=0)
    try:
        for day in ("2026-03-15", "2026-03-15", "2026-08-01"):
            results, failed = _race(racing, lambda ctx, d=day: contracts.bill_due(
                ctx, dt.date.fromisoformat(d)), threads=3)
            assert failed == []
    finally:
        racing.close()
    with app.sessions() as session:
        periods = session.scalars(select(ContractPeriod)).all()
        assert len(periods) == 4 * 8  # January to August, each plan
        assert len({(p.plan_id, p.period_start) for p in periods}) == len(periods)
        invoices = session.scalars(select(Invoice)).all()
        assert len(invoices) == len(periods)
        assert sorted(p.invoice_id for p in periods) == sorted(i.id for i in invoices)


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------


def test_cli_bills_statements_and_contract_fees(quiet_site, fixdesk):
    from kernel.site import Site

    site = quiet_site(["repair", "billing"])
    app = Site.load(site.path).start()
    try:
        _make_charges(app, 4, customers=2, day="2026-10-20")
        _quarterly(app)
        _sign(app, start="2026-07-01", end="2027-06-30", fee="8000.00")
    finally:
        app.close()

    bad = fixdesk("--site", site.path, "billing", "statements", "--month", "2026-13")
    assert bad.code == 2 and bad.out == ""
    assert len(bad.err.strip().splitlines()) == 1 and "2026-11" in bad.err
    unknown = fixdesk("--site", site.path, "billing", "statements", "--month", "2026-10",
                      "--branch", "XX")
    assert unknown.code == 2 and len(unknown.err.strip().splitlines()) == 1

    done = fixdesk("--site", site.path, "billing", "statements", "--month", "2026-10",
                   "--branch", "SH")
    assert done.code == 0, done
    header, *rows = done.out.strip().splitlines()
    assert header.split("\t")[0] in ("INVOICE", "发票")
    assert len(rows) == 2
    cells = [row.split("\t") for row in rows]
    assert all(c[1] == "SH" and c[4] == "2026-10" and c[5] == "2" for c in cells)
    assert sum(D(c[-1]) for c in cells) == sum(
        D("100.00") + n + D("33.33") * (n % 3) for n in range(4))
    again = fixdesk("--site", site.path, "billing", "statements", "--month", "2026-10")
    assert again.code == 0 and len(again.out.strip().splitlines()) == 1  # the header only

    fees = fixdesk("--site", site.path, "billing", "contract-fees", "--date", "2026-10-01")
    assert fees.code == 0, fees
    rows = fees.out.strip().splitlines()[1:]
    assert [row.split("\t")[-1] for row in rows] == ["2000.00", "2000.00"]
    assert "BY-2026-001" in rows[0]
    repeat = fixdesk("--site", site.path, "billing", "contract-fees", "--date", "2026-10-01")
    assert repeat.code == 0 and len(repeat.out.strip().splitlines()) == 1
    wrong = fixdesk("--site", site.path, "billing", "contract-fees", "--date", "someday")
    assert wrong.code == 2 and len(wrong.err.strip().splitlines()) == 1


def test_contracts_signed_before_billing_are_planned_by_the_daily_job(desk_app):
    """Contracts billing was never told about (signed before it was enabled: written here
    straight into repair's table) are planned by the daily job before it bills, once; a
    cancelled or ended one is left alone."""
    from plugins.billing import contracts
    from plugins.billing.models import ContractPlan, Invoice
    from plugins.repair.models import MaintenanceContract

    app = desk_app
    with app.context(user="admin") as ctx:
        customer = ctx.session.scalars(select(Customer).where(Customer.code == "C0001")).one()
        for number, start, end, cancelled in (
                ("BY-OLD-001", "2026-01-01", "2026-12-31", None),
                ("BY-OLD-END", "2025-01-01", "2025-12-31", None),
                ("BY-OLD-CXL", "2026-01-01", "2026-12-31", local("2025-12-30 10:00"))):
            ctx.session.add(MaintenanceContract(
                company_id=customer.company_id, branch_id=customer.branch_id, number=number,
                customer_id=customer.id, start_date=dt.date.fromisoformat(start),
                end_date=dt.date.fromisoformat(end), fee=D("1200.00"),
                cancelled_at=cancelled))
    for _run in range(2):
        with _context(app, None, "2026-01-02 06:30") as ctx:
            contracts.contract_fees(ctx)
    with app.sessions() as session:
        plans = session.scalars(select(ContractPlan)).all()
        assert [p.contract_number for p in plans] == ["BY-OLD-001"]
        assert [i.grand_total for i in session.scalars(select(Invoice))] == [D("100.00")]
