"""API throughput and latency under concurrent load, on SQLite and PostgreSQL.

For each database: creates a demo site, starts ``fixdesk serve`` in its own
process on a free loopback port, and drives it from this (second) process
with N concurrent clients (httpx, asyncio) for a fixed number of requests:

* list: ``GET /api/v1/customer?limit=50`` (50 rows with paging count);
* create: ``POST /api/v1/customer`` (validation, audit row, commit).

Prints requests per second and p50 / p99 latency. Usage::

    .venv/bin/python bench/api_bench.py [--clients 20] [--requests 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

FIXDESK = Path(sys.executable).with_name("fixdesk")
PG_SERVER = os.environ.get("FIXDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_site(folder: Path, db: str | None) -> str:
    args = [str(FIXDESK), "new-site", str(folder), "--demo"]
    if db:
        args += ["--db", db]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(FIXDESK), "--site", str(folder), "user", "add", "bench", "--branch",
                    "SH", "--roles", "front_desk", "--password", "bench-password"], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run([str(FIXDESK), "--site", str(folder), "user", "token", "add", "bench"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


async def drive(base: str, token: str, method: str, clients: int, total: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    counter = iter(range(total))

    async def client(http: httpx.AsyncClient) -> None:
        for n in counter:
            start = time.perf_counter()
            if method == "list":
                response = await http.get(f"{base}/api/v1/customer?limit=50", headers=headers)
            else:
                response = await http.post(f"{base}/api/v1/customer", headers=headers, json={
                    "code": f"B{uuid.uuid4().hex[:12]}", "name": f"压测客户 {n}",
                    "tier": "corporate"})
            latencies.append(time.perf_counter() - start)
            if response.status_code >= 400:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies


def run(label: str, db: str | None, args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fixdesk-apibench-"))
    try:
        token = make_site(folder / "site", db)
        port = free_port()
        workers = args.workers if db else 1  # SQLite: one writer, one process
        server = subprocess.Popen([str(FIXDESK), "--site", str(folder / "site"), "serve",
                                   "--port", str(port), "--workers", str(workers)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(drive(base, token, "list", args.clients, 100))  # warm up
            for method in ("list", "create"):
                start = time.perf_counter()
                latencies = asyncio.run(drive(base, token, method, args.clients, args.requests))
                wall = time.perf_counter() - start
                ordered = sorted(latencies)
                p99 = ordered[int(len(ordered) * 0.99) - 1]
                p50 = statistics.median(ordered)
                print(f"{label:<10} {method:<7} {workers} worker(s)"
                      f"  {len(ordered) / wall:7.0f} req/s  p50 {p50 * 1000:6.1f} ms"
                      f"  p99 {p99 * 1000:6.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        if db:
            subprocess.run([sys.executable, "-c", "import sys; from kernel.db import "
                            "drop_database; drop_database(sys.argv[1])", db], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}; "
          f"{args.clients} concurrent clients, {args.requests} requests each")
    run("sqlite", None, args)
    run("postgresql", f"{PG_SERVER}fixdesk_bench_{uuid.uuid4().hex[:8]}", args)


if __name__ == "__main__":
    main()
