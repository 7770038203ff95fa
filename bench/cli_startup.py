"""Start-up (#16): ``fixdesk --help`` against a bare interpreter, a command on a site,
``serve`` until ``/healthz`` answers 200, and ``new-site --demo`` (repair alone, and every
plugin as ``make demo`` makes it), each in fresh processes.

Prints the machine, each measurement, then ``figure | value | target | holds``:

- ``fixdesk --help`` median ≤ 3× ``python -c pass``'s;
- ``fixdesk --site S branch list`` imports no web library (FastAPI, Starlette, uvicorn,
  Jinja, Alembic) — its time is shown;
- ``fixdesk serve`` on a demo site (repair) answers ``/healthz`` with 200 within 2 s of
  the process starting (median);
- ``fixdesk new-site S --demo --plugins repair`` (SQLite) ≤ 15 s;
- ``new-site`` with repair, inventory, billing and complaints (``make demo``): shown.

The processes keep their compiled bytecode (in a scratch folder, ``PYTHONPYCACHEPREFIX``),
as an installed fixdesk does beside its modules; each command runs once before it is
timed. With ``PYTHONDONTWRITEBYTECODE`` every start would compile every module again.

Usage::

    .venv/bin/python bench/cli_startup.py [--runs 10] [--demo-runs 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import bench_sites  # this folder
import verdicts  # this folder

ROOT = Path(__file__).resolve().parent.parent
FIXDESK = [sys.executable, "-m", "kernel"]
ALL_PLUGINS = "repair,inventory,billing,complaints"
WEB_LIBRARIES = ("fastapi", "starlette", "uvicorn", "jinja2", "alembic")
#: the environment of every measured process (bytecode kept: see the module's docstring)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def machine() -> str:
    """The CPU, cores, memory, load, Python and SQLite."""
    cpu = bench_sites.cpu_name()
    load = " / ".join(f"{n:.1f}" for n in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores (load {load}), CPython "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def children_cpu() -> float:
    """CPU seconds (user and system) of the finished child processes so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_times(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` fresh processes of ``args`` (after one not timed);
    CPU time is steadier than wall time on a busy machine."""
    timings, cpu = [], []
    for n in range(runs + 1):
        start, used = time.perf_counter(), children_cpu()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=ENV)
        if n:
            timings.append(time.perf_counter() - start)
            cpu.append(children_cpu() - used)
    return timings, cpu


def show(label: str, timings: list[float], cpu: list[float] | None = None) -> float:
    """Print min / median / max of ``timings`` (and the median of ``cpu``); returns the
    median."""
    ms = sorted(t * 1000 for t in timings)
    median = statistics.median(ms)
    used = f"  CPU {statistics.median(cpu) * 1000:8.1f} ms" if cpu else ""
    print(f"  {label:<52} min {ms[0]:8.1f} ms  median {median:8.1f} ms  "
          f"max {ms[-1]:8.1f} ms{used}  ({len(ms)} runs)", flush=True)
    return median / 1000


def web_libraries_of(site: Path) -> list[str]:
    """The web libraries a ``branch list`` on ``site`` imports."""
    probe = ("import sys\nfrom kernel.cli import main\n"
             f"main(['--site', {str(site)!r}, 'branch', 'list'])\n"
             f"print(*sorted(m for m in {WEB_LIBRARIES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                          text=True, cwd=ROOT, env=ENV)
    return done.stdout.splitlines()[-1].split() if done.stdout.strip() else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_until_healthy(site: Path, timeout: float = 120) -> float:
    """Seconds from starting ``fixdesk serve`` to its first 200 on ``/healthz``."""
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen([*FIXDESK, "--site", str(site), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                              env=ENV)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                            timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None:
                raise RuntimeError(f"serve stopped with exit code {server.returncode}")
            time.sleep(0.01)
        raise RuntimeError("no 200 from /healthz")
    finally:
        server.terminate()
        server.wait(timeout=30)


def new_site(folder: Path, plugins: str) -> float:
    """Wall and CPU seconds ``fixdesk new-site FOLDER --demo --plugins PLUGINS`` took."""
    start, used = time.perf_counter(), children_cpu()
    subprocess.run([*FIXDESK, "new-site", str(folder), "--demo", "--plugins", plugins,
                    "--quiet"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    return time.perf_counter() - start, children_cpu() - used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10,
                        help="fresh processes per quick command and per serve")
    parser.add_argument("--demo-runs", type=int, default=1,
                        help="sites made per new-site measurement")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    bytecode = tempfile.TemporaryDirectory(prefix="fixdesk-startup-pyc-")
    ENV["PYTHONPYCACHEPREFIX"] = bytecode.name
    rows = []
    floor = show("python -c pass (interpreter floor)",
                 *run_times([sys.executable, "-c", "pass"], args.runs))
    helped = show("fixdesk --help", *run_times([*FIXDESK, "--help"], args.runs))
    rows.append(("fixdesk --help / python -c pass", f"{helped / floor:.1f}×", "≤ 3×",
                 helped <= 3 * floor))
    with tempfile.TemporaryDirectory(prefix="fixdesk-startup-") as tmp:
        subprocess.run([*FIXDESK, "new-site", f"{tmp}/warm", "--plugins", ALL_PLUGINS, "-q"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=ENV)  # compiles
        repair = [new_site(Path(tmp) / f"repair{n}", "repair")
                  for n in range(args.demo_runs)]
        made = show("new-site --demo --plugins repair (SQLite)", *zip(*repair, strict=True))
        rows.append(("new-site --demo --plugins repair (SQLite)", f"{made:.1f} s", "≤ 15 s",
                     made <= 15))
        full = [new_site(Path(tmp) / f"full{n}", ALL_PLUGINS) for n in range(args.demo_runs)]
        made = show(f"new-site --demo --plugins {ALL_PLUGINS}", *zip(*full, strict=True))
        rows.append((f"new-site --demo --plugins {ALL_PLUGINS} (SQLite)", f"{made:.1f} s",
                     "shown", True))
        site = Path(tmp) / "repair0"
        listed = show("fixdesk --site S branch list",
                      *run_times([*FIXDESK, "--site", str(site), "branch", "list"], args.runs))
        heavy = web_libraries_of(site)
        rows.append(("fixdesk --site S branch list: web libraries imported",
                     f"{', '.join(heavy) or 'none'} ({listed * 1000:.0f} ms)", "none",
                     not heavy))
        serve_until_healthy(site)  # not timed: compiles the web modules
        healthy = show("serve → first 200 on /healthz (demo, repair)",
                       [serve_until_healthy(site) for _ in range(args.runs)])
        rows.append(("serve → /healthz 200 (demo site, repair)", f"{healthy:.2f} s", "≤ 2 s",
                     healthy <= 2))
    bytecode.cleanup()
    verdicts.show("start-up", rows)


if __name__ == "__main__":
    main()
