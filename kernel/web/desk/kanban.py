"""The kanban of an entity with a workflow (``__workflow__``): one column per state, cards
for the records, the same filters, search and order as the list.

``GET /desk/<entity>/kanban`` takes the list's address parameters (and opens with the
same default filter). Each column counts its records with one SQL aggregate and shows
at most :data:`CARDS_PER_COLUMN` cards (one query per column, never per card), with a
link to the list filtered to that state for the rest. A card shows the entity's
``__card_fields__`` (default: its first list columns).

``POST /desk/<entity>/kanban/move`` moves a card: it runs the one action that takes the
record from its state to the column's without asking for input, through
:func:`kernel.actions.run_action` (permission, branch, state and audit as for the
action's button). The entity says where an action leads with
``__workflow_target__(record, action name) -> state or None``; without it, or when no
such action is possible (or it needs input, or several could), the page says so and
the user opens the record.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel import records
from kernel.contributions import Param
from kernel.entities import EntityInfo
from kernel.errors import Conflict, FixdeskError, NotFound, ValidationError
from kernel.grouping import group_counts
from kernel.i18n import _, use_locale
from kernel.web.deps import app_of
from kernel.web.desk import fields, links
from kernel.web.desk.list_views import apply_preset, entity_views, filter_texts, workflow_of
from kernel.web.desk.listing import ListState, service_filters
from kernel.web.desk.render import DeskRoute, desk_context, guess_locale, redirect, render

#: cards shown per column; the column's "more" link lists the rest
CARDS_PER_COLUMN = 20
MAX_ID = 2**31 - 1


def card_fields(info: EntityInfo) -> list[str]:
    """The fields a card shows, the first as its title (``__card_fields__``, else the
    entity's first list columns other than the workflow's)."""
    declared = getattr(info.cls, "__card_fields__", None)
    if declared:
        return [n for n in declared if info.field(n) is not None]
    workflow = workflow_of(info)
    return [n for n in info.list_columns if n not in ("id", workflow)
            and info.field(n) is not None][:4]


def shown_states(info: EntityInfo, state: ListState) -> list[str]:
    """The workflow's states the filters in force let through, in the declared order."""
    workflow = workflow_of(info)
    states = list(info.field(workflow).choices)
    by_label = {_(s).lower(): s for s in states}  # people (and links) write the labels
    for name, op, value in state.effective_filters:
        if name != workflow:
            continue
        values = {by_label.get(v.strip().lower(), v.strip()) for v in value.split(",")}
        if op in ("eq", "in"):
            states = [s for s in states if s in values]
        elif op == "ne":
            states = [s for s in states if s not in values]
    return states


def _value(record, name: str) -> str:
    value = getattr(record, name)
    return str(getattr(value, "value", value))


def columns(ctx, info: EntityInfo, state: ListState, base: str) -> list[dict]:
    """The kanban's columns: each state with its count, first cards and "more" link; a
    state the filters leave out is a column without cards (``hidden``), still a place to
    move a card to (closing a completed order from the open orders' kanban)."""
    workflow = workflow_of(info)
    filters = service_filters(ctx, info, state)
    counts = dict(group_counts(ctx, info, workflow, filters=filters, q=state.q or None))
    names = card_fields(info)
    specs = [info.field(n) for n in names]
    found = []
    shown = shown_states(info, state)
    for value in info.field(workflow).choices:
        if value not in shown:  # the filter leaves it out: a place to drop cards only
            found.append({"state": value, "title": _(value), "count": None, "records": [],
                          "hidden": True, "more_url": None, "list_url": state.url(
                              base, page=1, group="", all=True, filters=[(workflow, "eq",
                                                                          value)])})
            continue
        count = counts.get(value, 0)
        cards = []
        if count:
            cards = records.list_records(
                ctx, info, filters={**filters, workflow: value}, q=state.q or None,
                sort=state.effective_sort or None, limit=CARDS_PER_COLUMN).rows
        more = state.url(base, page=1, group="", all=False,
                         filters=state.effective_filters + [(workflow, "eq", value)])
        found.append({"state": value, "title": _(value), "count": count, "records": cards,
                      "hidden": False, "more_url": more if count > len(cards) else None,
                      "list_url": more})
    every = [r for column in found for r in column["records"]]
    refs = {spec.name: fields.reference_labels(ctx, ctx.app, spec,
                                               [getattr(r, spec.name) for r in every])
            for spec in specs if spec.foreign}  # one query per reference, not per card
    refs.update(links.column_labels(ctx, specs, every))
    tz = ctx.settings.tz
    for column in found:
        column["cards"] = [{
            "id": r.id, "url": f"{base}/{r.id}", "label": fields.record_label(r),
            "title": fields.display(specs[0], getattr(r, specs[0].name), tz,
                                    refs.get(specs[0].name)) or f"#{r.id}",
            "lines": [(fields.label(info, s.name),
                       fields.display(s, getattr(r, s.name), tz, refs.get(s.name)))
                      for s in specs[1:]]} for r in column.pop("records")]
    return found


