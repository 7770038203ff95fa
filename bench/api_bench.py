"""API throughput, latency and CPU per request, beside a bare FastAPI app, on SQLite and
PostgreSQL.

For each database it builds a site with repair (three branches, 600 customers, 600 work
orders; the caller a service supervisor of one branch, through an API token), starts
``fixdesk serve`` (SQLite: 1 worker; PostgreSQL: ``--workers``, default 2) and, beside
it, a bare FastAPI app under the same uvicorn with as many workers that answers the same
50 rows from memory (``GET``) and echoes a validated body (``POST``). `wrk` (Debian's
package; one thread, so it leaves the server its cores) drives each for ``--seconds``
with ``--connections`` keep-alive connections, the bare app and fixdesk in turn (the
bare app twice: returning a dict, as FastAPI's tutorial does, which the targets compare
with; and "lean", encoding with the json module, shown beside it):

* list-50 customers: ``GET /api/v1/customer?limit=50``;
* list-50 work orders: ``GET /api/v1/repair_work_order?limit=50`` (default sort);
* create: ``POST /api/v1/customer`` (validation, audit row, commit), a new code each.

Before the servers it measures the CPU (``time.process_time``) of a list-50 of each and
of a create called in-process through the ASGI app (no HTTP client in the way). It prints
``figure | value | target | holds``: list-50 throughput ≥ 0.5× the bare app's, create ≥
0.3×, p99 ≤ 3× p50, CPU ≤ 3 ms a request. Usage::

    .venv/bin/python bench/api_bench.py [--seconds 10] [--connections 20] [--workers 2]
                                        [--no-sqlite] [--no-postgres] [--keep]
    .venv/bin/python bench/api_bench.py --serve-bare ROWS.json --port N --workers N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Literal

import bench_sites  # this folder; it puts the repository on sys.path
import verdicts  # this folder
from pydantic import BaseModel, Field

HERE = Path(__file__).resolve().parent
FIXDESK = Path(sys.executable).with_name("fixdesk")
CUSTOMERS = "/api/v1/customer?limit=50"
ORDERS = "/api/v1/repair_work_order?limit=50"
CREATE = "/api/v1/customer"
#: list-50 and create throughput against the bare app's, p99 against p50, CPU a request
LIST_SHARE, CREATE_SHARE, TAIL, CPU_MS = 0.5, 0.3, 3.0, 3.0


# ---------------------------------------------------------------------------
# the site
# ---------------------------------------------------------------------------


def make_site(folder: Path, url: str | None):
    """A site with repair: branches SH, JD and PD, 600 customers and 600 work orders
    spread over them, a service supervisor of SH with an API token; returns (site, app,
    token)."""
    import datetime as dt

    import complaints_bench
    from sqlalchemy import insert, select

    from kernel.auth import add_user, create_token
    from kernel.masterdata import add_branch, the_company
    from kernel.models import Branch, Customer, Tier
    from kernel.provision import create_site
    from kernel.site import DEFAULT_DB, SiteConfig

    site = create_site(folder, SiteConfig(database_url=url or DEFAULT_DB, plugins=["repair"]),
                       company="压测服务公司", branch_code="SH", branch_name="上海服务中心")
    app = site.start()
    now = dt.datetime.now(dt.UTC)
    with app.context() as ctx:
        company = the_company(ctx).id
        branches = list(ctx.session.scalars(select(Branch.id)))
        home = branches[0]
        for code, name, _share in complaints_bench.BRANCHES[1:]:
            branches.append(add_branch(ctx, code, name).id)
        ctx.session.execute(insert(Customer), [
            {"company_id": company, "branch_id": branches[n % 3], "code": f"C{n + 1:05d}",
             "name": f"客户 {n + 1}", "tier": Tier.CORPORATE, "phone": "021 5555 0000",
             "created_at": now, "updated_at": now} for n in range(600)])
        user = add_user(ctx, "bench", "压测主管", "bench-password",
                        ctx.session.get(Branch, home), roles=["service_supervisor"])
        _row, token = create_token(ctx, user, "bench")
    bench_sites.load_tables(app, [("repair_work_order", complaints_bench.ORDER_COLUMNS)], {
        "repair_work_order": complaints_bench.orders({"company": company,
                                                      "branches": branches}, 600)}, 10_000)
    return site, app, token


# ---------------------------------------------------------------------------
# CPU per request, in-process
# ---------------------------------------------------------------------------


async def asgi_call(web, method: str, target: str, headers: dict[str, str],
                    body: bytes = b"") -> tuple[int, bytes]:
    """One request straight into the ASGI app: (status, body)."""
    path, _sep, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    done, chunks, status = asyncio.Event(), [], [0]
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await web(scope, receive, send)
    return status[0], b"".join(chunks)


def cpu_per_request(site, token: str, count: int) -> dict[str, float]:
    """CPU seconds (all threads of this process) per list-50 of customers and of work
    orders and per create, through the ASGI app, after a warm-up."""
    import gc

    from kernel.web.app import create_app, freeze_startup_heap

    web = create_app(site)
    freeze_startup_heap()  # as a server process does once it has started
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    prefix = uuid.uuid4().hex[:6]

    async def run(label: str, target: str, method: str = "GET") -> float:
        for warm in (True, False):
            start = time.process_time()
            for n in range(10 if warm else count):
                body = json.dumps({"code": f"P{prefix}{label[0]}{int(warm)}{n}",
                                   "name": f"进程内客户 {n}", "tier": "corporate"}).encode() \
                    if method == "POST" else b""
                status, text = await asgi_call(web, method, target, headers, body)
                if status >= 400:
                    raise RuntimeError(f"{method} {target}: {status} {text[:300]!r}")
            took = time.process_time() - start
        return took / count

    async def all_of_them():
        return {"customers": await run("customers", CUSTOMERS),
                "work orders": await run("orders", ORDERS),
                "create": await run("create", CREATE, "POST")}

    try:
        return asyncio.run(all_of_them())
    finally:
        gc.unfreeze()
        web.state.fixdesk.close()


# ---------------------------------------------------------------------------
# servers and wrk
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(base: str, path: str, server: subprocess.Popen) -> None:
    import httpx

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            httpx.get(base + path, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not answer")


def start(args: list[str], base: str, probe: str) -> subprocess.Popen:
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(base, probe, server)
    except Exception:
        server.kill()
        raise
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


LUA = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{auth}
counter = 0
request = function()
  if wrk.method ~= "POST" then return wrk.format() end
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(
    '{{"code":"W{prefix}%d","name":"压测客户 %d","tier":"corporate"}}', counter, counter))
end
"""
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url: str, method: str, token: str | None, seconds: int, connections: int,
        folder: Path) -> dict[str, float]:
    """Drive ``url`` with wrk (one thread): req/s, p50, p99 (seconds) and the answers that
    were not 2xx or 3xx, or failed on the socket."""
    script = folder / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    script.write_text(LUA.format(method=method, auth=auth, prefix=uuid.uuid4().hex[:8]),
                      encoding="utf-8")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "30s", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for name, pct in (("p50", "50"), ("p99", "99")):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M).groups()
        found[name] = float(value) * UNITS[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    found["failed"] = int(bad.group(1)) if bad else 0
    found["failed"] += sum(map(int, socket_errors.groups())) if socket_errors else 0
    return found


class NewCustomer(BaseModel):
    """The bare app's create body (what fixdesk's customer create checks, roughly)."""

    code: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1, max_length=200)
    tier: Literal["dealer", "retail_chain", "corporate", "individual"]


