"""Services for the kernel's master data (the only writers of these tables)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from kernel.branch_calendar import default_hours
from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import _
from kernel.models import Branch, Company, Zone

if TYPE_CHECKING:
    from kernel.context import Context

BRANCH_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")


def create_company(ctx: Context, name: str, **fields) -> Company:
    """Create the company that runs the site."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("company name is required"), field="name")
    company = Company(name=name, **fields)
    ctx.session.add(company)
    ctx.session.flush()
    return company


def the_company(ctx: Context) -> Company:
    """The site's company (the first one; a site normally has exactly one), read once per
    transaction: a batch of papers prints it on each."""
    from kernel.transaction_memo import memo

    kept = memo(ctx.session, "company")
    company = kept.get("company")
    if company is None:
        company = ctx.session.scalars(select(Company).order_by(Company.id).limit(1)).first()
        if company is None:
            raise NotFound(_("the site has no company yet"))
        kept["company"] = company
    return company


def company_id(ctx: Context) -> int:
    """The id of the site's company, read once per process: a site's company is made with
    the site and never replaced, and every record created asks for it."""
    if ctx.app.company_id is None:
        ctx.app.company_id = the_company(ctx).id
    return ctx.app.company_id


def add_branch(ctx: Context, code: str, name: str, zone: str | Zone = Zone.URBAN,
               address: str | None = None, phone: str | None = None) -> Branch:
    """Add a branch to the company; the code is upper-case letters, digits, ``-`` or ``_``."""
    code = (code or "").strip().upper()
    if not BRANCH_CODE.fullmatch(code):
        raise ValidationError(_("branch code must be 1-20 letters or digits, got {code!r}")
                              .format(code=code), field="code")
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("branch name is required"), field="name")
    try:
        zone = Zone(zone)
    except ValueError as exc:
        raise ValidationError(_("zone must be urban or suburban, got {zone!r}").format(zone=zone),
                              field="zone") from exc
    ctx.require("branch.create")
    company = the_company(ctx)
    if ctx.session.scalar(select(Branch.id).where(Branch.company_id == company.id,
                                                  Branch.code == code)):
        raise Conflict(_("branch {code} already exists").format(code=code), field="code")
    branch = Branch(company_id=company.id, code=code, name=name, zone=zone,
                    address=address, phone=phone)
    ctx.session.add(branch)
    ctx.session.flush()
    ctx.session.add_all(default_hours(branch.id))
    ctx.session.flush()
    return branch


def list_branches(ctx: Context) -> list[Branch]:
    """All branches, by code."""
    return list(ctx.session.scalars(select(Branch).order_by(Branch.code)))


def branch_by_code(session, code: str) -> Branch:
    """The branch with ``code``, or :class:`NotFound`."""
    code = code or ""
    # a NUL makes PostgreSQL refuse the query itself: such a code names no branch
    printable = code.isprintable() and len(code) <= 20
    branch = session.scalar(select(Branch).where(Branch.code == code.upper())) \
        if printable else None
    if branch is None:
        shown = "".join(ch for ch in code if ch.isprintable())[:20]
        raise NotFound(_("no branch {code}").format(code=shown), field="branch")
    return branch


def get_branch(ctx: Context, code: str) -> Branch:
    """The branch with ``code`` as the acting user may see it, or :class:`NotFound`."""
    branch = branch_by_code(ctx.session, code)
    ctx.require("branch.read", branch)
    return branch
