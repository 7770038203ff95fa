"""The admin console's users: list, create, change, disable, passwords, API tokens and
failed logins, through real HTTP as an admin; the same services as ``fixdesk user``."""

from __future__ import annotations

import re

from sqlalchemy import event, func, select

from kernel.audit import AuditLog
from kernel.auth import MAX_FAILED_LOGINS, ApiToken, User, UserBranch, UserRole, add_user
from kernel.login import LoginFailure, WebSession
from kernel.masterdata import get_branch

from .conftest import PASSWORD

SECRET = re.compile(r'<p class="secret" data-secret>([^<]+)</p>')
USERS = "/desk/admin/users"


def secret_of(page) -> str:
    found = SECRET.search(page.text)
    assert found, page.text
    return found.group(1)


def audit_rows(desk, entity: str, **where) -> list[AuditLog]:
    with desk.app.sessions() as session:
        rows = list(session.scalars(select(AuditLog).filter_by(entity=entity, **where)
                                    .order_by(AuditLog.id)))
        session.expunge_all()
        return rows


def audit_count(desk) -> int:
    return desk.count(AuditLog)


def new_user_form(client, **changes) -> dict:
    form = {"csrf": client.csrf, "username": "jdsuper", "full_name": "嘉定主管",
            "email": "jdsuper@example.com", "home_branch": "JD",
            "roles": ["service_supervisor"], "password": "supervisor-1"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def log_in(desk, username: str, password: str):
    client = desk.browser()
    return client, client.post("/login", data={"username": username, "password": password})


def let_one_address_lock_an_account(desk) -> None:
    """Let the test client's one address fail often enough to lock an account (else that
    address is made to wait, 429, after 5 failures: tests/kernel/test_logins.py)."""
    from kernel.settings import set_setting

    with desk.app.context() as ctx:
        set_setting(ctx, "kernel.login_address_account_attempts", MAX_FAILED_LOGINS + 5)


def test_the_list_shows_every_user_with_roles_and_branches(desk):
    root = desk.login("root")
    with desk.app.context() as ctx:
        add_user(ctx, "multi", "两个网点", None, get_branch(ctx, "SH"), roles=["engineer"],
                 extra_branches=[get_branch(ctx, "JD")])
    page = root.get(USERS)
    assert page.status_code == 200
    row = re.search(r'<tr data-user="multi">(.*?)</tr>', page.text, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert "两个网点" in cells[1] and cells[2] == "SH" and cells[4] == "JD"
    assert "工程师" in cells[3] or "Engineer" in cells[3] or "engineer" in cells[3]
    for username in ("root", "lily", "wangli", "supersh", "jdfront"):
        assert f'data-user="{username}"' in page.text
    found = root.get(USERS, params={"q": "jdfr"})
    assert 'data-user="jdfront"' in found.text and 'data-user="lily"' not in found.text
    # the search is a contains match, with LIKE's wildcards taken literally
    assert 'data-user=' not in root.get(USERS, params={"q": "%"}).text


def test_the_list_pages_by_user_name_in_a_fixed_number_of_queries(desk):
    root = desk.login("root")
    with desk.app.context() as ctx:
        sh, jd = get_branch(ctx, "SH"), get_branch(ctx, "JD")
        for n in range(60):
            add_user(ctx, f"u{n:03d}", f"用户{n}", None, sh, roles=["engineer", "front_desk"],
                     extra_branches=[jd])
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(desk.app.engine, "before_cursor_execute", count)
    try:
        first = root.get(USERS)
    finally:
        event.remove(desk.app.engine, "before_cursor_execute", count)
    assert first.status_code == 200
    assert first.text.count("<tr data-user=") == 50
    assert len(statements) < 20, len(statements)  # not one per user
    more = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    second = root.get(more)
    names = re.findall(r'<tr data-user="([^"]+)"', second.text)
    assert names and len(names) + 50 == desk.count(User)
    assert not set(names) & set(re.findall(r'<tr data-user="([^"]+)"', first.text))
    assert 'rel="next"' not in second.text


def test_an_admin_creates_a_supervisor_for_jd_who_logs_in(desk):
    root = desk.login("root")
    answer = root.post(USERS, data=new_user_form(root))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{USERS}/jdsuper?done=created"
    page = root.get(answer.headers["location"])
    assert page.status_code == 200 and 'class="notice"' in page.text
    assert "class=\"secret\"" not in page.text
    made = desk.get(User, username="jdsuper")
    assert made.full_name == "嘉定主管" and made.email == "jdsuper@example.com"
    inserted = audit_rows(desk, "user_account", action="insert", record_id=str(made.id))
    assert inserted and inserted[0].actor == "root"
    assert inserted[0].changes["password_hash"] == [None, "***"]
    assert audit_rows(desk, "user_role", action="insert")
    jdsuper, logged_in = log_in(desk, "jdsuper", "supervisor-1")
    assert logged_in.status_code == 303
    assert jdsuper.get("/").status_code == 200
    assert jdsuper.get("/desk/admin").status_code == 403
    with desk.app.context(user="jdsuper") as ctx:
        assert ctx.branch.code == "JD" and ctx.user.roles == ["service_supervisor"]


def test_a_generated_password_is_shown_once_and_works(desk):
    root = desk.login("root")
    answer = root.post(USERS, data=new_user_form(root, password=""))
    assert answer.status_code == 200
    secret = secret_of(answer)
    assert len(secret) >= 12
    assert secret not in root.get(f"{USERS}/jdsuper").text
    assert secret not in root.get(USERS).text
    _client, logged_in = log_in(desk, "jdsuper", secret)
    assert logged_in.status_code == 303
    with desk.app.sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "jdsuper"))
    assert secret not in stored


