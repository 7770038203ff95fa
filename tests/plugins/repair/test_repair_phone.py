"""The engineer's phone page through HTTP (the ASGI app, SQLite and PostgreSQL): his jobs
today in appointment order, the steps of a visit through the work order's actions, only
his own jobs, hours booked to him, and the customer's signature stored as an attachment
and printed on the service voucher."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile

import pytest
from sqlalchemy import select

from kernel.models import Employee
from plugins.repair import services
from plugins.repair.models import LabourEntry, StatusChange, WorkOrder, WorkOrderLine

PAGE = "/desk/repair/phone"


def _today_at(app, hour: int, minute: int, days: int = 0) -> str:
    """An ISO time today (or ``days`` later) in the site's zone."""
    zone = app.site.config.tz
    day = dt.datetime.now(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).isoformat()


def _scalar(web, query):
    with web.state.fixdesk.sessions() as session:
        return session.scalar(query)


@pytest.fixture
def day_of_jobs(web):
    """Today's jobs: for E001 (wanggong) A at 00:09, B at 00:05, C without an appointment,
    D tomorrow; E for E002 today; F not dispatched; G of the JD branch for E006."""
    app = web.state.fixdesk
    if dt.datetime.now(app.site.config.tz).time() < dt.time(0, 12):
        pytest.skip("the jobs of the day are booked shortly after midnight")
    reported = _today_at(app, 0, 0)
    numbers = {}
    with app.context(user="zhengli") as ctx:
        for key, serial in (("A", "E335M820091"), ("B", "QXY20614"), ("C", "E335M820091"),
                            ("D", "QXY20614"), ("E", "E335M820091"),
                            ("F", "QXY20614")):
            numbers[key] = services.register(
                ctx, channel="phone", equipment=serial, reported_at=reported,
                fault_description=f"卡纸 {key}", category="C",
                category_reason="保修期内").number
    with app.context(user="huangtao") as ctx:
        numbers["G"] = services.register(ctx, channel="phone", equipment="LV93X10235",
                                         reported_at=reported, fault_description="卡纸 G",
                                         category="C", category_reason="保修期内").number
        services.dispatch(ctx, numbers["G"], engineer="E006",
                          appointment_at=_today_at(app, 0, 7))
    with app.context(user="wufang") as ctx:
        services.dispatch(ctx, numbers["A"], engineer="E001",
                          appointment_at=_today_at(app, 0, 9))
        services.dispatch(ctx, numbers["B"], engineer="E001",
                          appointment_at=_today_at(app, 0, 5))
        services.dispatch(ctx, numbers["C"], engineer="E001")
        services.dispatch(ctx, numbers["D"], engineer="E001",
                          appointment_at=_today_at(app, 10, 0, days=1))
        services.dispatch(ctx, numbers["E"], engineer="E002",
                          appointment_at=_today_at(app, 0, 6))
    return numbers


def _order(web, number: str) -> WorkOrder:
    with web.state.fixdesk.sessions() as session:
        order = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        session.expunge_all()
        return order


def _id(web, number: str) -> int:
    return _order(web, number).id


def test_the_engineer_sees_his_jobs_today_in_appointment_order(web, login, day_of_jobs):
    n = day_of_jobs
    engineer = login("wanggong")
    page = engineer.get(PAGE)
    assert page.status_code == 200, page.text
    shown = re.findall(r'data-order="([^"]+)"', page.text)
    assert shown == [n["B"], n["A"], n["C"]]  # booked times first, then without one
    assert "00:05" in page.text and "00:09" in page.text
    assert 'href="tel:02168881234"' in page.text  # 申达物流's phone, digits only
    assert 'href="geo:0,0?q=%E4%B8%8A%E6%B5%B7' in page.text  # the address for the map app
    assert f'href="{PAGE}/{_id(web, n["A"])}"' in page.text
    assert 'name="viewport"' in page.text and "repair-phone.css" in page.text
    # no picker of engineers for an engineer; another engineer's day is not his to see
    assert 'id="phone-engineer"' not in page.text
    other = engineer.get(PAGE, params={"engineer": "E002"})
    assert re.findall(r'data-order="([^"]+)"', other.text) == shown

    # a supervisor picks the engineer whose day he looks at
    boss = login("wufang")
    e002 = boss.get(PAGE, params={"engineer": "E002"})
    assert e002.status_code == 200 and 'id="phone-engineer"' in e002.text
    assert re.findall(r'data-order="([^"]+)"', e002.text) == [n["E"]]
    assert boss.get(PAGE, params={"engineer": "E006"}).status_code == 422  # JD: not his


def test_an_account_without_an_employee_gets_told(web, login):
    page = login("admin").get(PAGE)  # no employee: told so, and may pick an engineer
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert 'id="phone-engineer"' in page.text and "data-order" not in page.text
    front = login("zhengli").get(PAGE)  # the front desk has no jobs of her own
    assert front.status_code == 200 and 'role="status"' in front.text


