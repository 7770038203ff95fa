"""Instructions per API request, counted by valgrind's callgrind: a CPU figure that does
not move with the machine.

On this kind of machine (a KVM shared with other tenants) the CPU time of the same
in-process loop moves by a third between runs, so a change of 10 % cannot be seen in
milliseconds. Callgrind counts the instructions the interpreter executes instead (every
thread: the event loop's and the request's worker), the same from run to run. It builds
the API bench's site (``api_bench.make_site``: three branches, 600 customers, 600 work
orders, a service supervisor's token) on SQLite and PostgreSQL, then, for list-50 of
customers, list-50 of work orders and a create, runs a process under callgrind that
warms up with 30 requests through the ASGI app, uninstrumented, and counts ``--requests``
more. Instrumentation is switched on and off around them by callgrind's client requests,
through a two-function C helper compiled here (gcc and valgrind's headers).

Figures only, no targets: the issue's targets are in milliseconds (``api_bench.py``); this
shows what a change to the request path saves. Usage::

    .venv/bin/python bench/api_instructions.py [--requests 100] [--no-sqlite] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import api_bench  # this folder
import bench_sites  # this folder
import verdicts  # this folder

HELPER = """#include <valgrind/callgrind.h>
void count_on(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void count_off(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS; }
"""
CALLS = {"list-50 customers": ("GET", api_bench.CUSTOMERS),
         "list-50 work orders": ("GET", api_bench.ORDERS),
         "create customer": ("POST", api_bench.CREATE)}


def helper(folder: Path) -> Path:
    """The C helper that switches callgrind's counting on and off, compiled."""
    source, library = folder / "count.c", folder / "libcount.so"
    source.write_text(HELPER)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(source)],
                   check=True)
    return library


def child(site_dir: str, token: str, call: str, requests: int, library: str) -> None:
    """In the process callgrind runs: warm up, then count ``requests`` calls."""
    from kernel.site import Site
    from kernel.web.app import create_app, freeze_startup_heap

    count = ctypes.CDLL(library)
    web = create_app(Site.load(site_dir))
    freeze_startup_heap()
    method, target = CALLS[call]
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    prefix = uuid.uuid4().hex[:6]

    async def run(n: int, tag: str) -> None:
        for i in range(n):
            body = json.dumps({"code": f"I{prefix}{tag}{i}", "name": f"计数客户 {i}",
                               "tier": "corporate"}).encode() if method == "POST" else b""
            status, text = await api_bench.asgi_call(web, method, target, headers, body)
            if status >= 400:
                raise RuntimeError(f"{method} {target}: {status} {text[:300]!r}")

    asyncio.run(run(30, "w"))
    count.count_on()
    asyncio.run(run(requests, "m"))
    count.count_off()
    web.state.fixdesk.close()


def instructions(folder: Path, site_dir: Path, token: str, call: str, requests: int,
                 library: Path) -> float:
    """Millions of instructions per request of ``call``."""
    out = folder / f"callgrind.{uuid.uuid4().hex[:6]}"
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}.%p", sys.executable, __file__, "--child",
                    str(site_dir), token, call, str(requests), str(library)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 0
    for dump in folder.glob(f"{out.name}.*"):
        for line in dump.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return total / requests / 1e6


def bench(name: str, url: str | None, args, folder: Path, library: Path) -> list:
    """Build the site on ``url`` (None: SQLite) and count each call's instructions."""
    rows = []
    with bench_sites.scratch_site("fixdesk-apicount-", url, False,
                                  lambda where: api_bench.make_site(where, url)) as made:
        site, app, token = made
        print(f"{name}: {bench_sites.machine(app)}", flush=True)
        app.close()
        for call in CALLS:
            count = instructions(folder, site.path, token, call, args.requests, library)
            rows.append((f"{name}: instructions per {call}", f"{count:.2f} M", "—", True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        site_dir, token, call, requests, library = args.child
        child(site_dir, token, call, int(requests), library)
        return
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install {tool} (make bench installs it)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        library = helper(folder)
        if not args.no_sqlite:
            rows += bench("SQLite", None, args, folder, library)
        if not args.no_postgres:
            rows += bench("PostgreSQL", f"{bench_sites.PG_SERVER}fixdesk_apicount_"
                                        f"{uuid.uuid4().hex[:8]}", args, folder, library)
    verdicts.show("API instructions", rows)


if __name__ == "__main__":
    main()
