"""``fixdesk serve`` in a process of its own, for tests that need real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    """A TCP port nobody listens on now (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_workers(site, port: int, workers: int = 2) -> subprocess.Popen:
    """``fixdesk serve --workers`` for ``site`` on ``port``, logging JSON lines on its
    standard error (a pipe, text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kernel", "--site", str(site.path), "serve", "--port",
         str(port), "--workers", str(workers), "--log-format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def wait_up(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    """Wait until ``url`` answers at all (``server`` must not end meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
