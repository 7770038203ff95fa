"""The staff desk: server-rendered pages for every entity, action and document of a site.

``/login`` and ``/logout``; ``/`` the home page (the modules the user may read);
``/desk/<entity>`` a list (search, filters, sort, pages, batch print, CSV and
Excel export); ``/desk/<entity>/<id>`` and ``/desk/<entity>/new`` a form
(validation next to the fields, actions, printing with a preview, the audit
history); ``/desk/reports/<name>`` a report (parameters, table, Excel, PDF).
Templates are ``templates/desk/*.html`` (a site or plugin may override them);
the only script and stylesheet are our own ``templates/desk/static/desk.js``
and ``desk.css``.
"""

from __future__ import annotations


def install(web, app) -> None:
    """Mount the desk's pages on ``web`` (after the API, so its catch-all comes last)."""
    from kernel.web.desk import (
        admin,
        kanban,
        line_forms,
        list_views,
        login,
        pages,
        printing,
        reports,
    )
    from kernel.web.desk import timeline as record_timeline
    from kernel.web.shared_routes import include

    include(web, login.router)
    admin.install(web)  # /desk/admin/..., before the catch-all
    include(web, reports.router)  # before /desk/{entity}/...
    include(web, printing.router)  # /desk/print-jobs/..., before the same
    include(web, line_forms.router)  # lines saved in place
    include(web, lambda: list_views.router(pages.list_page), key=list_views.router)
    include(web, kanban.router)
    # notes, files, older entries of a record
    include(web, record_timeline.router)
    include(web, pages.router)
