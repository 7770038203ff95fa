"""Users, roles, permissions, branch scoping, password hashing, API tokens, login lockout (R31).

A user has one home branch and optional extra branches; what they may do comes
from their roles. Permissions are ``entity.action`` strings contributed by
plugins through ``fixdesk_permissions`` together with default grants per role.
Users without company-wide scope never see records of other branches: list
queries are filtered in one place (:func:`install_branch_scope`), and
:meth:`kernel.context.Context.require` answers "not found" for such a record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Integer, String, Table, event, inspect, or_, select
from sqlalchemy.orm import (
    Mapped,
    Session,
    UserDefinedOption,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    with_loader_criteria,
)
from sqlalchemy.sql.util import find_tables

from kernel.contributions import Permission, Setting
from kernel.db import Base, BranchMixin, IdMixin, TimestampMixin, UTCDateTime
from kernel.errors import Conflict, FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, _
from kernel.models import Branch
from kernel.values import BIDI_CONTROLS

ADMIN = "admin"
#: the built-in roles, in the order the desk shows them
ROLES = (
    ADMIN,
    "branch_manager",
    "service_supervisor",
    "front_desk",
    "engineer",
    "warehouse_keeper",
    "accountant",
)
ROLE_LABELS = (N_("admin"), N_("branch_manager"), N_("service_supervisor"), N_("front_desk"),
               N_("engineer"), N_("warehouse_keeper"), N_("accountant"))
#: roles that see every branch of the company
COMPANY_WIDE_ROLES = frozenset({ADMIN})

#: failed logins in a row, from any addresses, before the account is locked
MAX_FAILED_LOGINS = 10
LOCK_MINUTES = 15
#: failed logins of one account from one address within the window before that address
#: must wait (429) for that account; other accounts at the address are not affected
ADDRESS_ACCOUNT_FAILURES = 5
#: failed logins from one address (any accounts) within the window before the address is
#: slowed down: an account that failed from it gets no more tries until the window frees
ADDRESS_FAILURES = 100
LOGIN_WINDOW_MINUTES = 15
#: days a new API token lives unless told otherwise (0: never expires)
TOKEN_DEFAULT_DAYS = 90
#: a desk session ends after this many minutes without a request ...
SESSION_IDLE_MINUTES = 8 * 60
#: ... and this many hours after logging in, however busy
SESSION_MAX_HOURS = 7 * 24


def _between(low: int, high: int):
    def check(value: int) -> None:
        if not low <= value <= high:
            raise ValidationError(_("must be a whole number from {low} to {high}").format(
                low=low, high=high), field="value")
    return check


KERNEL_SETTINGS = [
    Setting("kernel.login_max_attempts", int, MAX_FAILED_LOGINS,
            N_("Failed logins in a row before an account is locked"),
            validate=_between(1, 1000)),
    Setting("kernel.login_lock_minutes", int, LOCK_MINUTES,
            N_("Minutes a locked account stays locked"), validate=_between(1, 10_000)),
    Setting("kernel.login_address_account_attempts", int, ADDRESS_ACCOUNT_FAILURES,
            N_("Failed logins of one account from one address before that address must "
               "wait for that account"), validate=_between(1, 1000)),
    Setting("kernel.login_address_attempts", int, ADDRESS_FAILURES,
            N_("Failed logins from one address before accounts that failed there must wait"),
            validate=_between(1, 100_000)),
    Setting("kernel.login_window_minutes", int, LOGIN_WINDOW_MINUTES,
            N_("Minutes failed logins from an address are counted"),
            validate=_between(1, 10_000)),
    Setting("kernel.token_default_days", int, TOKEN_DEFAULT_DAYS,
            N_("Days a new API token lives unless told otherwise (0: never expires)"),
            validate=_between(0, 3650)),
    Setting("kernel.session_idle_minutes", int, SESSION_IDLE_MINUTES,
            N_("Minutes without a request after which a desk session ends"),
            validate=_between(5, 100_000)),
    Setting("kernel.session_max_hours", int, SESSION_MAX_HOURS,
            N_("Hours after logging in at which a desk session ends however busy"),
            validate=_between(1, 100_000)),
]
TOKEN_PREFIX = "fdk"
#: the longest password accepted (argon2 takes any length; a typing accident does not)
PASSWORD_MAX = 200
#: letters and digits that cannot be mistaken for each other, for generated passwords
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_PASSWORD_LENGTH = 14
#: the longest an API token may live
MAX_TOKEN_DAYS = 3650
#: what the admin console shows of a user's failed logins
RECENT_FAILURES = 20

_hasher = PasswordHasher()  # argon2-cffi's defaults (RFC 9106, low-memory profile)


def use_password_hashing(parameters) -> None:
    """Hash new passwords of this process with other argon2 ``parameters``
    (:class:`argon2.Parameters`). The test suite takes argon2's cheapest profile: it makes
    thousands of users, each hash costing ~0.1 s of CPU with the defaults. Existing hashes
    keep verifying with their own parameters and are rehashed at the next login."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)


