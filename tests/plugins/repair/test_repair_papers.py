"""The repair plugin's printed papers, on orders walked through SCENARIOS.md 1 and 2.

PDFs are read back with poppler's ``pdftotext`` and ``pdffonts``. The plugin's
Chinese translations are merged into the catalogue separately, so Chinese prints
are checked on data (names, numbers, capital numerals, which do not depend on the
catalogue) and titles on English prints.
"""

from __future__ import annotations

import re
from decimal import Decimal

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


#: a priced line of the voucher: quantity (hours), unit price, amount
PRICED = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(?:h|小时))?\s+(?:CN)?¥([\d,]+\.\d\d)"
                    r"\s+(?:CN)?¥([\d,]+\.\d\d)\s*$")
TOTAL = re.compile(r"(?:Total|合计).*?¥([\d,]+\.\d\d)\s*$")


def charged(pdf: bytes) -> list[tuple[str, str, str]]:
    """The voucher's priced lines as (quantity, unit price, amount)."""
    return [(m[1], m[2].replace(",", ""), m[3].replace(",", ""))
            for line in pdftotext(pdf, layout=True).splitlines()
            if (m := PRICED.search(line))]


def total_of(pdf: bytes) -> str | None:
    """The voucher's printed total."""
    found = [m[1].replace(",", "") for line in pdftotext(pdf, layout=True).splitlines()
             if (m := TOTAL.search(line))]
    return found[-1] if found else None


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
    # a contract job: every line at ¥0.00, nothing to pay (R3)
    assert charged(voucher) == [("1", "0.00", "0.00"), ("1.25", "0.00", "0.00")]
    assert total_of(voucher) == "0.00" and "人民币零元整" in text
    fonts = pdffonts(voucher)
    assert "Fixdesk-Print-Sans" in fonts
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
        assert "Fixdesk-Print-Sans" in pdffonts(card)
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
        assert "Fixdesk-Print-Sans" in pdffonts(voucher)
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
        assert documents.gather_order(ctx, internal)["qr_data"] is None  # no survey
    # not repaired yet: no survey QR code on the paper; the link is made all the same
    assert data["qr_data"] is None
    assert data["survey_url"].startswith(f"http://127.0.0.1:8000/survey/{order.id}-20261231.")
    token = data["survey_url"].rsplit("/", 1)[1]
    with as_user(None, "2026-12-01 10:05") as ctx:
        with pytest.raises(callbacks.SurveyClosed):  # not repaired yet
            callbacks.order_for_token(ctx, token)
        with pytest.raises(NotFound):
            callbacks.order_for_token(ctx, token.replace(f"{order.id}-", f"{internal.id}-"))


def test_a_batch_reads_each_part_of_its_orders_once_for_all_of_them(repair_app, as_user):
    """A batch of vouchers loads the orders' customers, machines, engineers, lines, hours
    and carry-in log with one query each for the whole batch (``Document.preload``), and
    the company and each branch once: each more paper reads only its own print log and
    the customer's signature."""
    from query_count import counting

    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        ids = [services.register(ctx, channel="walk_in", equipment=serial,
                                 fault_description="卡纸").id
               for serial in ("QXY20614", "E335M820091") * 4]
    counts = []
    for size in (2, 8):
        with repair_app.context() as ctx, counting(repair_app.engine) as statements:
            print_records(ctx, "repair.service_voucher", ids[:size], workers=1)
        counts.append(len(statements))
    assert counts[1] - counts[0] <= 2 * 6, (counts, statements)


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


# ---------------------------------------------------------------------------
# papers the customer holds (issue 11)
# ---------------------------------------------------------------------------


def _print_log(app, number_id: int, name: str) -> list[int]:
    from kernel.documents.registry import PrintLog

    with app.sessions() as session:
        return list(session.scalars(select(PrintLog.copy_number).where(
            PrintLog.document == name, PrintLog.record_id == str(number_id))
            .order_by(PrintLog.id)))


