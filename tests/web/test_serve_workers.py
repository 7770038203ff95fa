"""``fixdesk serve --workers N``: each worker listens on a socket of its own on the port
(``SO_REUSEPORT``), so that the kernel spreads connections over all of them, a worker
that dies comes back on its own socket, and a port in use is refused in one line."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from serving import free_port, json_workers

from kernel.web import listeners

pytestmark = pytest.mark.skipif(not listeners.AVAILABLE, reason="SO_REUSEPORT spreads "
                                "connections on Linux only")
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _listening(port: int) -> int:
    """How many sockets listen on 127.0.0.1:``port`` (``/proc/net/tcp``)."""
    local = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == local and row.split()[3] == "0A")


def _workers(pid: int) -> list[int]:
    """The worker processes of the server ``pid`` (not multiprocessing's resource
    tracker, its other child)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:  # ended meanwhile
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(child))
    return found


def _wait(condition, what: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert server.poll() is None, f"serve ended: {server.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_a_balanced_listener_is_refused_where_a_socket_is_bound():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            listeners.balanced_listener("127.0.0.1", taken.getsockname()[1])
    first = listeners.balanced_listener("127.0.0.1", 0)
    worker = pickle.loads(pickle.dumps(first))
    try:  # a second serve on the port of a running one would share it: refused too
        worker.listen()
        with pytest.raises(OSError):
            listeners.balanced_listener("127.0.0.1", first.getsockname()[1])
    finally:
        worker.close()
        first.close()


def test_a_balanced_listener_reaches_a_worker_as_a_socket_of_its_own():
    parent = listeners.balanced_listener("127.0.0.1", 0)
    try:
        own = pickle.loads(pickle.dumps(parent))  # what uvicorn sends each worker
        try:
            assert type(own) is socket.socket and own.fileno() != parent.fileno()
            assert own.getsockname() == parent.getsockname()
            assert own.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
            own.listen()
            with socket.create_connection(parent.getsockname(), timeout=5):
                accepted, _address = own.accept()  # the parent's socket never listens
                accepted.close()
        finally:
            own.close()
    finally:
        parent.close()


@POSTGRES_ONLY
def test_two_workers_each_listen_and_share_the_connections(make_site):
    site = make_site([])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = json_workers(site, port)
    try:
        _wait(lambda: _listening(port) == 2 and _up(base), "two workers listening", server)
        answered = []

        def client():  # a keep-alive client, as wrk's or a busy integration's
            with httpx.Client(base_url=base, timeout=20) as session:
                answered.extend(session.get("/healthz").status_code for _n in range(3))

        clients = [threading.Thread(target=client) for _n in range(40)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        assert answered == [200] * 120
        # a worker that dies is started again, on a socket of its own
        workers = _workers(server.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        _wait(lambda: workers[0] not in _workers(server.pid) and
              len(_workers(server.pid)) == 2 and _listening(port) == 2 and _up(base),
              "the worker started again", server)
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    pids = [line["pid"] for line in map(json.loads, (row for row in err.splitlines()
                                                     if row.startswith("{")))
            if line["logger"] == "fixdesk.access" and line["path"] == "/healthz"]
    # 40 connections hashed over two sockets: both workers answered some (on one shared
    # socket the worker awake first took most or all of them)
    assert len(set(pids[:120])) == 2, pids


@POSTGRES_ONLY
def test_serve_refuses_a_port_in_use_in_one_line(make_site):
    site = make_site([])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--port",
             str(port), "--workers", "2"],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]
