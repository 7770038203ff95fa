"""The site's print spool: a batch print's progress and its PDF, kept for its owner.

A batch printed as a job (:mod:`kernel.documents.print_jobs`) writes its state (papers
done, of how many, an error for the user) and finally its PDF into the site's folder
``spool/prints/``, named by the job's id. The state is a small JSON file replaced
atomically, so a progress page polling it never reads half a file and the database is
not written to on every paper. Files are kept :data:`KEEP` after the job ends, then
swept away; the job row says who asked (only that user may download).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

#: how long a finished batch's PDF stays downloadable
KEEP = dt.timedelta(hours=24)
FOLDER = Path("spool") / "prints"


def folder(app) -> Path:
    """The spool folder of the site (made when first needed)."""
    path = app.site.path / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdf_path(app, job_id: int) -> Path:
    """Where job ``job_id``'s PDF is kept."""
    return folder(app) / f"{int(job_id)}.pdf"


def _state_path(app, job_id: int) -> Path:
    return folder(app) / f"{int(job_id)}.json"


def write_state(app, job_id: int, **state) -> None:
    """Replace job ``job_id``'s state (``done``, ``total``, ``error``, ``expires_at``...)."""
    target = _state_path(app, job_id)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, default=str), encoding="utf-8")
    os.replace(temporary, target)


def read_state(app, job_id: int) -> dict:
    """Job ``job_id``'s last state; ``{}`` before it wrote one."""
    try:
        return json.loads(_state_path(app, job_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def store_pdf(app, job_id: int, data: bytes) -> Path:
    """Keep job ``job_id``'s PDF (written whole, then moved into place)."""
    target = pdf_path(app, job_id)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return target


def expired(state: dict, now: dt.datetime) -> bool:
    """Whether a finished batch's file is past its keeping time."""
    expires = state.get("expires_at")
    return bool(expires) and dt.datetime.fromisoformat(expires) <= now


def sweep(app, now: dt.datetime) -> int:
    """Delete spool files older than :data:`KEEP`; returns how many went."""
    limit = (now - KEEP).timestamp()
    gone = 0
    for path in folder(app).iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                gone += 1
        except FileNotFoundError:  # another process swept it
            continue
    return gone