BAD = [
    ({"username": "bad name!"}, "username", 422),
    ({"username": "nul\x00name"}, "username", 422),
    ({"username": "x" * 10_000}, "username", 422),
    ({"username": "lily"}, "username", 409),
    ({"full_name": "名" * 10_000}, "full_name", 422),
    ({"full_name": "ctrl\x01char"}, "full_name", 422),
    ({"full_name": "rtl\u202echar"}, "full_name", 422),
    ({"email": "not-an-address"}, "email", 422),
    ({"email": "a@b.c\x00"}, "email", 422),
    ({"roles": ["front_desk", "janitor"]}, "roles", 422),
    ({"home_branch": "XX"}, "home_branch", 422),
    ({"home_branch": ""}, "home_branch", 422),
    ({"branches": ["JD", "NOPE"]}, "branches", 422),
    ({"password": "short"}, "password", 422),
    ({"password": "p" * 10_000}, "password", 422),
    ({"password": "with\x00nul-char"}, "password", 422),
    ({"username": ["twice", "sent"]}, "username", 422),
]


def test_bad_input_is_refused_under_its_field_and_nothing_is_written(desk):
    root = desk.login("root")
    users, audits = desk.count(User), audit_count(desk)
    for changes, field, status in BAD:  # each refused: the next one starts from the same site
        case = f"{field}: {changes!r:.80}"
        answer = root.post(USERS, data=new_user_form(root, **changes))
        assert answer.status_code == status, (case, answer.text[:500])
        assert f'class="field-error" id="e-{field}"' in answer.text, case
        if field not in ("roles", "branches"):  # checkboxes: the message is under the group
            assert 'aria-invalid="true"' in answer.text, case
        assert (desk.count(User), audit_count(desk)) == (users, audits), case


def test_writes_need_the_csrf_token_and_others_get_403(desk):
    # every role's 403 on every console URL: test_admin_console; here, that refused
    # writes with real data change nothing
    root = desk.login("root")
    users, audits = desk.count(User), audit_count(desk)
    form = new_user_form(root)
    del form["csrf"]
    assert root.post(USERS, data=form).status_code == 403
    for path, data in [("", {"full_name": "x", "home_branch": "SH"}), ("/active", {"active": "0"}),
                       ("/password", {}), ("/unlock", {}), ("/tokens", {"name": "x"})]:
        answer = root.post(f"{USERS}/lily{path}", data=data)
        assert answer.status_code == 403, path
        answer = root.post(f"{USERS}/lily{path}", data={**data, "csrf": "wrong"})
        assert answer.status_code == 403, path
    supersh = desk.login("supersh")
    gets = [USERS, f"{USERS}/lily", f"{USERS}?q=l"]
    posts = [USERS, f"{USERS}/lily", f"{USERS}/lily/active", f"{USERS}/lily/password",
             f"{USERS}/lily/unlock", f"{USERS}/lily/tokens", f"{USERS}/lily/tokens/1/revoke"]
    for url in gets:
        assert supersh.get(url).status_code == 403, url
    for url in posts:
        assert supersh.post(url, data={**new_user_form(supersh), "active": "0"}).status_code \
            == 403, url
    assert (desk.count(User), audit_count(desk)) == (users, audits)
    assert desk.get(User, username="lily").active