def test_the_voucher_lines_add_up_to_what_the_customer_pays(repair_app, as_user):
    """A paid job (R11, R27): the parts and hours used carry no price (their cost is not
    the customer's business); the quote's parts and labour are priced lines, each
    quantity × unit price = amount, and the amounts add up to the printed total."""
    repair_app.pm.register(Billing(), name="billing_stand_in")
    try:
        with as_user("zhengli", "2026-12-01 10:00") as ctx:
            number = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                       fault_description="复印件有黑线，卡纸").number
            services.receive_unit(ctx, number, condition="附电源线")
        with as_user("wufang", "2026-12-01 10:30") as ctx:
            services.dispatch(ctx, number, engineer="E002")
        with as_user("liming", "2026-12-01 11:00") as ctx:
            services.diagnose(ctx, number, "硒鼓磨损，搓纸轮老化", fault_code="drum")
            services.add_part(ctx, number, "硒鼓 NPG-28", 1, "380.00")
            services.add_part(ctx, number, "搓纸轮", 2, "48.00")
            services.quote(ctx, number)  # parts (380 + 2 × 48) × 1.15 = 547.40, labour 120
        with as_user("zhengli", "2026-12-01 14:00") as ctx:
            services.accept_quote(ctx, number)
        with as_user("liming", "2026-12-02 10:00") as ctx:
            services.start(ctx, number)
            services.complete(ctx, number, method="更换硒鼓和搓纸轮", cause="寿命到期", hours=2)
    finally:
        repair_app.pm.unregister(name="billing_stand_in")
    order_id = _order_id(repair_app, number)
    with repair_app.sessions() as session:
        quoted = session.get(WorkOrder, order_id).quote_total
    assert quoted == Decimal("667.40")

    for lang in ("en", "zh_CN"):
        voucher = _print(repair_app, "repair.service_voucher", order_id, lang)
        lines = charged(voucher)
        assert lines == [("1", "547.40", "547.40"), ("1", "120.00", "120.00")], lang
        for quantity, price, amount in lines:
            assert Decimal(quantity) * Decimal(price) == Decimal(amount)
        assert Decimal(total_of(voucher)) == sum(Decimal(a) for _q, _p, a in lines) == quoted
        text = pdftotext(voucher, layout=True)
        assert "硒鼓 NPG-28" in text and "搓纸轮" in text  # what was used, without a price
        assert "380.00" not in text and "48.00" not in text  # internal costs stay inside
    assert "陆佰陆拾柒元肆角" in pdftotext(voucher)


def test_warranty_and_contract_jobs_cost_the_customer_nothing(repair_app, as_user):
    """Category C (in warranty): the part and the hours at ¥0.00 each, total ¥0.00."""
    with as_user("hejuan", "2026-12-01 09:00") as ctx:
        order = services.register(ctx, channel="phone", equipment="XQH30112",
                                  fault_description="卡纸")
        number, category = order.number, order.category.value
    assert category == "C"
    with as_user("huangtao", "2026-12-01 09:10") as ctx:
        services.dispatch(ctx, number, engineer="E006")
    with as_user("zhaolei", "2026-12-01 11:00") as ctx:
        services.record_arrival(ctx, number)
        services.diagnose(ctx, number, "搓纸轮磨损")
        services.start(ctx, number)
        services.add_part(ctx, number, "搓纸轮", 2, "48.00")
        services.complete(ctx, number, method="更换搓纸轮", cause="磨损", hours="1.5")
    voucher = _print(repair_app, "repair.service_voucher", _order_id(repair_app, number), "en")
    assert charged(voucher) == [("2", "0.00", "0.00"), ("1.50", "0.00", "0.00")]
    assert total_of(voucher) == "0.00"
    assert "Covered by the warranty: no charge" in pdftotext(voucher)


