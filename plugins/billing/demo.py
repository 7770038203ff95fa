"""Demo data of the billing plugin: the copier-service company's price rules (labour by
grade and difficulty, parts markups by category, travel zones, commission rates), its
accountants, JD billing by monthly statement (scenario 8); where repair runs, the billed
history after repair's (:mod:`.demo_history`)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kernel.demo import add_demo_accounts
from kernel.models import Branch, Grade

from .models import CommissionRate, Difficulty, LabourRate, MarkupRule, ServiceType, TravelZone

#: labour price of one job by grade, for difficulty major, medium, minor, install, other
LABOUR = {
    Grade.TRAINEE: ("150", "90", "50", "120", "60"),
    Grade.REGULAR: ("200", "120", "60", "160", "80"),
    Grade.SENIOR: ("260", "160", "80", "200", "100"),
    Grade.EXPERT: ("320", "200", "100", "240", "120"),
}
DIFFICULTIES = (Difficulty.MAJOR, Difficulty.MEDIUM, Difficulty.MINOR, Difficulty.INSTALL,
                Difficulty.OTHER_SERVICE)

#: management markup in % by inventory's part category (None: every other part)
MARKUPS = {None: "15", "BOARD": "10", "SUPPLY": "25"}

#: travel zones: code, name, branch code (None: every branch), fee
ZONES = [("PD-OUT", "浦东外环以外", "SH", "50"), ("CM", "崇明岛", "SH", "200"),
         ("JD-FAR", "嘉定远郊（外冈、华亭）", "JD", "80")]

#: commission by service type: % of the job's labour value, amount per job
COMMISSION = {ServiceType.REPAIR: ("10", "5"), ServiceType.INSTALL: ("8", "10"),
              ServiceType.OUTSOURCED: ("3", "0")}

#: the accountants the demo adds (username, full name, home branch)
ACCOUNTANTS = [("qianhui", "钱慧", "SH"), ("fengmin", "冯敏", "JD")]


def load_demo(ctx) -> None:
    """Add the price rules and accountants (only on the demo company: both demo branches
    must exist) and, where repair runs, switch JD to monthly statements — all before
    repair's order history, whose completed jobs billing then prices and invoices. The
    billed history after it (statements, contract fees, payments) is
    :func:`plugins.billing.demo_history.load_history`, called by the part
    ``billing.repair`` once repair's history is written."""
    branches = {b.code: b for b in ctx.session.scalars(select(Branch))}
    if not {"SH", "JD"} <= set(branches):
        return
    load_price_rules(ctx, branches)
    add_demo_accounts(ctx, ACCOUNTANTS, "accountant", branches)
    _statements_for(ctx, branches["JD"])


#: the part and hook a branch billing by monthly statement switches off (scenario 8)
INVOICE_ON_COMPLETION = ("billing.invoicing", "repair_order_completed")


def _statements_for(ctx, branch) -> None:
    """Scenario 8: JD sends its customers one statement a month, so JD's admin switched
    off billing's *invoice each job on completion* for JD (what ``fixdesk hooks disable
    billing.invoicing repair_order_completed --branch JD`` does). Only where the part
    exists (repair enabled)."""
    from kernel.hookswitch import implementations, switch

    if INVOICE_ON_COMPLETION in implementations(ctx.app.pm):
        switch(ctx, *INVOICE_ON_COMPLETION, branch, enabled=False)


def load_price_rules(ctx, branches: dict | None = None) -> None:
    """The site's default labour rates, markups and commission rates, and the branches'
    travel zones (as the demo company charges; tests use them for scenario 2)."""
    branches = branches or {b.code: b for b in ctx.session.scalars(select(Branch))}
    add = ctx.session.add
    for grade, amounts in LABOUR.items():
        for difficulty, amount in zip(DIFFICULTIES, amounts, strict=True):
            add(LabourRate(grade=grade, difficulty=difficulty, amount=Decimal(amount)))
    for category, percent in MARKUPS.items():
        add(MarkupRule(part_category=category, markup_percent=Decimal(percent)))
    for code, name, branch, fee in ZONES:
        add(TravelZone(code=code, name=name, fee=Decimal(fee),
                       for_branch_id=branches[branch].id if branch in branches else None))
    for service_type, (percent, per_job) in COMMISSION.items():
        add(CommissionRate(service_type=service_type, percent=Decimal(percent),
                           per_job=Decimal(per_job)))
    ctx.session.flush()
