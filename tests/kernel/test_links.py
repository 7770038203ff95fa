"""Links to any record (kernel.links, kernel.linked) through the generic services, on SQLite
and PostgreSQL: one field of kind "link", checked on write (the entity, the link's targets,
the record, the user's branches), filtered, and a linked record kept from deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, event, func, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel import RecordLink, link_column, records
from kernel.errors import Conflict, ValidationError
from kernel.linked import link_labels, link_targets
from kernel.links import links_of, parse_link
from kernel.masterdata import get_branch
from kernel.models import Customer

MEMO = "fdt_links_memo"


@pytest.fixture
def linked(make_site, app_of):
    """A demo site with notes and memos, a branch manager of SH (deletes customers there,
    sees nothing of JD), and a customer of each branch with no machines."""
    from kernel.auth import add_user

    app = app_of(make_site(["fdt_notes", "fdt_links"], demo=True, branch_code="SH",
                           branch_name="上海服务中心"))
    with app.context() as ctx:
        add_user(ctx, "boss", "boss", None, get_branch(ctx, "SH"), roles=["branch_manager"])
        for code, branch in (("C9001", "SH"), ("C9002", "JD")):
            ctx.session.add(Customer(company_id=get_branch(ctx, branch).company_id,
                                     branch_id=get_branch(ctx, branch).id, code=code,
                                     name=f"链接客户 {code}", tier="individual"))
    return app


def _id(app, cls, **where) -> int:
    with app.sessions() as session:
        return session.scalar(select(cls.id).filter_by(**where))


def _memos(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(app.entity_class(MEMO)))


def _note(app) -> int:
    note = app.entity_class("fdt_notes_note")
    with app.sessions() as session:
        return session.scalar(select(note.id).order_by(note.id))


def test_a_link_is_one_field_with_its_targets_and_an_index_on_its_columns(linked):
    info = linked.exposed[MEMO]
    about, see_also = info.field("about"), info.field("see_also")
    assert (about.kind, about.nullable, about.required) == ("link", True, False)
    assert about.targets == ("customer", "fdt_notes_note", "repair_work_order")
    assert see_also.targets == ()
    names = [f.name for f in info.fields]
    assert not {"about_entity", "about_id", "see_also_id"} & set(names)
    indexes = {tuple(ix["column_names"]) for ix in inspect(linked.engine).get_indexes(MEMO)}
    assert ("about_entity", "about_id") in indexes
    assert ("see_also_entity", "see_also_id") in indexes
    # a target whose plugin is not enabled is not offered
    assert link_targets(linked, about) == ["customer", "fdt_notes_note"]
    assert "branch" in link_targets(linked, see_also)


def test_the_value_reads_and_takes_a_record_link_or_none(linked):
    memo = linked.entity_class(MEMO)
    with linked.context() as ctx:
        row = memo(title="空", branch_id=get_branch(ctx, "SH").id)
        ctx.session.add(row)
        ctx.session.flush()
        ctx.session.expire(row)
        assert row.about is None
        row.about = RecordLink("customer", 1)
        ctx.session.flush()
        assert (row.about_entity, row.about_id) == ("customer", 1)
        row.about = None
        ctx.session.flush()
        assert (row.about_entity, row.about_id) == (None, None)


@pytest.mark.parametrize("value", [
    "customer:12", {"entity": "customer", "id": 12}, {"entity": "customer", "id": "12"},
    RecordLink("customer", 12), " customer:12 "])
def test_the_forms_a_link_is_written_in(value):
    assert parse_link(value) == RecordLink("customer", 12)


@pytest.mark.parametrize("value", [
    "customer", "customer:", ":12", "customer:0", "customer:abc", "customer:1.5",
    "Customer:1", "customer:99999999999", {"entity": "customer"},
    {"entity": "customer", "id": 1, "extra": 2}, {"entity": 3, "id": 1}, 12, [1, 2],
    {"entity": "customer", "id": True}])
def test_malformed_links_are_refused(value):
    with pytest.raises(ValueError):
        parse_link(value)


def test_link_column_refuses_targets_that_are_not_table_names():
    with pytest.raises(ValueError, match="not a table name"):
        link_column("about", targets=("Repair Work Order",))


def test_a_link_must_be_the_attribute_it_names():
    class Scratch(DeclarativeBase):  # not kernel.Base: nothing joins the site's tables
        pass

    class Right(Scratch):
        __tablename__ = "scratch_right"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        about: Mapped[RecordLink | None] = link_column("about", targets=("customer",))

    class Wrong(Scratch):
        __tablename__ = "scratch_wrong"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        subject: Mapped[RecordLink | None] = link_column("about")

    [link] = links_of(Right)
    assert (link.name, link.entity_column, link.id_column, link.targets) == \
        ("about", "about_entity", "about_id", ("customer",))
    assert link.allows("customer") and not link.allows("branch")
    with pytest.raises(TypeError, match="must be the attribute 'about'"):
        links_of(Wrong)


def test_write_read_change_and_clear_a_link(linked):
    info = linked.exposed[MEMO]
    c0001 = _id(linked, Customer, code="C0001")
    note = _note(linked)
    with linked.context(user="zhengli") as ctx:
        memo = records.create_record(ctx, info, {
            "title": "回访", "about": {"entity": "customer", "id": c0001},
            "see_also": f"fdt_notes_note:{note}"})
        memo_id = memo.id
        assert records.record_dict(ctx, info, memo)["about"] == {"entity": "customer",
                                                                 "id": c0001}
    with linked.context(user="zhengli") as ctx:
        memo = records.update_record(ctx, info, memo_id, {"about": f"fdt_notes_note:{note}"})
        data = records.record_dict(ctx, info, memo)
        assert data["about"] == data["see_also"] == {"entity": "fdt_notes_note", "id": note}
    with linked.context(user="zhengli") as ctx:
        memo = records.update_record(ctx, info, memo_id, {"about": None, "see_also": ""})
        assert records.record_dict(ctx, info, memo)["about"] is None
    with linked.sessions() as session:
        row = session.get(linked.entity_class(MEMO), memo_id)
        assert (row.about_entity, row.about_id, row.see_also_id) == (None, None, None)


def test_refused_links_name_the_field_and_write_nothing(linked):
    info = linked.exposed[MEMO]
    jd_customer = _id(linked, Customer, code="C0003")
    before = _memos(linked)
    cases = [
        ({"about": "branch:1"}, "about",
         "cannot link to branch: this link goes to customer, fdt_notes_note"),
        ({"see_also": "nothing_here:1"}, "see_also", "no entity 'nothing_here' on this site"),
        ({"about": "repair_work_order:1"}, "about",
         "no entity 'repair_work_order' on this site"),  # a target not enabled here
        ({"about": "customer:999999"}, "about", "no Customer 999999"),
        # a customer of a branch the user cannot see reads exactly like a missing one
        ({"about": f"customer:{jd_customer}"}, "about", f"no Customer {jd_customer}"),
        ({"about": "customer"}, "about",
         "must name a record by its entity and id, like customer:12"),
        ({"see_also": "audit_log:1"}, "see_also", "no entity 'audit_log' on this site"),
    ]
    for data, field, message in cases:
        with linked.context(user="zhengli") as ctx, \
                pytest.raises(records.FieldErrors) as refused:
            records.create_record(ctx, info, {"title": "拒绝", **data})
        assert refused.value.fields == {field: message}, data
    assert _memos(linked) == before


def test_a_link_needs_the_right_to_read_its_record(linked):
    """A branch manager may not read notes: a note reads as missing to them."""
    from kernel.linked import link_problem

    about = linked.exposed[MEMO].field("about")
    note = _note(linked)
    with linked.context(user="boss") as ctx:
        assert link_problem(ctx, about, RecordLink("fdt_notes_note", note)) == \
            f"no Fdt notes note {note}"
    with linked.context(user="zhengli") as ctx:
        assert link_problem(ctx, about, RecordLink("fdt_notes_note", note)) is None


def test_filters_on_a_link(linked):
    info = linked.exposed[MEMO]
    c0001, c0002 = _id(linked, Customer, code="C0001"), _id(linked, Customer, code="C0002")
    note = _note(linked)
    with linked.context(user="zhengli") as ctx:
        made = {}
        for title, about in (("a", f"customer:{c0001}"), ("b", f"customer:{c0002}"),
                             ("c", f"fdt_notes_note:{note}"), ("d", None)):
            made[title] = records.create_record(ctx, info, {"title": title, "about": about}).id

    def titles(**filters):
        with linked.context(user="zhengli") as ctx:
            page = records.list_records(ctx, info, filters=filters, sort="title", count=True)
            rows = page.rows
            assert page.total == len(rows)
            return [r.title for r in rows if r.id in made.values()]

    assert titles(about=f"customer:{c0001}") == ["a"]
    assert titles(about__ne=f"customer:{c0001}") == ["b", "c"]
    assert titles(about__in=f"customer:{c0002},fdt_notes_note:{note}") == ["b", "c"]
    assert titles(about__entity="customer") == ["a", "b"]
    assert titles(about__entity="customer,fdt_notes_note") == ["a", "b", "c"]
    assert titles(about="") == ["d"]
    assert titles(about__ne="") == ["a", "b", "c"]
    with linked.context(user="zhengli") as ctx:
        rows = records.list_records(ctx, info, sort="about,title").rows
        linked_rows = [r.title for r in rows if r.id in made.values() and r.about]
        assert linked_rows == ["a", "b", "c"]  # by entity, then id (NULLs: engine's place)
    for key, raw in (("about", "customer"), ("about__in", "customer:1,x"),
                     ("about__entity", "Customer!"), ("about__gte", "customer:1"),
                     ("about__contains", "cust"), ("about", "customer:0"),
                     ("about__entity", "")):
        with linked.context(user="zhengli") as ctx, pytest.raises(ValidationError) as bad:
            records.list_records(ctx, info, filters={key: raw})
        assert bad.value.field == key and bad.value.message.startswith(f"{key}: ")


def test_deleting_a_linked_record_is_refused_naming_the_referrer(linked):
    info, customers = linked.exposed[MEMO], linked.exposed["customer"]
    target = _id(linked, Customer, code="C9001")
    with linked.context(user="zhengli") as ctx:
        memo = records.create_record(ctx, info, {"title": "投诉跟进",
                                                 "see_also": f"customer:{target}"}).id
    with pytest.raises(Conflict) as refused, linked.context(user="boss") as ctx:
        records.delete_record(ctx, customers, target)
    assert refused.value.message == \
        f"cannot delete customer {target}: Memo {memo} (投诉跟进) refers to it"
    assert _id(linked, Customer, code="C9001") == target
    with linked.context(user="zhengli") as ctx:
        records.update_record(ctx, info, memo, {"see_also": None})
    with linked.context(user="boss") as ctx:
        records.delete_record(ctx, customers, target)
    assert _id(linked, Customer, code="C9001") is None


def test_a_referrer_the_user_cannot_see_still_holds_the_record_unnamed(linked):
    memo = linked.entity_class(MEMO)
    target = _id(linked, Customer, code="C9001")  # an SH customer
    with linked.context() as ctx:  # a JD memo about it, which boss (SH) cannot see
        ctx.session.add(memo(title="嘉定的备忘", branch_id=get_branch(ctx, "JD").id,
                             about=RecordLink("customer", target)))
    with pytest.raises(Conflict) as refused, linked.context(user="boss") as ctx:
        records.delete_record(ctx, linked.exposed["customer"], target)
    assert refused.value.message == \
        f"cannot delete customer {target}: a Memo of a branch you cannot see refers to it"
    assert "嘉定" not in refused.value.message


def test_the_guard_holds_for_services_deleting_through_the_orm(linked):
    memo = linked.entity_class(MEMO)
    target = _id(linked, Customer, code="C9002")
    with linked.context() as ctx:
        row = memo(title="内部", branch_id=get_branch(ctx, "JD").id,
                   about=RecordLink("customer", target))
        ctx.session.add(row)
    with pytest.raises(Conflict, match=r"Memo \d+ \(内部\)"), linked.context() as ctx:
        ctx.session.delete(ctx.session.get(Customer, target))
        ctx.session.flush()
    # changing the link and deleting the record in one flush is fine
    with linked.context() as ctx:
        ctx.session.get(memo, row.id).about = None
        ctx.session.delete(ctx.session.get(Customer, target))
    assert _id(linked, Customer, code="C9002") is None
    # so is deleting the referrer together with the record
    other = _id(linked, Customer, code="C9001")
    with linked.context() as ctx:
        again = memo(title="再来", branch_id=get_branch(ctx, "SH").id,
                     about=RecordLink("customer", other))
        ctx.session.add(again)
    with linked.context() as ctx:
        ctx.session.delete(ctx.session.get(memo, again.id))
        ctx.session.delete(ctx.session.get(Customer, other))
    assert _id(linked, Customer, code="C9001") is None


def test_a_new_record_linking_to_a_record_deleted_in_the_same_flush_is_refused(linked):
    memo = linked.entity_class(MEMO)
    target = _id(linked, Customer, code="C9001")
    with pytest.raises(Conflict, match="Memo"), linked.context() as ctx:
        ctx.session.add(memo(title="新", branch_id=get_branch(ctx, "SH").id,
                             about=RecordLink("customer", target)))
        ctx.session.delete(ctx.session.get(Customer, target))
        ctx.session.flush()


def test_the_guard_asks_once_per_link_field_per_flush(linked):
    """Deleting many records at once asks the memo table once per link field that may
    point to them, never once per record."""
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if "fdt_links_memo" in statement:
            statements.append(statement)

    with linked.context() as ctx:
        company = get_branch(ctx, "SH").company_id
        extra = [Customer(company_id=company, branch_id=get_branch(ctx, "SH").id,
                          code=f"X{n}", name=f"删除 {n}", tier="individual") for n in range(5)]
        ctx.session.add_all(extra)
    event.listen(linked.engine, "before_cursor_execute", seen)
    try:
        with linked.context() as ctx:
            ids = [customer.id for customer in extra]
            with ctx.session.no_autoflush:  # one flush for all (deleting loads contacts)
                for customer in ctx.session.scalars(select(Customer)
                                                    .where(Customer.id.in_(ids))).all():
                    ctx.session.delete(customer)
            ctx.session.flush()
    finally:
        event.remove(linked.engine, "before_cursor_execute", seen)
    assert len(statements) == 2  # about (customer is a target) and see_also (anything)


def test_labels_of_links_one_query_per_entity_and_only_visible_records(linked):
    c0001, c0003 = _id(linked, Customer, code="C0001"), _id(linked, Customer, code="C0003")
    note = _note(linked)
    with linked.context(user="zhengli") as ctx:
        found = link_labels(ctx, [RecordLink("customer", c0001), RecordLink("customer", c0003),
                                  RecordLink("fdt_notes_note", note), None,
                                  RecordLink("nothing_here", 1)])
    assert found[RecordLink("customer", c0001)] == "C0001 申达物流有限公司"
    assert RecordLink("customer", c0003) not in found  # JD: lily cannot see it
    assert RecordLink("fdt_notes_note", note) in found
    assert len(found) == 2


def test_migrations_create_the_link_columns_in_sync(make_site, fixdesk):
    site = make_site(["fdt_links"])
    check = fixdesk("--site", site.path, "migrate", "--check")
    assert (check.code, check.out) == (0, "schema matches the models\n")
