"""The inventory plugin's printed papers, through the API's print route, in Chinese and
English, read back with poppler (``pdftotext``, ``pdffonts``).

The documents are written straight into the tables (submitted, cancelled or drafts) and
their stock posted with :func:`plugins.inventory.ledger.post`, so the papers are checked
on hand-computed numbers whatever the services around them do:

* stock entry SE: DR-2206 10 × ¥380.00, TN-2206 20 × ¥95.00 into SH-P;
* requisition: TN 1 issued then reversed, DR 2 issued, TN 3 issued, TN 1 returned;
* purchase order: DR 5 × ¥400.00 + TN 10 × ¥95.50 = ¥2,955.00;
* receipt: DR 4 accepted, 1 rejected (外壳破损); TN 10 accepted: ¥2,555.00;
* transfer SH-P → SH-R of DR 2: the moving average 4,640.00 × 2 ÷ 12 = ¥773.33;
* count of SH-P (draft): DR book 10 counted 9 (−1, −¥386.67); TN not counted yet.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from pdf_tools import pdffonts, pdftotext, words
from site_cache import no_demo
from sqlalchemy import select
from stock_data import make_stock_data

from kernel import RecordLink
from kernel.web.app import create_app

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MM = 72 / 25.4


def _submitted(ctx, record, state="submitted", reason=None):
    """Write ``record`` (with its lines) as a submitted or cancelled document: numbered by
    its series, the state set on insert, no hooks called."""
    from kernel.lifecycle import DocStatus, number_new_draft

    number_new_draft(ctx, record)
    record.docstatus = DocStatus(state)
    if state != "draft":
        record.submitted_at = NOW
    if state == "cancelled":
        record.cancelled_at, record.cancel_reason = NOW, reason
    ctx.session.add(record)
    ctx.session.flush()
    return record


def _build(app) -> dict:
    """The documents of the module's docstring; returns their ids."""
    from kernel.auth import get_user
    from kernel.models import Employee
    from plugins.inventory import ledger
    from plugins.inventory.ledger import Move, Voucher
    from plugins.inventory.models import (
        Movement,
        PurchaseOrder,
        PurchaseOrderLine,
        PurchaseReceipt,
        PurchaseReceiptLine,
        Requisition,
        RequisitionLine,
        RequisitionStatus,
        Stock,
        StockCount,
        StockCountLine,
        StockEntry,
        StockEntryLine,
        Supplier,
    )
    from plugins.repair import services

    ids = make_stock_data(app)
    dr, tn, fu, house, reserve = (ids[k] for k in ("DR-2206", "TN-2206", "FU-2206", "SH-P",
                                                    "SH-R"))
    branch = ids["branch"]
    with app.context(user="zhengli", clock=lambda: NOW) as ctx:
        job = services.register(ctx, channel="phone", equipment="E335M820091",
                                fault_description="复印件发黑，需更换硒鼓")
        job_id, job_number = job.id, job.number
    with app.context(clock=lambda: NOW) as ctx:
        post = ledger.post
        supplier = ctx.session.get(Supplier, ids["SUP1"])
        supplier.contact_name, supplier.phone = "刘经理", "021-6888 1234"
        supplier.address = "上海市闸北区共和新路 1888 号"
        engineer = ctx.session.scalar(select(Employee).where(Employee.code == "E001"))

        entry = _submitted(ctx, StockEntry(
            branch_id=branch, purpose=Movement.RECEIPT, to_warehouse_id=house, lines=[
                StockEntryLine(part_id=dr, qty=10, unit_cost=D("380.00")),
                StockEntryLine(part_id=tn, qty=20, unit_cost=D("95.00"))]))
        post(ctx, Voucher.of(entry), [Move(line.part_id, house, line.qty, Movement.RECEIPT,
                                           line.unit_cost, line_id=line.id)
                                      for line in entry.lines])

        slip = _submitted(ctx, Requisition(
            branch_id=branch, engineer_id=engineer.id, warehouse_id=house,
            purpose="更换硒鼓和墨粉", job=RecordLink("repair_work_order", job_id),
            status=RequisitionStatus.ISSUED, decided_at=NOW,
            decided_by_id=get_user(ctx.session, "wufang").id,
            lines=[RequisitionLine(part_id=dr, qty=2), RequisitionLine(part_id=tn, qty=3)]))
        dr_line, tn_line = slip.lines
        voucher = Voucher.of(slip)
        post(ctx, voucher, [Move(tn, house, -1, Movement.ISSUE, line_id=tn_line.id)])
        ledger.reverse(ctx, voucher, lines={tn_line.id})  # the line was changed: put back
        post(ctx, voucher, [Move(dr, house, -2, Movement.ISSUE, line_id=dr_line.id),
                            Move(tn, house, -3, Movement.ISSUE, line_id=tn_line.id)])
        post(ctx, voucher, [Move(tn, house, 1, Movement.RETURN, line_id=tn_line.id)])

        order = _submitted(ctx, PurchaseOrder(
            branch_id=branch, supplier_id=ids["SUP1"], warehouse_id=house,
            expected_on=dt.date(2026, 6, 20), note="请附质保书", lines=[
                PurchaseOrderLine(part_id=dr, qty=5, unit_price=D("400.00")),
                PurchaseOrderLine(part_id=tn, qty=10, unit_price=D("95.50"))]))
        cancelled = _submitted(ctx, PurchaseOrder(
            branch_id=branch, supplier_id=ids["SUP1"], warehouse_id=house, lines=[
                PurchaseOrderLine(part_id=fu, qty=1, unit_price=D("620.00"))]),
            "cancelled", "供应商停产")
        dr_ordered, tn_ordered = order.lines
        receipt = _submitted(ctx, PurchaseReceipt(
            branch_id=branch, order_id=order.id, supplier_id=ids["SUP1"], warehouse_id=house,
            received_at=NOW, inspector_id=engineer.id, delivery_note="DN-88012", lines=[
                PurchaseReceiptLine(order_line_id=dr_ordered.id, part_id=dr, accepted_qty=4,
                                    rejected_qty=1, reject_reason="外壳破损",
                                    unit_price=D("400.00")),
                PurchaseReceiptLine(order_line_id=tn_ordered.id, part_id=tn,
                                    accepted_qty=10, unit_price=D("95.50"))]))
        post(ctx, Voucher.of(receipt), [
            Move(line.part_id, house, line.accepted_qty, Movement.RECEIPT, line.unit_price,
                 line_id=line.id) for line in receipt.lines])

        transfer = _submitted(ctx, StockEntry(
            branch_id=branch, purpose=Movement.TRANSFER, from_warehouse_id=house,
            to_warehouse_id=reserve, reason="补足应急储备",
            lines=[StockEntryLine(part_id=dr, qty=2)]))
        line = transfer.lines[0]
        out = post(ctx, Voucher.of(transfer), [Move(dr, house, -2, Movement.TRANSFER,
                                                    line_id=line.id)])
        post(ctx, Voucher.of(transfer), [Move(dr, reserve, 2, Movement.TRANSFER,
                                              value=-out[0].value_change, line_id=line.id)])
        draft_transfer = _submitted(ctx, StockEntry(
            branch_id=branch, purpose=Movement.TRANSFER, from_warehouse_id=house,
            to_warehouse_id=reserve, lines=[StockEntryLine(part_id=tn, qty=2)]), "draft")

        stocks = {s.part_id: s for s in ctx.session.scalars(
            select(Stock).where(Stock.warehouse_id == house))}
        stocks[dr].location, stocks[tn].location = "A-01-02", "B-03-01"
        count = _submitted(ctx, StockCount(
            branch_id=branch, warehouse_id=house, frozen_at=NOW, lines=[
                StockCountLine(part_id=p, location=stocks[p].location, book_qty=stocks[p].qty,
                               book_value=stocks[p].value,
                               counted_qty=9 if p == dr else None,
                               reason="破损报废未登记" if p == dr else None)
                for p in (tn, dr)]), "draft")
        assert (stocks[dr].qty, stocks[dr].value) == (10, D("3866.67"))
        return {**ids, "job": job_number, "slip": slip.id, "order": order.id,
                "cancelled": cancelled.id, "receipt": receipt.id, "entry": entry.id,
                "transfer": transfer.id, "draft_transfer": draft_transfer.id,
                "count": count.id, "numbers": {
                    "slip": slip.number, "order": order.number, "receipt": receipt.number,
                    "transfer": transfer.number, "count": count.number}}


