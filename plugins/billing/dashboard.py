"""Billing's cards and chart on the desk's home page (``fixdesk_dashboard``), for the
accountants and branch managers of the branches they see. Each card is one SQL query as
the user who looks; the chart one ``GROUP BY``:

* *Revenue this month* (yuan, net of VAT: submitted invoices less credit notes dated this
  month, one ``SUM`` of their headers' net totals) → the report *Revenue by branch and
  service type* for this month;
* *Receivables older than 30 days* (yuan, warning: what submitted invoices dated more
  than 30 days ago still owe — the aging report's 31–60, 61–90 and over 90 columns) →
  *Receivables aging*;
* *On-site collections not handed in* (warning: submitted payments an engineer collected
  that the cashier has not received) → the payments list filtered so;
* *Jobs completed, not invoiced* (warning: billable job charges without an invoice) → the
  job charges list filtered so;
* the chart *Net revenue by month* of the last 12 months → the revenue report.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select

from kernel import PERIOD_CHART_KEEP, ChartData, DashboardCard, DashboardChart
from kernel.i18n import N_, _
from kernel.lifecycle import DocStatus
from kernel.list_links import labels, list_url
from kernel.months import add_months, month_end, month_start

from .models import Invoice, InvoiceKind, JobCharge, Payment
from .reports import (
    DEFAULT_MONTHS,
    INVOICES,
    branch_ids,
    fen_sum,
    month_of,
    months_between,
    open_invoices,
    today,
    yuan,
)

INVOICE_READ = "billing_invoice.read"
PAYMENT_READ = "billing_payment.read"
CHARGE_READ = "billing_job_charge.read"
ROLES = ("accountant", "branch_manager")
#: invoices dated more than this many days ago count on the overdue card
OVERDUE_DAYS = 30


def _net_revenue():
    """SQL: the net total of an invoice, negative for a credit note."""
    return case((Invoice.kind == InvoiceKind.CREDIT_NOTE, -Invoice.net_total),
                else_=Invoice.net_total)


def revenue_this_month(ctx) -> int:
    """Net revenue of this month in the user's branches, in whole yuan (one SUM over the
    submitted invoices' and credit notes' headers, whose totals are their lines' sums)."""
    first = month_start(today(ctx))
    total = ctx.session.scalar(
        select(fen_sum(_net_revenue()))
        .where(Invoice.docstatus == DocStatus.SUBMITTED, Invoice.invoice_date >= first,
               Invoice.invoice_date <= month_end(first),
               Invoice.branch_id.in_(branch_ids(ctx))))
    return int(yuan(total))


def receivables_overdue(ctx) -> int:
    """What submitted invoices dated more than 30 days ago still owe in the user's
    branches, in whole yuan (one SUM over the open invoices' partial index)."""
    older = today(ctx) - dt.timedelta(days=OVERDUE_DAYS + 1)
    total = ctx.session.scalar(select(fen_sum(INVOICES.c.outstanding))
                               .where(*open_invoices(ctx, branch_ids(ctx), older)))
    return int(yuan(total))


def collections_not_handed_in(ctx) -> int:
    """Submitted payments collected on site that the cashier has not received (one
    COUNT)."""
    return ctx.session.scalar(
        select(func.count()).select_from(Payment)
        .where(Payment.on_site.is_(True), Payment.docstatus == DocStatus.SUBMITTED,
               Payment.handed_in_at.is_(None), Payment.branch_id.in_(branch_ids(ctx)))) or 0


def jobs_not_invoiced(ctx) -> int:
    """Completed jobs the customer pays for that no invoice billed yet (one COUNT)."""
    return ctx.session.scalar(
        select(func.count()).select_from(JobCharge)
        .where(JobCharge.billable.is_(True), JobCharge.invoice_id.is_(None),
               JobCharge.branch_id.in_(branch_ids(ctx)))) or 0


def revenue_by_month(ctx, months: int = DEFAULT_MONTHS) -> ChartData | None:
    """The chart *Net revenue by month (yuan)* of the last ``months`` months in the user's
    branches (one query over the invoices' headers, summed per day, then per month);
    None when nothing was invoiced."""
    last = month_start(today(ctx))
    first = add_months(last, 1 - months)
    days = (select(Invoice.invoice_date.label("day"), fen_sum(_net_revenue()).label("net"))
            .where(Invoice.docstatus == DocStatus.SUBMITTED, Invoice.invoice_date >= first,
                   Invoice.invoice_date <= month_end(last),
                   Invoice.branch_id.in_(branch_ids(ctx)))
            .group_by(Invoice.invoice_date).subquery("days"))
    month = month_of(ctx, days.c.day)
    found = dict(ctx.session.execute(select(month, fen_sum(days.c.net)).group_by(month)).all())
    if not found:
        return None
    labels_ = months_between(first, last)
    return ChartData("bar", _("Net revenue by month (yuan)"), tuple(labels_),
                     ((_("Net revenue"), tuple(float(yuan(found.get(m))) for m in labels_)),))


def _this_month_report(ctx) -> str:
    month = today(ctx).strftime("%Y-%m")
    return f"/desk/reports/billing.revenue?from_month={month}&to_month={month}&run=1"


def _collections_list(ctx) -> str:
    return list_url("billing_payment", ("on_site", "eq", _("yes")),
                    ("docstatus", "eq", labels([DocStatus.SUBMITTED])),
                    ("handed_in_at", "empty", ""))


def _unbilled_list(ctx) -> str:
    return list_url("billing_job_charge", ("billable", "eq", _("yes")),
                    ("invoice_id", "empty", ""))


DASHBOARD = [
    DashboardCard("billing.revenue_this_month", N_("Revenue this month (yuan, excl. VAT)"),
                  revenue_this_month, url=_this_month_report, permission=INVOICE_READ,
                  roles=ROLES, order=50,
                  help=N_("Net of VAT: submitted invoices less credit notes dated this "
                          "month, in your branches")),
    DashboardCard("billing.receivables_overdue", N_("Receivables older than 30 days (yuan)"),
                  receivables_overdue,
                  url=lambda ctx: "/desk/reports/billing.aging?run=1",
                  permission=INVOICE_READ, roles=ROLES, order=51, tone="warning",
                  help=N_("What invoices dated more than 30 days ago still owe")),
    DashboardCard("billing.collections_not_handed_in", N_("On-site collections not handed "
                                                          "in"),
                  collections_not_handed_in, url=_collections_list, permission=PAYMENT_READ,
                  roles=ROLES, order=52, tone="warning",
                  help=N_("Money engineers collected on site that the cashier has not "
                          "received yet")),
    DashboardCard("billing.jobs_not_invoiced", N_("Jobs completed, not invoiced"),
                  jobs_not_invoiced, url=_unbilled_list, permission=CHARGE_READ,
                  roles=ROLES, order=53, tone="warning",
                  help=N_("Completed jobs the customer pays for that no invoice bills "
                          "yet")),
    DashboardChart("billing.revenue_by_month", N_("Net revenue by month"), revenue_by_month,
                   permission=INVOICE_READ, roles=ROLES, order=50,
                   url=lambda ctx: "/desk/reports/billing.revenue?run=1", keep=PERIOD_CHART_KEEP),
]
