"""The repair plugin's printed papers, on orders walked through SCENARIOS.md 1 and 2.

PDFs are read back with poppler's ``pdftotext`` and ``pdffonts``. The plugin's
Chinese translations are merged into the catalogue separately, so Chinese prints
are checked on data (names, numbers, capital numerals, which do not depend on the
catalogue) and titles on English prints.
"""

from __future__ import annotations

import pytest
from pdf_tools import pdffonts, pdftotext
from sqlalchemy import select

from kernel import NotFound, hookimpl
from kernel.documents.service import print_records
from plugins.repair import services
from plugins.repair.documents import DOCUMENTS
from plugins.repair.models import MaintenanceContract, WorkOrder


def _print(app, name: str, record_id: int, locale: str, user: str | None = None) -> bytes:
    with app.context(user=user) as ctx:
        return print_records(ctx, name, [record_id], locale=locale)


def _order_id(app, number: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(WorkOrder.id).where(WorkOrder.number == number))


class Billing:
    """Stands in for billing: drum at cost + 15 %, labour ¥120 (SCENARIOS.md 2)."""

    @hookimpl
    def repair_quote_requested(self, order, lines, proposed):
        from decimal import Decimal

        parts = sum(line.amount for line in lines) * Decimal("1.15")
        return {"labour": Decimal("120.00"), "parts": parts.quantize(Decimal("0.01")),
                "travel": Decimal("0")}


def test_the_papers_are_registered(repair_app):
    assert {d.name: d.paper for d in DOCUMENTS} == {
        "repair.service_voucher": "A5", "repair.repair_card": "A5",
        "repair.product_receipt": "receipt80", "repair.maintenance_record": "A4",
        "repair.contract_expiry_notice": "A4", "repair.survey_card": "A5"}
    assert set(repair_app.documents) >= {d.name for d in DOCUMENTS}


def test_scenario_1_contract_job_papers(repair_app, as_user, tmp_path):
    with as_user("wufang", "2026-04-01 09:30") as ctx:
        contract_id = services.create_contract(
            ctx, number="BY-2026-018", customer="C0001", equipment=["E335M820091"],
            start_date="2026-04-01", end_date="2027-03-31", visits_included=12).id
    with as_user("zhengli", "2026-11-30 10:20") as ctx:
        number = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="复印机显示 SC542，无法打印",
                                   fault_code="SC542").number
    with as_user("wufang", "2026-11-30 10:40") as ctx:
        services.dispatch(ctx, number, engineer="E001",
                          appointment_at="2026-11-30T14:00:00+08:00")
    with as_user("wanggong", "2026-11-30 13:55") as ctx:
        services.record_arrival(ctx, number)
    with as_user("wanggong", "2026-11-30 14:05") as ctx:
        services.diagnose(ctx, number, "定影热敏电阻失效", fault_code="SC542")
        services.start(ctx, number)
        services.add_part(ctx, number, "定影热敏电阻", 1, "45.00")
    with as_user("wanggong", "2026-11-30 15:10") as ctx:
        services.complete(ctx, number, method="更换定影热敏电阻，试印 50 张正常",
                          cause="热敏电阻老化", hours="1.25")
    order_id = _order_id(repair_app, number)

    voucher = _print(repair_app, "repair.service_voucher", order_id, "zh_CN", "wanggong")
    text = pdftotext(voucher)
    for expected in ("申达物流有限公司", number, "BY-2026-018", "E335M820091",
                     "定影热敏电阻失效", "更换定影热敏电阻", "王建国"):
        assert expected in text, expected
    assert "¥" not in text  # a contract job: nothing to pay
    fonts = pdffonts(voucher)
    assert "Noto-Sans-CJK-SC" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded

    english = pdftotext(_print(repair_app, "repair.service_voucher", order_id, "en"))
    assert "Service voucher" in english and "Arrived on time" in english
    assert "Contract service" in english and "BY-2026-018" in english

    record = pdftotext(_print(repair_app, "repair.maintenance_record", order_id, "en"))
    assert "Maintenance record sheet" in record and number in record
    assert "Registered" in record and "Record arrival" in record and "wanggong" in record
    assert "1.25" in record and "定影热敏电阻" in record

    survey = pdftotext(_print(repair_app, "repair.survey_card", order_id, "en"))
    assert "Customer survey card" in survey and "申达物流有限公司" in survey
    for question in ("Service attitude", "Technical skill", "Arrival time",
                     "Keeping promises"):
        assert question in survey

    notice = _print(repair_app, "repair.contract_expiry_notice", contract_id, "zh_CN")
    text = pdftotext(notice)
    assert "申达物流有限公司" in text and "BY-2026-018" in text and "E335M820091" in text
    assert "2027年3月31日" in text
    assert "Contract expiry notice" in pdftotext(
        _print(repair_app, "repair.contract_expiry_notice", contract_id, "en"))


