"""A list's search ``q`` by the kernel's search index, on SQLite and PostgreSQL.

The index (:mod:`kernel.search_index`) must find what a scan would: every record where a
search field holds ``q``, case-folded; Chinese of one or two characters, fragments of
codes, serial and phone numbers. It follows every change (API, raw ORM, ORM bulk
statements), is built by ``fixdesk migrate`` for records already there, and is dropped
with its plugin's tables.
"""

from __future__ import annotations

import random

import pytest
from api_answers import error_of
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, update

from kernel import migrate, records, search_index
from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.models import Branch, Customer, CustomerEquipment
from kernel.search_terms import index_terms, query_terms
from kernel.site import Site
from kernel.web.app import create_app


@pytest.fixture
def api(make_site):
    """A demo site's web app (with the test plugin fdt_notes) and an admin's token."""
    site = make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    with app.context() as ctx:
        add_user(ctx, "root", "root", "password-123", get_branch(ctx, "SH"), roles=["admin"])
        headers = bearer_headers(ctx, "root")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.app_state = app
        client.site = site
        client.headers.update(headers["root"])
        yield client


def _found(api, entity: str, q: str, key: str = "id") -> list:
    answer = api.get(f"/api/v1/{entity}", params={"q": q, "limit": 500})
    assert answer.status_code == 200, answer.text
    return sorted(item[key] for item in answer.json()["items"])


def _customer(api, code: str, name: str, phone: str | None = None) -> dict:
    answer = api.post("/api/v1/customer", json={"code": code, "name": name,
                                                 "tier": "corporate", "phone": phone})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_terms_cover_chinese_pairs_and_fragments_of_runs():
    terms = index_terms("卡纸 ir2206\n13812345678")
    assert {"卡", "纸", "卡纸", "ir", "220", "206", "567", "678"} <= set(terms)
    assert "i" not in terms and "8" not in terms  # one letter or digit narrows nothing
    assert query_terms("纸") == ("纸",)
    assert query_terms("卡纸故障") == ("卡纸", "纸故", "故障")
    assert query_terms("IR2206") == ("ir2", "r22", "220", "206")
    assert query_terms("0571-88") == ("057", "571", "88")
    assert query_terms("%_-") == query_terms("a") == ()
    assert query_terms("a卡") == ("卡",)


def test_finds_chinese_of_one_and_two_characters_and_code_fragments(api):
    library = _customer(api, "C9001", "浦东新区图书馆", "021-5888 1234")["id"]
    logistics = _customer(api, "C9002", "申达物流有限公司", "13899017346")["id"]
    assert library in _found(api, "customer", "图")
    assert _found(api, "customer", "图书") == [library]
    assert logistics in _found(api, "customer", "物流")
    assert _found(api, "customer", "7346") == [logistics]  # the last digits of a phone
    assert _found(api, "customer", "5888 12") == [library]
    assert _found(api, "customer", "c9002") == [logistics]  # codes in any case
    assert _found(api, "customer", "新区图书馆X") == []
    serials = _found(api, "customer_equipment", "E335M8", key="serial_no")
    assert serials == ["E335M820091"]
    assert _found(api, "customer_equipment", "m82009", key="serial_no") == ["E335M820091"]
    assert _found(api, "customer_equipment", "%") == []  # a literal, never a wildcard


def test_control_characters_in_the_search_are_refused(api):
    for q in ("\x00", "纸\x1b"):
        answer = api.get("/api/v1/customer", params={"q": q})
        assert answer.status_code == 422 and "q" in error_of(answer)["fields"]


# --------------------------------------------------------------------------
# the same answers as a scan
# --------------------------------------------------------------------------

ALPHABET = "卡纸打印机复卡纸印aAbBcCxX0123456789 -_%/Éé"


def _random_text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))


def _searches(rng: random.Random, texts: list[str]) -> list[str]:
    """Fragments of the records' texts (1 to 6 characters, some in the other case) and
    some random strings."""
    found = []
    for text in rng.sample(texts, 40):
        if not text.strip():
            continue
        start = rng.randrange(len(text))
        piece = text[start:start + rng.randint(1, 6)]
        found.append(piece.swapcase() if rng.random() < 0.3 else piece)
    found += [_random_text(rng, 1, 4) for _ in range(15)]
    return [q for q in found if q.strip(" ")]


@pytest.mark.parametrize("limits", [(5000, 50_000), (3, 8), (0, 0)],
                         ids=["by-ids", "among-matches", "list-order"])
def test_answers_equal_a_scan_of_random_records(make_site, app_of, monkeypatch, limits):
    """Every way of answering (:func:`kernel.search_index.search_condition`, chosen by how
    many records match) gives what a plain scan does."""
    monkeypatch.setattr(search_index, "CANDIDATES", limits[0])
    monkeypatch.setattr(search_index, "COMMON", limits[1])
    app = app_of(make_site([]))
    rng = random.Random(16)
    with app.context() as ctx:
        from kernel.masterdata import the_company

        company = the_company(ctx).id
        branch = ctx.session.scalars(select(Branch.id)).first()
        for i in range(120):
            ctx.session.add(Customer(
                company_id=company, branch_id=branch, code=f"R{i:03d}{_random_text(rng, 0, 3)}",
                name=_random_text(rng, 1, 12), tier="individual",
                phone=_random_text(rng, 0, 8) or None,
                email=None if rng.random() < 0.5 else _random_text(rng, 2, 9)))
    info = app.exposed["customer"]
    with app.context() as ctx:
        everyone = list(ctx.session.scalars(select(Customer)))
        texts = [t for c in everyone for t in (c.code, c.name, c.phone, c.email) if t]
        for q in _searches(rng, texts):
            wanted = sorted(c.id for c in everyone if any(
                q.casefold() in (value or "").casefold()
                for value in (c.code, c.name, c.phone, c.email)))
            page = records.list_records(ctx, info, q=q, limit=500)
            assert sorted(r.id for r in page.rows) == wanted, q


