"""Registration without dead ends: a customer or machine not on file is created in place,
from two small forms inside the registration page (``/desk/repair_work_order/new``).

*New customer* asks for the code (the next free ``C…`` number is offered), name, tier,
phone, the service address and its district, and the branch; *New equipment* for the
serial number, brand, model, the customer and the purchase and warranty dates. Both are
written by the kernel's record services (:func:`kernel.records.create_record`, the same
as ``POST /api/v1/customer`` and ``/api/v1/customer_equipment``: permission, branch,
validation, audit); every problem comes back under its input and nothing is written.
The registration's own inputs are kept, and the new record fills them.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from kernel import Param
from kernel.errors import Conflict, FixdeskError
from kernel.i18n import N_, _
from kernel.models import Customer, Tier
from kernel.params import read_each
from kernel.records import FieldErrors, create_record
from kernel.web.desk.inputs import control

#: the new customer's inputs (``nc_<field>``)
NEW_CUSTOMER = (
    Param("nc_code", label=N_("Customer code"), required=True, max_length=30),
    Param("nc_name", label=N_("Name"), required=True, max_length=200),
    Param("nc_tier", "choice", label=N_("Tier"), required=True,
          choices=tuple(t.value for t in Tier)),
    Param("nc_phone", label=N_("Phone"), max_length=50),
    Param("nc_address", label=N_("Address"), max_length=300),
    Param("nc_district", label=N_("District"), max_length=100,
          help=N_("The district or zone of the address (浦东, 嘉定, ...).")),
    Param("nc_branch", "reference", label=N_("Branch"), reference="branch"),
)
#: the new machine's inputs (``ne_<field>``)
NEW_EQUIPMENT = (
    Param("ne_serial_no", label=N_("Serial number"), required=True, max_length=100),
    Param("ne_brand", label=N_("Brand"), max_length=50),
    Param("ne_model", label=N_("Model"), required=True, max_length=100),
    Param("ne_customer", "reference", label=N_("Customer"), reference="customer",
          required=True),
    Param("ne_purchase_date", "date", label=N_("Purchase date")),
    Param("ne_warranty_end", "date", label=N_("Warranty end")),
)
FORMS = {"new_customer": NEW_CUSTOMER, "new_equipment": NEW_EQUIPMENT}
#: columns of the records written → the inputs that hold them
CUSTOMER_INPUTS = {"code": "nc_code", "name": "nc_name", "tier": "nc_tier",
                   "phone": "nc_phone", "branch_id": "nc_branch", "address": "nc_address",
                   "district": "nc_district", "label": "nc_address"}
EQUIPMENT_INPUTS = {"serial_no": "ne_serial_no", "brand": "ne_brand", "model": "ne_model",
                    "customer_id": "ne_customer", "purchase_date": "ne_purchase_date",
                    "warranty_end": "ne_warranty_end", "branch_id": "ne_customer"}
CODE = re.compile(r"^C(\d+)$")


def next_customer_code(ctx) -> str:
    """The next free customer code after the highest ``C<digits>`` one (``C0041``)."""
    last = ctx.session.scalar(select(Customer.code).where(Customer.code.like("C%"))
                              .order_by(func.length(Customer.code).desc(),
                                        Customer.code.desc()).limit(1))
    found = CODE.match(last or "")
    if not found:
        return "C0001"
    digits = found.group(1)
    return f"C{int(digits) + 1:0{len(digits)}d}"


def prefill(raw: dict, errors: dict, opened: str | None = None) -> tuple[dict, str | None]:
    """The small forms' first values from the registration as typed, and which one opens:
    a machine not found opens *New equipment* with its serial number, a customer not found
    *New customer* with the name typed."""
    typed_in = {"ne_customer": raw.get("customer") or ""}
    if opened is None and errors.get("equipment") and raw.get("equipment"):
        opened = "new_equipment"
        typed_in["ne_serial_no"] = str(raw["equipment"]).strip()
    elif opened is None and errors.get("customer") and raw.get("customer"):
        opened = "new_customer"
        typed_in["nc_name"] = str(raw["customer"]).strip()
        typed_in["ne_customer"] = ""
    return typed_in, opened


def typed(form) -> dict[str, str]:
    """What was typed into both small forms (to show them again)."""
    return {p.name: str(form.get(p.name) or "") for params in FORMS.values() for p in params}


def boxes(ctx, raw: dict, errors: dict, opened: str | None,
          problem: str | None = None) -> list[dict]:
    """The two small forms as the page shows them: ``step`` (the button that sends it),
    title, whether it is open, a control per input (typed values, else defaults) and the
    ``problem`` of the opened one that no input names."""
    values = dict(raw)
    if not values.get("nc_code"):
        values["nc_code"] = next_customer_code(ctx)
    values.setdefault("nc_tier", "")
    values["nc_tier"] = values["nc_tier"] or "individual"
    if not values.get("nc_branch") and ctx.user is not None:
        values["nc_branch"] = ctx.user.home_branch.code
    found = []
    for step, title, params in (("new_customer", N_("New customer"), NEW_CUSTOMER),
                                ("new_equipment", N_("New equipment"), NEW_EQUIPMENT)):
        controls = [control(ctx, p, id=f"{step}-{p.name}", label=_(p.label),
                            value=values.get(p.name, ""), error=errors.get(p.name))
                    for p in params]
        found.append({"step": step, "title": _(title), "controls": controls,
                      "open": opened == step, "problem": problem if opened == step else None})
    return found


def _mapped(exc: FixdeskError, inputs: dict[str, str]) -> FixdeskError:
    """The record service's error (invalid 422, or taken 409), each problem under the
    input that holds its field."""
    fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else {})
    mapped = {inputs.get(name, name): message for name, message in fields.items()} or \
        {next(iter(inputs.values())): exc.message}
    if isinstance(exc, Conflict):
        found = Conflict(exc.message, field=next(iter(mapped)))
        found.fields = mapped
        return found
    return FieldErrors(mapped)


def create_customer(ctx, raw: dict) -> Customer:
    """Create the customer (and its service address) typed into *New customer*.

    :raise FieldErrors: keyed by input (``nc_name``), nothing written."""
    values, errors = read_each(ctx, NEW_CUSTOMER, {p.name: raw.get(p.name, "")
                                                   for p in NEW_CUSTOMER})
    if errors:
        raise FieldErrors(errors)
    exposed = ctx.app.exposed
    data = {"code": values["nc_code"].strip(), "name": values["nc_name"].strip(),
            "tier": values["nc_tier"]}
    if values.get("nc_phone"):
        data["phone"] = values["nc_phone"].strip()
    if values.get("nc_branch") is not None:
        data["branch_id"] = values["nc_branch"].id
    try:
        customer = create_record(ctx, exposed["customer"], data)
        if values.get("nc_address"):
            create_record(ctx, exposed["customer_address"], {
                "customer_id": customer.id, "label": _("Service address"),
                "address": values["nc_address"].strip(),
                "district": (values.get("nc_district") or "").strip() or None,
                "is_default": True})
    except (FieldErrors, Conflict) as exc:  # a conflict (the code exists) names its column
        raise _mapped(exc, CUSTOMER_INPUTS) from None
    return customer


def create_equipment(ctx, raw: dict):
    """Create the machine typed into *New equipment*, at its customer's default address and
    in its customer's branch.

    :raise FieldErrors: keyed by input (``ne_serial_no``), nothing written."""
    values, errors = read_each(ctx, NEW_EQUIPMENT, {p.name: raw.get(p.name, "")
                                                    for p in NEW_EQUIPMENT})
    if errors:
        raise FieldErrors(errors)
    owner = values["ne_customer"]
    address = next((a for a in owner.addresses if a.is_default), None)
    data = {"serial_no": values["ne_serial_no"].strip(), "model": values["ne_model"].strip(),
            "customer_id": owner.id, "branch_id": owner.branch_id,
            "address_id": address.id if address is not None else None}
    for name in ("brand", "purchase_date", "warranty_end"):
        value = values.get(f"ne_{name}")
        if value not in (None, ""):
            data[name] = value.strip() if isinstance(value, str) else value.isoformat()
    try:
        return create_record(ctx, ctx.app.exposed["customer_equipment"], data)
    except (FieldErrors, Conflict) as exc:  # a conflict (the serial exists) names its column
        raise _mapped(exc, EQUIPMENT_INPUTS) from None