class PermissionDenied(FixdeskError):
    """The user may not do this (HTTP 403)."""

    status = 403
    code = "forbidden"


class AuthenticationFailed(FixdeskError):
    """Wrong user name, password or token, or an inactive or locked account (HTTP 401)."""

    status = 401
    code = "unauthenticated"


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------


class User(IdMixin, TimestampMixin, Base):
    """A person who logs in (R31: everyone has their own account)."""

    __tablename__ = "user_account"
    __expose__ = False  # managed by its own commands, not the generic API
    __audit_exclude__ = frozenset({"failed_logins", "locked_until", "last_login_at"})
    __audit_redact__ = frozenset({"password_hash"})

    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    company_wide: Mapped[bool] = mapped_column(Boolean, default=False)
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    locale: Mapped[str | None] = mapped_column(String(10))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    home_branch: Mapped[Branch] = relationship(lambda: Branch)
    role_rows: Mapped[list[UserRole]] = relationship(lambda: UserRole,
                                                     cascade="all, delete-orphan",
                                                     order_by=lambda: UserRole.role)
    branch_rows: Mapped[list[UserBranch]] = relationship(lambda: UserBranch,
                                                         cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.role_rows]

    @property
    def sees_all_branches(self) -> bool:
        return self.company_wide or bool(COMPANY_WIDE_ROLES & set(self.roles))

    @property
    def branch_ids(self) -> set[int]:
        """The branches whose records this user may see (unless company-wide)."""
        return {self.home_branch_id, *(r.branch_id for r in self.branch_rows)}


class UserRole(Base):
    """One role of a user."""

    __tablename__ = "user_role"
    __expose__ = False  # managed by its own commands, not the generic API

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class UserBranch(Base):
    """An extra branch a user works for besides the home branch."""

    __tablename__ = "user_branch"
    __expose__ = False  # managed by its own commands, not the generic API

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)


class RoleGrant(IdMixin, TimestampMixin, Base):
    """An admin's change to a role's default permissions: grant (True) or revoke (False)."""

    __tablename__ = "role_grant"
    __expose__ = False  # managed by its own commands, not the generic API

    role: Mapped[str] = mapped_column(String(40), index=True)
    permission: Mapped[str] = mapped_column(String(100))
    granted: Mapped[bool] = mapped_column(Boolean)


class ApiToken(IdMixin, TimestampMixin, Base):
    """A bearer token for the API; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"
    __expose__ = False  # managed by its own commands, not the generic API
    __audit_exclude__ = frozenset({"last_used_at"})
    __audit_redact__ = frozenset({"token_hash"})

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100))
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lambda: User)


AUTH_ENTITIES = [User, UserRole, UserBranch, RoleGrant, ApiToken]


def _touch_owner(_mapper, connection, row) -> None:
    """A user's roles or extra branches changed: move his ``updated_at`` on, which is what
    the servers' caches of him compare (:mod:`kernel.auth_cache`), in every process."""
    table = User.__table__
    connection.execute(table.update().where(table.c.id == row.user_id)
                       .values(updated_at=dt.datetime.now(dt.UTC)))


for _owned in (UserRole, UserBranch):
    for _change in ("after_insert", "after_update", "after_delete"):
        event.listen(_owned, _change, _touch_owner)