# --------------------------------------------------------------------------
# kept in step by every path
# --------------------------------------------------------------------------


def _index_rows(app, entity: str) -> int:
    with app.engine.connect() as conn:
        spec = app.search_indexes.active(conn)[entity]
        return len(conn.execute(select(spec.table.c.id)).all())


def test_the_index_follows_the_api_raw_orm_changes_and_bulk_statements(api):
    app = api.app_state
    customer = _customer(api, "C9100", "浦东图书馆")["id"]
    assert _found(api, "customer", "图书") == [customer]
    assert api.patch(f"/api/v1/customer/{customer}", json={"name": "浦东档案馆"}).status_code \
        == 200
    assert _found(api, "customer", "图书") == [] and _found(api, "customer", "档案") == [customer]
    with app.context() as ctx:  # a plugin's own service, changing the record itself
        ctx.session.get(Customer, customer).name = "徐汇少年宫"
    assert _found(api, "customer", "档案") == [] and _found(api, "customer", "少年") == [customer]
    with app.context() as ctx:  # an ORM bulk statement
        ctx.session.execute(update(Customer).where(Customer.id == customer)
                            .values(name="闵行体育馆"))
    assert _found(api, "customer", "少年") == [] and _found(api, "customer", "体育") == [customer]
    equipment = api.post("/api/v1/customer_equipment", json={
        "customer_id": customer, "brand": "Canon", "model": "iR2206N",
        "serial_no": "QX7001234"}).json()["id"]
    before = _index_rows(app, "customer_equipment")
    assert _found(api, "customer_equipment", "qx7001") == [equipment]
    assert api.delete(f"/api/v1/customer_equipment/{equipment}").status_code == 204
    assert _found(api, "customer_equipment", "qx7001") == []
    assert _index_rows(app, "customer_equipment") == before - 1
    with pytest.raises(RuntimeError), app.context() as ctx:  # rolled back: index too
        ctx.session.get(Customer, customer).name = "回滚的名字"
        ctx.session.flush()
        raise RuntimeError("changed my mind")
    assert _found(api, "customer", "回滚") == []


def test_a_plugin_entity_is_indexed_without_sql_of_its_own(api):
    """fdt_notes declares no search fields and writes no SQL: its text fields are
    searched by an index the kernel made, which goes when the plugin's tables go."""
    app = api.app_state
    note = api.post("/api/v1/fdt_notes_note", json={"title": "客户反映复印卡纸"})
    assert note.status_code == 201, note.text
    assert _found(api, "fdt_notes_note", "卡纸") == [note.json()["id"]]
    with app.engine.connect() as conn:
        table = app.search_indexes.active(conn)["fdt_notes_note"].name
    assert table in inspect(app.engine).get_table_names()
    migrate.downgrade(app, "fdt_notes")
    assert table not in inspect(app.engine).get_table_names()
    with app.engine.connect() as conn:
        assert "fdt_notes_note" not in app.search_indexes.active(conn)
        assert conn.execute(select(search_index.SearchIndex.entity).where(
            search_index.SearchIndex.entity == "fdt_notes_note")).first() is None


def test_migrate_indexes_the_records_of_a_site_that_had_no_index(make_site, app_of, fixdesk):
    """A site from before kernel_0010 holds records and no index: ``fixdesk migrate``
    builds it, saying how far it got."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from kernel.progress import watching

    site = make_site([], demo=True)
    app = app_of(site)
    cfg = migrate._config(app)
    below = ScriptDirectory.from_config(cfg).get_revision("kernel_0010").down_revision
    with app.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, below)
    app.search_indexes.forget()
    with app.context() as ctx:  # written while there is no index: found by a scan
        customer = ctx.session.scalars(select(Customer).order_by(Customer.id)).first()
        customer.name = "嘉定区第一人民医院"
    app = app_of(Site.load(site.path))
    with app.context() as ctx:
        assert [c.id for c in records.list_records(
            ctx, app.exposed["customer"], q="人民").rows] == [customer.id]
        assert "customer" not in app.search_indexes.active(ctx.session.connection())
    steps = []
    app = app_of(Site.load(site.path))
    with watching(lambda label, done, total: steps.append((label, done, total))):
        migrate.upgrade(app)
    built = [s for s in steps if s[0] == search_index.BUILDING]
    assert built[-1][1] == built[-1][2] > 0
    with app.context() as ctx:
        assert "customer" in app.search_indexes.active(ctx.session.connection())
        assert [c.id for c in records.list_records(
            ctx, app.exposed["customer"], q="人民").rows] == [customer.id]
        rows = ctx.session.scalar(select(search_index.SearchIndex.records).where(
            search_index.SearchIndex.entity == "customer"))
        assert rows == ctx.session.query(Customer).count()
    assert fixdesk("--site", site.path, "migrate", "--check").code == 0
    assert fixdesk("--site", site.path, "migrate").code == 0  # nothing left to build
    equipment = app.exposed["customer_equipment"]
    with app.context() as ctx:
        serial = ctx.session.scalars(select(CustomerEquipment.serial_no)).first()
        found = records.list_records(ctx, equipment, q=serial[-5:].lower()).rows
        assert serial in [e.serial_no for e in found]