def test_a_preview_is_not_a_print(repair_app, as_user):
    """Only a print counts as a copy: previews log nothing and carry no mark, so the first
    paper handed out is the original."""
    from kernel.documents.detached import Requester, print_detached

    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        number = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                   fault_description="卡纸").number
    order_id = _order_id(repair_app, number)
    with repair_app.context(user="zhengli") as ctx:
        preview = print_records(ctx, "repair.product_receipt", [order_id], preview=True)
        requester = Requester.of(ctx)
    again = print_detached(repair_app, requester, "repair.product_receipt", [order_id],
                           preview=True, locale="en")
    for paper in (preview, again):
        assert "COPY" not in pdftotext(paper) and "副本" not in pdftotext(paper)
    assert _print_log(repair_app, order_id, "repair.product_receipt") == []
    first = print_detached(repair_app, requester, "repair.product_receipt", [order_id],
                           locale="en")
    assert "COPY" not in pdftotext(first)  # the original
    second = print_detached(repair_app, requester, "repair.product_receipt", [order_id],
                            locale="en")
    assert "COPY 2" in pdftotext(second)
    assert _print_log(repair_app, order_id, "repair.product_receipt") == [1, 2]


def test_seal_area_and_dates_by_the_signatures(repair_app, as_user):
    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        number = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                   fault_description="卡纸").number
    order_id = _order_id(repair_app, number)
    for name, signatures in (("repair.service_voucher", 2), ("repair.repair_card", 2),
                             ("repair.product_receipt", 1)):
        text = pdftotext(_print(repair_app, name, order_id, "zh_CN"))
        assert "盖章处" in text, name
        assert text.count("日期：") == signatures and "年" in text and "月" in text, name
        english = pdftotext(_print(repair_app, name, order_id, "en"))
        assert "Seal here" in english and english.count("Date:") == signatures, name


def test_no_survey_qr_code_before_the_repair_is_done(repair_app, as_user):
    """An unfinished order's voucher carries its number as a barcode, not the survey's
    QR code (the survey cannot be answered yet); once completed, the QR code is there."""
    with as_user("hejuan", "2026-12-01 09:00") as ctx:
        number = services.register(ctx, channel="phone", equipment="XQH30112",
                                   fault_description="卡纸").number
    order_id = _order_id(repair_app, number)
    for name in ("repair.service_voucher", "repair.survey_card"):
        assert "Scan to rate our service" not in pdftotext(
            _print(repair_app, name, order_id, "en")), name
    with as_user("huangtao", "2026-12-01 09:10") as ctx:
        services.dispatch(ctx, number, engineer="E006")
    with as_user("zhaolei", "2026-12-01 11:00") as ctx:
        services.record_arrival(ctx, number)
        services.diagnose(ctx, number, "搓纸轮磨损")
        services.start(ctx, number)
        assert "Scan to rate our service" not in pdftotext(
            print_records(ctx, "repair.service_voucher", [order_id], locale="en"))
        services.complete(ctx, number, method="更换搓纸轮", cause="磨损", hours=1)
    for name in ("repair.service_voucher", "repair.survey_card"):
        assert "Scan to rate our service" in pdftotext(
            _print(repair_app, name, order_id, "en")), name


def test_the_receipt_is_only_for_carry_in_jobs(repair_app, as_user, fixdesk, tmp_path):
    from kernel import Conflict

    with as_user("zhengli", "2026-11-30 10:20") as ctx:
        on_site = services.register(ctx, channel="phone", equipment="E335M820091",
                                    fault_description="SC542").number
        carry_in = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                     fault_description="卡纸").number
    on_site_id, carry_in_id = _order_id(repair_app, on_site), _order_id(repair_app, carry_in)
    with pytest.raises(Conflict) as refused:
        _print(repair_app, "repair.product_receipt", on_site_id, "en", "zhengli")
    assert on_site in refused.value.message
    assert "only for carry-in jobs" in refused.value.message
    with pytest.raises(Conflict):  # in a batch too, naming the on-site job only
        with repair_app.context(user="zhengli") as ctx:
            print_records(ctx, "repair.product_receipt", [carry_in_id, on_site_id])
    assert _print_log(repair_app, on_site_id, "repair.product_receipt") == []
    assert _print_log(repair_app, carry_in_id, "repair.product_receipt") == []
    assert pdftotext(_print(repair_app, "repair.product_receipt", carry_in_id, "en"))

    cli = fixdesk("--site", repair_app.site.path, "print", "repair.product_receipt",
                  str(on_site_id), "-o", tmp_path / "r.pdf")
    assert cli.code != 0 and on_site in cli.err and not (tmp_path / "r.pdf").exists()