#: the kernel's own permissions and who gets them by default
KERNEL_PERMISSIONS = [
    Permission("company", "read", ROLES),
    Permission("company", "update", ()),
    Permission("branch", "read", ROLES),
    Permission("branch", "create", ()),
    Permission("branch", "update", ()),
    Permission("employee", "read", ROLES),
    Permission("employee", "create", ("branch_manager",)),
    Permission("employee", "update", ("branch_manager",)),
    Permission("customer", "read", ROLES),
    Permission("customer", "create", ("branch_manager", "service_supervisor", "front_desk",
                                      "accountant")),
    Permission("customer", "update", ("branch_manager", "service_supervisor", "front_desk",
                                      "accountant")),
    Permission("customer", "delete", ("branch_manager",)),
    Permission("customer_equipment", "read", ROLES),
    Permission("customer_equipment", "create", ("branch_manager", "service_supervisor",
                                                "front_desk")),
    Permission("customer_equipment", "update", ("branch_manager", "service_supervisor",
                                                "front_desk", "engineer")),
    Permission("customer_equipment", "delete", ("branch_manager",)),
    Permission("user", "read", ("branch_manager",)),
    Permission("user", "create", ()),
    Permission("user", "update", ()),
    Permission("audit", "read", ("branch_manager", "service_supervisor")),
    Permission("settings", "read", ("branch_manager",)),
    Permission("settings", "update", ()),
    Permission("hooks", "update", ()),
    Permission("job", "read", ()),
]


# --------------------------------------------------------------------------
# permissions
# --------------------------------------------------------------------------


class PermissionTable:
    """Effective permissions per role: the plugins' defaults changed by the admins' grants.

    Defaults come from each :class:`Permission`'s roles and from each plugin
    :class:`~kernel.contributions.Role`'s own list.
    """

    def __init__(self, declared: Iterable[Permission], grants: Iterable[RoleGrant] = (),
                 roles: Iterable = ()):
        self.declared = {p.name: p for p in declared}
        self.by_role: dict[str, set[str]] = {role: set() for role in ROLES}
        for perm in self.declared.values():
            for role in perm.roles:
                self.by_role.setdefault(role, set()).add(perm.name)
        for role in roles:
            self.by_role.setdefault(role.name, set()).update(role.permissions)
        for grant in grants:
            target = self.by_role.setdefault(grant.role, set())
            (target.add if grant.granted else target.discard)(grant.permission)

    def allows(self, roles: Iterable[str], permission: str) -> bool:
        roles = set(roles)
        if ADMIN in roles:
            return True
        return any(permission in self.by_role.get(role, ()) for role in roles)


def hash_password(password: str) -> str:
    """Argon2id hash of a password; refuses passwords shorter than 8 characters, longer
    than :data:`PASSWORD_MAX` and with control characters."""
    if not isinstance(password, str) or len(password) < 8:
        raise ValidationError(_("password must have at least 8 characters"), field="password")
    if len(password) > PASSWORD_MAX:
        raise ValidationError(_("password must have at most {n} characters").format(
            n=PASSWORD_MAX), field="password")
    if _has_controls(password):
        raise ValidationError(_("password must not contain control characters"),
                              field="password")
    return _hasher.hash(password)


def generate_password() -> str:
    """A new random password of :data:`GENERATED_PASSWORD_LENGTH` letters and digits that
    cannot be mistaken for each other (no 0/O, 1/l/I)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(GENERATED_PASSWORD_LENGTH))


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's; a user without a password has none that fits."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def waste_a_check() -> None:
    """Spend what checking a password costs (so a missing user answers as slowly)."""
    _hasher.hash("timing-equaliser")


def rehash_if_outdated(user: User, password: str) -> None:
    """Store a fresh hash when the hashing parameters have grown since it was made."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)


# --------------------------------------------------------------------------
# branch scoping: the one place where list queries are filtered
# --------------------------------------------------------------------------

SCOPE_KEY = "fixdesk_branch_scope"
#: where a session keeps the entities scoped through their parent (per site)
PARENTS_KEY = "fixdesk_branch_parents"


def branch_parents(classes: dict[str, type]) -> dict[type, tuple[str, type]]:
    """Entities scoped through their parent's branch, among ``classes`` (table → class):
    ``{class: (foreign key column, parent class)}``.

    A class declares ``__branch_parent__ = ("customer_id", "customer")`` (the parent's
    table): its rows are visible when the parent row is (contacts and addresses of a
    customer, the lines of a work order). Parents are found by table among the site's
    own entities, never by class name, so two plugins may each have a ``Category``.
    """
    from kernel.entities import declared_parents

    return declared_parents(classes, "__branch_parent__")


#: where a session factory keeps the scoping options made for each set of branches and
#: tables
SCOPE_OPTIONS_KEY = "fixdesk_branch_scope_options"
#: where a session factory keeps which tables are scoped, and how (:func:`_scoped_tables`)
SCOPED_TABLES_KEY = "fixdesk_branch_scoped_tables"
#: sets of options kept per factory (by branches and tables); the oldest make room
SCOPE_OPTIONS_KEPT = 4096