def test_scenario_2_carry_in_papers_and_the_voided_receipt(repair_app, as_user, tmp_path):
    repair_app.pm.register(Billing(), name="billing_stand_in")
    try:
        with as_user("zhengli", "2026-12-01 10:00") as ctx:
            number = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                       fault_description="复印件有黑线，卡纸").number
            services.receive_unit(ctx, number, condition="附电源线，右侧盖板有划痕",
                                  promised_at="2026-12-08T17:00:00+08:00")
        order_id = _order_id(repair_app, number)
        receipt = pdftotext(_print(repair_app, "repair.product_receipt", order_id, "en",
                                   "zhengli"))
        assert "Product receipt" in receipt and "周志华" in receipt and number in receipt
        assert "附电源线，右侧盖板有划痕" in receipt and "2026-12-08 17:00" in receipt
        assert "Present this receipt to collect" in receipt and "VOID" not in receipt

        with as_user("wufang", "2026-12-01 10:30") as ctx:
            services.dispatch(ctx, number, engineer="E002")
        with as_user("liming", "2026-12-01 11:00") as ctx:
            services.diagnose(ctx, number, "硒鼓磨损，需更换", fault_code="drum")
            services.add_part(ctx, number, "硒鼓 NPG-28", 1, "380.00")
            services.quote(ctx, number)
        with as_user("zhengli", "2026-12-01 14:00") as ctx:
            services.accept_quote(ctx, number)
        with as_user("liming", "2026-12-01 14:30") as ctx:
            services.start(ctx, number)
            services.add_labour(ctx, number, "0.5", note="拆机检查")
        card = _print(repair_app, "repair.repair_card", order_id, "zh_CN")
        text = pdftotext(card)
        assert "周志华" in text and number in text and "硒鼓 NPG-28" in text
        assert "Noto-Sans-CJK-SC" in pdffonts(card)
        assert "Repair card" in pdftotext(
            _print(repair_app, "repair.repair_card", order_id, "en"))

        with as_user("liming", "2026-12-04 10:00") as ctx:
            services.complete(ctx, number, method="更换硒鼓，清洁搓纸轮", cause="硒鼓寿命到期",
                              hours=2)
        with as_user("zhengli", "2026-12-05 10:00") as ctx:  # picked up: the order closes
            services.return_unit(ctx, number, counterpart="周志华", note="银行转账")

        voucher = _print(repair_app, "repair.service_voucher", order_id, "zh_CN")
        text = pdftotext(voucher)
        assert "周志华" in text and number in text and "QXY20614" in text
        assert "¥557.00" in text and "伍佰伍拾柒元整" in text
        assert "Noto-Sans-CJK-SC" in pdffonts(voucher)
        english = pdftotext(_print(repair_app, "repair.service_voucher", order_id, "en"))
        assert "Service voucher" in english and "Paid service" in english

        receipt = pdftotext(_print(repair_app, "repair.product_receipt", order_id, "en"))
        assert "VOID" in receipt and "Present this receipt to collect" not in receipt
        assert "COPY 2" in receipt  # the receipt was printed before: this is a copy
    finally:
        repair_app.pm.unregister(name="billing_stand_in")


def test_the_qr_code_encodes_the_signed_survey_link(repair_app, as_user):
    from plugins.repair import callbacks, documents

    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        order = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                  fault_description="卡纸")
        data = documents.gather_survey(ctx, order)
        internal = services.register(ctx, channel="phone", internal=True,
                                     fault_description="工具保养")
        assert documents.gather_order(ctx, internal)["qr_data"] == internal.number
    # the link works until 30 days after printing (2026-12-31), for this order only
    assert data["qr_data"] == data["survey_url"]
    assert data["survey_url"].startswith(f"http://127.0.0.1:8000/survey/{order.id}-20261231.")
    token = data["survey_url"].rsplit("/", 1)[1]
    with as_user(None, "2026-12-01 10:05") as ctx:
        with pytest.raises(callbacks.SurveyClosed):  # not repaired yet
            callbacks.order_for_token(ctx, token)
        with pytest.raises(NotFound):
            callbacks.order_for_token(ctx, token.replace(f"{order.id}-", f"{internal.id}-"))


def test_another_branchs_front_desk_gets_not_found(repair_app, as_user):
    with as_user("wufang", "2026-04-01 09:30") as ctx:
        contract_id = services.create_contract(
            ctx, number="BY-2026-020", customer="C0001", equipment=["E335M820091"],
            start_date="2026-04-01", end_date="2027-03-31").id
    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        number = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                   fault_description="卡纸").number
    order_id = _order_id(repair_app, number)
    for name in ("repair.service_voucher", "repair.product_receipt"):
        with pytest.raises(NotFound):
            _print(repair_app, name, order_id, "zh_CN", "hejuan")  # front desk, JD
    with pytest.raises(NotFound):
        _print(repair_app, "repair.contract_expiry_notice", contract_id, "zh_CN", "hejuan")
    with repair_app.sessions() as session:
        assert session.get(MaintenanceContract, contract_id).number == "BY-2026-020"