def test_editing_details_roles_and_extra_branches_is_audited(desk):
    root = desk.login("root")
    lily_id = desk.id_of(User, username="lily")
    answer = root.post(f"{USERS}/lily", data={
        "csrf": root.csrf, "full_name": "郑丽丽", "email": "lily@example.com",
        "home_branch": "SH", "roles": ["front_desk", "accountant"], "branches": ["JD"]})
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["location"] == f"{USERS}/lily?done=saved"
    lily = desk.get(User, username="lily")
    assert (lily.full_name, lily.email) == ("郑丽丽", "lily@example.com")
    with desk.app.sessions() as session:
        assert sorted(session.scalars(select(UserRole.role).filter_by(user_id=lily_id))) == \
            ["accountant", "front_desk"]
        assert session.scalar(select(func.count()).select_from(UserBranch)
                              .filter_by(user_id=lily_id)) == 1
    assert audit_rows(desk, "user_branch", action="insert")
    assert [r.changes["role"][1] for r in audit_rows(desk, "user_role", action="insert")
            if r.actor == "root"] == ["accountant"]
    changed = audit_rows(desk, "user_account", action="update", record_id=str(lily_id))
    assert changed[-1].changes["full_name"] == ["lily 测试", "郑丽丽"]
    with desk.app.context(user="lily") as ctx:
        assert ctx.user.branch_ids == {get_branch(ctx, "SH").id, get_branch(ctx, "JD").id}
    # the extra branches taken away again: a delete in the audit trail
    answer = root.post(f"{USERS}/lily", data={
        "csrf": root.csrf, "full_name": "郑丽丽", "home_branch": "SH", "roles": "front_desk"})
    assert answer.status_code == 303
    assert audit_rows(desk, "user_branch", action="delete")
    assert audit_rows(desk, "user_role", action="delete")
    assert desk.get(User, username="lily").email is None


def test_a_refused_edit_changes_nothing(desk):
    root = desk.login("root")
    audits = audit_count(desk)
    answer = root.post(f"{USERS}/lily", data={
        "csrf": root.csrf, "full_name": "新名字", "home_branch": "SH",
        "roles": ["front_desk", "janitor"]})
    assert answer.status_code == 422
    assert 'id="e-roles"' in answer.text and "janitor" in answer.text
    assert 'value="新名字"' in answer.text  # the form keeps what was typed
    assert desk.get(User, username="lily").full_name == "lily 测试"
    assert audit_count(desk) == audits
    assert root.get(f"{USERS}/ghost").status_code == 404
    assert root.post(f"{USERS}/ghost/unlock", data={"csrf": root.csrf}).status_code == 404


def test_an_admin_can_neither_disable_himself_nor_drop_his_admin_role(desk):
    root = desk.login("root")
    answer = root.post(f"{USERS}/root/active", data={"csrf": root.csrf, "active": "0"})
    assert answer.status_code == 422
    assert 'id="e-active"' in answer.text
    answer = root.post(f"{USERS}/root", data={
        "csrf": root.csrf, "full_name": "root", "home_branch": "SH", "roles": "front_desk"})
    assert answer.status_code == 422 and 'id="e-roles"' in answer.text
    me = desk.get(User, username="root")
    assert me.active
    with desk.app.sessions() as session:
        assert session.scalars(select(UserRole.role).filter_by(user_id=me.id)).all() == ["admin"]
    assert root.get("/desk/admin").status_code == 200


