"""Links to any record in the desk (the ASGI app), on SQLite and PostgreSQL: the linked
record's label linking to its form in lists and forms (labels one query per entity per
page), an entity choice and a record box that takes an id, a code or a name, errors at
the field, and a linked record kept from deletion."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from kernel import RecordLink
from kernel.auth import add_user, hash_password
from kernel.i18n import translations
from kernel.masterdata import get_branch
from kernel.models import Customer
from kernel.web.app import create_app

zh = translations("zh_CN").gettext
PASSWORD = "password-123"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MEMO = "fdt_links_memo"
FIELDS = ["title", "about", "see_also"]


class LinkDesk:
    def __init__(self, web):
        self.web, self.app, self.clients = web, web.state.fixdesk, []

    def login(self, username: str) -> TestClient:
        client = TestClient(self.web, raise_server_exceptions=False, follow_redirects=False)
        self.clients.append(client)
        answer = client.post("/login", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        client.csrf = CSRF.search(client.get("/").text).group(1)
        return client

    def id_of(self, cls, **where) -> int:
        with self.app.sessions() as session:
            return session.scalar(select(cls.id).filter_by(**where))

    def memo(self, **where):
        with self.app.sessions() as session:
            found = session.scalar(select(self.app.entity_class(MEMO)).filter_by(**where))
            session.expunge_all()
            return found

    def add_memo(self, title: str, branch: str = "SH", **links) -> int:
        """A memo written directly (as a service would), links unchecked."""
        with self.app.context() as ctx:
            memo = self.app.entity_class(MEMO)(title=title, branch_id=get_branch(ctx, branch).id,
                                               **links)
            ctx.session.add(memo)
            ctx.session.flush()
            return memo.id


@pytest.fixture
def desk(make_site):
    site = make_site(["fdt_notes", "fdt_links"], demo=True, company="华东办公设备服务有限公司",
                     branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    desk = LinkDesk(web)
    password = hash_password(PASSWORD)
    with desk.app.context() as ctx:
        for username, roles in (("lily", ["front_desk"]), ("boss", ["branch_manager"])):
            user = add_user(ctx, username, username, None, get_branch(ctx, "SH"), roles=roles)
            user.password_hash = password
    yield desk
    for client in desk.clients:
        client.close()
    desk.app.close()


def field_error(page, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="e-{name}">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else None


def test_the_list_shows_linked_records_as_links_one_query_per_entity(desk):
    customers = [desk.id_of(Customer, code=f"C000{n}") for n in (1, 2, 4, 6)]
    jd_customer = desk.id_of(Customer, code="C0003")
    for n, customer in enumerate(customers):
        desk.add_memo(f"备忘 {n}", about=RecordLink("customer", customer))
    desk.add_memo("嘉定客户", about=RecordLink("customer", jd_customer))
    browser = desk.login("lily")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if re.search(r"FROM customer\b", statement):
            statements.append(statement)

    event.listen(desk.app.engine, "before_cursor_execute", seen)
    try:
        page = browser.get(f"/desk/{MEMO}")
    finally:
        event.remove(desk.app.engine, "before_cursor_execute", seen)
    assert page.status_code == 200, page.text
    assert len(statements) == 1  # the labels of every linked customer of the page
    assert f'<a href="/desk/customer/{customers[0]}">C0001 申达物流有限公司</a>' in page.text
    # a record lily may not see: named plainly, not linked, its label not shown
    assert f"customer #{jd_customer}" in page.text
    assert f'href="/desk/customer/{jd_customer}"' not in page.text
    assert "嘉定办公设备经销部" not in page.text
    exported = browser.get(f"/desk/{MEMO}/export.csv").content.decode("utf-8-sig")
    assert "C0001 申达物流有限公司" in exported and f"customer #{jd_customer}" in exported


def test_the_list_filters_on_a_link(desk):
    c0001 = desk.id_of(Customer, code="C0001")
    desk.add_memo("申达的备忘", about=RecordLink("customer", c0001))
    desk.add_memo("无关的备忘")
    browser = desk.login("lily")
    page = browser.get(f"/desk/{MEMO}", params={"f": "about", "op": "eq",
                                               "v": f"customer:{c0001}"})
    assert "申达的备忘" in page.text and "无关的备忘" not in page.text
    bad = browser.get(f"/desk/{MEMO}", params={"f": "about", "op": "gte", "v": "customer:1"})
    assert bad.status_code == 422


def test_the_form_shows_the_link_and_offers_the_targets_of_the_site(desk):
    c0001 = desk.id_of(Customer, code="C0001")
    memo = desk.add_memo("回访", about=RecordLink("customer", c0001))
    form = desk.login("lily").get(f"/desk/{MEMO}/{memo}").text
    select_box = re.search(r'<select id="f-about__entity".*?</select>', form, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', select_box) == ["customer", "fdt_notes_note"]
    assert '<option value="customer" data-lookup="/desk/customer/lookup" selected>' in select_box
    assert 'value="C0001 申达物流有限公司"' in form  # the record box shows its label
    assert f'<a href="/desk/customer/{c0001}">C0001 申达物流有限公司</a>' in form
    new = desk.login("lily").get(f"/desk/{MEMO}/new").text
    assert '<select id="f-see_also__entity"' in new and '<option value="branch"' in new


def test_the_form_saves_a_link_typed_by_code_label_or_id(desk):
    browser = desk.login("lily")
    c0002 = desk.id_of(Customer, code="C0002")
    saved = browser.post(f"/desk/{MEMO}/new", data={
        "csrf": browser.csrf, "_fields": FIELDS, "title": "按编码", "about__entity": "customer",
        "about": "C0002", "see_also__entity": "", "see_also": ""})
    assert saved.status_code == 303, saved.text
    memo = desk.memo(title="按编码")
    assert memo.about == RecordLink("customer", c0002) and memo.see_also is None
    # the label the form shows is read back as the same record
    again = browser.post(f"/desk/{MEMO}/{memo.id}", data={
        "csrf": browser.csrf, "_fields": FIELDS, "title": "按编码",
        "about__entity": "customer", "about": "C0002 周志华",
        "see_also__entity": "customer", "see_also": str(c0002)})
    assert again.status_code == 303, again.text
    memo = desk.memo(id=memo.id)
    assert memo.about == memo.see_also == RecordLink("customer", c0002)
    cleared = browser.post(f"/desk/{MEMO}/{memo.id}", data={
        "csrf": browser.csrf, "_fields": FIELDS, "title": "按编码",
        "about__entity": "customer", "about": "", "see_also__entity": "", "see_also": ""})
    assert cleared.status_code == 303
    assert desk.memo(id=memo.id).about is None


def test_the_form_shows_link_problems_at_the_field_and_writes_nothing(desk):
    browser = desk.login("lily")
    jd_customer = desk.id_of(Customer, code="C0003")
    cases = [
        ({"about__entity": "customer", "about": "C0003"},  # JD: not visible to lily
         zh("nothing matches {text}").format(text="C0003")),
        ({"about__entity": "customer", "about": str(jd_customer)},
         zh("no {entity} {id}").format(entity=zh("Customer"), id=jd_customer)),
        ({"about__entity": "", "about": "C0001"}, zh("choose what it links to")),
        ({"about__entity": "branch", "about": "1"},
         zh("cannot link to {entity}: this link goes to {targets}").format(
             entity="branch", targets="customer, fdt_notes_note")),
    ]
    for data, message in cases:
        page = browser.post(f"/desk/{MEMO}/new", data={
            "csrf": browser.csrf, "_fields": FIELDS, "title": "拒绝", "see_also__entity": "",
            "see_also": "", **data})
        assert page.status_code == 422, data
        assert field_error(page, "about") == message
        assert f'value="{data["about"]}"' in page.text  # shown again as typed
    with desk.app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(
            desk.app.entity_class(MEMO))) == 0


def test_deleting_a_linked_customer_shows_the_referrer(desk):
    boss = desk.login("boss")
    made = boss.post("/desk/customer/new", data={
        "csrf": boss.csrf, "_fields": ["code", "name", "tier"], "code": "C8200",
        "name": "临时客户", "tier": "individual"})
    assert made.status_code == 303
    customer = desk.id_of(Customer, code="C8200")
    memo = desk.add_memo("投诉跟进", see_also=RecordLink("customer", customer))
    kept = boss.post(f"/desk/customer/{customer}/delete", data={"csrf": boss.csrf})
    assert kept.status_code == 409
    assert html.escape(zh("cannot delete {entity} {id}: {referrer} refers to it").format(
        entity="customer", id=customer, referrer=f"Memo {memo} (投诉跟进)"),
        quote=False) in kept.text
    assert desk.id_of(Customer, code="C8200") == customer


def test_a_record_of_an_entity_the_user_may_not_read_is_named_by_the_entity(desk):
    from kernel.auth import RoleGrant

    customer = desk.id_of(Customer, code="C0001")
    desk.add_memo("无权查看客户", about=RecordLink("customer", customer))
    with desk.app.context() as ctx:
        ctx.session.add(RoleGrant(role="front_desk", permission="customer.read",
                                  granted=False))
    page = desk.login("lily").get(f"/desk/{MEMO}")
    assert page.status_code == 200, page.text
    assert f"{zh('Customer')} #{customer}" in page.text  # 客户 #1, not customer #1
    assert f'href="/desk/customer/{customer}"' not in page.text
    assert "申达物流" not in page.text