def kanban_page(request: Request, ctx, info: EntityInfo, problem: str | None = None,
                problem_url: str | None = None, status: int = 200, query=None):
    """The kanban of ``info`` as the address asks (``query``: other parameters)."""
    base = f"/desk/{info.name}"
    ctx.require(info.perm("read"))
    state = ListState.from_query(query if query is not None else request.query_params)
    apply_preset(ctx, info, state)
    try:
        board = columns(ctx, info, state, base)
    except ValidationError as exc:
        board, problem, status = [], exc.message, 422
    movable = getattr(info.cls, "__workflow_target__", None) is not None
    done = request.query_params.get("done") if query is None else None
    return render(
        request, "kanban.html", status, ctx=ctx, info=info, title=_(info.title), base=base,
        state=state, columns=board, movable=movable, problem=problem, problem_url=problem_url,
        views=entity_views(ctx, info, "kanban"), list_url=state.url(base),
        back=state.url(f"{base}/kanban", page=1),
        chip={"label": state.preset.label,
              "remove_url": state.url(f"{base}/kanban", page=1, filters=[], all=True)}
        if state.preset is not None and not state.filters else None,
        filters=filter_texts(ctx, info, state.filters),
        notice=_("Moved.") if done == "moved" else None)


# --------------------------------------------------------------------------
# moving a card
# --------------------------------------------------------------------------


def _needs_input(action) -> bool:
    return any(isinstance(p, Param) and p.required for p in action.params)


def step_to(ctx, info: EntityInfo, record, target: str):
    """The one action that takes ``record`` to state ``target`` now without input, or
    :class:`Conflict` saying why the card cannot be moved there."""
    from kernel.actions import possible_actions

    leads = getattr(info.cls, "__workflow_target__", None)
    label = fields.record_label(record)
    current = _value(record, workflow_of(info))
    if leads is None:
        raise Conflict(_("Cards of this list cannot be moved: open {record} to change "
                         "it.").format(record=label))
    if target == current:
        raise Conflict(_("{record} is already {state}.").format(record=label,
                                                                 state=_(target)))
    steps = [a for a in possible_actions(ctx, info.name, record) if leads(record, a.name)
             == target]
    simple = [a for a in steps if not _needs_input(a)]
    if len(simple) == 1:
        return simple[0]
    if steps:
        raise Conflict(_("Moving {record} to {state} needs more input: open it and use "
                         "{action}.").format(record=label, state=_(target),
                                             action=" / ".join(_(a.title) for a in steps)))
    raise Conflict(_("No step you may take now leads {record} from {current} to "
                     "{state}.").format(record=label, current=_(current), state=_(target)))


def _back(form, base: str) -> str:
    back = str(form.get("back") or "")
    return back if back == f"{base}/kanban" or back.startswith(f"{base}/kanban?") \
        else f"{base}/kanban"


def router() -> APIRouter:
    """``GET /desk/<entity>/kanban`` and ``POST /desk/<entity>/kanban/move``."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/{entity}/kanban")
    def kanban(request: Request, entity: str):
        info = _info(request, entity)
        with desk_context(request) as ctx:
            return kanban_page(request, ctx, info)

    @routes.post("/desk/{entity}/kanban/move")
    async def move(request: Request, entity: str):
        form = await request.form()
        return await run_in_threadpool(_move, request, entity, form)

    return routes


def _info(request: Request, name: str) -> EntityInfo:
    info = app_of(request).exposed.get(name)
    if info is None or not workflow_of(info):
        with use_locale(guess_locale(request)):  # before the user's context: his language
            raise NotFound(_("There is no such page."))
    return info


def _move(request: Request, entity: str, form):
    """Run the step that moves the chosen card to the chosen column; any refusal is shown
    on the kanban (nothing written)."""
    from urllib.parse import urlsplit

    from starlette.datastructures import QueryParams

    from kernel.actions import run_action

    info = _info(request, entity)
    base = f"/desk/{info.name}"
    back = _back(form, base)
    target = str(form.get("to") or "")
    raw_id = str(form.get("id") or "")
    problem_url = None
    try:
        with desk_context(request, csrf=form.get("csrf")) as ctx:
            if target not in info.field(workflow_of(info)).choices:
                raise ValidationError(_("choose a column to move the card to"), field="to")
            if not raw_id.isdigit() or not 1 <= int(raw_id) <= MAX_ID:
                raise ValidationError(_("select a card first, then the column"), field="id")
            record = records.get_record(ctx, info, int(raw_id))
            problem_url = f"{base}/{record.id}"
            step = step_to(ctx, info, record, target)
            run_action(ctx, info.name, record.id, step.name)
        joiner = "&" if "?" in back else "?"
        return redirect(f"{back}{joiner}done=moved")
    except NotFound:
        raise
    except FixdeskError as exc:
        if exc.status not in (403, 409, 422):
            raise
        problem, status = exc.message, exc.status
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        return kanban_page(request, ctx, info, problem=problem, problem_url=problem_url,
                           status=status, query=QueryParams(urlsplit(back).query))
