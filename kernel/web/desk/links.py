"""How the desk shows and edits links to any record (:mod:`kernel.links`).

A link shows as the linked record's label, linking to its form, where the user may
read and see that record, and as the plain ``entity #id`` elsewhere; labels come one
query per linked entity per page (:func:`kernel.linked.link_labels`). A form edits a
link with a choice of the entities it may point to and a box taking the record's id,
code, name or label, found like any other reference
(:func:`kernel.references.resolve_references`).
"""

from __future__ import annotations

from typing import Any

from kernel.entities import FieldInfo
from kernel.i18n import _
from kernel.linked import Unreadable, link_labels, link_targets
from kernel.links import MAX_ID, RecordLink

#: what a link's entity choice is named in a form, after the field's own name
ENTITY_SUFFIX = "__entity"


def text(value: RecordLink, labels: dict | None) -> str:
    """A link as people read it: the record's label, else ``entity #id``."""
    return (labels or {}).get(value) or f"{value.entity} #{value.id}"


def url(spec: FieldInfo, value: Any, labels: dict | None) -> str | None:
    """The form of the linked record, when ``spec`` is a link the user may follow
    (``labels`` hold only records the user may read and see)."""
    if spec.kind != "link" or value is None or value not in (labels or {}) \
            or isinstance(labels[value], Unreadable):
        return None
    return f"/desk/{value.entity}/{value.id}"


def labels_of(ctx, spec: FieldInfo, values) -> dict | None:
    """The labels of the records the link field ``spec`` points to in ``values`` (None
    for any other field)."""
    return link_labels(ctx, values) if spec.kind == "link" else None


def column_labels(ctx, columns: list[FieldInfo], rows: list) -> dict[str, dict]:
    """``{field: {link: label}}`` for the link columns of a page of records: one query
    per linked entity for the whole page."""
    specs = [spec for spec in columns if spec.kind == "link"]
    if not specs or not rows:
        return {}
    found = link_labels(ctx, [getattr(r, s.name) for r in rows for s in specs])
    return {spec.name: found for spec in specs}


def from_form(form, key: str) -> tuple[Any, str, str | None]:
    """The link a form sent for field ``key``: ``(value for the service, what to show
    again, problem)``. An empty record box means no link; the record may be an id, a
    code, a name or a label (resolved by the kernel's references)."""
    entity = str(form.get(key + ENTITY_SUFFIX, "")).strip()
    typed = str(form.get(key, "")).strip()
    shown = f"{entity}:{typed}"
    if not typed:
        return None, shown, None
    if not entity:
        return None, shown, _("choose what it links to")
    return {"entity": entity, "id": typed}, shown, None


def _record_id(typed: str) -> int | None:
    return int(typed) if typed.isdigit() and 1 <= int(typed) <= MAX_ID else None


def link_control(ctx, spec: FieldInfo, control: dict) -> dict:
    """Fill in the form control of the link field ``spec`` (its ``value`` is
    ``entity:record`` as :func:`from_form` or :func:`kernel.web.desk.fields.form_value`
    made it): the entities it may point to, the record's label, and where it links."""
    app = ctx.app
    entity, _colon, typed = control["value"].partition(":")
    targets = [(t, _(app.exposed[t].title), f"/desk/{t}/lookup")
               for t in link_targets(app, spec) if ctx.can(app.exposed[t].perm("read"))]
    if entity and entity not in {t for t, _title, _lookup in targets}:
        targets.append((entity, entity, ""))  # kept as it is, so that saving keeps it
    lookups = {t: lookup for t, _title, lookup in targets}
    record_id = _record_id(typed)
    link = RecordLink(entity, record_id) if entity and record_id is not None else None
    labels = {k: v for k, v in (link_labels(ctx, [link]) if link is not None else {}).items()
              if not isinstance(v, Unreadable)}
    control.update(widget="link", entity=entity, targets=targets,
                   lookup=lookups.get(entity, ""), value=labels.get(link, typed),
                   url=url(spec, link, labels), text=labels.get(link),
                   entity_label=_("Links to"))
    return control