def _scoped_tables(parents: dict[type, tuple[str, type]]) -> dict:
    """Table → what limits its rows: ``BranchMixin`` (the row's own branch), or a class
    seen through its parent mapped to it, as ``(class, foreign key column, parent)``."""
    scoped: dict = {}
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, BranchMixin):
            for table in mapper.tables:
                scoped.setdefault(table, []).append(BranchMixin)
    for cls, (column, parent) in parents.items():
        if not issubclass(cls, BranchMixin):  # carries its parent's branch (kernel.branch_carry)
            for table in inspect(cls).tables:
                scoped.setdefault(table, []).append((cls, column, parent))
    return scoped


class _Branches(UserDefinedOption):
    """The branches a query was limited to, carried to the loads of its records'
    relationships (:func:`_scope_queries`); no part of the statement's cache key."""

    propagate_to_loaders = True


def _scope_options(info: dict, scope: frozenset, tables: frozenset) -> tuple:
    """The loader criteria limiting a query of ``tables`` to ``scope``: only for the
    entities among them (each option adds ~50 µs to the statement's cache key, and a site
    has a score of entities seen through their parent), made once per set of branches
    and tables."""
    kept = info.get(SCOPE_OPTIONS_KEY)
    key = (scope, tables)
    options = kept.get(key) if kept is not None else None
    if options is not None:
        return options
    scoped = info.get(SCOPED_TABLES_KEY, {})
    limited = dict.fromkeys(what for table in tables for what in scoped.get(table, ()))
    options = []
    for what in limited:
        if what is BranchMixin:
            options.append(with_loader_criteria(BranchMixin,
                                                lambda cls: cls.branch_id.in_(scope),
                                                include_aliases=True))
            continue
        cls, column, parent = what
        visible = select(parent.id).where(parent.branch_id.in_(scope)).scalar_subquery()
        options.append(with_loader_criteria(cls, getattr(cls, column).in_(visible),
                                            include_aliases=True))
    # the branches too, even with no criteria: its records' relationships may need them
    options = (*options, _Branches(scope))
    if kept is not None:
        if len(kept) >= SCOPE_OPTIONS_KEPT:
            try:  # another thread may be at it too (sessions share the factory's dict)
                kept.pop(next(iter(kept)), None)
            except (RuntimeError, StopIteration):
                pass
        kept[key] = options
    return options


def _scope_queries(execute_state):
    """Add the session's branch criteria to an ORM SELECT, for the tables it names (in
    joins and subqueries too). A relationship's load takes the branches of the query that
    loaded its parent (as SQLAlchemy propagates that query's criteria to it), adding the
    criteria of its own tables, which that query may not have named."""
    # a Core statement of tables alone has no entities to limit: options would only cost
    if not execute_state.is_select or not execute_state.is_orm_statement \
            or execute_state.is_column_load:
        return
    statement = execute_state.statement
    if execute_state.is_relationship_load:
        scope = next((o.payload for o in execute_state.user_defined_options
                      if isinstance(o, _Branches)), None)
    else:
        scope = execute_state.session.info.get(SCOPE_KEY)
    if scope is None:
        return
    tables = frozenset(t for t in find_tables(statement, check_columns=True,
                                              include_aliases=True, include_joins=True,
                                              include_selects=True)
                       if isinstance(t, Table))
    execute_state.statement = statement.options(
        *_scope_options(execute_state.session.info, scope, tables))


def install_branch_scope(sessions, parents: dict[type, tuple[str, type]]) -> None:
    """Filter every ORM SELECT of branch-owned entities by the session's visible branches;
    ``parents`` are the entities seen through their parent (:func:`branch_parents`)."""
    # the sessions share the factory's dicts (their info is a shallow copy)
    sessions.configure(info={PARENTS_KEY: parents, SCOPE_OPTIONS_KEY: {},
                             SCOPED_TABLES_KEY: _scoped_tables(parents)})
    event.listen(sessions, "do_orm_execute", _scope_queries)


def set_branch_scope(session: Session, user: User | None) -> None:
    """Limit ``session`` to the branches ``user`` may see (no limit for system or company-wide)."""
    if user is None or user.sees_all_branches:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = frozenset(user.branch_ids)


# --------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------


def is_admin(user) -> bool:
    """Whether ``user`` holds the admin role (the system, ``None``, is not a person)."""
    return user is not None and ADMIN in user.roles


def require_admin(ctx) -> None:
    """Refuse anyone but an admin (HTTP 403): the admin console is theirs alone."""
    if ctx.user is not None and not is_admin(ctx.user):
        raise PermissionDenied(_("only administrators may do this"))