def bare_app_from_env():
    """The bare FastAPI app: the same pages from memory (``GET /customers``, ``GET
    /orders``) and a create that validates its body and echoes it (``POST /customers``),
    each as FastAPI's tutorial writes it (a dict returned: FastAPI encodes it) and, under
    ``/lean``, with the JSON made by the json module (``JSONResponse``)."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    pages = json.loads(Path(os.environ["FIXDESK_BENCH_ROWS"]).read_text(encoding="utf-8"))
    web = FastAPI()
    counter = iter(range(1, 10**9))

    @web.get("/customers")
    def customers():
        return pages["customers"]

    @web.get("/orders")
    def orders():
        return pages["orders"]

    @web.post("/customers", status_code=201)
    def create(body: NewCustomer):
        return {"id": next(counter), **body.model_dump()}

    @web.get("/lean/customers")
    def lean_customers():
        return JSONResponse(pages["customers"])

    @web.get("/lean/orders")
    def lean_orders():
        return JSONResponse(pages["orders"])

    @web.post("/lean/customers", status_code=201)
    def lean_create(body: NewCustomer):
        return JSONResponse({"id": next(counter), **body.model_dump()}, status_code=201)

    return web


def serve_bare(rows: str, port: int, workers: int) -> None:
    """The bare app under uvicorn, its workers listening as ``fixdesk serve``'s do (a socket
    each, :mod:`kernel.web.listeners`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from kernel.web.listeners import worker_sockets

    os.environ["FIXDESK_BENCH_ROWS"] = rows
    options = dict(factory=True, host="127.0.0.1", port=port, workers=workers,
                   log_level="warning", access_log=False)
    if workers == 1:
        uvicorn.run("api_bench:bare_app_from_env", app_dir=str(HERE), **options)
        return
    config = uvicorn.Config("api_bench:bare_app_from_env", **options)
    Multiprocess(config, sockets=worker_sockets(config)).run()


