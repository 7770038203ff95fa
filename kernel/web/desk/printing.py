"""Printing from the desk: one paper (a preview, or a print that is logged) and a batch
as a job with a progress page and a download for the user who asked.

* ``GET /desk/<entity>/<id>/print/<document>``: a print (logged; a reprint is marked as a
  copy), shown in the browser, or saved with ``?download=1``. ``?preview=1`` is not a
  print: nothing is logged and the paper has no copy mark.
* ``POST /desk/<entity>/print``: the rows selected in a list, queued as a job
  (:mod:`kernel.documents.print_jobs`) that this process runs in the background; the
  answer is the job's page ``/desk/print-jobs/<job>``, whose bar follows
  ``/desk/print-jobs/<job>/progress`` until ``/desk/print-jobs/<job>/download`` is ready.

Papers are laid out outside the database's write transaction
(:mod:`kernel.documents.detached`), so the desk stays usable while they print.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kernel.errors import Conflict, NotFound, ValidationError
from kernel.i18n import N_, _, use_locale
from kernel.web.deps import app_of
from kernel.web.desk.render import DeskRoute, desk_context, guess_locale, redirect, render
from kernel.web.downloads import file_response

MAX_ID = 2**31 - 1
#: what the progress page says for each state of the job
STATES = {"queued": N_("Waiting to start"), "running": N_("Printing"),
          "done": N_("Done: the file is ready"), "failed": N_("The print failed")}


def print_single(request: Request, info, record_id: int, document: str, *, download: bool,
                 preview: bool) -> Response:
    """One record's paper: checked and logged in a short transaction, laid out after it."""
    from kernel.documents.detached import Requester, print_detached
    from kernel.documents.registry import get_document

    with desk_context(request) as ctx:
        doc = get_document(ctx.app, document)
        if doc.entity != info.name:
            raise NotFound(_("There is no such page."))
        requester, app = Requester.of(ctx), ctx.app
    with use_locale(guess_locale(request)):
        data = print_detached(app, requester, doc.name, [record_id], preview=preview)
    kind = "preview" if preview else doc.name.rsplit(".", 1)[-1]
    return file_response(data, "application/pdf", f"{kind}-{record_id}.pdf",
                         download=download and not preview)


def start_batch(request: Request, info, form) -> Response:
    """Queue the selected rows' papers as a job and show its progress page."""
    from kernel.documents.print_jobs import queue_batch, run_in_background
    from kernel.documents.registry import get_document

    ids = [int(i) for i in form.getlist("ids") if str(i).isdigit() and int(i) <= MAX_ID]
    with desk_context(request, csrf=form.get("csrf")) as ctx:
        document = get_document(ctx.app, str(form.get("document", "")))
        if document.entity != info.name:
            raise NotFound(_("There is no such page."))
        if not ids:
            raise ValidationError(_("Select the records to print first."), field="ids")
        job_id, app = queue_batch(ctx, document.name, ids).id, ctx.app
    run_in_background(app, job_id)
    return redirect(f"/desk/print-jobs/{job_id}")


def _job(ctx, job_id: str):
    """The user's own batch-print job ``job_id``; anyone else's is not found."""
    from kernel.documents.print_jobs import JOB_NAME
    from kernel.jobs import Job

    if not job_id.isdigit() or not 1 <= int(job_id) <= MAX_ID:
        raise NotFound(_("There is no such page."))
    job = ctx.session.get(Job, int(job_id))
    if job is None or job.name != JOB_NAME or ctx.user is None or job.user_id != ctx.user.id:
        raise NotFound(_("There is no such page."))
    return job


def progress_of(ctx, job) -> dict:
    """What the progress page shows of ``job``: its state, papers done of how many, the
    download link when ready, the error when it failed."""
    from kernel.documents import spool

    app = ctx.app
    state = spool.read_state(app, job.id)
    total = int(state.get("total") or len(job.payload.get("ids", [])))
    done = total if job.status == "done" else int(state.get("done") or 0)
    ready = job.status == "done" and spool.pdf_path(app, job.id).is_file() and \
        not spool.expired(state, ctx.now())
    error = None
    if job.status == "failed":
        error = state.get("error") or _("The error was logged. Try again, or tell your "
                                        "administrator.")
    elif job.status == "done" and not ready:
        error = _("The file expired. Print the records again.")
    document = app.documents.get(job.payload.get("document", ""))
    return {
        "id": job.id, "status": job.status, "state": _(STATES.get(job.status, "Printing")),
        "done": done, "total": total,
        "percent": round(100 * done / total) if total else 0,
        "text": _("{done} of {total} papers").format(done=done, total=total),
        "document": _(document.title) if document else job.payload.get("document", ""),
        "download": f"/desk/print-jobs/{job.id}/download" if ready else None,
        "error": error,
    }


def _resume_if_orphaned(ctx, job) -> None:
    """A queued job (or one whose worker died) that no thread of this process runs: run
    it here (the claim keeps two workers from running it twice)."""
    from kernel.documents.print_jobs import run_in_background

    lapsed = job.status == "running" and job.locked_until is not None and \
        job.locked_until < ctx.now()
    if job.status == "queued" or lapsed:
        run_in_background(ctx.app, job.id)


def router() -> APIRouter:
    """The batch-print job's page, its progress (JSON) and its download."""
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/print-jobs/{job_id}")
    def job_page(request: Request, job_id: str):
        with desk_context(request) as ctx:
            job = _job(ctx, job_id)
            progress = progress_of(ctx, job)
            _resume_if_orphaned(ctx, job)
            return render(request, "print_job.html", ctx=ctx, title=_("Batch print"),
                          progress=progress)

    @routes.get("/desk/print-jobs/{job_id}/progress")
    def job_progress(request: Request, job_id: str):
        with desk_context(request) as ctx:
            job = _job(ctx, job_id)
            progress = progress_of(ctx, job)
            _resume_if_orphaned(ctx, job)
        return JSONResponse(progress, headers={"Cache-Control": "no-store"})

    @routes.get("/desk/print-jobs/{job_id}/download")
    async def job_download(request: Request, job_id: str):
        return await run_in_threadpool(_download, request, job_id)

    def _download(request: Request, job_id: str) -> Response:
        from kernel.documents import spool

        with desk_context(request) as ctx:
            job = _job(ctx, job_id)
            progress = progress_of(ctx, job)
            if progress["download"] is None:
                raise Conflict(progress["error"] or _("The file is not ready yet."))
            path = spool.pdf_path(app_of(request), job.id)
            name = str(job.payload.get("document", "print")).rsplit(".", 1)[-1]
        return file_response(path.read_bytes(), "application/pdf",
                             f"{name}-{progress['total']}.pdf", download=True)

    return routes
