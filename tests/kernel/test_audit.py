"""The audit trail (R32): every change of every entity, in the same transaction, append-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from kernel.audit import AuditLog, AuditTamperError, history
from kernel.auth import add_user
from kernel.masterdata import get_branch
from kernel.models import Customer, Tier


@pytest.fixture
def app(make_site, app_of):
    app = app_of(make_site(["fdt_notes", "fdt_tags"]))
    with app.context() as ctx:
        add_user(ctx, "zhengli", "郑丽", "front-desk-1", get_branch(ctx, "HQ"),
                 roles=["front_desk"])
    return app


def _audit_count(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditLog))


def test_insert_update_delete_are_audited_with_who_and_old_new(app):
    with app.context(user="zhengli") as ctx:
        customer = Customer(company_id=1, branch_id=ctx.branch.id, code="C9", name="申达物流",
                            tier=Tier.CORPORATE, phone="021-6888 1234")
        ctx.session.add(customer)
        ctx.session.flush()
        customer_id = customer.id
    with app.context(user="zhengli") as ctx:
        ctx.session.get(Customer, customer_id).phone = "021-6888 9999"
    with app.context() as ctx:
        ctx.session.delete(ctx.session.get(Customer, customer_id))
    with app.sessions() as session:
        rows = history(session, "customer", customer_id)
    assert [r.action for r in rows] == ["insert", "update", "delete"]
    assert rows[0].actor == "zhengli" and rows[0].user_id is not None
    assert rows[0].changes["name"] == [None, "申达物流"]
    assert rows[0].changes["tier"] == [None, "corporate"]
    assert rows[1].changes == {"phone": ["021-6888 1234", "021-6888 9999"]}
    assert rows[2].actor == "system" and rows[2].changes["name"] == ["申达物流", None]
    assert rows[0].branch_id == rows[1].branch_id


def test_plugin_entities_are_audited_too(app):
    import fdt_notes.plugin as notes

    with app.context(user="zhengli") as ctx:
        note, _answers = notes.add_note(ctx, ctx.branch.id, "卡纸", "35.50")
        note_id = note.id
    with app.sessions() as session:
        [row] = history(session, "fdt_notes_note", note_id)
        assert row.changes["amount"] == [None, "35.50"]
        assert row.changes["number"][1].startswith("NT-HQ-")
        assert session.scalar(select(func.count()).where(AuditLog.entity == "fdt_tags_tag")) == 1


def test_a_rolled_back_transaction_leaves_no_audit_row(app):
    before = _audit_count(app)
    with pytest.raises(RuntimeError), app.context() as ctx:
        ctx.session.add(Customer(company_id=1, branch_id=1, code="C10", name="回滚",
                                 tier=Tier.INDIVIDUAL))
        ctx.session.flush()
        raise RuntimeError("user pressed cancel")
    assert _audit_count(app) == before


def test_audit_rows_cannot_be_changed_or_deleted(app):
    with app.context() as ctx:
        ctx.session.add(Customer(company_id=1, branch_id=1, code="C11", name="x",
                                 tier=Tier.INDIVIDUAL))
    with pytest.raises(AuditTamperError), app.context() as ctx:
        ctx.session.scalars(select(AuditLog)).first().actor = "someone else"
        ctx.session.flush()
    with pytest.raises(AuditTamperError), app.context() as ctx:
        ctx.session.delete(ctx.session.scalars(select(AuditLog)).first())
        ctx.session.flush()
    from sqlalchemy import delete, update

    with pytest.raises(AuditTamperError), app.context() as ctx:
        ctx.session.execute(update(AuditLog).values(actor="x"))
    with pytest.raises(AuditTamperError), app.context() as ctx:
        ctx.session.execute(delete(AuditLog))
    # and the database itself refuses, for SQL that bypasses the application
    with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x'"))
    assert _audit_count(app) > 0


def test_secrets_are_redacted(app):
    from kernel.auth import User, set_password

    with app.context() as ctx:
        user = ctx.session.scalars(select(User)).one()
        set_password(ctx, user, "another-password")
        user_id = user.id
    with app.sessions() as session:
        rows = history(session, "user_account", user_id)
    assert rows[-1].changes == {"password_hash": ["***", "***"]}
    assert all("argon2" not in str(r.changes) for r in rows)


def test_audit_cli_prints_a_records_history(app, fixdesk):
    with app.context() as ctx:
        customer = Customer(company_id=1, branch_id=1, code="C12", name="周志华",
                            tier=Tier.INDIVIDUAL)
        ctx.session.add(customer)
        ctx.session.flush()
        customer_id = customer.id
    with app.context(user="zhengli") as ctx:
        ctx.session.get(Customer, customer_id).note = "常客"
    out = fixdesk("--site", app.site.path, "audit", "customer", customer_id)
    assert out.code == 0
    lines = out.out.splitlines()
    assert lines[0].endswith("system  insert") and '    name: null → "周志华"' in lines
    assert lines[-2].endswith("zhengli  update") and lines[-1] == '    note: null → "常客"'
    none = fixdesk("--site", app.site.path, "audit", "customer", "99999")
    assert none.code == 2 and "no history for Customer 99999" in none.err


def test_money_changes_are_recorded_exactly(app):
    from fdt_notes.models import Note

    with app.context() as ctx:
        note = Note(branch_id=1, title="t", amount=Decimal("0.10"))
        ctx.session.add(note)
        ctx.session.flush()
        note.amount = Decimal("557.00")
        note_id = note.id
    with app.sessions() as session:
        inserted, updated = history(session, "fdt_notes_note", note_id)
    assert inserted.changes["amount"] == [None, "0.10"]
    assert updated.changes == {"amount": ["0.10", "557.00"]}


def test_the_audit_log_cannot_be_truncated(app):
    """TRUNCATE fires no row trigger: a statement trigger refuses it on PostgreSQL (SQLite
    has no TRUNCATE; its bare DELETE, which it may optimise into one, is refused)."""
    assert _audit_count(app) > 0
    wipe = "TRUNCATE audit_log" if app.engine.dialect.name == "postgresql" else \
        "DELETE FROM audit_log"
    with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
        conn.execute(text(wipe))
    if app.engine.dialect.name == "postgresql":
        with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log CASCADE"))
    assert _audit_count(app) > 0