def _row(text: str, code: str) -> list[str]:
    """The words of the (layout) line of the part ``code``."""
    return next(line.split() for line in text.splitlines() if code in line)



@pytest.fixture
def printed(make_site, app_of, monkeypatch):
    """The API of a repair + inventory site (the kernel's demo master data, no demo stock
    or orders) with the papers' documents written."""
    import plugins.inventory.demo
    import plugins.repair.demo

    monkeypatch.setattr(plugins.repair.demo, "load_demo", no_demo)
    monkeypatch.setattr(plugins.inventory.demo, "load_demo", no_demo)
    app = app_of(make_site(["repair", "inventory"], demo=True, branch_code="SH",
                           branch_name="上海服务中心"))
    ids = _build(app)
    web = create_app(app.site)
    with app.context() as ctx:
        headers = bearer_headers(ctx, "wufang")["wufang"]
    with TestClient(web, raise_server_exceptions=False) as client:

        def pdf(table: str, record_id: int, document: str, lang: str) -> bytes:
            answer = client.get(f"/api/v1/{table}/{record_id}/print/inventory.{document}",
                                params={"lang": lang}, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/pdf"
            return answer.content

        client.pdf, client.ids, client.headers, client.fixdesk = pdf, ids, headers, app
        yield client


def test_every_paper_in_chinese_and_english(printed):
    pdf, ids, numbers = printed.pdf, printed.ids, printed.ids["numbers"]

    # 领用单: requested, issued (the reversed issue nets out), returned; the job's label
    slip = pdf("inventory_requisition", ids["slip"], "requisition_slip", "zh_CN")
    text, layout = pdftotext(slip), pdftotext(slip, layout=True)
    for expected in ("华东办公设备服务有限公司", "领用单", numbers["slip"], "王建国", "上海配件库",
                     ids["job"], "更换硒鼓和墨粉", "吴芳", "硒鼓", "墨粉", "领用人", "审批人",
                     "发料人", "序号"):
        assert expected in text, expected
    assert _row(layout, "DR-2206")[-2:] == ["2", "2"]  # nothing returned
    assert _row(layout, "TN-2206")[-3:] == ["3", "3", "1"]
    fonts = pdffonts(slip)
    assert "Fixdesk-Print-Sans" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    english = pdftotext(pdf("inventory_requisition", ids["slip"], "requisition_slip", "en"))
    for expected in ("Requisition slip", "Recipient", "requested", "returned", "Issued by",
                     "Progress：issued", ids["job"], "Jun 15, 2026"):
        assert expected in english, expected

    # 采购订单: supplier, prices, the total in figures and capitals, terms
    order = pdf("inventory_purchase_order", ids["order"], "purchase_order", "zh_CN")
    text = pdftotext(order)
    for expected in ("采购订单", numbers["order"], "佳能耗材上海总代", "刘经理", "021-6888 1234",
                     "共和新路 1888 号", "¥400.00", "¥2,000.00", "¥955.00", "¥2,955.00",
                     "人民币贰仟玖佰伍拾伍元整", "2026年6月20日", "请附质保书", "盖章处"):
        assert expected in text, expected
    assert "草稿" not in text and "已作废" not in text
    assert "Fixdesk-Print-Sans" in pdffonts(order)
    english = pdftotext(pdf("inventory_purchase_order", ids["order"], "purchase_order", "en"))
    for expected in ("Purchase order", "Deliver by", "Jun 20, 2026", "2,955.00",
                     "贰仟玖佰伍拾伍元整", "Terms"):
        assert expected in english, expected
    void = pdftotext(pdf("inventory_purchase_order", ids["cancelled"], "purchase_order",
                         "zh_CN"))
    assert "已作废" in void and "供应商停产" in void and "人民币陆佰贰拾元整" in void
    assert "CANCELLED" in pdftotext(pdf("inventory_purchase_order", ids["cancelled"],
                                        "purchase_order", "en"))

    # 入库验收单: ordered / received / accepted / rejected with the reason, accepted amount
    receipt = pdf("inventory_purchase_receipt", ids["receipt"], "receipt_note", "zh_CN")
    text, layout = pdftotext(receipt), pdftotext(receipt, layout=True)
    for expected in ("入库验收单", numbers["receipt"], numbers["order"], "DN-88012",
                     "佳能耗材上海总代", "外壳破损", "¥2,555.00", "人民币贰仟伍佰伍拾伍元整",
                     "验收人", "仓管员"):
        assert expected in text, expected
    assert _row(layout, "DR-2206")[-7:-2] == ["5", "5", "4", "1", "外壳破损"]
    assert _row(layout, "TN-2206")[-3:] == ["10", "¥95.50", "¥955.00"]
    english = pdftotext(pdf("inventory_purchase_receipt", ids["receipt"], "receipt_note",
                            "en"))
    assert "Receipt and inspection note" in english and "Reason rejected" in english

    # 调拨单: the cost the ledger took out of the sending warehouse; a draft's estimate
    transfer = pdf("inventory_stock_entry", ids["transfer"], "transfer_note", "zh_CN")
    text = pdftotext(transfer)
    for expected in ("调拨单", numbers["transfer"], "上海配件库", "上海应急储备库", "补足应急储备",
                     "¥386.67", "¥773.33"):
        assert expected in text, expected
    assert "Transfer note" in pdftotext(pdf("inventory_stock_entry", ids["transfer"],
                                            "transfer_note", "en"))
    draft = pdftotext(pdf("inventory_stock_entry", ids["draft_transfer"], "transfer_note",
                          "zh_CN"))
    # TN in SH-P: 28 units worth ¥2,665.00 → ¥95.18 a unit
    assert "草稿" in draft and "¥95.18" in draft and "¥190.36" in draft
    refused = printed.get(f"/api/v1/inventory_stock_entry/{ids['entry']}/print/"
                          "inventory.transfer_note", headers=printed.headers)
    assert refused.status_code == 409
    assert "transfer" in refused.json()["error"]["message"]

    # 盘点表: bins in order, the difference and its value, the uncounted line left blank
    count = pdf("inventory_stock_count", ids["count"], "count_sheet", "zh_CN")
    text, layout = pdftotext(count), pdftotext(count, layout=True)
    for expected in ("盘点表", numbers["count"], "上海配件库", "A-01-02", "B-03-01", "草稿",
                     "破损报废未登记", "盘点人", "监盘人"):
        assert expected in text, expected
    assert text.index("A-01-02") < text.index("B-03-01")
    assert _row(layout, "DR-2206")[-5:] == ["10", "9", "-1", "-¥386.67", "破损报废未登记"]
    assert _row(layout, "TN-2206")[-1] == "28"  # nothing after the book quantity
    english = pdftotext(pdf("inventory_stock_count", ids["count"], "count_sheet", "en"))
    assert "Count sheet" in english and "Supervised by" in english
    assert "DRAFT" in english and "not counted yet: 1" in english

    # 配件标签: two 60 × 40 mm labels in one batch, the barcode's data under it
    labels = printed.post("/api/v1/print/inventory.part_labels", headers=printed.headers,
                          json={"ids": [ids["DR-2206"], ids["TN-2206"]], "lang": "zh_CN"})
    assert labels.status_code == 200, labels.text
    pages = words(labels.content)
    assert [(round(w / MM), round(h / MM)) for w, h, _ in pages] == [(60, 40), (60, 40)]
    first, second = (" ".join(word for word, _x in page[2]) for page in pages)
    for expected in ("DR-2206", "硒鼓", "iR 2206", "6901234567892", "支", "SH-P A-01-02"):
        assert expected in first, expected
    assert "TN-2206" in second and "墨粉" in second and "瓶" in second
    assert re.search(r"TN-2206.*TN-2206", second)  # no barcode of its own: its code
    assert "Fixdesk-Print-Sans" in pdffonts(labels.content)

    # each paper is gathered and laid out in a few queries, not one a line: the two-line
    # order costs what the one-line order does
    counts = {(name, key): _queries(printed.fixdesk, f"inventory.{name}", ids[key])
              for name, key in (("requisition_slip", "slip"), ("purchase_order", "order"),
                                ("purchase_order", "cancelled"), ("receipt_note", "receipt"),
                                ("transfer_note", "transfer"),
                                ("transfer_note", "draft_transfer"), ("count_sheet", "count"),
                                ("part_labels", "DR-2206"))}
    assert counts[("purchase_order", "order")] == counts[("purchase_order", "cancelled")]
    assert max(counts.values()) <= 8, counts


def _queries(app, name: str, record_id: int) -> int:
    """The SQL statements gathering and rendering paper ``name`` of a record takes."""
    from sqlalchemy import event

    from kernel.documents.service import prepare

    document = app.documents[name]
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.context(user="wufang") as ctx:
        record = ctx.session.get(app.entity_class(document.entity), record_id)
        event.listen(app.engine, "before_cursor_execute", count)
        try:
            prepare(ctx, document, record, "zh_CN", 1)
        finally:
            event.remove(app.engine, "before_cursor_execute", count)
    return len(seen)