def site_roles(app) -> list[str]:
    """The roles users of a site can hold: the kernel's, then the enabled plugins'."""
    return [*ROLES, *(r for r in app.registry.roles if r not in ROLES)]


def role_title(app, role: str) -> str:
    """A role's name for people, translated (a plugin role's title; the kernel's msgid)."""
    found = app.registry.roles.get(role)
    return _(found.title if found is not None else role)


def _validate_roles(ctx, roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    known = site_roles(ctx.app)
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise ValidationError(_("unknown role {role!r}; roles are: {roles}").format(
            role=unknown[0], roles=", ".join(known)), field="roles")
    return roles


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("no user {username!r}").format(username=username), field="username")
    return user


def add_user(ctx, username: str, full_name: str, password: str | None, home_branch: Branch,
             roles: Iterable[str] = (), extra_branches: Iterable[Branch] = (),
             company_wide: bool = False, email: str | None = None) -> User:
    """Create a user; the password is hashed with argon2id.

    Refuses a user name of other characters than letters, digits, ``.``, ``_`` and ``-``
    (or longer than 60), a name taken already, unknown roles, and names or e-mail
    addresses too long or with control characters (each naming its field)."""
    ctx.require("user.create")
    username = username.strip() if isinstance(username, str) else ""
    if not username or len(username) > 60 or not username.replace(".", "").replace(
            "_", "").replace("-", "").isalnum():
        raise ValidationError(_("user name must be letters, digits, '.', '_' or '-'"),
                              field="username")
    full_name = _clean_text(full_name, "full_name", 100) or username
    email = _clean_email(email)
    if ctx.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(_("user {username!r} already exists").format(username=username),
                       field="username")
    user = User(username=username, full_name=full_name, email=email,
                password_hash=hash_password(password) if password else None,
                home_branch_id=home_branch.id, company_wide=company_wide)
    user.role_rows = [UserRole(role=r) for r in _validate_roles(ctx, roles)]
    user.branch_rows = [UserBranch(branch_id=b.id) for b in extra_branches
                        if b.id != home_branch.id]
    ctx.session.add(user)
    ctx.session.flush()
    return user


def set_roles(ctx, user: User, roles: Iterable[str]) -> None:
    """Replace the roles of ``user``; an admin cannot take his own admin role away."""
    ctx.require("user.update")
    wanted = _validate_roles(ctx, roles)
    if _is_self(ctx, user) and ADMIN in user.roles and ADMIN not in wanted:
        raise ValidationError(_("you cannot take your own admin role away"), field="roles")
    _drop(ctx, [r for r in user.role_rows if r.role not in wanted])
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        UserRole(role=r) for r in wanted if r not in user.roles]
    ctx.session.flush()


def _drop(ctx, rows) -> None:
    """Delete rows taken out of a collection as such, so the audit trail records them (an
    orphan deleted by the flush alone would not be)."""
    for row in rows:
        if row in ctx.session and inspect(row).persistent:
            ctx.session.delete(row)


def set_grant(ctx, role: str, permission: str, granted: bool) -> RoleGrant:
    """Grant or revoke ``permission`` for ``role``, overriding the plugins' defaults."""
    ctx.require("user.update")
    [role] = _validate_roles(ctx, [role])
    if role == ADMIN:
        raise ValidationError(_("admins hold every permission"), field="role")
    if permission not in {p.name for p in ctx.app.declared_permissions}:
        raise ValidationError(_("unknown permission {permission!r}").format(
            permission=permission), field="permission")
    row = ctx.session.scalar(select(RoleGrant).where(RoleGrant.role == role,
                                                     RoleGrant.permission == permission))
    row = row or RoleGrant(role=role, permission=permission)
    row.granted = granted
    ctx.session.add(row)
    ctx.session.flush()
    return row


