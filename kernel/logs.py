"""Logging for the server and the worker: one line per event, as JSON or as text.

``fixdesk serve --log-format json`` and ``fixdesk worker --log-format json`` write one
JSON object per line on standard error (``ts``, ``level``, ``logger``, ``message`` and
the event's own fields), ready for a log shipper; ``text`` (the default) is for people.
A line written while a request or a job runs carries its ``request_id`` or ``job_id``
(:data:`REQUEST_ID`, :data:`JOB_ID`), so every line of one request can be found.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config

from pythonjsonlogger.json import JsonFormatter

#: the id of the HTTP request being served (set by the web app's middleware)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fixdesk_request_id", default=None)
#: the id of the job a worker is running
JOB_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "fixdesk_job_id", default=None)

FORMATS = ("text", "json")
#: fields a log line takes from the running request or job
_CONTEXT = (("request_id", REQUEST_ID), ("job_id", JOB_ID))


class ContextFilter(logging.Filter):
    """Adds ``request_id`` / ``job_id`` of the running request or job to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT:
            value = var.get()
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``pid`` (which of ``serve --workers`` wrote it), then the record's extra
    fields; non-ASCII text is kept as is."""

    def __init__(self):
        super().__init__("{levelname}{name}{message}{process}", style="{", timestamp="ts",
                         rename_fields={"levelname": "level", "name": "logger",
                                        "process": "pid"},
                         json_ensure_ascii=False)


class TextLogFormatter(logging.Formatter):
    """``2026-05-29 16:00:00,123 INFO fixdesk.access [request_id=…] message``."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{name}={getattr(record, name)}" for name, _var in _CONTEXT
                       if getattr(record, name, None) is not None)
        return f"{line} [{ids}]" if ids else line


def logging_config(log_format: str = "text", level: str = "INFO") -> dict:
    """A :func:`logging.config.dictConfig` for a server or worker process (uvicorn's
    ``log_config`` too): fixdesk's and uvicorn's loggers at ``level`` on standard error,
    other libraries' from WARNING."""
    formatter = JsonLogFormatter if log_format == "json" else TextLogFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "main", "filters": ["context"]}},
        "loggers": {name: {"level": level} for name in ("fixdesk", "uvicorn", "uvicorn.error")},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def configure(log_format: str = "text", level: str = "INFO") -> None:
    """Set up this process's logging (the worker's; ``serve`` hands the same to uvicorn)."""
    logging.config.dictConfig(logging_config(log_format, level))
