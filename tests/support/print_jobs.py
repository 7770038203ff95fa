"""Following a batch print job from the desk, as the progress page does."""

from __future__ import annotations

import time


def wait_for_print_job(client, page_url: str, timeout: float = 120.0) -> dict:
    """Poll the job's progress (``<page>/progress``) until it is done or failed; returns
    the last progress (status, done, total, percent, download, error)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"{page_url}/progress")
        assert answer.status_code == 200, answer.text
        progress = answer.json()
        if progress["status"] in ("done", "failed"):
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)
