"""Users, roles, permissions, branch scoping (R31), API tokens and login lockout."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kernel.auth import (
    MAX_FAILED_LOGINS,
    AuthenticationFailed,
    PermissionDenied,
    User,
    add_user,
    create_token,
    revoke_token,
    user_for_token,
)
from kernel.errors import NotFound, ValidationError
from kernel.login import authenticate
from kernel.models import Customer, CustomerEquipment

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(make_site, app_of):
    """A demo site (branches SH and JD) with users of several roles."""
    app = app_of(make_site(["fdt_notes"], demo=True, branch_code="SH", branch_name="上海服务中心"))
    with app.context() as ctx:
        from kernel.masterdata import get_branch

        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        add_user(ctx, "lily", "郑丽", "front-desk-1", sh, roles=["front_desk"])
        add_user(ctx, "wuqiang", "吴芳", "supervisor-1", sh, roles=["service_supervisor"],
                 extra_branches=[jd])
        add_user(ctx, "root", "管理员", "admin-pass-1", sh, roles=["admin"])
        add_user(ctx, "boss", "总经理", "boss-pass-1", sh, roles=["branch_manager"],
                 company_wide=True)
    return app


def test_passwords_are_argon2_hashed(demo):
    with demo.sessions() as session:
        user = session.scalars(select(User).where(User.username == "lily")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert "front-desk-1" not in user.password_hash
    assert authenticate(demo, "lily", "front-desk-1", NOW).username == "lily"
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        authenticate(demo, "lily", "wrong-password", NOW)
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        authenticate(demo, "nobody", "whatever-it-is", NOW)


def test_a_site_hashes_with_argon2_defaults_and_rehashes_cheaper_hashes_at_login():
    """Outside the suite (which hashes with argon2's cheapest profile to make its users
    fast) passwords get argon2-cffi's default cost, and a hash made with less is replaced
    by one of that cost when its owner logs in."""
    import subprocess
    import sys

    code = ("from argon2.profiles import CHEAPEST\n"
            "from argon2 import PasswordHasher\n"
            "from kernel.auth import hash_password, rehash_if_outdated\n"
            "print(hash_password('front-desk-1'))\n"
            "class U: password_hash = PasswordHasher.from_parameters(CHEAPEST).hash('pw-12345')\n"
            "rehash_if_outdated(U, 'pw-12345')\n"
            "print(U.password_hash)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    fresh, rehashed = done.stdout.split()
    for stored in (fresh, rehashed):
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored


def test_short_password_and_unknown_role_are_refused(demo):
    with demo.context() as ctx:
        from kernel.masterdata import get_branch

        with pytest.raises(ValidationError, match="at least 8"):
            add_user(ctx, "x1", "x", "short", get_branch(ctx, "SH"))
        with pytest.raises(ValidationError, match="unknown role 'janitor'"):
            add_user(ctx, "x2", "x", "long-enough", get_branch(ctx, "SH"), roles=["janitor"])


def test_list_queries_only_show_the_users_branches(demo):
    with demo.context(user="lily") as ctx:
        branches = {c.branch.code for c in ctx.session.scalars(select(Customer))}
        assert branches == {"SH"}
        serials = set(ctx.session.scalars(select(CustomerEquipment.serial_no)))
        assert "E335M820091" in serials and "LV93X10235" not in serials  # JD dealer's copier
    with demo.context(user="wuqiang") as ctx:  # SH plus the extra branch JD
        assert {c.branch.code for c in ctx.session.scalars(select(Customer))} == {"SH", "JD"}
    for who in ("root", "boss"):
        with demo.context(user=who) as ctx:
            assert {c.branch.code for c in ctx.session.scalars(select(Customer))} == {"SH", "JD"}


def test_another_branchs_record_is_invisible_not_just_read_only(demo):
    with demo.sessions() as session:
        jd_customer_id = session.scalar(select(Customer.id).where(Customer.code == "C0003"))
    with demo.context(user="lily") as ctx:
        assert ctx.session.get(Customer, jd_customer_id) is None
    with demo.context() as ctx:
        jd_customer = ctx.session.get(Customer, jd_customer_id)
    with demo.context(user="lily") as ctx:
        with pytest.raises(NotFound):
            ctx.require("customer.read", jd_customer)


def test_a_line_of_another_branchs_record_is_invisible_too(demo):
    """A record seen through its parent (a customer's contact) is another branch's when
    the parent is: the parent the user cannot load makes it invisible, not branchless."""
    from kernel.models import CustomerContact

    with demo.sessions() as session:
        jd_customer_id = session.scalar(select(Customer.id).where(Customer.code == "C0003"))
    with demo.context() as ctx:
        contact = CustomerContact(customer_id=jd_customer_id, name="何经理")
        ctx.session.add(contact)
        ctx.session.flush()
        ctx.session.expunge(contact)
    with demo.context(user="lily") as ctx:
        assert not ctx.can_see(contact) and ctx.visible([contact]) == []
        with pytest.raises(NotFound):
            ctx.require("customer.read", contact)
    with demo.context(user="wuqiang") as ctx:  # SH and JD
        assert ctx.can_see(contact) and ctx.visible([contact]) == [contact]


def test_a_parent_scoped_record_stays_hidden_in_joins_subqueries_and_relationships(demo):
    """The criteria for records seen through their parent are added for the tables a
    statement names (not for every such entity on every query), wherever it names them:
    joined, in a subquery, or loaded through a relationship of a visible record."""
    from sqlalchemy import func
    from sqlalchemy.orm import LoaderCriteriaOption

    from kernel import auth
    from kernel.models import CustomerAddress

    with demo.context() as ctx:
        jd_customer = ctx.session.scalar(select(Customer).where(Customer.code == "C0003"))
        jd_address = CustomerAddress(customer_id=jd_customer.id, label="仓库",
                                     address="北京市朝阳区")
        ctx.session.add(jd_address)
        ctx.session.flush()
        sh_machine = ctx.session.scalar(
            select(CustomerEquipment).where(CustomerEquipment.serial_no == "E335M820091"))
        sh_machine.address_id = jd_address.id  # a wrong address: another branch's
        jd_address_id, sh_machine_id = jd_address.id, sh_machine.id
    with demo.context(user="lily") as ctx:
        session = ctx.session
        assert session.get(CustomerAddress, jd_address_id) is None
        joined = select(CustomerAddress.id).join(Customer,
                                                 Customer.id == CustomerAddress.customer_id)
        assert jd_address_id not in set(session.scalars(joined))
        inner = select(CustomerAddress.customer_id).where(CustomerAddress.id == jd_address_id)
        assert session.scalar(select(func.count()).select_from(Customer)
                              .where(Customer.id.in_(inner))) == 0
        machine = session.get(CustomerEquipment, sh_machine_id)
        assert machine is not None and machine.address is None
        # a query of customers carries one criterion (its own branch), not one per entity
        info = session.info
        customers = frozenset({Customer.__table__})
        options = auth._scope_options(info, info[auth.SCOPE_KEY], customers)
        assert sum(isinstance(o, LoaderCriteriaOption) for o in options) == 1
    with demo.context(user="wuqiang") as ctx:  # SH and JD
        machine = ctx.session.get(CustomerEquipment, sh_machine_id)
        assert machine.address is not None and machine.address.id == jd_address_id


def test_branch_criteria_are_kept_for_the_latest_sets_of_branches_and_tables(demo,
                                                                              monkeypatch):
    """Options are made once per set of branches and tables and kept up to a bound: the
    oldest make room for new ones (a company with many branches and users)."""
    from kernel import auth

    monkeypatch.setattr(auth, "SCOPE_OPTIONS_KEPT", 3)
    with demo.sessions() as session:
        info = session.info
        info[auth.SCOPE_OPTIONS_KEY].clear()
        customers = frozenset({Customer.__table__})
        made = [auth._scope_options(info, frozenset({n}), customers) for n in range(5)]
        assert len(info[auth.SCOPE_OPTIONS_KEY]) == 3
        assert auth._scope_options(info, frozenset({4}), customers) is made[4]  # kept
        assert auth._scope_options(info, frozenset({0}), customers) is not made[0]  # made again


def test_require_checks_role_permissions_from_plugins(demo):
    with demo.context(user="lily") as ctx:
        ctx.require("fdt_note.create")  # granted by the test plugin to front desk
        ctx.require("customer.update")
        with pytest.raises(PermissionDenied, match="permission denied: user.create"):
            ctx.require("user.create")
    with demo.context(user="root") as ctx:
        ctx.require("user.create")
        ctx.require("anything.at_all")


def test_role_grants_change_the_defaults(demo):
    from kernel.auth import RoleGrant

    with demo.context() as ctx:
        ctx.session.add(RoleGrant(role="front_desk", permission="customer.update", granted=False))
        ctx.session.add(RoleGrant(role="front_desk", permission="audit.read", granted=True))
    with demo.context(user="lily") as ctx:
        assert not ctx.can("customer.update") and ctx.can("audit.read")


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(demo):
    from kernel.auth import ApiToken, get_user

    with demo.context(clock=lambda: NOW) as ctx:  # a frozen clock
        row, token = create_token(ctx, get_user(ctx.session, "wuqiang"), "dispatch board", days=30)
        token_id = row.id
    with demo.sessions.begin() as session:
        stored = session.get(ApiToken, token_id)
        assert token not in (stored.token_hash, stored.lookup) and len(stored.token_hash) == 64
        assert user_for_token(session, token, NOW).username == "wuqiang"
        with pytest.raises(AuthenticationFailed):
            user_for_token(session, token[:-1] + "x", NOW)
        with pytest.raises(AuthenticationFailed):
            user_for_token(session, token, NOW + dt.timedelta(days=31))  # expired
    with demo.context() as ctx:
        revoke_token(ctx, token_id)
    with demo.sessions() as session, pytest.raises(AuthenticationFailed):
        user_for_token(session, token, NOW)


def test_failed_logins_lock_the_account_across_processes(demo):
    """The counter lives in the database: two apps (two server processes) share it."""
    other_process = demo.site.start()
    try:
        apps = [demo, other_process]
        for attempt in range(MAX_FAILED_LOGINS):
            with pytest.raises(AuthenticationFailed, match="wrong"):
                authenticate(apps[attempt % 2], "lily", "guess-" + str(attempt), NOW)
        with pytest.raises(AuthenticationFailed, match="locked"):
            authenticate(other_process, "lily", "front-desk-1", NOW)  # even the right one
        later = NOW + dt.timedelta(minutes=16)
        assert authenticate(demo, "lily", "front-desk-1", later).username == "lily"
    finally:
        other_process.close()


def test_user_cli(demo, fixdesk):
    site = demo.site.path
    added = fixdesk("--site", site, "user", "add", "wangli", "--name", "王建国",
                    "--branch", "SH", "--roles", "engineer", "--password", "engineer-1")
    assert added.code == 0, added
    listing = fixdesk("--site", site, "user", "list").out.splitlines()
    assert listing[0].split("\t")[0] == "USERNAME"
    row = next(ln.split("\t") for ln in listing if ln.startswith("wangli"))
    assert row[1:5] == ["王建国", "SH", "engineer", "SH"]
    assert fixdesk("--site", site, "user", "set-roles", "wangli",
                   "engineer,front_desk").code == 0
    bad = fixdesk("--site", site, "user", "set-roles", "wangli", "janitor")
    assert bad.code == 2 and bad.err.startswith("error: unknown role 'janitor'")
    assert fixdesk("--site", site, "user", "set-password", "wangli", "--password",
                   "new-password-1").code == 0
    assert authenticate(demo, "wangli", "new-password-1", NOW).username == "wangli"
    made = fixdesk("--site", site, "user", "token", "add", "wangli", "--name", "tablet")
    token = made.out.splitlines()[1]
    assert token.startswith("fdk_")
    with demo.sessions() as session:
        assert user_for_token(session, token, NOW).username == "wangli"
    listing = fixdesk("--site", site, "user", "token", "list", "wangli").out
    assert token not in listing and "tablet" in listing
    token_id = listing.splitlines()[1].split("\t")[0]
    assert fixdesk("--site", site, "user", "token", "revoke", token_id).code == 0
    missing = fixdesk("--site", site, "user", "set-password", "ghost", "--password", "x" * 9)
    assert (missing.code, missing.err) == (2, "error: no user 'ghost'\n")


def test_role_cli_grants_and_revokes(demo, fixdesk):
    site = demo.site.path
    assert fixdesk("--site", site, "role", "revoke", "front_desk", "customer.update").code == 0
    listing = fixdesk("--site", site, "role", "list", "front_desk").out
    assert "customer.read" in listing and "customer.update" not in listing
    with demo.context(user="lily") as ctx:
        assert not ctx.can("customer.update")
    assert fixdesk("--site", site, "role", "grant", "front_desk", "customer.update").code == 0
    with demo.context(user="lily") as ctx:
        assert ctx.can("customer.update")
    bad = fixdesk("--site", site, "role", "grant", "front_desk", "nope.x")
    assert (bad.code, bad.err) == (2, "error: unknown permission 'nope.x'\n")
    bad = fixdesk("--site", site, "role", "grant", "admin", "customer.read")
    assert bad.code == 2 and "admins hold every permission" in bad.err


def test_lockout_limits_are_settings(demo, fixdesk):
    assert fixdesk("--site", demo.site.path, "settings", "set", "kernel.login_max_attempts",
                   "2").code == 0
    for _attempt in range(2):
        with pytest.raises(AuthenticationFailed, match="wrong"):
            authenticate(demo, "lily", "not-it-at-all", NOW)
    with pytest.raises(AuthenticationFailed, match="locked"):
        authenticate(demo, "lily", "front-desk-1", NOW)