def set_password(ctx, user: User, password: str) -> None:
    """Set a new password and unlock the account."""
    ctx.require("user.update")
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    ctx.session.flush()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx, user: User, name: str, days: int | None = None, *,
                 expires_at: dt.datetime | None = None,
                 never: bool = False) -> tuple[ApiToken, str]:
    """A new API token for ``user``: returns the row and the token text (shown once).

    It expires after ``days`` (1 to :data:`MAX_TOKEN_DAYS`), at ``expires_at`` (in the
    future, at most :data:`MAX_TOKEN_DAYS` away), never when ``never``, and otherwise after
    the site's ``kernel.token_default_days`` (0 there: never). A name too long or with
    control characters is refused."""
    ctx.require("user.update")
    name = _clean_text(name, "name", 100)
    now = ctx.now()
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= MAX_TOKEN_DAYS):
        raise ValidationError(_("days must be a whole number from 1 to {n}").format(
            n=MAX_TOKEN_DAYS), field="days")
    if expires_at is not None and not now < expires_at <= now + dt.timedelta(
            days=MAX_TOKEN_DAYS):
        raise ValidationError(_("the expiry must be in the future and at most {n} days "
                                "away").format(n=MAX_TOKEN_DAYS), field="expires")
    if days is not None:
        expires_at = now + dt.timedelta(days=days)
    elif expires_at is None and not never:
        default = ctx.setting("kernel.token_default_days")
        expires_at = now + dt.timedelta(days=default) if default else None
    lookup = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user.id, name=name or _("API token"), lookup=lookup,
                   token_hash=_token_digest(token), expires_at=expires_at)
    ctx.session.add(row)
    ctx.session.flush()
    return row, token


def token_state(token: ApiToken, now: dt.datetime) -> str:
    """``revoked``, ``expired`` or ``active``: whether a token still opens the API (as far
    as the token itself goes; its account may be disabled or locked)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def list_tokens(ctx, user: User | None = None) -> list[ApiToken]:
    """API tokens, of ``user`` or of everyone, oldest first, with their owners (never
    their secrets, which are not kept)."""
    ctx.require("user.read")
    query = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(ctx.session.scalars(query))


def revoke_token(ctx, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke a token by id (one of ``owner``'s when given); it stops working at once."""
    ctx.require("user.update")
    row = ctx.session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise NotFound(_("no API token {id}").format(id=token_id), field="id")
    row.revoked_at = row.revoked_at or ctx.now()
    ctx.session.flush()
    return row


def caller_tokens(ctx) -> list[ApiToken]:
    """The calling user's own API tokens, oldest first (no permission needed: his own)."""
    return list(ctx.session.scalars(select(ApiToken).where(ApiToken.user_id == ctx.user.id)
                                    .order_by(ApiToken.id)))


def revoke_as_caller(ctx, token_id: int) -> ApiToken:
    """Revoke a token for the calling user: any token for whoever may change users
    (``user.update``, the admins), otherwise only one of his own."""
    if ctx.user is None or ctx.can("user.update"):
        return revoke_token(ctx, token_id)
    row = ctx.session.get(ApiToken, token_id)
    if row is None or row.user_id != ctx.user.id:
        raise NotFound(_("no API token {id}").format(id=token_id), field="id")
    row.revoked_at = row.revoked_at or ctx.now()
    ctx.session.flush()
    return row


# -- checking what admins type ----------------------------------------------

#: what a field is called in a refusal (the fields of a user and of a token)
FIELD_NAMES = {"full_name": N_("full name"), "email": N_("e-mail address"),
               "name": N_("token name")}


def _has_controls(text: str) -> bool:
    return any(ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc" for ch in text)


def _clean_text(value, field: str, limit: int) -> str | None:
    """One line of text as stored (outer blanks removed; None when empty); refuses what is
    not text, longer than ``limit`` or has control characters, naming ``field``."""
    if value is None:
        return None
    what = _(FIELD_NAMES.get(field, field))
    if not isinstance(value, str):
        raise ValidationError(_("{what} must be text").format(what=what), field=field)
    text = value.strip()
    if len(text) > limit:
        raise ValidationError(_("{what} must have at most {n} characters").format(
            what=what, n=limit), field=field)
    if _has_controls(text):
        raise ValidationError(_("{what} must not contain control characters").format(
            what=what), field=field)
    return text or None


def _clean_email(value) -> str | None:
    email = _clean_text(value, "email", 200)
    if email is not None and (" " in email or email.count("@") != 1
                              or not all(email.split("@"))):
        raise ValidationError(_("{email!r} is not an e-mail address").format(email=email),
                              field="email")
    return email


def _is_self(ctx, user: User) -> bool:
    return ctx.user is not None and ctx.user.id == user.id


# -- managing accounts ----------------------------------------------------------


def list_users(ctx, search: str = "", after: str | None = None,
               limit: int = 50) -> tuple[list[User], str | None]:
    """A page of users by user name, those after ``after`` whose user name or full name
    contains ``search``: (users, the user name to continue after, or None at the end).

    One query for the page; the home branches come with it, roles and extra branches in
    one more query each (never one per user)."""
    ctx.require("user.read")
    query = select(User).options(joinedload(User.home_branch), selectinload(User.role_rows),
                                 selectinload(User.branch_rows)).order_by(User.username)
    search = (search or "").strip()[:100]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        query = query.where(or_(User.username.ilike(pattern, escape="\\"),
                                User.full_name.ilike(pattern, escape="\\")))
    if after:
        query = query.where(User.username > after)
    found = list(ctx.session.scalars(query.limit(limit + 1)).unique())
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1].username if more else None)