def test_the_desk_and_the_api_offer_the_receipt_only_for_carry_in(web, login):
    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        on_site = services.register(ctx, channel="phone", equipment="E335M820091",
                                    fault_description="SC542").id
        carry_in = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                     fault_description="卡纸").id
    desk = login("zhengli")
    receipt = "/print/repair.product_receipt"
    assert receipt not in desk.get(f"/desk/repair_work_order/{on_site}").text
    assert receipt in desk.get(f"/desk/repair_work_order/{carry_in}").text
    refused = desk.get(f"/api/v1/repair_work_order/{on_site}/print/repair.product_receipt")
    message = refused.json()["error"]["message"]
    assert refused.status_code == 409 and ("carry-in" in message or "送修" in message)
    page = desk.get(f"/desk/repair_work_order/{on_site}{receipt}")
    assert page.status_code == 409 and "送修" in page.text


def test_the_desk_preview_logs_nothing_and_the_first_download_is_the_original(web, login):
    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        order_id = services.register(ctx, channel="walk_in", equipment="QXY20614",
                                     fault_description="卡纸").id
    desk = login("zhengli")
    url = f"/desk/repair_work_order/{order_id}/print/repair.service_voucher"
    form = desk.get(f"/desk/repair_work_order/{order_id}").text
    assert f'href="{url}?preview=1" target="pdf-preview"' in form
    assert f'href="{url}?download=1"' in form
    for _ in range(2):
        preview = desk.get(url, params={"preview": 1})
        assert preview.status_code == 200 and "inline" in preview.headers[
            "content-disposition"]
        assert "副本" not in pdftotext(preview.content)
    assert _print_log(app, order_id, "repair.service_voucher") == []
    download = desk.get(url, params={"download": 1})
    assert "attachment" in download.headers["content-disposition"]
    assert "副本" not in pdftotext(download.content)  # the first handout: the original
    assert "副本 2" in pdftotext(desk.get(url).content)  # printed again: a copy
    assert _print_log(app, order_id, "repair.service_voucher") == [1, 2]


def test_wide_registers_print_landscape_with_every_column_on_the_page(repair_app, as_user):
    """The repair register (21 columns) on A4 landscape: no word beyond the right margin,
    the last column's header and values on the page."""
    from pdf_tools import words

    from kernel.reports.service import render

    with as_user("zhengli", "2026-11-30 10:20") as ctx:
        for serial in ("E335M820091", "QXY20614"):
            services.register(ctx, channel="phone", equipment=serial,
                              fault_description="复印件有黑线、底灰严重，纸张在定影处皱折卡纸")
    with as_user("wufang", "2026-12-01 09:00") as ctx:
        pdf = render(ctx, "repair.register", {"start": "2026-11-01", "end": "2026-11-30"},
                     "pdf", "zh_CN").content
    pages = words(pdf)
    assert pages and all(width > height for width, height, _words in pages)  # landscape
    margin = 10 / 25.4 * 72  # the 10 mm page margin, in points
    for width, _height, found in pages:
        assert max(x_max for _text, x_max in found) <= width - margin + 1
    # the last column (closed at, 结案时间) is on the page, right of the status (状态)
    width, _height, found = pages[0]
    closed_at = next(x for text, x in found if text.startswith("结案"))
    assert next(x for text, x in found if text == "状态") < closed_at <= width - margin + 1
    text = pdftotext(pdf, layout=True)
    assert "待处理" in text and "申达物流" in text and "E335M820091" in text