def test_disabling_ends_sessions_and_revokes_tokens_at_once(desk):
    root = desk.login("root")
    lily = desk.login("lily")
    made = root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": "平板"})
    assert made.status_code == 200
    bearer = {"Authorization": f"Bearer {secret_of(made)}"}
    api = desk.browser()
    assert api.get("/api/v1/customer", headers=bearer).status_code == 200
    lily_id = desk.id_of(User, username="lily")
    assert desk.count(WebSession, user_id=lily_id) == 1
    answer = root.post(f"{USERS}/lily/active", data={"csrf": root.csrf, "active": "0"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{USERS}/lily?done=disabled"
    logged_out = lily.get("/")
    assert logged_out.status_code == 303 and logged_out.headers["location"].startswith("/login")
    assert api.get("/api/v1/customer", headers=bearer).status_code == 401
    assert desk.count(WebSession, user_id=lily_id) == 0
    assert desk.get(ApiToken, user_id=lily_id).revoked_at is not None
    assert audit_rows(desk, "user_account", action="update", record_id=str(lily_id))[-1] \
        .changes == {"active": [True, False]}
    assert audit_rows(desk, "api_token", action="update")[-1].changes["revoked_at"][0] is None
    _client, refused = log_in(desk, "lily", PASSWORD)
    assert refused.status_code == 401
    # enabled again: she logs in, her old token stays revoked
    answer = root.post(f"{USERS}/lily/active", data={"csrf": root.csrf, "active": "1"})
    assert answer.headers["location"] == f"{USERS}/lily?done=enabled"
    _client, again = log_in(desk, "lily", PASSWORD)
    assert again.status_code == 303
    assert api.get("/api/v1/customer", headers=bearer).status_code == 401
    bad = root.post(f"{USERS}/lily/active", data={"csrf": root.csrf, "active": "maybe"})
    assert bad.status_code == 422 and 'id="e-active"' in bad.text


def test_a_reset_password_is_shown_once_and_works_and_unlocks(desk):
    root = desk.login("root")
    answer = root.post(f"{USERS}/lily/password", data={"csrf": root.csrf, "password": ""})
    assert answer.status_code == 200
    secret = secret_of(answer)
    assert secret not in root.get(f"{USERS}/lily").text
    _client, old = log_in(desk, "lily", PASSWORD)
    assert old.status_code == 401
    _client, new = log_in(desk, "lily", secret)
    assert new.status_code == 303
    changed = audit_rows(desk, "user_account", action="update")[-1]
    assert changed.changes == {"password_hash": ["***", "***"]} and changed.actor == "root"
    typed = root.post(f"{USERS}/lily/password", data={"csrf": root.csrf,
                                                      "password": "typed-pass-1"})
    assert typed.status_code == 303 and typed.headers["location"].endswith("done=password")
    _client, works = log_in(desk, "lily", "typed-pass-1")
    assert works.status_code == 303
    short = root.post(f"{USERS}/lily/password", data={"csrf": root.csrf, "password": "1234"})
    assert short.status_code == 422 and 'id="e-password"' in short.text
    _client, still = log_in(desk, "lily", "typed-pass-1")
    assert still.status_code == 303


def test_failed_logins_are_shown_and_an_admin_unlocks_the_account(desk):
    root = desk.login("root")
    let_one_address_lock_an_account(desk)
    for attempt in range(MAX_FAILED_LOGINS):
        _client, wrong = log_in(desk, "lily", f"wrong-{attempt}")
        assert wrong.status_code == 401
    _client, locked = log_in(desk, "lily", PASSWORD)
    assert locked.status_code == 401
    page = root.get(f"{USERS}/lily")
    assert re.search(r"<dd data-locked-until>\d{4}-\d\d-\d\d \d\d:\d\d</dd>", page.text)
    assert desk.count(LoginFailure, username="lily") == MAX_FAILED_LOGINS + 1
    assert page.text.count("<td>testclient</td>") == MAX_FAILED_LOGINS + 1
    listing = root.get(USERS).text
    row = re.search(r'<tr data-user="lily">(.*?)</tr>', listing, re.S).group(1)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)
    answer = root.post(f"{USERS}/lily/unlock", data={"csrf": root.csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{USERS}/lily?done=unlocked"
    assert desk.get(User, username="lily").locked_until is None
    _client, works = log_in(desk, "lily", PASSWORD)
    assert works.status_code == 303


def test_api_tokens_are_created_shown_once_and_revoked(desk):
    root = desk.login("root")
    made = root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": "看板",
                                                   "days": "30"})
    assert made.status_code == 200
    secret = secret_of(made)
    row = desk.get(ApiToken, name="看板")
    assert row.expires_at is not None and secret not in (row.token_hash, row.lookup)
    page = root.get(f"{USERS}/lily")
    assert secret not in page.text and f'data-token="{row.id}"' in page.text
    api = desk.browser()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/customer", headers=bearer).status_code == 200
    assert audit_rows(desk, "api_token", action="insert")[-1].changes["token_hash"] == \
        [None, "***"]
    # another user's address does not revoke lily's token
    other = root.post(f"{USERS}/wangli/tokens/{row.id}/revoke", data={"csrf": root.csrf})
    assert other.status_code == 404
    assert api.get("/api/v1/customer", headers=bearer).status_code == 200
    answer = root.post(f"{USERS}/lily/tokens/{row.id}/revoke", data={"csrf": root.csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{USERS}/lily?done=revoked"
    assert api.get("/api/v1/customer", headers=bearer).status_code == 401
    assert audit_rows(desk, "api_token", action="update")[-1].changes["revoked_at"][0] is None
    for days in ("-3", "abc", "99999", "1.5"):
        bad = root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": "x",
                                                      "days": days})
        assert bad.status_code == 422 and 'id="e-days"' in bad.text, days
    bad = root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": "n" * 10_000})
    assert bad.status_code == 422 and 'id="e-name"' in bad.text
    bad = root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": "a\x00b"})
    assert bad.status_code == 422
    assert desk.count(ApiToken) == 1
    # empty: the site's default lifetime (90 days); 0: never expires
    for days, name in (("", "默认"), ("0", "永久")):
        assert root.post(f"{USERS}/lily/tokens", data={"csrf": root.csrf, "name": name,
                                                       "days": days}).status_code == 200
    default, forever = desk.get(ApiToken, name="默认"), desk.get(ApiToken, name="永久")
    assert (default.expires_at - default.created_at).days in (89, 90)
    assert forever.expires_at is None


def test_cli_set_active_false_ends_sessions_and_unlock_unlocks(desk, fixdesk):
    site = desk.app.site.path
    lily = desk.login("lily")
    made = fixdesk("--site", site, "user", "token", "add", "lily", "--name", "tablet")
    bearer = {"Authorization": f"Bearer {made.out.splitlines()[1]}"}
    api = desk.browser()
    assert api.get("/api/v1/customer", headers=bearer).status_code == 200
    done = fixdesk("--site", site, "user", "set-active", "lily", "false")
    assert (done.code, done.out) == (0, "lily is now inactive\n")
    assert lily.get("/").status_code == 303
    assert api.get("/api/v1/customer", headers=bearer).status_code == 401
    assert desk.count(WebSession, user_id=desk.id_of(User, username="lily")) == 0
    assert fixdesk("--site", site, "user", "set-active", "lily", "true").code == 0
    let_one_address_lock_an_account(desk)
    for attempt in range(MAX_FAILED_LOGINS):
        log_in(desk, "lily", f"wrong-{attempt}")
    assert log_in(desk, "lily", PASSWORD)[1].status_code == 401
    unlocked = fixdesk("--site", site, "user", "unlock", "lily")
    assert (unlocked.code, unlocked.out) == (0, "lily is unlocked\n")
    assert log_in(desk, "lily", PASSWORD)[1].status_code == 303
    missing = fixdesk("--site", site, "user", "unlock", "ghost")
    assert (missing.code, missing.err) == (2, "error: no user 'ghost'\n")


def test_cli_sets_extra_branches(desk, fixdesk):
    site = desk.app.site.path
    done = fixdesk("--site", site, "user", "set-branches", "lily", "jd")
    assert (done.code, done.out) == (0, "extra branches of lily: JD\n")
    lily_id = desk.id_of(User, username="lily")
    assert desk.count(UserBranch, user_id=lily_id) == 1
    assert fixdesk("--site", site, "user", "set-branches", "lily").code == 0
    assert desk.count(UserBranch, user_id=lily_id) == 0
    bad = fixdesk("--site", site, "user", "set-branches", "lily", "XX")
    assert bad.code == 2 and "XX" in bad.err
