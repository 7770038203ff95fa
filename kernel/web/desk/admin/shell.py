"""What every admin console page shares: the admin-only context, form reading, rendering
inside the console's frame."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi import Request

from kernel.auth import require_admin
from kernel.i18n import _
from kernel.web.desk.admin.sections import SECTIONS
from kernel.web.desk.render import desk_context, render

#: form fields a console form may send (the largest is the role × permission table)
MAX_FIELDS = 2000


@contextmanager
def admin_context(request: Request, *, csrf: str | None = None):
    """One transaction as the logged-in admin (403 for anyone else); writes need ``csrf``."""
    with desk_context(request, csrf=csrf) as ctx:
        require_admin(ctx)
        yield ctx


async def read_form(request: Request, max_fields: int = 200) -> dict:
    """The posted form's text fields: ``name: value``, or the list of values of a name sent
    more than once (checkboxes); files are refused."""
    form = await request.form(max_files=0, max_fields=min(max_fields, MAX_FIELDS))
    values: dict = {}
    for key in form:
        texts = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = texts if len(texts) > 1 else (texts[0] if texts else "")
    return values


def text_field(form: dict, name: str, limit: int | None = None) -> str:
    """One text field of a :func:`read_form` form: '' when missing, the last value when sent
    more than once, cut to ``limit`` characters when given."""
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    if not isinstance(value, str):
        return ""
    return value if limit is None else value[:limit]


def token(form: dict) -> str | None:
    """The CSRF token a console form sent."""
    value = form.get("csrf")
    return value if isinstance(value, str) else None


def sections() -> list[dict]:
    """The console's menu, translated."""
    return [{"slug": slug, "title": _(title), "about": _(about), "url": f"/desk/admin/{slug}"}
            for slug, title, about in SECTIONS]


def render_admin(request: Request, template: str, ctx, section: str, title: str, *,
                 status: int = 200, notice: str | None = None, problem: str | None = None,
                 **values):
    """Render ``desk/admin/<template>`` in the console's frame (its menu on the side)."""
    return render(request, f"admin/{template}", status, ctx=ctx, section=section, title=title,
                  sections=sections(), notice=notice, problem=problem, **values)
