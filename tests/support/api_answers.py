"""Reading the API's answers in tests: the error body every 4xx carries, and the JSON of
an answer with the status expected. Importable from any test (``tests/conftest.py`` puts
this folder on the path)."""

from __future__ import annotations


def error_of(response) -> dict:
    """The ``error`` object of an error answer (``code``, ``message``, ``fields``), after
    checking the body holds nothing else."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def ok(response, status: int = 200) -> dict:
    """The JSON of ``response`` after checking its status (the body is shown if not)."""
    assert response.status_code == status, response.text
    return response.json()
