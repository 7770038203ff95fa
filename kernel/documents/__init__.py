"""Printable documents: registry, sandboxed Jinja2 templates, WeasyPrint PDFs, batch printing.

Plugins register documents with ``fixdesk_documents`` (name, title, entity,
template, paper, and a function gathering the template's data for a record).
Printing a record checks the user's permission on it, renders its template in
Jinja2's sandbox through the loader chain (site → plugins → kernel), turns the
HTML into PDF with WeasyPrint, logs the print, and marks reprints as copies.

Modules: :mod:`.registry` (documents, print log), :mod:`.templating` (loader
chain, sandbox), :mod:`.filters` (money, 人民币大写, dates, QR, Code 128),
:mod:`.pdf` (fonts, stylesheets, URL fetcher, missing glyphs), :mod:`.batch`
(worker processes), :mod:`.service` (what the CLI, API and desk call),
:mod:`.detached` (printing without holding the write lock), :mod:`.print_jobs` (a
batch as a job with progress) and :mod:`.spool` (its progress and PDF in the site's
folder). A preview (``preview=True``) is rendered like a print but not logged and not
marked as a copy.
"""