def update_user(ctx, user: User, full_name: str, email: str | None, home_branch: Branch,
                company_wide: bool = False) -> None:
    """Change a user's full name, e-mail address, home branch and company-wide sight (a new
    home branch stops being one of the extra branches)."""
    ctx.require("user.update")
    user.full_name = _clean_text(full_name, "full_name", 100) or user.username
    user.email = _clean_email(email)
    user.home_branch_id = home_branch.id
    user.home_branch = home_branch
    user.company_wide = bool(company_wide)
    _drop(ctx, [r for r in user.branch_rows if r.branch_id == home_branch.id])
    user.branch_rows = [r for r in user.branch_rows if r.branch_id != home_branch.id]
    ctx.session.flush()


def set_branches(ctx, user: User, branches: Iterable[Branch]) -> None:
    """Replace the extra branches of ``user`` (besides the home branch)."""
    ctx.require("user.update")
    wanted = {b.id for b in branches} - {user.home_branch_id}
    kept = [r for r in user.branch_rows if r.branch_id in wanted]
    _drop(ctx, [r for r in user.branch_rows if r.branch_id not in wanted])
    user.branch_rows = kept + [UserBranch(branch_id=branch_id) for branch_id in sorted(
        wanted - {r.branch_id for r in kept})]
    ctx.session.flush()


def set_active(ctx, user: User, active: bool) -> tuple[int, int]:
    """Enable or disable an account. Disabling also ends the user's desk sessions and
    revokes his API tokens, in the same transaction: (sessions ended, tokens revoked).
    An admin cannot disable his own account."""
    ctx.require("user.update")
    if not active and _is_self(ctx, user):
        raise ValidationError(_("you cannot disable your own account"), field="active")
    user.active = bool(active)
    ended = revoked = 0
    if not active:
        # found by table: kernel.login (which keeps the sessions) imports this module
        sessions = ctx.app.entity_class("web_session")
        for row in ctx.session.scalars(select(sessions).where(sessions.user_id == user.id)):
            ctx.session.delete(row)
            ended += 1
        for token in ctx.session.scalars(select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = ctx.now()
            revoked += 1
    ctx.session.flush()
    return ended, revoked


def reset_password(ctx, user: User, password: str | None = None) -> str | None:
    """Give ``user`` a new password and unlock the account: the one typed, or a generated
    one, which is returned (to be shown once; only its hash is kept)."""
    generated = None if password else generate_password()
    set_password(ctx, user, password or generated)
    return generated


def unlock_user(ctx, user: User) -> bool:
    """Unlock an account locked after failed logins (and start counting afresh); whether
    it was locked."""
    ctx.require("user.update")
    was_locked = user.locked_until is not None and user.locked_until > ctx.now()
    user.failed_logins = 0
    user.locked_until = None
    ctx.session.flush()
    return was_locked


def login_failures(ctx, username: str, limit: int = RECENT_FAILURES) -> list:
    """The latest failed logins under ``username`` (address, time), newest first; the
    desk keeps them for a quarter of an hour."""
    ctx.require("user.read")
    failures = ctx.app.entity_class("login_failure")  # kernel.login imports this module
    return list(ctx.session.scalars(select(failures).where(failures.username == username)
                                    .order_by(failures.at.desc()).limit(limit)))


def user_tokens(ctx, user: User) -> list[ApiToken]:
    """The API tokens of ``user``, newest first (their secrets are not kept)."""
    ctx.require("user.read")
    return list(ctx.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                    .order_by(ApiToken.id.desc())))


# -- what each role may do ------------------------------------------------------

#: a role's hold on a permission: by default, granted or revoked by an admin, or none
DEFAULT, GRANTED, REVOKED, NONE = "default", "granted", "revoked", ""


