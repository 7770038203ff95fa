"""The public complaint page ``/complain``: customers write in without a login.

Like repair's survey page it speaks the site's language unless ``?lang=zh_CN|en``
chooses, and shows nothing of the company's data. What it takes is checked before
anything is written: a missing or overlong field, control characters (NUL, ...) or
invisible bidirectional overrides, an e-mail address that is none show the form again
with the field's message (422). It refuses floods: more than
``complaints.public_hourly_per_address`` complaints an hour from one address, or
``complaints.public_hourly_total`` in all, answer 429 (one query over the complaints of
the last hour, by the index on ``received_at``). A hidden field that people never see
(the honeypot) is filled in only by robots: they are thanked and nothing is stored. A
body over 64 KB is refused before it is read (413). The setting
``complaints.public_form`` turns the page off (404).

A complaint is registered as the system with channel ``web``, in the branch of
``complaints.public_branch`` (else the first branch), with the sender's address; the
page shows its number, and the customer who gave an e-mail address is sent the
acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi import APIRouter, Request
from sqlalchemy import case, func, select
from starlette.concurrency import run_in_threadpool

from kernel.errors import FixdeskError, NotFound, ValidationError
from kernel.i18n import N_, SUPPORTED, _, use_locale
from kernel.settings import get_setting
from kernel.web.deps import app_of, client_address
from kernel.web.desk.render import DeskRoute, guess_locale, render

from . import notices, services
from .intake import clean_text, public_branch
from .models import Complaint
from .rules import Category, Channel, Topic

TEMPLATE = "complaints_public.html"
PATH = "/complain"
#: the largest body the form takes
MAX_BODY = 64 * 1024
#: the hidden field only robots fill in
HONEYPOT = "website"
#: field → (label, longest length, required, several lines)
FIELDS = {
    "name": (N_("Your name"), 100, True, False),
    "company": (N_("Company"), 200, False, False),
    "phone": (N_("Phone"), 50, False, False),
    "email": (N_("E-mail"), 200, False, False),
    "topic": (N_("Topic"), 20, True, False),
    "category": (N_("What it concerns"), 20, False, False),
    "serial": (N_("Machine serial number"), 100, False, False),
    "message": (N_("Your message"), 4000, True, True),
}
PHONE = re.compile(r"[0-9+()\-. /#*转xX]{5,50}")
#: what the customer may choose as the topic and the category, with the page's wording
TOPICS = ((Topic.COMPLAINT.value, N_("A complaint")), (Topic.PRAISE.value, N_("Praise")),
          (Topic.INQUIRY.value, N_("A question")),
          (Topic.SUGGESTION.value, N_("A suggestion")))
CATEGORIES = ((Category.PRODUCT_QUALITY.value, N_("Product quality")),
              (Category.HUMAN_FACTORS.value, N_("Our staff's service")),
              (Category.SOFTWARE.value, N_("Software")), (Category.OTHER.value, N_("Other")))


class TooLarge(ValidationError):
    """A body over :data:`MAX_BODY`: refused before it is read."""

    status = 413


class TooMany(FixdeskError):
    """More complaints from the form in the last hour than the settings allow."""

    status = 429
    code = "too_many_requests"


def _locale(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in SUPPORTED:
        request.state.desk_locale = chosen
    return guess_locale(request)


def _page(request: Request, status: int = 200, **values):
    values.setdefault("form", {"topic": Topic.COMPLAINT.value})
    values.setdefault("errors", {})
    values.setdefault("message", None)
    values.setdefault("number", None)
    values.setdefault("done", False)
    values.setdefault("closed", False)
    return render(request, TEMPLATE, status, title=_("Complaints and suggestions"),
                  fields={name: _(spec[0]) for name, spec in FIELDS.items()},
                  limits={name: spec[1] for name, spec in FIELDS.items()},
                  topics=[(value, _(label)) for value, label in TOPICS],
                  categories=[(value, _(label)) for value, label in CATEGORIES],
                  path=PATH, honeypot=HONEYPOT, **values)


def _enabled(app) -> bool:
    with app.sessions() as session:
        return bool(get_setting(app.context_in(session), "complaints.public_form"))


# ---------------------------------------------------------------------------
# checking what was sent
# ---------------------------------------------------------------------------


def check(form: dict[str, str]) -> dict[str, str]:
    """The problem of each field of ``form`` (its values as sent), in the user's language;
    empty when all is well."""
    errors = {}
    for name, (_label, limit, required, multiline) in FIELDS.items():
        value = form.get(name, "")
        if services.has_forbidden(value, lines=multiline):
            errors[name] = _("contains characters that are not allowed")
        elif required and not value.strip():
            errors[name] = _("is required")
        elif len(value) > limit:
            errors[name] = _("at most {n} characters").format(n=limit)
    email, phone = form.get("email", "").strip(), form.get("phone", "").strip()
    if "email" not in errors and email and not services.is_email(email):
        errors["email"] = _("is not an e-mail address")
    if "phone" not in errors and phone and (not PHONE.fullmatch(phone)
                                            or sum(ch.isdigit() for ch in phone) < 5):
        errors["phone"] = _("is not a phone number")
    if not email and not phone and "phone" not in errors and "email" not in errors:
        errors["phone"] = _("give a phone number or an e-mail address so that we can "
                            "answer you")
    if "topic" not in errors and form.get("topic") not in {t for t, _l in TOPICS}:
        errors["topic"] = _("choose one of the topics")
    if "category" not in errors and form.get("category") and \
            form["category"] not in {c for c, _l in CATEGORIES}:
        errors["category"] = _("choose one of the listed subjects")
    return errors


def flood_problem(ctx, address: str) -> str | None:
    """Why one more complaint from the form cannot be taken now from ``address``, or None.
    One query: the web complaints of the last hour, in all and from the address."""
    since = ctx.now() - dt.timedelta(hours=1)
    total, mine = ctx.session.execute(
        select(func.count(), func.coalesce(func.sum(case(
            (Complaint.source_address == address, 1), else_=0)), 0))
        .where(Complaint.received_at >= since, Complaint.channel == Channel.WEB.value)).one()
    if mine >= get_setting(ctx, "complaints.public_hourly_per_address"):
        return _("You have sent us several messages within the last hour. Please wait a "
                 "while, or call us.")
    if total >= get_setting(ctx, "complaints.public_hourly_total"):
        return _("We are receiving very many messages at the moment. Please try again "
                 "later, or call us.")
    return None


def _equipment_link(ctx, serial: str) -> str | None:
    from kernel.models import CustomerEquipment

    found = ctx.session.scalars(select(CustomerEquipment.id).where(
        CustomerEquipment.serial_no == serial).limit(1)).first()
    return f"customer_equipment:{found}" if found is not None else None


def register_from_form(ctx, form: dict[str, str], address: str) -> Complaint:
    """Register the complaint of a checked form as the system (channel ``web``); the
    customer who gave an e-mail address is sent the acknowledgement."""
    form = {name: value.replace("\r\n", "\n").strip() for name, value in form.items()}
    description = form["message"]
    about = _equipment_link(ctx, form["serial"]) if form.get("serial") else None
    if form.get("serial") and about is None:
        description += "\n\n" + _("Machine serial number") + ": " + form["serial"]
    values = {"branch_id": public_branch(ctx).id, "channel": Channel.WEB.value,
              "topic": form["topic"], "contact_name": form["name"],
              "company_name": form.get("company") or None,
              "phone": form.get("phone") or None, "email": form.get("email") or None,
              "description": description}
    if form.get("category"):
        values["category"] = form["category"]
    if about:
        values["about"] = about
    complaint = services.register(ctx, source_address=address[:64], **values)
    notices.acknowledge(ctx, complaint)
    return complaint


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------


def router() -> APIRouter:
    """``GET`` and ``POST /complain``: the public complaint page."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get(PATH)
    def complaint_form(request: Request):
        return run_form(request)

    @routes.post(PATH)
    async def complaint_sent(request: Request):
        with use_locale(_locale(request)):
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise TooLarge(_("the message is too long: at most {kb} KB").format(
                    kb=MAX_BODY // 1024))
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY:
                    raise TooLarge(_("the message is too long: at most {kb} KB").format(
                        kb=MAX_BODY // 1024))
                chunks.append(chunk)
            request._body = b"".join(chunks)  # what request.form() reads
            form = await request.form(max_files=0, max_fields=30)
        sent = {name: str(form.get(name) or "") for name in (*FIELDS, HONEYPOT)
                if not hasattr(form.get(name), "read")}
        return await run_in_threadpool(run_sent, request, sent)

    return routes


def run_form(request: Request):
    """Show the empty form (404 when the site has turned it off)."""
    with use_locale(_locale(request)):
        if not _enabled(app_of(request)):
            raise NotFound(_("The complaint form is not available. Please call us."))
        return _page(request)


def run_sent(request: Request, sent: dict[str, str]):
    """Register what was sent, or show the form again with what is wrong."""
    app = app_of(request)
    with use_locale(_locale(request)):
        if not _enabled(app):
            raise NotFound(_("The complaint form is not available. Please call us."))
        form = {name: sent.get(name, "") for name in FIELDS}
        if sent.get(HONEYPOT, "").strip():  # a robot: thanked, nothing stored
            return _page(request, done=True, form={})
        errors = check(form)
        if errors:  # shown again without what may not be shown
            return _page(request, 422, errors=errors, form={
                name: clean_text(value, multiline=FIELDS[name][3])
                for name, value in form.items()})
        address = client_address(request)
        try:
            with app.context() as ctx:
                from kernel.audit import set_actor

                ctx.session.info["fixdesk_system_actor"] = f"web:{PATH}"
                set_actor(ctx.session, None)
                problem = flood_problem(ctx, address)
                if problem:
                    raise TooMany(problem)
                number = register_from_form(ctx, form, address).number
        except TooMany as exc:
            return _page(request, exc.status, form=form, message=exc.message)
        except ValidationError as exc:
            fields = getattr(exc, "fields", None) or {exc.field or "message": exc.message}
            return _page(request, exc.status, form=form,
                         errors={_field(name): text for name, text in fields.items()})
        return _page(request, done=True, number=number, form={})


def _field(name: str) -> str:
    """The form's field for a complaint's field named in an error."""
    return {"contact_name": "name", "company_name": "company", "description": "message",
            "customer_id": "phone", "about": "serial"}.get(name, name if name in FIELDS
                                                             else "message")


ROUTERS = [router()]
