"""Reports: tables a plugin computes from the database, offered on the API, desk and CLI.

Plugins register :class:`~kernel.reports.registry.Report` objects with
``fixdesk_reports``. Every report can be run with typed parameters, shown as a
table, exported to Excel (R33) or CSV, and printed as a paper through the same
sandboxed templates and WeasyPrint pipeline as documents.

Modules: :mod:`.registry` (the contract and lookup; parameter values are read by
:mod:`kernel.params`, as actions' are), :mod:`.formatting` (cells as text and as spreadsheet
values, totals), :mod:`.export` (Excel, CSV, text), :mod:`.printing` (the paper and
the print log), :mod:`.service` (what the API, the desk and the CLI call).
"""
