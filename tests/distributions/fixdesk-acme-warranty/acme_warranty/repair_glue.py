"""Glue for repair: a claim on every work order, named by table, never imported.

A field block and two list columns on the work order, an action to file the claim,
the printed claim form, and a reaction to completed warranty jobs.
"""

from kernel import (
    Action,
    Conflict,
    Document,
    Extension,
    FormSection,
    ListColumn,
    Param,
    SectionContent,
    hookimpl,
)
from kernel.i18n import N_, _

ORDERS = "repair_work_order"
#: work order states in which a repair is done
REPAIRED = ("completed", "ready_for_pickup", "closed")


@hookimpl
def fixdesk_entities():
    """The claims: one companion row per work order."""
    from .claims import Claim

    return [Claim]


@hookimpl
def fixdesk_extensions():
    """Claimable, category and amount on the work order (``acme_warranty.*``)."""
    from .claims import Claim

    return [Extension(ORDERS, Claim, permission="acme_warranty_claim.update",
                      title=N_("Manufacturer warranty claim"))]


def _claim_note(ctx, order):
    """Until the claim is filed, say so (its number and date are fields of the block)."""
    from .claims import Claim

    claim = ctx.session.get(Claim, order.id)
    if claim is not None and claim.claim_no is not None:
        return None
    return SectionContent(note=_("No claim filed yet."))


@hookimpl
def fixdesk_form_sections():
    """The claim block on the work order's form."""
    return [FormSection(ORDERS, "acme_warranty.claim", N_("Manufacturer warranty claim"),
                        build=_claim_note, fields=("claimable", "category_id", "amount"),
                        order=50)]


def _claim_states(ctx, orders):
    """Per order of a page: filed, to be filed, or nothing (one query for the page)."""
    from sqlalchemy import select

    from .claims import Claim

    rows = ctx.session.scalars(select(Claim).where(Claim.record_id.in_([o.id for o in orders])))
    return {row.record_id: _("filed") if row.claim_no else _("to file") if row.claimable
            else "" for row in rows}


@hookimpl
def fixdesk_list_columns():
    """The claim number and the claim's state in the work order list."""
    return [ListColumn(ORDERS, "acme_warranty.claim_no", N_("Claim"), field="claim_no"),
            ListColumn(ORDERS, "acme_warranty.state", N_("Claim state"),
                       compute=_claim_states)]


def file_claim(ctx, order, category=None):
    """File the claim: it gets its number and category; filed once."""
    from .claims import Claim

    claim = ctx.session.get(Claim, order.id) or Claim(record_id=order.id)
    if claim.claim_no is not None:
        raise Conflict(_("the claim was filed already: {number}").format(number=claim.claim_no))
    claim.claim_no, claim.filed_at = f"CLM-{order.number}", ctx.now()
    claim.category_id, claim.claimable = category.id, True
    ctx.session.add(claim)
    return order


@hookimpl
def fixdesk_actions():
    """File the claim of a repaired order."""
    return [Action(ORDERS, "acme_warranty_file_claim", N_("File warranty claim"), file_claim,
                   "acme_warranty_claim.file", available=lambda order: order.status in REPAIRED,
                   params=(Param("category", "reference", reference="acme_warranty_category",
                                 required=True),))]


def _gather(ctx, order):
    from .claims import Claim

    return {"order": order, "claim": ctx.session.get(Claim, order.id)}


@hookimpl
def fixdesk_documents():
    """The claim form sent to the maker."""
    return [Document("acme_warranty.claim_form", N_("Warranty claim form"), ORDERS,
                     "acme_warranty/claim_form.html", _gather, paper="A5")]


@hookimpl
def repair_order_completed(ctx, order, completion):
    """A repair done free under the maker's warranty (category C) can be claimed. Safe to
    receive again after a rework: the row is per order."""
    from .claims import Claim

    if order.category == "C":
        claim = ctx.session.get(Claim, order.id) or Claim(record_id=order.id)
        claim.claimable = True
        ctx.session.add(claim)
