"""The customer's survey page (R19): ``/survey/<token>``, reached from the QR code on the
service voucher and survey card or the link sent when the job closes.

No login: the signed, expiring token (:mod:`plugins.repair.callbacks`) is the only
permission, and the page shows no more than the customer needs to know which visit
they rate (company, order number, machine, engineer, date). The page speaks the site's
language unless ``?lang=zh_CN|en`` chooses.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kernel.errors import FixdeskError, NotFound, ValidationError
from kernel.i18n import SUPPORTED, use_locale
from kernel.web.deps import app_of
from kernel.web.desk.render import DeskRoute, guess_locale, render

from . import callbacks
from .documents import SURVEY_LEVELS, SURVEY_QUESTIONS

TEMPLATE = "repair_survey.html"
QUESTION_NAMES = tuple(callbacks.RATING_FIELDS)  # attitude, skill, arrival, promise


def _locale(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in SUPPORTED:
        request.state.desk_locale = chosen
    return guess_locale(request)


def _visit(order) -> dict:
    return {"number": order.number, "model": order.model or "",
            "engineer": order.engineer.name if order.engineer is not None
            else (order.partner_outlet or ""),
            "completed_at": order.completed_at, "branch": order.branch.name}


def _page(request: Request, status: int = 200, **values):
    values.setdefault("visit", None)
    values.setdefault("answers", {})
    values.setdefault("errors", {})
    values.setdefault("message", None)
    values.setdefault("done", False)
    values.setdefault("thanked", False)
    values.setdefault("comments", "")
    values.setdefault("respondent", "")
    return render(request, TEMPLATE, status, questions=list(zip(QUESTION_NAMES,
                                                                SURVEY_QUESTIONS,
                                                                strict=True)),
                  levels=SURVEY_LEVELS, token=request.path_params.get("token", ""),
                  title=values.pop("title", None) or "", **values)


def router() -> APIRouter:
    """``GET`` and ``POST /survey/<token>``: the public survey page."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/survey/{token}")
    def survey_form(request: Request, token: str):
        return run_form(request, token)

    @routes.post("/survey/{token}")
    async def survey_answer(request: Request, token: str):
        form = await request.form()
        return await run_in_threadpool(run_answer, request, token, form)

    return routes


def run_form(request: Request, token: str):
    """Show the questions, or why the link cannot be used."""
    app = app_of(request)
    with use_locale(_locale(request)):
        try:
            with app.context() as ctx:
                order = callbacks.order_for_token(ctx, token)
                callback = callbacks.callback_of(ctx, order)
                visit = _visit(order)
                answered = callback is not None and callback.answered_at is not None
        except FixdeskError as exc:
            return _page(request, exc.status, message=exc.message)
        if answered:
            return _page(request, 409, visit=visit, done=True)
        return _page(request, visit=visit)


def run_answer(request: Request, token: str, form):
    """Record the answers (once); on a mistake show the form again with what was chosen."""
    app = app_of(request)
    answers = {name: str(form.get(name, "")) for name in QUESTION_NAMES}
    comments = str(form.get("comments", ""))[:4000]
    respondent = str(form.get("respondent", ""))[:200]
    with use_locale(_locale(request)):
        visit = None
        try:
            with app.context() as ctx:
                order = callbacks.order_for_token(ctx, token)
                ctx.branch = order.branch  # the branch's hook switches apply
                visit = _visit(order)
                callbacks.answer_by_link(ctx, token, comments=comments, respondent=respondent,
                                         **answers)
        except ValidationError as exc:
            return _page(request, exc.status, visit=visit, answers=answers,
                         comments=comments, respondent=respondent,
                         errors={exc.field: exc.message})
        except NotFound as exc:
            return _page(request, exc.status, message=exc.message)
        except FixdeskError as exc:
            return _page(request, exc.status, visit=visit, message=exc.message,
                         done=exc.status == 409)
        return _page(request, visit=visit, done=True, thanked=True)
