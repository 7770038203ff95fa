"""PostgreSQL roles of a site: an owner that migrates, a runtime role that serves.

A site that connects as the PostgreSQL superuser could drop the audit trail's triggers,
and then rewrite or wipe it. :func:`create_roles` gives a site's database two roles
instead, both named after the database (``<db>_owner``, ``<db>_app``):

* the **owner** owns the database, its ``public`` schema and every table: ``fixdesk
  migrate`` (and ``new-site``, ``plugins enable``) connect as it (``migrate_url`` in
  ``site.toml``);
* the **runtime** role is what ``serve``, the job worker and every other command connect
  as (``url``): it may read and write rows (``SELECT, INSERT, UPDATE, DELETE`` on the
  tables, ``USAGE`` on the sequences) and nothing else: no ``TRUNCATE``, no DDL (it owns
  nothing), only ``SELECT`` and ``INSERT`` on ``audit_log``, only ``SELECT`` on
  ``alembic_version``.

Default privileges (``ALTER DEFAULT PRIVILEGES FOR ROLE <owner>``) give the tables later
migrations create the same grants; :func:`grant_runtime` runs again after every upgrade,
so the audit log's restriction holds whatever a migration did.

The roles carry a comment naming their database (:data:`kernel.db.ROLE_COMMENT`), and
:func:`kernel.db.drop_database` drops them with it: roles are the server's, not the
database's, and would otherwise outlive it. Passwords are generated and kept in the
site's ``site.toml`` (mode 0600); a server that trusts local connections ignores them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from kernel.db import ROLE_COMMENT, drop_site_roles, normalize_url, site_roles
from kernel.errors import SiteError
from kernel.i18n import _

#: what the runtime role may do with every table (the audit log and the migration
#: table less: :func:`grant_runtime`)
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


@dataclass(frozen=True)
class SiteRoles:
    """The two roles of a site's database and the URLs that connect as them."""

    owner: str
    runtime: str
    owner_url: str
    runtime_url: str


def role_names(database: str) -> tuple[str, str]:
    """The owner's and the runtime role's names for ``database``: its name, made a plain
    lower-case identifier (with a short digest when that changed or shortened it, so two
    databases never share roles), then ``_owner`` and ``_app``."""
    base = re.sub(r"[^a-z0-9_]", "_", database.lower())[:40]
    if base != database or not base[:1].isalpha():
        base = f"{base}_{hashlib.sha256(database.encode()).hexdigest()[:6]}"
    if not base[:1].isalpha():
        base = f"fd_{base}"
    return f"{base}_owner", f"{base}_app"


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def grant_runtime(conn: Connection, runtime: str) -> None:
    """Give the runtime role what the application needs of every table and sequence in
    the ``public`` schema, and take back all but reading and appending on the audit log
    and all but reading on the migrations' own table. Run as the owner (or a superuser)
    after every upgrade."""
    role = _quote(conn, runtime)
    conn.exec_driver_sql(f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {role}")
    conn.exec_driver_sql(f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public "
                         f"TO {role}")
    revokes = {"audit_log": "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER",
               "alembic_version": "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"}
    for table, privileges in revokes.items():
        if conn.execute(text("SELECT to_regclass(:name)"), {"name": f"public.{table}"}).scalar():
            conn.exec_driver_sql(f"REVOKE {privileges} ON {table} FROM {role}")


def _hand_over(conn: Connection, owner: str) -> None:
    """Make ``owner`` the owner of what the ``public`` schema holds already (a site made
    before it had roles): tables, views, sequences not tied to a table, functions."""
    new = _quote(conn, owner)
    kinds = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
             "m": "MATERIALIZED VIEW"}
    rows = conn.execute(text(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN "
        "('r', 'p', 'f', 'v', 'm', 'S') AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass "
        "AND d.deptype IN ('a', 'i'))")).all()
    for name, kind in rows:
        what = kinds.get(kind, "SEQUENCE")
        conn.exec_driver_sql(f"ALTER {what} public.{_quote(conn, name)} OWNER TO {new}")
    for signature in conn.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public'")).scalars():
        conn.exec_driver_sql(f"ALTER ROUTINE {signature} OWNER TO {new}")