def _post(client, url: str, **data):
    return client.post(url, data={"csrf": client.csrf, **data})


def test_a_visit_through_the_phone_page(web, login, day_of_jobs):
    n = day_of_jobs
    order_id = _id(web, n["A"])
    url = f"{PAGE}/{order_id}"
    engineer = login("wanggong")
    page = engineer.get(url)
    assert page.status_code == 200
    assert f'action="{url}/step/arrive"' in page.text
    assert f'action="{url}/step/complete"' not in page.text  # not before the repair starts

    # the arrival, through the work order's action (history, appointment kept)
    assert _post(engineer, f"{url}/step/arrive").status_code == 303
    assert _order(web, n["A"]).arrived_at is not None
    twice = _post(engineer, f"{url}/step/arrive")
    assert twice.status_code == 409 and 'role="alert"' in twice.text  # once, and it says so

    # a missing diagnosis: the error under its input, in Chinese, nothing written
    empty = _post(engineer, f"{url}/step/diagnose", diagnosis=" ", fault_code="SC542")
    assert empty.status_code == 422
    assert re.search(r'id="p-diagnose-diagnosis-error">[^<]*必填', empty.text), empty.text
    assert 'value="SC542"' in empty.text  # what was typed stays
    assert _order(web, n["A"]).diagnosis is None
    assert _post(engineer, f"{url}/step/diagnose", diagnosis="定影热敏电阻损坏",
                 fault_code="SC542").status_code == 303
    assert _post(engineer, f"{url}/step/start").status_code == 303

    # parts: a wrong quantity is refused under the input; then one part used
    bad = _post(engineer, f"{url}/step/add_part", description="定影热敏电阻", quantity="0")
    assert bad.status_code == 422 and 'id="p-add_part-quantity-error"' in bad.text
    assert _post(engineer, f"{url}/step/add_part", description="定影热敏电阻",
                 quantity="2", unit_cost="85.00").status_code == 303
    page = engineer.get(url)
    assert "定影热敏电阻 × 2" in page.text
    line_id = _scalar(web, select(WorkOrderLine.id).where(WorkOrderLine.order_id == order_id))
    assert re.search(rf'<option value="{line_id}">定影热敏电阻 × 2</option>', page.text)

    # hours are booked to him, whatever the form names
    assert _post(engineer, f"{url}/step/add_labour", hours="1.5",
                 engineer="E002").status_code == 303
    with web.state.fixdesk.sessions() as session:
        entry = session.scalar(select(LabourEntry).where(LabourEntry.order_id == order_id))
        assert entry.minutes == 90
        assert session.get(Employee, entry.employee_id).code == "E001"

    # the repair report completes the job
    missing = _post(engineer, f"{url}/step/complete", fault="卡纸", method="更换热敏电阻")
    assert missing.status_code == 422 and 'id="p-complete-cause-error"' in missing.text
    assert _order(web, n["A"]).status == "in_repair"
    done = _post(engineer, f"{url}/step/complete", fault="卡纸", cause="热敏电阻老化",
                 method="更换热敏电阻")
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=complete"
    order = _order(web, n["A"])
    assert (order.status, order.report_cause) == ("completed", "热敏电阻老化")
    with web.state.fixdesk.sessions() as session:
        events = session.scalars(select(StatusChange.event).where(
            StatusChange.order_id == order_id).order_by(StatusChange.id)).all()
    assert events[-4:] == ["arrive", "diagnose", "start", "complete"]
    # still on his list today, marked done
    listing = engineer.get(PAGE)
    assert re.search(rf'class="phone-job is-done[^"]*" data-order="{n["A"]}"', listing.text)


def test_another_engineers_job_is_refused(web, login, day_of_jobs):
    n = day_of_jobs
    engineer = login("wanggong")
    theirs = _id(web, n["E"])
    assert engineer.get(f"{PAGE}/{theirs}").status_code == 403
    assert _post(engineer, f"{PAGE}/{theirs}/step/arrive").status_code == 403
    assert _order(web, n["E"]).arrived_at is None
    # the same through the desk's generic action and the API: the service refuses
    desk = _post(engineer, f"/desk/repair_work_order/{theirs}/action/arrive")
    assert desk.status_code == 403 and _order(web, n["E"]).arrived_at is None
    # another branch's job does not exist for him
    assert engineer.get(f"{PAGE}/{_id(web, n['G'])}").status_code == 404
    assert engineer.get(f"{PAGE}/999999").status_code == 404
    # a supervisor may act on any job of his branch; hours he logs are his own
    boss = login("wufang")
    assert boss.get(f"{PAGE}/{theirs}").status_code == 200
    assert _post(boss, f"{PAGE}/{theirs}/step/arrive").status_code == 303
    assert _order(web, n["E"]).arrived_at is not None
    assert _post(boss, f"{PAGE}/{theirs}/step/start").status_code == 303
    assert _post(boss, f"{PAGE}/{theirs}/step/add_labour", hours="1").status_code == 303
    assert _scalar(web, select(Employee.code).join(
        LabourEntry, LabourEntry.employee_id == Employee.id).where(
        LabourEntry.order_id == theirs)) == "S001"
    # an account without an employee books no hours from the phone (admin)
    admin = login("admin")
    unlinked = _post(admin, f"{PAGE}/{theirs}/step/add_labour", hours="1")
    assert unlinked.status_code == 422 and 'id="p-add_labour-hours-error"' in unlinked.text


