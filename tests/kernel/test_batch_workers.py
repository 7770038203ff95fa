"""The batch pool's worker processes end with the process that started them, even when
it is killed: they used to wait for chunks forever, and the forkserver with them."""

from __future__ import annotations

import os
import subprocess
import sys
import time

#: starts a pool by printing a batch, names its workers, then dies without cleaning up
KILLED_OWNER = """
import os, signal, sys
from pathlib import Path
from kernel.documents import batch
from kernel.documents.service import RenderJob
jobs = [RenderJob(html=f"<p>服务凭证 {n}</p>", width="148mm", height="210mm", footer="")
        for n in range(batch.POOL_THRESHOLD)]
assert batch.render_many(jobs, len(jobs), Path(sys.argv[1]), workers=2).startswith(b"%PDF")
print(" ".join(str(pid) for pid in batch._pool._processes), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_end_when_their_owner_is_killed(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:  # not a pipe: the workers would hold it open
        owner = subprocess.Popen([sys.executable, "-c", KILLED_OWNER, str(tmp_path)],
                                 env={**os.environ, "TMPDIR": str(temporary)},
                                 stdout=stdout, stderr=subprocess.STDOUT)
    # waited for but not reaped: the workers must see a dead owner while it is a zombie
    ended = os.waitid(os.P_PID, owner.pid, os.WEXITED | os.WNOWAIT)
    assert ended.si_status == 9, out.read_text()
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 20
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, workers))
    owner.wait()
    # and the workers' copies of the print faces went with them
    assert [p.name for p in temporary.iterdir() if p.name.startswith("weasyprint-")] == []


def test_a_server_stopped_with_sigterm_leaves_no_copies_of_the_print_faces(make_site,
                                                                           tmp_path):
    """uvicorn ends a stopped server by raising the signal again, so its exit handlers never
    run: the server removes WeasyPrint's copies of the faces as it shuts down."""
    import signal

    import httpx
    from api_tokens import bearer_headers
    from serving import free_port, wait_up
    from sqlalchemy import select

    from kernel.models import CustomerEquipment

    site = make_site([], demo=True)
    app = site.start()
    try:
        with app.context() as ctx:
            headers = bearer_headers(ctx, "admin")["admin"]
            equipment = ctx.session.scalars(select(CustomerEquipment.id)).first()
    finally:
        app.close()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--port",
         str(port)], env={**os.environ, "TMPDIR": str(temporary)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/healthz", server)
        paper = httpx.get(f"{base}/api/v1/customer_equipment/{equipment}/print/"
                          "kernel.equipment_record", headers=headers, timeout=60)
        assert paper.status_code == 200 and paper.content.startswith(b"%PDF")
        assert [p.name for p in temporary.iterdir() if p.name.startswith("weasyprint-")]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert [p.name for p in temporary.iterdir() if p.name.startswith("weasyprint-")] == []