def create_roles(admin_url: str | URL) -> SiteRoles:
    """Create the owner and runtime roles of the database ``admin_url`` names, connecting
    as that URL's user (a superuser): the database, its schema and whatever they hold
    pass to the owner, the runtime role gets its grants (now and, by default privileges,
    for later tables).

    Refused (:class:`SiteError`) when the roles exist already or the user may not create
    them; nothing is left half-made then (one transaction)."""
    url = normalize_url(admin_url)
    if url.get_backend_name() != "postgresql":
        raise SiteError(_("database roles are for PostgreSQL sites only"))
    database = url.database
    owner, runtime = role_names(database)
    passwords = {owner: secrets.token_urlsafe(24), runtime: secrets.token_urlsafe(24)}
    # roles are the server's, but every statement here may run in the site's database:
    # one transaction, so a refusal half-way leaves nothing behind
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            taken = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname IN (:a, :b)"),
                                 {"a": owner, "b": runtime}).scalars().all()
            if taken:
                raise SiteError(_("the database role {role} exists already: drop it or "
                                  "use another database name").format(role=taken[0]))
            db, own, run = (_quote(conn, name) for name in (database, owner, runtime))
            for role, password in passwords.items():
                quoted = _quote(conn, role)
                conn.exec_driver_sql(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB "
                                     f"NOCREATEROLE NOREPLICATION PASSWORD '{password}'")
                comment = ROLE_COMMENT.format(database=database).replace("'", "''")
                conn.exec_driver_sql(f"COMMENT ON ROLE {quoted} IS '{comment}'")
            conn.exec_driver_sql(f"ALTER DATABASE {db} OWNER TO {own}")
            conn.exec_driver_sql(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC")
            conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {db} TO {run}")
            conn.exec_driver_sql(f"ALTER SCHEMA public OWNER TO {own}")
            conn.exec_driver_sql("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {run}")
            _hand_over(conn, owner)
            conn.exec_driver_sql(f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public "
                                 f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {run}")
            conn.exec_driver_sql(f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public "
                                 f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {run}")
            grant_runtime(conn, runtime)
    except SQLAlchemyError as exc:
        error = getattr(exc, "orig", None) or exc
        raise SiteError(_("cannot create the database roles of {database}: {error}").format(
            database=database, error=str(error).strip().splitlines()[0])) from exc
    finally:
        engine.dispose()

    def connect_as(role: str) -> str:
        return url.set(username=role, password=passwords[role]).render_as_string(
            hide_password=False)

    return SiteRoles(owner, runtime, connect_as(owner), connect_as(runtime))


def remove_roles(admin_url: str | URL) -> None:
    """Undo :func:`create_roles` on a database that stays (a failed ``new-site`` on a
    database it did not create): what the roles own passes back to the user of
    ``admin_url``, their grants go, PUBLIC may connect again, and the roles are dropped."""
    url = normalize_url(admin_url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            roles = site_roles(conn, url.database)
            if not roles:
                return
            quoted = ", ".join(_quote(conn, role) for role in roles)
            db = _quote(conn, url.database)
            conn.exec_driver_sql(f"REASSIGN OWNED BY {quoted} TO CURRENT_USER")
            conn.exec_driver_sql(f"DROP OWNED BY {quoted}")
            conn.exec_driver_sql(f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO PUBLIC")
            conn.exec_driver_sql("GRANT USAGE ON SCHEMA public TO PUBLIC")
            drop_site_roles(conn, url.database)
    finally:
        engine.dispose()


def holds_tables(admin_url: str | URL) -> bool:
    """Whether the database holds migrated tables already (``alembic_version``)."""
    from sqlalchemy import inspect

    engine = create_engine(normalize_url(admin_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table("alembic_version")
    finally:
        engine.dispose()
