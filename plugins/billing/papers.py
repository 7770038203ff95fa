"""The billing plugin's printed papers, registered through ``fixdesk_documents``.

Each paper is a :class:`kernel.Document`: a template in ``templates/billing/`` (each extends
``billing/_paper.html``: the print base's letterhead, the date and number line, the
草稿 / DRAFT and 已作废 / CANCELLED marks, the table styles) and a ``gather(ctx, record)``
function that reads what the template prints in a few queries — a document's lines in
one, its payments or invoices in one grouped query — never one query per line. Amounts
print in figures and in Chinese capitals (人民币大写, the kernel's ``capital`` filter).

* 销售单据（发票） ``billing.invoice`` (A4) for an invoice: lines with discount, net, VAT,
  total, what was paid and credited, what is outstanding and by when. A credit note
  prints with it as 红字冲销单 / Credit note: its amounts negative, naming the invoice it
  credits. This is the company's sales document, not the tax office's VAT invoice (发票
  proper is issued by the tax system on request), and says so.
* 报价单 ``billing.quote`` (A4) for a quoted repair work order (only where repair runs,
  the work order named by table; the order is read through its relationships, never by
  importing repair): the parts at the customer's unit price when every part line carries
  one that adds up to the quote's parts amount, else the parts amount as one line;
  labour; travel; the total in words; how long the quote holds and the customer's
  acceptance.
* 现场收款收据 ``billing.collection_receipt`` (A5 landscape) for money an engineer
  collected on site: the engineer, the job, the invoices the money paid and the credit
  kept; printable by whoever may collect (the engineer on site, who does not read the
  office's payments). Any other payment has the same paper as 收款收据
  ``billing.receipt`` (the office's: whoever reads payments).
* 对账单 ``billing.statement`` (A4) for a customer: :func:`plugins.billing.receivables.
  statement` over :func:`~plugins.billing.receivables.default_period` (the previous month
  and this month to date: a kernel document takes no parameters).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from kernel.contributions import Document
from kernel.i18n import N_
from kernel.lifecycle import DocStatus, state_of
from kernel.linked import link_labels

from .amounts import ZERO, fen
from .models import Allocation, Invoice, Item, Method, Payment
from .receivables import default_period, statement

#: how an invoice line's item is named on paper
ITEM_NAMES = {
    Item.LABOUR: N_("Labour fee"),
    Item.PARTS: N_("Parts"),
    Item.TRAVEL: N_("Travel fee"),
    Item.CONTRACT_FEE: N_("Contract fee"),
    Item.TRAINING_FEE: N_("Training fee"),
    Item.OTHER_CHARGE: N_("Other charge"),
}
#: how a payment method is named on paper ("transfer" alone is a stock transfer elsewhere)
METHOD_NAMES = {
    Method.CASH: N_("Cash"),
    Method.TRANSFER: N_("Bank transfer"),
    Method.CHEQUE: N_("Cheque"),
}
#: days a printed quote holds from the day it was made
QUOTE_VALID_DAYS = 15
#: repair's setting of how long a repair is warranted (read by key, printed on quotes)
WARRANTY_DAYS = "repair.repair_warranty_days"


def _marks(record) -> dict:
    """Whether a document is a draft or cancelled, and why it was cancelled."""
    state = state_of(record)
    return {"draft": state is DocStatus.DRAFT, "cancelled": state is DocStatus.CANCELLED,
            "cancelled_at": record.cancelled_at, "cancel_reason": record.cancel_reason}


def _no_marks() -> dict:
    return {"draft": False, "cancelled": False, "cancelled_at": None, "cancel_reason": None}


def _today(ctx) -> dt.date:
    return ctx.now().astimezone(ctx.settings.tz).date()


def _local_date(ctx, moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(ctx.settings.tz).date() if moment else None


def _contact_and_address(customer) -> tuple:
    """The customer's primary contact (else the first) and default address (else the
    first)."""
    if customer is None:
        return None, None
    contacts, addresses = customer.contacts, customer.addresses
    contact = next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)
    address = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
    return contact, address


def _customer(customer) -> dict:
    contact, address = _contact_and_address(customer)
    return {"customer": customer, "contact": contact, "address": address}


def _vat_terms(ctx) -> dict:
    from kernel.settings import get_setting

    return {"vat_rate": Decimal(str(get_setting(ctx, "billing.vat_rate"))),
            "prices_include_tax": bool(get_setting(ctx, "billing.prices_include_tax"))}


# ---------------------------------------------------------------------------
# 销售单据（发票） and 红字冲销单
# ---------------------------------------------------------------------------


def gather_invoice(ctx, invoice: Invoice) -> dict:
    """An invoice's customer, lines, totals, payments (per payment, from its allocations,
    in one grouped query), credit notes, what is outstanding and when it is due; for a
    credit note its amounts negative and the invoice it credits."""
    note = invoice.is_credit_note
    sign = -1 if note else 1
    rows = [{"line": line, "item": ITEM_NAMES.get(line.item, N_("Other charge")),
             "description": line.description, "quantity": line.quantity,
             "unit_price": line.unit_price, "discount": line.discount_percent,
             "net": sign * line.net, "tax": sign * line.tax, "amount": sign * line.amount}
            for line in invoice.lines]
    paid = ctx.session.execute(
        select(Payment.number, Payment.paid_on, Payment.method, func.sum(Allocation.amount))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.invoice_id == invoice.id)
        .group_by(Payment.id, Payment.number, Payment.paid_on, Payment.method)
        .order_by(Payment.paid_on, Payment.id)).all() if not note else []
    payments = [{"number": number, "paid_on": paid_on, "method": METHOD_NAMES[Method(method)],
                 "amount": _amount(total)}
                for number, paid_on, method, total in paid if _amount(total)]
    credit_notes = list(ctx.session.execute(
        select(Invoice.number, Invoice.invoice_date, Invoice.grand_total)
        .where(Invoice.credit_of_id == invoice.id, Invoice.docstatus == DocStatus.SUBMITTED)
        .order_by(Invoice.invoice_date, Invoice.id))) if not note else []
    source = link_labels(ctx, [invoice.source]).get(invoice.source) \
        if invoice.source is not None else None
    return {
        **_marks(invoice), **_customer(invoice.customer), "invoice": invoice,
        "credit_note": note, "credit_of": invoice.credit_of if note else None,
        "rows": rows, "doc_date": invoice.invoice_date, "source_label": source,
        "net_total": sign * invoice.net_total, "tax_total": sign * invoice.tax_total,
        "grand_total": sign * invoice.grand_total, "payments": payments,
        "credit_notes": credit_notes,
        "discounted": any(row["discount"] for row in rows),
        "qr_data": f"{invoice.number} {invoice.invoice_date:%Y-%m-%d} "
                   f"{sign * invoice.grand_total}",
    }


def _amount(total) -> Decimal:
    """A SUM of a Money column (Decimal, or integer fen when the type was lost)."""
    from .amounts import as_money

    return as_money(total)


# ---------------------------------------------------------------------------
# 报价单
# ---------------------------------------------------------------------------


def is_quoted(order) -> bool:
    """Whether a work order has a quote to print."""
    return getattr(order, "quote_total", None) is not None


def _part_name(line) -> str:
    return line.description + (f" {line.part_code}" if line.part_code else "")


def quote_rows(order) -> list[dict]:
    """The quote's lines, adding up to ``order.quote_total``: each part at the customer's
    unit price when every part line has one and they add up to the quote's parts amount
    (else the parts amount as one line naming the parts), then labour and travel."""
    lines = list(order.active_lines)
    parts = order.quote_parts or ZERO
    prices = [getattr(line, "unit_price", None) for line in lines]
    rows = []
    if lines and all(price is not None for price in prices) and sum(
            (fen(price * line.quantity) for price, line in zip(prices, lines, strict=True)),
            ZERO) == parts:
        rows += [{"item": ITEM_NAMES[Item.PARTS], "description": _part_name(line),
                  "quantity": line.quantity, "unit_price": price,
                  "amount": fen(price * line.quantity)}
                 for price, line in zip(prices, lines, strict=True)]
    elif parts:
        rows.append({"item": ITEM_NAMES[Item.PARTS],
                     "description": "、".join(_part_name(line) for line in lines),
                     "quantity": 1, "unit_price": parts, "amount": parts})
    for item, amount in ((Item.LABOUR, order.quote_labour), (Item.TRAVEL, order.quote_travel)):
        if amount:
            rows.append({"item": ITEM_NAMES[item], "description": "", "quantity": 1,
                         "unit_price": amount, "amount": amount})
    return rows


def gather_quote(ctx, order) -> dict:
    """A quoted work order's customer, machine, fault and diagnosis, the quote's lines
    (:func:`quote_rows`) and total, how long it holds, whether the customer decided, the
    VAT terms and the repair warranty."""
    from kernel.settings import get_setting

    quoted_on = _local_date(ctx, order.quoted_at) or _today(ctx)
    warranty_days = get_setting(ctx, WARRANTY_DAYS, order.branch) \
        if WARRANTY_DAYS in ctx.app.settings_registry else None
    rows = quote_rows(order)
    equipment = order.equipment
    return {
        **_no_marks(), **_customer(order.customer), **_vat_terms(ctx), "order": order,
        "equipment": equipment, "engineer": order.engineer, "rows": rows,
        "total": order.quote_total, "doc_date": quoted_on,
        "valid_until": quoted_on + dt.timedelta(days=QUOTE_VALID_DAYS),
        "valid_days": QUOTE_VALID_DAYS, "warranty_days": warranty_days,
        "state": order.quote_status.value if order.quote_status is not None else None,
        "decided_on": _local_date(ctx, order.quote_decided_at),
        "machine": _machine(order, equipment),
        "serial_no": order.serial_no or (equipment.serial_no if equipment else None),
    }


def _machine(order, equipment) -> str:
    """The machine's brand and model (the order's copy of the model may carry the brand)."""
    model = order.model or (equipment.model if equipment else None) or ""
    brand = (equipment.brand if equipment else None) or ""
    return model if brand and model.startswith(brand) else f"{brand} {model}".strip()


# ---------------------------------------------------------------------------
# 现场收款收据 / 收款收据
# ---------------------------------------------------------------------------


def _job(ctx, link) -> dict | None:
    """The job a payment was collected for: its number (and machine, when it has one)."""
    if link is None:
        return None
    cls = ctx.app.entity_class(link.entity)
    record = ctx.session.get(cls, link.id) if cls is not None else None
    if record is None:
        return {"number": str(link), "model": None, "serial_no": None}
    return {"number": getattr(record, "number", None) or str(record.id),
            "model": getattr(record, "model", None),
            "serial_no": getattr(record, "serial_no", None)}


def on_site(payment: Payment) -> bool:
    """Whether an engineer collected the payment on site (its receipt is the on-site
    collection receipt)."""
    return bool(payment.on_site)


def gather_receipt(ctx, payment: Payment) -> dict:
    """A payment's payer, amount, method and reference, the job it was collected for, the
    engineer who collected it, and the invoices it paid (its allocations summed per
    invoice in one query; for a draft, the invoices it names) with the credit kept."""
    if state_of(payment) is DocStatus.DRAFT:
        invoices = [{"number": ref.invoice.number, "invoice_date": ref.invoice.invoice_date,
                     "amount": ref.amount} for ref in payment.references]
    else:
        rows = ctx.session.execute(
            select(Invoice.number, Invoice.invoice_date, func.sum(Allocation.amount))
            .join(Invoice, Invoice.id == Allocation.invoice_id)
            .where(Allocation.payment_id == payment.id)
            .group_by(Invoice.id, Invoice.number, Invoice.invoice_date)
            .order_by(Invoice.invoice_date, Invoice.id))
        invoices = [{"number": number, "invoice_date": on, "amount": _amount(total)}
                    for number, on, total in rows if _amount(total)]
    return {
        **_marks(payment), **_customer(payment.customer), "payment": payment,
        "on_site": bool(payment.on_site), "method": METHOD_NAMES[Method(payment.method)],
        "collector": payment.collected_by, "job": _job(ctx, payment.job),
        "invoices": invoices, "doc_date": payment.paid_on,
        "credit_kept": payment.unallocated if state_of(payment) is DocStatus.SUBMITTED
        else ZERO,
    }


# ---------------------------------------------------------------------------
# 对账单
# ---------------------------------------------------------------------------


def gather_statement(ctx, customer) -> dict:
    """The customer's statement of account (:func:`plugins.billing.receivables.statement`)
    for the previous month and this month to date, numbered by the customer's code and
    the last day."""
    today = _today(ctx)
    start, end = default_period(today)
    data = statement(ctx, customer, start, end)
    for line in data["lines"]:
        if line.get("method"):
            line["method_name"] = METHOD_NAMES[Method(line["method"])]
    return {
        **_no_marks(), **_customer(customer), **data, "doc_date": today,
        "number": f"{customer.code}-{end:%Y%m%d}",
        # a statement is drawn from the books each time: a reprint is no copy
        "is_copy": False,
    }


INVOICE = Document(
    name="billing.invoice", title=N_("Invoice / sales receipt"), entity="billing_invoice",
    template="billing/invoice.html", gather=gather_invoice, paper="A4")
QUOTE = Document(
    name="billing.quote", title=N_("Quotation"), entity="repair_work_order",
    template="billing/quote.html", gather=gather_quote, paper="A4",
    available=is_quoted, unavailable=N_("a quotation is printed once the job is quoted"))
RECEIPT = Document(
    name="billing.receipt", title=N_("Payment receipt"), entity="billing_payment",
    template="billing/receipt.html", gather=gather_receipt, paper="A5",
    orientation="landscape", available=lambda payment: not on_site(payment),
    unavailable=N_("money collected on site has the on-site collection receipt"))
#: the same paper for money collected on site, printable by the engineer who collected it
#: (engineers may collect, not read the payments)
COLLECTION_RECEIPT = Document(
    name="billing.collection_receipt", title=N_("On-site collection receipt"),
    entity="billing_payment", template="billing/receipt.html", gather=gather_receipt,
    paper="A5", orientation="landscape", available=on_site,
    unavailable=N_("only for money collected on site"),
    options={"permission": "billing_payment.collect"})
STATEMENT = Document(
    name="billing.statement", title=N_("Statement of account"), entity="customer",
    template="billing/statement.html", gather=gather_statement, paper="A4",
    options={"permission": "billing_invoice.read"})

DOCUMENTS = [INVOICE, QUOTE, RECEIPT, COLLECTION_RECEIPT, STATEMENT]
