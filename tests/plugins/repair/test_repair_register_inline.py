"""Registration without dead ends (HTTP, SQLite and PostgreSQL): a customer or machine not
on file is created in place from the registration page, through the kernel's record
services, and fills the registration; returning a part picks the order's line from a list."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from kernel.models import Customer, CustomerAddress, CustomerEquipment
from plugins.repair import services
from plugins.repair.models import WorkOrder, WorkOrderLine

PAGE = "/desk/repair_work_order/new"


def _count(web, cls, *where) -> int:
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(func.count()).select_from(cls).where(*where))


def _post(client, **data):
    return client.post(PAGE, data={"csrf": client.csrf, "channel": "phone", **data})


def test_an_unknown_serial_and_customer_are_created_in_place(web, login):
    front = login("zhengli")
    page = front.get(PAGE)
    assert 'id="new_customer"' in page.text and 'id="new_equipment"' in page.text
    assert 'value="C0041"' in page.text  # the next free code is offered (40 demo customers)
    customers = _count(web, Customer)

    # the machine is not on file: the registration offers to create it, serial filled in
    unknown = _post(front, step="lookup", equipment="NEW-SN-001")
    assert unknown.status_code == 422
    assert 'id="a-register-equipment-error"' in unknown.text
    assert re.search(r'<details class="inline-new" id="new_equipment" open>', unknown.text)
    assert 'id="new_equipment-ne_serial_no" name="ne_serial_no" type="text" ' \
           'value="NEW-SN-001"' in unknown.text

    # a new customer: every problem at once, under its input, nothing written
    bad = _post(front, step="new_customer", fault_description="卡纸", nc_code="C0001",
                nc_name="", nc_tier="individual")
    assert bad.status_code == 422
    assert 'id="new_customer-nc_name-error"' in bad.text
    assert re.search(r'<details class="inline-new" id="new_customer" open>', bad.text)
    assert ">卡纸</textarea>" in bad.text  # the registration as typed
    taken = _post(front, step="new_customer", nc_code="C0001", nc_name="新客户",
                  nc_tier="individual")
    assert taken.status_code == 409 and 'id="new_customer-nc_code-error"' in taken.text
    assert _count(web, Customer) == customers

    made = _post(front, step="new_customer", fault_description="卡纸", nc_code="C0041",
                 nc_name="徐汇新客户", nc_tier="individual", nc_phone="139 0000 1111",
                 nc_address="上海市徐汇区虹桥路 1 号", nc_district="徐汇", nc_branch="SH")
    assert made.status_code == 200, made.text
    assert 'id="created"' in made.text and "C0041" in made.text
    assert 'id="a-register-customer" name="customer" value="C0041"' in made.text
    assert "徐汇新客户" in made.text  # the history box names the new customer
    with web.state.fixdesk.sessions() as session:
        customer = session.scalar(select(Customer).where(Customer.code == "C0041"))
        assert (customer.name, customer.phone, customer.branch.code) == \
            ("徐汇新客户", "139 0000 1111", "SH")
        address = session.scalar(select(CustomerAddress).where(
            CustomerAddress.customer_id == customer.id))
        assert (address.address, address.district, address.is_default) == \
            ("上海市徐汇区虹桥路 1 号", "徐汇", True)

    # then its machine, with the warranty dates; the registration gets both
    wrong = _post(front, step="new_equipment", customer="C0041", ne_serial_no="NEW-SN-001",
                  ne_model="", ne_customer="C0041", ne_warranty_end="soon")
    assert wrong.status_code == 422
    assert 'id="new_equipment-ne_model-error"' in wrong.text
    assert 'id="new_equipment-ne_warranty_end-error"' in wrong.text
    assert _count(web, CustomerEquipment, CustomerEquipment.serial_no == "NEW-SN-001") == 0
    machine = _post(front, step="new_equipment", customer="C0041", ne_serial_no="NEW-SN-001",
                    ne_brand="Ricoh", ne_model="MP 3055", ne_customer="C0041",
                    ne_purchase_date="2026-01-10", ne_warranty_end="2099-01-09")
    assert machine.status_code == 200, machine.text
    assert 'id="a-register-equipment" name="equipment" value="NEW-SN-001"' in machine.text
    assert 'id="category-preview"' in machine.text  # in warranty: the category shows
    with web.state.fixdesk.sessions() as session:
        made_machine = session.scalar(select(CustomerEquipment).where(
            CustomerEquipment.serial_no == "NEW-SN-001"))
        assert (made_machine.customer.code, made_machine.address.district,
                str(made_machine.warranty_end)) == ("C0041", "徐汇", "2099-01-09")

    done = _post(front, step="register", equipment="NEW-SN-001", customer="C0041",
                 fault_description="卡纸")
    assert done.status_code == 303
    with web.state.fixdesk.sessions() as session:
        order = session.scalar(select(WorkOrder))
        assert (order.customer.code, order.serial_no, order.address, order.category.value) \
            == ("C0041", "NEW-SN-001", "上海市徐汇区虹桥路 1 号", "C")


def test_creating_in_place_needs_the_rights_and_the_token(web, login):
    engineer = login("wanggong")  # may not register
    assert engineer.post(PAGE, data={"csrf": engineer.csrf, "step": "new_customer",
                                     "nc_code": "C0099", "nc_name": "某",
                                     "nc_tier": "individual"}).status_code == 403
    front = login("zhengli")
    assert front.post(PAGE, data={"csrf": "forged", "step": "new_customer", "nc_code": "C0099",
                                  "nc_name": "某", "nc_tier": "individual"}).status_code == 403
    assert _count(web, Customer, Customer.code == "C0099") == 0
    # a JD customer's machine: the customer is not visible from SH
    hidden = _post(front, step="new_equipment", ne_serial_no="JD-NEW", ne_model="X",
                   ne_customer="C0003")
    assert hidden.status_code == 422 and 'id="new_equipment-ne_customer-error"' in hidden.text


def test_returning_a_part_picks_the_line_of_the_order(web, login):
    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        number = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="卡纸", category="C",
                                   category_reason="保修期内").number
    with app.context(user="wufang") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with app.context(user="wanggong") as ctx:
        services.start(ctx, number)
        services.add_part(ctx, number, "定影分离爪", 2, "36.00")
        services.add_part(ctx, number, "搓纸轮", 1, "48.00", part_code="P-48")
        given = services.add_part(ctx, number, "清洁刮板", 1, "30.00")
        services.return_part(ctx, number, given.id)
    with app.sessions() as session:
        order_id = session.scalar(select(WorkOrder.id))
        lines = {line.description: line.id for line in session.scalars(select(WorkOrderLine))}
    engineer = login("wanggong")
    form = engineer.get(f"/desk/repair_work_order/{order_id}")
    box = re.search(r'<select id="a-return_part-line_id" name="line_id"[^>]*>(.*?)</select>',
                    form.text, re.S)
    assert box, form.text
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', box.group(1))
    assert options == [("", "—"), (str(lines["定影分离爪"]), "定影分离爪 × 2"),
                       (str(lines["搓纸轮"]), "搓纸轮 × 1 (P-48)")]  # not the returned one
    done = engineer.post(f"/desk/repair_work_order/{order_id}/action/return_part",
                         data={"csrf": engineer.csrf, "line_id": str(lines["搓纸轮"])})
    assert done.status_code == 303
    again = engineer.post(f"/desk/repair_work_order/{order_id}/action/return_part",
                          data={"csrf": engineer.csrf, "line_id": str(lines["搓纸轮"])})
    assert again.status_code == 409  # given back already: the service says so
    with app.sessions() as session:
        assert session.get(WorkOrderLine, lines["搓纸轮"]).returned_at is not None
        assert session.get(WorkOrderLine, lines["定影分离爪"]).returned_at is None