def permission_states(ctx) -> dict[str, dict[str, str]]:
    """Every declared permission → every role but admin (who holds all) → how the role
    holds it: :data:`DEFAULT`, :data:`GRANTED` or :data:`REVOKED` by an admin, or
    :data:`NONE`."""
    ctx.require("user.read")
    app = ctx.app
    defaults = PermissionTable(app.declared_permissions, (), app.registry.roles.values()).by_role
    grants = {(g.role, g.permission): g.granted for g in ctx.session.scalars(select(RoleGrant))}
    roles = [r for r in site_roles(app) if r != ADMIN]
    states: dict[str, dict[str, str]] = {}
    for permission in app.declared_permissions:
        name = permission.name
        row = states[name] = {}
        for role in roles:
            default = name in defaults.get(role, ())
            if grants.get((role, name), default):
                row[role] = DEFAULT if default else GRANTED
            else:
                row[role] = REVOKED if default else NONE
    return states


def set_permissions(ctx, held: Iterable[tuple[str, str]]) -> list[RoleGrant]:
    """Make the roles hold exactly the (role, permission) pairs of ``held`` (admin's are
    ignored: he holds everything), by a :func:`set_grant` for each pair that changes;
    returns the grants written."""
    ctx.require("user.update")
    held = set(held)
    known_roles = set(site_roles(ctx.app))
    declared = {p.name for p in ctx.app.declared_permissions}
    for role, permission in sorted(held):
        if role not in known_roles:
            _validate_roles(ctx, [role])
        if permission not in declared:
            raise ValidationError(_("unknown permission {permission!r}").format(
                permission=permission), field="permission")
    changed = []
    for permission, row in permission_states(ctx).items():
        for role, state in row.items():
            wanted = (role, permission) in held
            if wanted != (state in (DEFAULT, GRANTED)):
                changed.append(set_grant(ctx, role, permission, wanted))
    return changed


#: how stale a token's stored last use may be: it is written at most once in this time
TOKEN_USE_PRECISION = dt.timedelta(minutes=5)


def token_lookup(token: str) -> str:
    """The lookup part of a bearer token (:class:`AuthenticationFailed` for text that is
    no token of ours)."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise AuthenticationFailed(_("invalid API token"))
    return parts[1]


def check_token(token: str, row, active: bool, locked_until: dt.datetime | None,
                now: dt.datetime) -> None:
    """Refuse (:class:`AuthenticationFailed`) ``token`` unless ``row`` (its stored
    ``token_hash``, ``revoked_at`` and ``expires_at``; None: unknown) matches it and still
    opens the API, and its account (``active``, ``locked_until``) is enabled and not
    locked."""
    if row is None or not hmac.compare_digest(row.token_hash, _token_digest(token)):
        raise AuthenticationFailed(_("invalid API token"))
    # the caller holds the secret: telling him why it stopped working gives nothing away
    state = token_state(row, now)
    if state == "revoked":
        raise AuthenticationFailed(_("this API token was revoked"))
    if state == "expired":
        raise AuthenticationFailed(_("this API token has expired; ask an administrator "
                                     "for a new one"))
    if not active:
        raise AuthenticationFailed(_("the account of this API token is disabled"))
    if locked_until is not None and locked_until > now:
        raise AuthenticationFailed(_("the account of this API token is locked after too "
                                     "many failed logins; try again later"))


def token_use_is_stale(last_used_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a token's stored last use should be written again (not on every call: a
    read should not have to write)."""
    return last_used_at is None or now - last_used_at > TOKEN_USE_PRECISION


def note_token_use(session: Session, token_id: int, now: dt.datetime) -> None:
    """Store ``now`` as the last use of token ``token_id`` unless a request noted a use
    within :data:`TOKEN_USE_PRECISION` already (one short UPDATE, no audit row)."""
    table = ApiToken.__table__
    session.execute(table.update().where(
        table.c.id == token_id,
        or_(table.c.last_used_at.is_(None),
            table.c.last_used_at < now - TOKEN_USE_PRECISION)).values(last_used_at=now))


def user_for_token(session: Session, token: str, now: dt.datetime) -> User:
    """The user a bearer token belongs to, or :class:`AuthenticationFailed`: for a token
    that is unknown, revoked or expired, and for an account that is disabled or locked
    (checked on every use: the token is looked up together with its account). Notes the
    token's use in ``session`` (at most every :data:`TOKEN_USE_PRECISION`). The servers
    use :func:`kernel.auth_cache.AuthCache.token_user`, which checks the same."""
    row = session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                         .where(ApiToken.lookup == token_lookup(token)))
    check_token(token, row, row is not None and row.user.active,
                row.user.locked_until if row is not None else None, now)
    if token_use_is_stale(row.last_used_at, now):
        row.last_used_at = now
    return row.user
