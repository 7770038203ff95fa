"""The demo's billed history after repair's (scenarios 2 and 8), told through billing's
services by the people who would do each step, with the clock frozen at its moment.

While repair's order history was written, billing's hooks already did their part: quotes
priced, job charges recorded, SH's jobs invoiced on completion, commission earned on
audits, a billing plan made for each contract. Left for afterwards, in time order:

- **the scheduled jobs**, as the system: each 1st of a month at 06:00 the statements of
  the month before (JD bills by monthly statement, :mod:`.demo`), and at 06:30 on each
  day a contract period starts its contract fee;
- **money received**: carry-in customers pay cash at the counter when they pick their
  machine up (front desk); corporate customers pay by bank transfer (the accountant
  records it from the bank's receipt) or by cheque; JD's customers pay their statements
  by transfer; the hospital pays its contract quarterly, one transfer for three invoices;
  申达物流 pays its contract monthly; 联华便利 left the last three months of its ended
  contract unpaid (31–60, 61–90 and over 90 days in the aging); a few job invoices stay
  unpaid, the recent ones are not due yet;
- one customer **overpays** (a transfer rounded up: the rest stays as the customer's
  credit), one invoice gets a **partial credit note** with its reason before it is paid;
- 王工 **collects on site** twice: the older collection handed in to the cashier the next
  morning, the recent one not yet.

Deterministic: :data:`SEED` drives every choice; dates are relative to the moment the
demo is loaded, and steps that would lie in the future are not taken.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import select

from kernel.auth import User
from kernel.context import Context
from kernel.demo import DemoDesk
from kernel.i18n import N_
from kernel.lifecycle import DocStatus, submit
from kernel.links import link_columns
from kernel.models import Branch, Customer, Employee, Tier
from kernel.months import add_months, month_start
from kernel.progress import report
from kernel.records import create_record

from . import contracts, statements
from .amounts import ZERO
from .models import ContractPlan, Invoice, InvoiceKind, JobCharge, Method, Payment

SEED = 20261201
#: the step the history reports while it loads (a bar on the terminal, kernel.progress)
HISTORY_STEP = N_("Loading the demo's payments")
ORDERS = "repair_work_order"
#: front desk and accountant per branch
DESK = {"SH": ("zhengli", "qianhui"), "JD": ("hejuan", "fengmin")}
#: the engineer who collects on site, by his employee code
COLLECTOR = ("E001", "wanggong")
#: an invoice younger than this many days is not due yet for the demo's customers
NOT_YET = 10
#: the share of older on-site job invoices left unpaid, of JD's statements likewise
UNPAID_JOBS, UNPAID_STATEMENTS = 0.1, 0.2
#: contract customers: how they pay their contract fees
MONTHLY, QUARTERLY, LAST_THREE_UNPAID = "monthly", "quarterly", "last three unpaid"
CONTRACT_HABITS = {"C0001": MONTHLY, "C0004": QUARTERLY, "C0006": LAST_THREE_UNPAID,
                   "C0003": MONTHLY}
BANKS = ["工商银行", "建设银行", "招商银行", "浦发银行", "农业银行"]
CREDIT_AMOUNT = Decimal("50.00")
CREDIT_REASON = "客户投诉等候时间过长，经服务主管同意优惠 50 元"


def load_history(ctx) -> None:
    """Write the billed history (see the module's docstring): only on the demo company
    with its accountants, after repair's history."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    users = set(ctx.session.scalars(select(User.username)))
    wanted = {name for pair in DESK.values() for name in pair} | {COLLECTOR[1]}
    if not {"SH", "JD"} <= set(branches) or not wanted <= users:
        return
    History(ctx, branches).load()


class History:
    """The billed history of the demo company, planned first and then taken in time order
    (one step at a time, as the user who does it, at its moment)."""

    def __init__(self, ctx, branches: dict[str, Branch]):
        self.ctx = ctx
        self.now = ctx.now().astimezone(dt.UTC)
        self.tz = ctx.settings.tz
        self.today = self.now.astimezone(self.tz).date()
        self.code_of = {b.id: code for code, b in branches.items()}
        self.rng = random.Random(SEED)
        self.desk = DemoDesk(ctx)
        self.events: list[tuple[dt.datetime, int, object]] = []
        self.used: set[int] = set()  # invoices a story has taken

    # -- time ------------------------------------------------------------

    def moment(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """``day`` at a local time, in UTC."""
        return dt.datetime.combine(day, dt.time(hour, minute), self.tz).astimezone(dt.UTC)

    @staticmethod
    def workday(day: dt.date) -> dt.date:
        """``day``, or the Monday after it when it falls on a weekend."""
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return day

    def office_hours(self, day: dt.date) -> dt.datetime:
        """A moment of office hours on the working day ``day`` (or after it)."""
        minute = self.rng.randint(9 * 60 + 15, 16 * 60 + 45)
        return self.moment(self.workday(day), minute // 60, minute % 60)

    def system(self, when: dt.datetime) -> Context:
        """The system (the scheduler) at ``when``."""
        return Context(session=self.ctx.session, app=self.ctx.app,
                       clock=lambda at=min(when, self.now): at)

    def at(self, username: str, when: dt.datetime) -> Context:
        """The demo user ``username`` acting at ``when``."""
        return self.desk.at(username, when)

    def later(self, when: dt.datetime, function, *args) -> None:
        """Plan ``function(when, *args)``, taken in time order; nothing in the future."""
        if when <= self.now:
            self.events.append((when, len(self.events), lambda: function(when, *args)))

    # -- the whole story -------------------------------------------------------

    def load(self) -> None:
        """The scheduled billing, then every planned step in time order."""
        self.scheduled_billing()
        self.desk.done()
        self.invoices = self.ctx.session.scalars(
            select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE,
                                  Invoice.docstatus == DocStatus.SUBMITTED)
            .order_by(Invoice.invoice_date, Invoice.id)).all()
        self.customers = {c.id: c for c in self.ctx.session.scalars(select(Customer))}
        self.orders = self._orders()
        self.collections()
        self.credit_note()
        self.overpayment()
        self.contract_fees_paid()
        self.jobs_paid()
        self.statements_paid()
        self.events.sort(key=lambda event: event[:2])
        for done, (_when, _n, event) in enumerate(self.events):
            report(HISTORY_STEP, done, len(self.events))
            event()
        report(HISTORY_STEP, len(self.events), len(self.events))
        self.desk.done()
        self.ctx.session.flush()

    # -- the scheduled jobs ------------------------------------------------------

    def scheduled_billing(self) -> None:
        """What the scheduler did on each day something was due, as the system: at 06:00
        of each 1st the month before's statements (:func:`.statements.monthly_statements`),
        at 06:30 of each day a contract period starts its fees
        (:func:`.contracts.contract_fees`)."""
        session = self.ctx.session
        first_job = session.scalar(select(JobCharge.completed_on)
                                   .order_by(JobCharge.completed_on).limit(1))
        firsts = set()
        if first_job is not None:
            month = add_months(month_start(first_job), 1)
            while month <= self.today:
                firsts.add(month)
                month = add_months(month, 1)
        starts = {first for plan in session.scalars(select(ContractPlan).where(
                      ContractPlan.active.is_(True)).order_by(ContractPlan.id))
                  for first, _last, _amount in contracts.still_to_bill(self.ctx, plan)
                  if first <= self.today}
        for day in sorted(firsts | starts):
            if day in firsts:
                statements.monthly_statements(self.system(self.moment(day, 6)))
            if day in starts:
                contracts.contract_fees(self.system(self.moment(day, 6, 30)))

    # -- what is known of each invoice -------------------------------------------

    def _orders(self) -> dict[int, object]:
        """The work orders the invoices bill, by id (one query)."""
        model = self.ctx.app.entity_class(ORDERS)
        ids = {i.source.id for i in self.invoices
               if i.source is not None and i.source.entity == ORDERS}
        if model is None or not ids:
            return {}
        return {o.id: o for o in self.ctx.session.scalars(
            select(model).where(model.id.in_(ids)))}

    def order_of(self, invoice: Invoice):
        """The work order a job's invoice bills (None for statements and contract fees)."""
        if invoice.source is None or invoice.source.entity != ORDERS or invoice.period:
            return None
        return self.orders.get(invoice.source.id)

    def age(self, invoice: Invoice) -> int:
        return (self.today - invoice.invoice_date).days

    def branch(self, invoice: Invoice) -> str:
        return self.code_of[invoice.branch_id]

    def job_invoices(self, branch: str = "SH") -> list[Invoice]:
        """The branch's invoices of single jobs (not statements, not contract fees)."""
        return [i for i in self.invoices if self.branch(i) == branch
                and self.order_of(i) is not None and i.id not in self.used]

    def corporate(self, invoice: Invoice) -> bool:
        return self.customers[invoice.customer_id].tier != Tier.INDIVIDUAL

    # -- stories -------------------------------------------------------------

    def collections(self) -> None:
        """王工 collects two jobs' money on site right after completing them: the older
        is handed in to the cashier the next working morning, the recent one not yet."""
        engineer_id = self.ctx.session.scalar(select(Employee.id).where(
            Employee.code == COLLECTOR[0]))
        limit = Decimal("1000")
        found = [i for i in self.job_invoices()
                 if (order := self.order_of(i)).engineer_id == engineer_id
                 and str(order.service_mode) == "on_site" and i.grand_total <= limit
                 and str(order.status) in ("completed", "ready_for_pickup", "closed")
                 and order.completed_at is not None]
        older = [i for i in found if self.age(i) >= 14]
        recent = [i for i in found if self.age(i) < 14]
        for invoice, hand_in in ((older[-1] if older else None, True),
                                 (recent[-1] if recent else None, False)):
            if invoice is None:
                continue
            self.used.add(invoice.id)
            order = self.order_of(invoice)
            when = order.completed_at.astimezone(dt.UTC) + dt.timedelta(minutes=10)
            self.later(when, self._collect, order.id, invoice.grand_total)
            if hand_in:
                day = self.workday(when.astimezone(self.tz).date() + dt.timedelta(days=1))
                self.later(self.moment(day, 9, 20), self._hand_in, order.id)

    def _collect(self, when, order_id: int, amount: Decimal) -> None:
        """王工 presses *Collect on site* on the job (the action the desk runs)."""
        self.at(COLLECTOR[1], when).run_action(ORDERS, order_id, "billing_collect",
                                               amount=amount, method=Method.CASH.value)

    def _hand_in(self, when, order_id: int) -> None:
        """The cashier marks the job's on-site collection *Handed in*."""
        entity, record_id = link_columns(Payment.job)
        payment_id = self.ctx.session.scalar(select(Payment.id).where(
            Payment.on_site.is_(True), Payment.docstatus == DocStatus.SUBMITTED,
            entity == ORDERS, record_id == order_id))
        if payment_id is not None:
            self.at(DESK["SH"][1], when).run_action("billing_payment", payment_id, "hand_in")

    def credit_note(self) -> None:
        """A corporate customer complained of the wait: the accountant credits ¥50 of the
        job's invoice the next working day; the customer pays the rest by transfer."""
        found = [i for i in self.job_invoices() if 20 <= self.age(i) <= 45
                 and self.corporate(i) and i.grand_total >= 200]
        if not found:
            return
        invoice = found[0]
        self.used.add(invoice.id)
        day = self.workday(invoice.invoice_date + dt.timedelta(days=1))
        self.later(self.moment(day, 11, 5), self._credit, invoice)
        self.later(self.office_hours(invoice.invoice_date + dt.timedelta(days=9)),
                   self._pay, invoice, Method.TRANSFER, [invoice], None, None)

    def _credit(self, when, invoice: Invoice) -> None:
        """The accountant's *Credit note* of part of ``invoice``, with its reason, submitted."""
        acting = self.at(DESK["SH"][1], when)
        note = acting.run_action("billing_invoice", invoice.id, "credit",
                                 amount=CREDIT_AMOUNT, reason=CREDIT_REASON)
        submit(acting, note)

    def overpayment(self) -> None:
        """A customer rounds a transfer up to the next hundred: the rest is kept as the
        customer's credit."""
        found = [i for i in self.job_invoices() if 12 <= self.age(i) <= 40
                 and i.grand_total % 100 != 0]
        if not found:
            return
        invoice = found[len(found) // 2]
        self.used.add(invoice.id)
        rounded = (invoice.grand_total / 100).to_integral_value(rounding=ROUND_CEILING) * 100
        note = f"客户转账凑整，多付 {rounded - invoice.grand_total:.2f} 元留作预付款"
        self.later(self.office_hours(invoice.invoice_date + dt.timedelta(days=6)),
                   self._pay, invoice, Method.TRANSFER, [invoice], rounded, note)

    def contract_fees_paid(self) -> None:
        """Contract fees by each customer's habit (:data:`CONTRACT_HABITS`)."""
        fees = [i for i in self.invoices if i.period is None and i.source is not None
                and i.source.entity == contracts.CONTRACTS and i.id not in self.used]
        by_customer: dict[str, list[Invoice]] = {}
        for invoice in fees:
            by_customer.setdefault(self.customers[invoice.customer_id].code, []).append(invoice)
        for code, found in by_customer.items():
            habit = CONTRACT_HABITS.get(code, MONTHLY)
            due = [i for i in found if self.age(i) >= NOT_YET]
            if habit == LAST_THREE_UNPAID:
                due = due[:-3]
            if habit == QUARTERLY:
                for start in range(0, len(due) - 2, 3):
                    three = due[start:start + 3]
                    self.later(self.office_hours(three[-1].invoice_date + dt.timedelta(days=12)),
                               self._pay, three[-1], Method.TRANSFER, three, None, None)
                continue
            for invoice in due:
                self.later(self.office_hours(invoice.invoice_date + dt.timedelta(days=8)),
                           self._pay, invoice, Method.TRANSFER, [invoice], None, None)

    def jobs_paid(self) -> None:
        """SH's job invoices: carry-in jobs paid in cash at the counter when the customer
        picks the machine up; on-site jobs, once due, by transfer or (some corporate
        customers) by cheque; a few left unpaid."""
        for invoice in self.job_invoices():
            order = self.order_of(invoice)
            if str(order.service_mode) == "carry_in" and order.closed_at is not None:
                when = order.closed_at.astimezone(dt.UTC) - dt.timedelta(minutes=5)
                self.later(max(when, order.completed_at.astimezone(dt.UTC)), self._pay,
                           invoice, Method.CASH, [invoice], None, None)
                continue
            age = self.age(invoice)
            if age < NOT_YET or self.rng.random() < UNPAID_JOBS:
                continue
            method = Method.CHEQUE if self.corporate(invoice) and self.rng.random() < 0.25 \
                else Method.TRANSFER
            days = self.rng.randint(4, min(age - 1, 25))
            self.later(self.office_hours(invoice.invoice_date + dt.timedelta(days=days)),
                       self._pay, invoice, method, [invoice], None, None)

    def statements_paid(self) -> None:
        """JD's customers pay their monthly statements by transfer within a few weeks; some
        are late."""
        for invoice in self.invoices:
            if invoice.period is None or invoice.id in self.used or self.age(invoice) < 20:
                continue
            if self.rng.random() < UNPAID_STATEMENTS:
                continue
            days = self.rng.randint(8, min(self.age(invoice) - 1, 20))
            self.later(self.office_hours(invoice.invoice_date + dt.timedelta(days=days)),
                       self._pay, invoice, Method.TRANSFER, [invoice], None, None)

    # -- recording a payment -------------------------------------------------------

    def _reference(self, method: Method, when: dt.datetime) -> str | None:
        """The bank's receipt number of a transfer, a cheque's number; none for cash."""
        if method is Method.TRANSFER:
            return (f"{self.rng.choice(BANKS)}网银回单 {when.astimezone(self.tz):%Y%m%d}-"
                    f"{self.rng.randint(100000, 999999)}")
        if method is Method.CHEQUE:
            return f"转账支票 No.{self.rng.randint(10000000, 99999999)}"
        return None

    def _pay(self, when, invoice: Invoice, method: Method, paid: list[Invoice],
             amount: Decimal | None, note: str | None) -> None:
        """A payment of ``paid`` (each what it still owes) through the generic create and
        submit, as the desk makes it: cash and cheques taken by the front desk, transfers
        recorded by the accountant; ``amount`` more than owed leaves the rest as credit."""
        owed = [(i, i.outstanding) for i in paid if i.outstanding > 0]
        if not owed:
            return
        total = sum((left for _i, left in owed), ZERO)
        front, accountant = DESK[self.branch(invoice)]
        acting = self.at(accountant if method is Method.TRANSFER else front, when)
        exposed = self.ctx.app.exposed
        payment = create_record(acting, exposed["billing_payment"], {
            "customer_id": invoice.customer_id, "branch_id": invoice.branch_id,
            "paid_on": when.astimezone(self.tz).date(), "method": method.value,
            "amount": max(amount or ZERO, total), "reference": self._reference(method, when),
            "note": note})
        for paying, left in owed:
            create_record(acting, exposed["billing_payment_reference"], {
                "payment_id": payment.id, "invoice_id": paying.id, "amount": left})
        submit(acting, payment)