# ---------------------------------------------------------------------------
# one database
# ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench(label: str, url: str | None, args) -> list[tuple[str, str, str, bool]]:
    """Build the site, measure, and return the table's rows for ``label``."""
    import httpx

    rows: list[tuple[str, str, str, bool]] = []
    workers = args.workers if url else 1
    with bench_sites.scratch_site("fixdesk-apibench-", url, args.keep,
                                  lambda folder: make_site(folder, url)) as made:
        site, app, token = made
        print(f"{label}: {bench_sites.machine(app)}", flush=True)
        app.close()
        if args.threads:  # the site's [web] threads (kernel.site), else its default
            with (site.path / "site.toml").open("a", encoding="utf-8") as toml:
                toml.write(f"\n[web]\nthreads = {args.threads}\n")
            print(f"  [web] threads = {args.threads}", flush=True)
        for name, cpu in cpu_per_request(site, token, args.cpu_requests).items():
            call = "create" if name == "create" else f"list-50 {name}"
            rows.append((f"{label}: CPU per {call} (in-process)", ms(cpu), f"≤ {CPU_MS:g} ms",
                         cpu * 1000 <= CPU_MS))
        folder = site.path.parent
        port, bare_port = free_port(), free_port()
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        server = start([str(FIXDESK), "--site", str(site.path), "serve", "--port", str(port),
                        "--workers", str(workers)], base, "/healthz")
        bare_server = None
        try:
            auth = {"Authorization": f"Bearer {token}"}
            pages = {"customers": httpx.get(base + CUSTOMERS, headers=auth).json(),
                     "orders": httpx.get(base + ORDERS, headers=auth).json()}
            rows_file = folder / "rows.json"
            rows_file.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")
            bare_server = start([sys.executable, str(HERE / "api_bench.py"), "--serve-bare",
                                 str(rows_file), "--port", str(bare_port), "--workers",
                                 str(workers)], bare, "/customers")
            calls = (("list-50 customers", "GET", CUSTOMERS, "/customers", LIST_SHARE),
                     ("list-50 work orders", "GET", ORDERS, "/orders", LIST_SHARE),
                     ("create customer", "POST", CREATE, "/customers", CREATE_SHARE))
            for call, method, path, bare_path, share in calls:
                found = {}
                for who, target, key in (("bare", bare + bare_path, None),
                                         ("lean", bare + "/lean" + bare_path, None),
                                         ("fixdesk", base + path, token)):
                    wrk(target, method, key, 2, args.connections, folder)  # warm-up
                    found[who] = wrk(target, method, key, args.seconds, args.connections,
                                     folder)
                    f = found[who]
                    print(f"  {call:<20} {who:<8} {f['rps']:7.0f} req/s  p50 {ms(f['p50'])}"
                          f"  p99 {ms(f['p99'])}  failed {f['failed']}", flush=True)
                ours, theirs, lean = found["fixdesk"], found["bare"], found["lean"]
                ratio = ours["rps"] / theirs["rps"]
                rows.append((f"{label} ({workers} w): {call} req/s vs bare",
                             f"{ours['rps']:.0f} / {theirs['rps']:.0f} = {ratio:.2f}×",
                             f"≥ {share:g}×", ratio >= share and not ours["failed"]))
                rows.append((f"{label} ({workers} w): {call} req/s vs lean bare (no target)",
                             f"{ours['rps']:.0f} / {lean['rps']:.0f} = "
                             f"{ours['rps'] / lean['rps']:.2f}×", "—", True))
                rows.append((f"{label} ({workers} w): {call} p99 / p50 at "
                             f"{args.connections} conn.",
                             f"{ms(ours['p99'])} / {ms(ours['p50'])}",
                             f"≤ {TAIL:g}×", ours["p99"] <= TAIL * ours["p50"]))
                if ours["failed"]:
                    rows.append((f"{label}: {call} failed answers", str(ours["failed"]), "0",
                                 False))
        finally:
            if bare_server is not None:
                stop(bare_server)
            stop(server)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="PostgreSQL's (SQLite: 1)")
    parser.add_argument("--cpu-requests", type=int, default=200)
    parser.add_argument("--threads", type=int, help="the site's [web] threads (default: "
                        "fixdesk's)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the sites")
    parser.add_argument("--serve-bare", metavar="ROWS", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.port, args.workers)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it)")
    rows = []
    if not args.no_sqlite:
        rows += bench("SQLite", None, args)
    if not args.no_postgres:
        rows += bench("PostgreSQL",
                      f"{bench_sites.PG_SERVER}fixdesk_apibench_{uuid.uuid4().hex[:8]}", args)
    print(f"\nload average {' / '.join(f'{n:.1f}' for n in os.getloadavg())}")
    verdicts.show("API", rows)


if __name__ == "__main__":
    main()
