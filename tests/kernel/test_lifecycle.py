"""Documents that are submitted (kernel/lifecycle.py): draft → submitted → cancelled,
amended; frozen rows, reversing entries in the cancel's transaction, permissions, and
concurrent submits and cancels on PostgreSQL.

The test plugin ``fdt_ledger`` has a submittable stock entry with lines; its submit posts
ledger moves and its cancel the reversing ones.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from kernel import hookimpl, records
from kernel.actions import possible_actions
from kernel.auth import PermissionDenied, add_user
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.lifecycle import DocStatus, amend, cancel, submit
from kernel.masterdata import get_branch


@pytest.fixture
def app(make_site, app_of):
    """A demo site with fdt_ledger; keeper (front desk: submits), store (warehouse keeper:
    writes drafts, may not submit) in SH, jdfront in JD."""
    site = make_site(["fdt_ledger"], demo=True, branch_code="SH")
    app = app_of(site)
    with app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        add_user(ctx, "keeper", "keeper", None, sh, roles=["front_desk"])
        add_user(ctx, "store", "store", None, sh, roles=["warehouse_keeper"])
        add_user(ctx, "jdfront", "jdfront", None, jd, roles=["front_desk"])
    return app


def new_entry(app, user="keeper", lines=(("A4 纸", 10), ("硒鼓", 2))) -> int:
    from fdt_ledger.plugin import make_entry

    with app.context(user=user) as ctx:
        return make_entry(ctx, "入库", list(lines)).id


def entry(ctx, entry_id):
    from fdt_ledger.models import StockEntry

    return ctx.session.get(StockEntry, entry_id)


def moves(app, entry_id) -> list[tuple[str, int, bool]]:
    from fdt_ledger.models import LedgerMove

    with app.sessions() as session:
        return [(m.item, m.qty, m.reversal) for m in session.scalars(
            select(LedgerMove).where(LedgerMove.entry_id == entry_id).order_by(LedgerMove.id))]


def add_line(parent, line):
    parent.lines.append(line)


class Recorder:
    """A throwaway plugin object: records the lifecycle events it receives."""

    def __init__(self):
        self.events = []

    @hookimpl
    def fixdesk_document_submitted(self, entity, record):
        self.events.append(("submitted", entity, record.number))

    @hookimpl
    def fixdesk_document_amended(self, entity, record, amended_from):
        self.events.append(("amended", entity, record.number, amended_from.number))


@pytest.fixture
def recorder(app):
    plugin = Recorder()
    app.pm.register(plugin, name="test_recorder")
    yield plugin
    app.pm.unregister(plugin)


def test_a_draft_changes_until_it_is_submitted_then_nothing_changes(app, recorder):
    from fdt_ledger.models import EntryLine

    entry_id = new_entry(app)
    info = app.exposed["fdt_ledger_entry"]
    with app.context(user="keeper") as ctx:
        draft = entry(ctx, entry_id)
        assert re.fullmatch(r"SE-SH-\d{4}-0001", draft.number)
        assert draft.docstatus == DocStatus.DRAFT and draft.submitted_at is None
        records.update_record(ctx, info, entry_id, {"purpose": "调拨入库"})
        draft.lines[0].qty = 12  # lines of a draft change too
        ctx.session.flush()
        submitted = submit(ctx, draft)
        assert submitted.docstatus == "submitted" and submitted.submitted_at is not None
        number = submitted.number
    assert recorder.events == [("submitted", "fdt_ledger_entry", number)]
    assert moves(app, entry_id) == [("A4 纸", 12, False), ("硒鼓", 2, False)]

    refusals = {
        "update": lambda ctx: records.update_record(ctx, info, entry_id, {"purpose": "改"}),
        "delete": lambda ctx: records.delete_record(ctx, info, entry_id),
        "orm": lambda ctx: setattr(entry(ctx, entry_id), "purpose", "改"),
        "orm delete": lambda ctx: ctx.session.delete(entry(ctx, entry_id)),
        "state": lambda ctx: setattr(entry(ctx, entry_id), "docstatus", DocStatus.CANCELLED),
        "line": lambda ctx: setattr(entry(ctx, entry_id).lines[0], "qty", 99),
        "new line": lambda ctx: add_line(entry(ctx, entry_id), EntryLine(item="x", qty=1)),
        "line of": lambda ctx: ctx.session.add(EntryLine(entry_id=entry_id, item="x", qty=1)),
        "drop line": lambda ctx: ctx.session.delete(entry(ctx, entry_id).lines[0]),
        "line api": lambda ctx: records.update_record(
            ctx, app.exposed["fdt_ledger_line"], entry(ctx, entry_id).lines[0].id, {"qty": 5}),
        "line create": lambda ctx: records.create_record(
            ctx, app.exposed["fdt_ledger_line"], {"entry_id": entry_id, "item": "x", "qty": 1}),
        "submit": lambda ctx: submit(ctx, entry(ctx, entry_id)),
    }
    for what, change in refusals.items():
        with pytest.raises(Conflict) as refused, app.context(user="keeper") as ctx:
            change(ctx)
            ctx.session.flush()
        assert number in refused.value.message, what
    with app.context(user="keeper") as ctx:
        kept = entry(ctx, entry_id)
        assert (kept.purpose, kept.docstatus, [line.qty for line in kept.lines]) == \
            ("调拨入库", "submitted", [12, 2])


def test_state_changes_only_through_the_services(app):
    entry_id = new_entry(app)
    with pytest.raises(Conflict, match="changes only by submitting"), \
            app.context(user="keeper") as ctx:
        entry(ctx, entry_id).docstatus = DocStatus.SUBMITTED
        ctx.session.flush()
    info = app.exposed["fdt_ledger_entry"]
    assert info.field("docstatus").readonly and info.field("amended_from_id").readonly
    with pytest.raises(ValidationError), app.context(user="keeper") as ctx:
        records.update_record(ctx, info, entry_id, {"docstatus": "submitted"})
    with app.context(user="keeper") as ctx:  # a draft is deleted with its lines
        records.delete_record(ctx, info, entry_id)
    assert moves(app, entry_id) == []


def test_cancel_posts_the_reversal_in_the_same_transaction(app):
    entry_id = new_entry(app)
    with app.context(user="keeper") as ctx:
        with pytest.raises(Conflict, match="is a draft"):
            cancel(ctx, entry(ctx, entry_id), "录错")
        submit(ctx, entry(ctx, entry_id))
        with pytest.raises(ValidationError) as missing:
            cancel(ctx, entry(ctx, entry_id), "  ")
        assert missing.value.field == "reason"
        cancelled = cancel(ctx, entry(ctx, entry_id), "数量录错")
        assert (cancelled.docstatus, cancelled.cancel_reason) == ("cancelled", "数量录错")
        assert cancelled.cancelled_at is not None
        with pytest.raises(Conflict, match="cancelled already"):
            cancel(ctx, cancelled, "again")
        with pytest.raises(Conflict, match="amend it"):
            submit(ctx, cancelled)
    posted = moves(app, entry_id)
    assert posted == [("A4 纸", 10, False), ("硒鼓", 2, False),
                      ("A4 纸", -10, True), ("硒鼓", -2, True)]
    assert sum(qty for _item, qty, _r in posted) == 0


class Failing:
    @hookimpl(trylast=True)  # after fdt_ledger posted its reversal
    def fixdesk_document_cancelled(self, record):
        raise RuntimeError(f"the ledger of {record.number} is closed")


def test_a_failing_cancel_hook_leaves_the_document_submitted(app):
    entry_id = new_entry(app)
    with app.context(user="keeper") as ctx:
        submit(ctx, entry(ctx, entry_id))
    plugin = Failing()
    app.pm.register(plugin, name="test_failing")
    try:
        with app.context(user="keeper") as ctx:
            with pytest.raises(RuntimeError, match="closed"):
                cancel(ctx, entry(ctx, entry_id), "录错")
            # a caller that catches the error still finds the document submitted
            assert entry(ctx, entry_id).docstatus == "submitted"
            assert entry(ctx, entry_id).cancel_reason is None
    finally:
        app.pm.unregister(plugin)
    assert [r for _i, _q, r in moves(app, entry_id)] == [False, False]  # no reversal kept
    with app.context(user="keeper") as ctx:
        assert entry(ctx, entry_id).docstatus == "submitted"
        cancel(ctx, entry(ctx, entry_id), "录错")
    assert [r for _i, _q, r in moves(app, entry_id)] == [False, False, True, True]


def test_amend_makes_a_numbered_draft_linking_the_cancelled_one(app, recorder):
    from fdt_ledger.models import StockEntry

    entry_id = new_entry(app)
    with app.context(user="keeper") as ctx:
        original = entry(ctx, entry_id)
        with pytest.raises(Conflict, match="only a cancelled document"):
            amend(ctx, original)
        submit(ctx, original)
        with pytest.raises(Conflict, match="only a cancelled document"):
            amend(ctx, original)
        cancel(ctx, original, "数量录错")
        first = amend(ctx, original)
        base = original.number
        assert (first.number, first.docstatus, first.amended_from_id, first.amendment_no) == \
            (f"{base}-1", "draft", entry_id, 1)
        assert (first.purpose, first.branch_id) == (original.purpose, original.branch_id)
        assert first.submitted_at is first.cancelled_at is first.cancel_reason is None
        assert [(line.item, line.qty) for line in first.lines] == [("A4 纸", 10), ("硒鼓", 2)]
        assert {line.id for line in first.lines}.isdisjoint(line.id for line in original.lines)
        with pytest.raises(Conflict, match=f"amended already as .*{base}-1"):
            amend(ctx, original)
        first.lines[1].qty = 3  # the amendment is a draft: it changes
        submit(ctx, first)
        cancel(ctx, first, "还是不对")
        second = amend(ctx, first)
        assert (second.number, second.amended_from_id, second.amendment_no) == \
            (f"{base}-2", first.id, 2)
        assert [line.qty for line in second.lines] == [10, 3]
        second_id = second.id
    assert recorder.events[-1] == ("amended", "fdt_ledger_entry", f"{base}-2", f"{base}-1")
    assert ("amended", "fdt_ledger_entry", f"{base}-1", base) in recorder.events
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StockEntry)) == 3
    with app.context(user="keeper") as ctx:  # an amendment's draft may be deleted ...
        records.delete_record(ctx, app.exposed["fdt_ledger_entry"], second_id)
    with app.context(user="keeper") as ctx:  # ... and the cancelled one amended again
        assert amend(ctx, entry(ctx, first.id)).number == f"{base}-2"


def test_permissions_and_branches(app):
    entry_id = new_entry(app, user="store")  # a warehouse keeper writes drafts ...
    with pytest.raises(PermissionDenied, match="fdt_ledger_entry.submit"), \
            app.context(user="store") as ctx:
        submit(ctx, entry(ctx, entry_id))  # ... but may not submit them
    with pytest.raises(NotFound), app.context(user="jdfront") as ctx:
        ctx.run_action("fdt_ledger_entry", entry_id, "submit")  # another branch's
    with app.context(user="keeper") as ctx:
        ctx.run_action("fdt_ledger_entry", entry_id, "submit")
    with pytest.raises(PermissionDenied, match="fdt_ledger_entry.cancel"), \
            app.context(user="store") as ctx:
        ctx.run_action("fdt_ledger_entry", entry_id, "cancel", reason="录错")


def test_the_kernel_offers_submit_cancel_and_amend(app):
    entry_id = new_entry(app)
    actions = {name: a for (table, name), a in app.actions.items()
               if table == "fdt_ledger_entry"}
    assert set(actions) == {"submit", "cancel", "amend"}
    assert {a.permission for a in actions.values()} == {
        "fdt_ledger_entry.submit", "fdt_ledger_entry.cancel", "fdt_ledger_entry.amend"}
    assert all(app.registry.owner(a) == "kernel" for a in actions.values())
    assert not any(table == "fdt_ledger_line" for table, _n in app.actions)

    def offered(ctx):
        return [a.name for a in possible_actions(ctx, "fdt_ledger_entry",
                                                 entry(ctx, entry_id))]

    with app.context(user="keeper") as ctx:
        assert offered(ctx) == ["submit"]
        ctx.run_action("fdt_ledger_entry", entry_id, "submit")
        assert offered(ctx) == ["cancel"]
        with pytest.raises(ValidationError):
            ctx.run_action("fdt_ledger_entry", entry_id, "cancel")  # the reason is required
        ctx.run_action("fdt_ledger_entry", entry_id, "cancel", reason="录错")
        assert offered(ctx) == ["amend"]
        draft = ctx.run_action("fdt_ledger_entry", entry_id, "amend")
        assert draft.id != entry_id and offered(ctx) == []  # amended once only
    with app.context(user="store") as ctx:
        assert offered(ctx) == []  # no lifecycle permission


# --------------------------------------------------------------------------
# concurrency (PostgreSQL: real connections)
# --------------------------------------------------------------------------


def _race(app, count, work) -> list:
    """Run ``work(ctx)`` in ``count`` threads at once, each in its own transaction on its
    own connection; the outcome of each: "ok" or the exception."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index):
        try:
            with app.context(user="keeper") as ctx:
                ctx.session.connection()  # own connection before the race starts
                barrier.wait(timeout=30)
                work(ctx)
            outcomes[index] = "ok"
        except Exception as exc:  # the outcome is what the test looks at
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_submits_cancels_and_amends_on_postgres(make_site):
    from fdt_ledger.models import StockEntry

    from kernel.site import Site

    site = make_site(["fdt_ledger"], demo=True, branch_code="SH")
    app = Site.load(site.path).start(pool_size=10, max_overflow=0)
    try:
        with app.context() as ctx:
            add_user(ctx, "keeper", "keeper", None, get_branch(ctx, "SH"), roles=["front_desk"])
        entry_id = new_entry(app)
        for name, params in (("submit", {}), ("cancel", {"reason": "录错"}), ("amend", {})):
            outcomes = _race(app, 6, lambda ctx, name=name, params=params: ctx.run_action(
                "fdt_ledger_entry", entry_id, name, **params))
            assert outcomes.count("ok") == 1, (name, outcomes)
            refused = [o for o in outcomes if o != "ok"]
            assert all(isinstance(o, Conflict) for o in refused), (name, outcomes)
        assert moves(app, entry_id) == [("A4 纸", 10, False), ("硒鼓", 2, False),
                                        ("A4 纸", -10, True), ("硒鼓", -2, True)]
        with app.sessions() as session:
            amendments = session.scalars(select(StockEntry.number).where(
                StockEntry.amended_from_id == entry_id)).all()
        assert len(amendments) == 1 and amendments[0].endswith("-1")
    finally:
        app.close()