def test_steps_need_the_session_token(web, login, day_of_jobs):
    engineer = login("wanggong")
    url = f"{PAGE}/{_id(web, day_of_jobs['A'])}/step/arrive"
    assert engineer.post(url, data={"csrf": "forged"}).status_code == 403
    assert engineer.post(f"{PAGE}/{_id(web, day_of_jobs['A'])}/step/dispatch",
                         data={"csrf": engineer.csrf}).status_code == 404
    assert _order(web, day_of_jobs["A"]).arrived_at is None


def _drawing(width: int = 300, height: int = 150, ink: bool = True) -> str:
    """A signature as the phone sends it: a PNG ``data:`` URL, strokes on transparency."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if ink:
        pen = ImageDraw.Draw(image)
        pen.line([(20, 100), (80, 40), (140, 110), (200, 50), (270, 90)], fill="#111",
                 width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _attachments(web, order_id: int) -> list:
    from kernel.attachments import Attachment

    with web.state.fixdesk.sessions() as session:
        rows = session.scalars(select(Attachment).where(
            Attachment.entity == "repair_work_order", Attachment.record_id == order_id)).all()
        session.expunge_all()
        return rows


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler-utils")
def test_the_customer_signs_on_the_phone_and_the_voucher_prints_it(web, login, day_of_jobs):
    from pdf_tools import pdftotext

    order_id = _id(web, day_of_jobs["B"])
    url = f"{PAGE}/{order_id}"
    engineer = login("wanggong")
    page = engineer.get(url)
    assert 'data-signature' in page.text and "repair-signature.js" in page.text
    assert '<canvas class="signature-pad"' in page.text

    # what is not a drawn PNG is refused under the box, nothing stored
    for bad in ("", "data:image/png;base64,aGVsbG8=", "data:image/gif;base64,R0lGODlh",
                "data:image/png;base64,%%%", _drawing(ink=False), _drawing(10, 10)):
        refused = _post(engineer, f"{url}/signature", signature=bad)
        assert refused.status_code == 422, bad[:40]
        assert 'id="signature-error"' in refused.text
    assert _attachments(web, order_id) == []
    # someone else's job: refused
    other = _id(web, day_of_jobs["E"])
    assert _post(engineer, f"{PAGE}/{other}/signature",
                 signature=_drawing()).status_code == 403
    assert _attachments(web, other) == []

    for step in ("arrive", "start"):
        assert _post(engineer, f"{url}/step/{step}").status_code == 303
    assert _post(engineer, f"{url}/step/complete", cause="纸屑", method="清洁纸路"
                 ).status_code == 303
    signed = _post(engineer, f"{url}/signature", signature=_drawing())
    assert signed.status_code == 303 and signed.headers["location"] == f"{url}?done=signature"
    (attachment,) = _attachments(web, order_id)
    assert (attachment.kind, attachment.content_type, attachment.uploaded_by) == \
        ("signature", "image/png", "wanggong")
    page = engineer.get(signed.headers["location"])
    assert '<img src="data:image/png;base64,' in page.text and 'role="status"' in page.text
    with web.state.fixdesk.sessions() as session:
        assert "signature" in session.scalars(select(StatusChange.event).where(
            StatusChange.order_id == order_id)).all()

    # the service voucher prints it in the customer's box, with the date
    front = login("zhengli")
    pdf = front.get(f"/desk/repair_work_order/{order_id}/print/repair.service_voucher",
                    params={"download": "1"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    images = _pdfimages(pdf.content)
    assert (300, 150) in images, images  # the drawing, beside the survey QR code
    text = pdftotext(pdf.content)
    signed_on = attachment.uploaded_at.astimezone(web.state.fixdesk.site.config.tz)
    assert f"日期: {signed_on:%Y-%m-%d %H:%M}" in text or \
        f"日期：{signed_on:%Y-%m-%d %H:%M}" in text, text


def _pdfimages(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of each image in a PDF (``pdfimages -list``)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:  # pdfimages reads files only
        fh.write(data)
        fh.flush()
        listing = subprocess.run(["pdfimages", "-list", fh.name], check=True,
                                 capture_output=True, text=True).stdout
    sizes = []
    for row in listing.splitlines()[2:]:
        cells = row.split()
        if len(cells) > 4 and cells[2] == "image":
            sizes.append((int(cells[3]), int(cells[4])))
    return sizes
