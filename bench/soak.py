"""Soak: fixdesk as deployed on several machines, under load, losing a worker and its database.

Everything runs on this machine and talks over loopback only:

* a private PostgreSQL cluster (``initdb`` in a temporary folder, its own port): it is
  really restarted midway, and no other database of the machine is touched;
* a demo site with repair on it, its ``[web] trusted_proxies`` set to nginx, its
  ``[smtp]`` pointing at a mail sink in this process;
* Debian's nginx running ``docs/deploy/nginx-fixdesk.conf`` (ports and log paths
  replaced) in front of two ``fixdesk serve --log-format json`` processes;
* two ``fixdesk worker`` processes, restarted when they stop, as systemd would;
* 20 clients through nginx: 8 writers creating customers, 12 readers; beside them a
  notifier queues e-mail notifications (one unique recipient each) through the kernel.

Midway one worker is killed with SIGKILL (and started again), later PostgreSQL is
stopped, kept down for ``--db-down`` seconds and started again. At the end the queue is
drained and the script reports: acknowledged writes against rows in the database (must
be equal), notifications sent exactly once as the reader sees them (a copy sent again
after a crash carries the same Message-ID; missing ones), 5xx answers by cause, and
latency. Exits 1 when an acknowledged write is missing or a notification was lost or
reached a reader as two different messages. Usage::

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 20] [--report FILE]

Needs nginx (``make bench`` installs it) and PostgreSQL's server binaries
(``/usr/lib/postgresql/*/bin``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import email
import email.policy
import glob
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import verdicts  # this folder

ROOT = Path(__file__).resolve().parent.parent
FIXDESK = Path(sys.executable).with_name("fixdesk")
NGINX_SITE = ROOT / "docs" / "deploy" / "nginx-fixdesk.conf"
WRITERS = 8
CODE_PREFIX = "SK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------
# a private PostgreSQL cluster
# --------------------------------------------------------------------------


class PrivatePostgres:
    """initdb + pg_ctl in a folder of its own, on a port of its own."""

    def __init__(self, folder: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            sys.exit("soak: PostgreSQL's server binaries (initdb) are not installed")
        self.bin = Path(found[-1]).parent
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, check=True):
        return subprocess.run([*self.as_postgres, *map(str, args)], check=check,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def init(self) -> None:
        self.folder.mkdir(parents=True)
        os.chmod(self.folder, 0o755)
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-instructions")
        self.start(setup=True)

    def start(self, setup: bool = False) -> None:
        """Start the server; ``setup``: without fsync (only while the site is made)."""
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200")
        if setup:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.folder / "server.log",
                  "-o", options, "-w", "start")

    def stop(self, check=True) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop",
                  check=check)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


# --------------------------------------------------------------------------
# processes: serve, workers, nginx
# --------------------------------------------------------------------------


class Supervised:
    """A process started again when it stops (like systemd's Restart=always)."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict):
        self.name, self.args, self.log_path, self.env = name, args, log_path, env
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.exits: list[int] = []
        self.stopping = False

    def start(self) -> None:
        out = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=out, env=self.env,
                                     start_new_session=True)
        out.close()

    def check(self) -> None:
        if self.stopping or self.proc is None or self.proc.poll() is None:
            return
        self.exits.append(self.proc.returncode)
        self.restarts += 1
        log(f"{self.name} exited ({self.proc.returncode}): started again")
        time.sleep(1)
        self.start()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        self.stopping = True
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """The deployment guide's nginx file with this run's ports and paths, in a main
    config of its own (pid, logs and temporary files inside ``folder``)."""
    site = NGINX_SITE.read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    for documented, port in zip(("127.0.0.1:8001", "127.0.0.1:8002"), upstreams, strict=True):
        assert documented in site, documented
        site = site.replace(documented, f"127.0.0.1:{port}")
    site = site.replace("/var/log/nginx/", f"{folder}/")
    (folder / "fixdesk.conf").write_text(site)
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir()
        os.chmod(folder / temp, 0o777)  # nginx's workers run as nobody under root
    main = folder / "nginx.conf"
    main.write_text(f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/fixdesk.conf;
}}
""")
    return main


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"soak: {url} did not answer")
        time.sleep(0.3)


# --------------------------------------------------------------------------
# the mail sink and the notifier
# --------------------------------------------------------------------------


class MailSink:
    """An SMTP server that counts messages per recipient, and the distinct Message-IDs
    each received (a copy with the same Message-ID is shown once by a mail client)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received: collections.Counter = collections.Counter()
        self.message_ids: dict[str, set] = collections.defaultdict(set)
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                for recipient in envelope.rcpt_tos:
                    sink.received[recipient.lower()] += 1
                    sink.message_ids[recipient.lower()].add(str(parsed["Message-ID"]))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()


class Notifier(threading.Thread):
    """Queues one e-mail notification every ``interval`` seconds through the kernel
    (the outbox row commits with its transaction); remembers which committed."""

    def __init__(self, site_path: Path, stop: threading.Event, interval: float = 0.25):
        super().__init__(daemon=True)
        self.site_path, self.stop_event, self.interval = site_path, stop, interval
        self.committed: set[str] = set()
        self.uncertain: set[str] = set()  # the commit raised: may or may not exist
        self.refused = collections.Counter()

    def run(self):
        from kernel.notifications import notify
        from kernel.site import Site

        app = Site.load(self.site_path).start()
        n = 0
        try:
            while not self.stop_event.is_set():
                n += 1
                to = f"soak-{n}-{uuid.uuid4().hex[:6]}@example.test"
                try:
                    with app.context(user="admin") as ctx:
                        notify(ctx, channel="email", to=to, template="test",
                               context={"company": "soak"})
                    self.committed.add(to)
                except Exception as exc:  # the database is down: counted, tried again
                    self.refused[type(exc).__name__] += 1
                    if "commit" in str(exc).lower():
                        self.uncertain.add(to)
                    time.sleep(0.5)
                self.stop_event.wait(self.interval)
        finally:
            app.close()


# --------------------------------------------------------------------------
# the clients
# --------------------------------------------------------------------------


class Tally:
    """What the clients saw."""

    def __init__(self):
        self.acked: dict[str, int] = {}  # customer code → id, answered 2xx
        self.unacked: set[str] = set()  # a write that got no 2xx (may have committed)
        self.status = collections.Counter()
        self.causes = collections.Counter()  # 5xx and transport errors by cause
        self.cause_times: list[tuple[float, str]] = []
        self.latency = collections.defaultdict(list)  # "read" / "write" → seconds
        self.requests = 0


def _cause(response: httpx.Response) -> str:
    """fixdesk's error code, /healthz's verdict, or nginx's own page."""
    try:
        body = response.json()
    except ValueError:
        origin = "nginx's own page" if "nginx" in response.text else "not JSON"
        return f"{response.status_code} ({origin}: no answer from fixdesk)"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return f"{response.status_code} {body['error'].get('code')} (fixdesk)"
    if isinstance(body, dict) and "status" in body:
        failing = sorted(k for k, v in (body.get("checks") or {}).items()
                         if not (isinstance(v, dict) and v.get("ok", True)))
        return f"{response.status_code} /healthz {body['status']} {failing} (fixdesk)"
    return f"{response.status_code} (fixdesk, other body)"


async def client(number: int, base: str, token: str, reads: list[str], tally: Tally,
                 until: float, started: float) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    writer = number < WRITERS
    rng = random.Random(number)
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30,
                                 limits=limits) as http:
        n = 0
        while time.monotonic() < until:
            n += 1
            begin = time.monotonic()
            code = None
            try:
                if writer:
                    code = f"{CODE_PREFIX}{uuid.uuid4().hex[:11]}"
                    response = await http.post("/api/v1/customer", json={
                        "code": code, "name": f"耐久客户 {number}-{n}", "tier": "corporate"})
                else:
                    response = await http.get(rng.choice(reads))
            except httpx.TransportError as exc:
                cause = f"transport: {type(exc).__name__}"
                tally.causes[cause] += 1
                tally.cause_times.append((begin - started, cause))
                if code:
                    tally.unacked.add(code)
                await asyncio.sleep(0.5)
                continue
            tally.requests += 1
            tally.latency["write" if writer else "read"].append(time.monotonic() - begin)
            tally.status[response.status_code] += 1
            if code:
                if response.status_code in (200, 201):
                    tally.acked[code] = response.json().get("id")
                else:
                    tally.unacked.add(code)
            if response.status_code >= 500:
                cause = _cause(response)
                tally.causes[cause] += 1
                tally.cause_times.append((begin - started, cause))
            elif response.status_code >= 400 and response.status_code != 404:
                tally.causes[f"{response.status_code} (client error)"] += 1
            await asyncio.sleep(0.1 if writer else 0.05)


async def drive(base: str, token: str, reads: list[str], clients: int, seconds: float,
                tally: Tally, started: float) -> None:
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(n, base, token, reads, tally, until, started)
                           for n in range(clients)))


# --------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------


def make_site(folder: Path, url: str, smtp_port: int) -> str:
    """A demo site with repair; returns an API token of a front-desk user."""
    from kernel.site import Site

    subprocess.run([str(FIXDESK), "new-site", str(folder), "--demo", "--plugins", "repair",
                    "--db", url], check=True, stdout=subprocess.DEVNULL)
    site = Site.load(folder)
    site.config.smtp = {"host": "127.0.0.1", "port": smtp_port, "sender": "soak@example.test"}
    if hasattr(site.config, "trusted_proxies"):
        site.config.trusted_proxies = ["127.0.0.1"]
    site.save()
    run = [str(FIXDESK), "--site", str(folder)]
    subprocess.run([*run, "user", "add", "soak", "--branch", "SH", "--roles", "front_desk",
                    "--password", "soak-password-1"], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([*run, "user", "token", "add", "soak"], check=True,
                         capture_output=True, text=True).stdout
    return next(word for word in reversed(out.split()) if word.startswith("fdk_"))


def readable_paths(base: str, token: str) -> list[str]:
    """A few list routes of the site's API that answer 200 (customers, repair orders…)."""
    spec = httpx.get(f"{base}/api/v1/openapi.json", timeout=30).json()
    candidates = [path for path, ops in spec["paths"].items()
                  if "get" in ops and "{" not in path and path.startswith("/api/v1/")
                  and not path.endswith((".csv", ".xlsx", "/export"))]
    preferred = sorted(candidates, key=lambda p: ("customer" not in p, "repair" not in p, p))
    good = []
    for path in preferred:
        url = path + ("?limit=50" if "customer" in path or "repair" in path else "")
        if httpx.get(f"{base}{url}", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code == 200:
            good.append(url)
        if len(good) == 6:
            break
    return [*good, "/healthz"]


def database_counts(url: str, codes: set[str]) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {row[0] for row in conn.execute(
                text("SELECT code FROM customer WHERE code LIKE :p"), {"p": CODE_PREFIX + "%"})}
            jobs = dict(conn.execute(text(
                "SELECT status, count(*) FROM job WHERE name = 'kernel.notify' "
                "GROUP BY status")).all())
            attempts = dict(conn.execute(text(
                "SELECT payload->>'to', attempts FROM job WHERE name = 'kernel.notify'")).all())
    finally:
        engine.dispose()
    return {"rows": rows, "jobs": jobs, "missing": codes - rows, "attempts": attempts}


def queue_empty(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM job WHERE status IN ('queued', 'running') "
                "AND name = 'kernel.notify'")).scalar() == 0
    except Exception:
        return False
    finally:
        engine.dispose()


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo")
               if line.startswith("MemTotal")) / 1024 / 1024
    return f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--db-down", type=float, default=10.0,
                        help="seconds PostgreSQL stays stopped")
    parser.add_argument("--lease", type=int, default=30, help="workers' job lease (seconds)")
    parser.add_argument("--report", help="also write the report (markdown) here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        sys.exit("soak: nginx is not installed (apt-get install nginx; make bench does)")
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    seconds = args.minutes * 60
    work = Path(tempfile.mkdtemp(prefix="fixdesk-soak-"))
    os.chmod(work, 0o755)
    log(f"soak for {args.minutes:g} min in {work}")
    pg = PrivatePostgres(work / "pg")
    sink = MailSink()
    stop_notifier = threading.Event()
    processes: list[Supervised] = []
    nginx = None
    try:
        pg.init()
        db_url = pg.url("fixdesk_soak")
        sink.start()
        log(f"PostgreSQL on port {pg.port}, mail sink on {sink.port}; creating the site")
        token = make_site(work / "site", db_url, sink.port)
        pg.stop()
        pg.start()  # from here on with fsync, as in production
        log("site created")
        env = {**os.environ, "FIXDESK_LOG_FORMAT": "json"}
        ports = [free_port(), free_port()]
        site_args = [str(FIXDESK), "--site", str(work / "site")]
        for n, port in enumerate(ports, 1):
            processes.append(Supervised(
                f"serve-{n}", [*site_args, "serve", "--port", str(port)],
                work / f"serve-{n}.log", env))
        for n in (1, 2):
            processes.append(Supervised(
                f"worker-{n}", [*site_args, "worker", "--poll", "0.2", "--lease",
                                str(args.lease)], work / f"worker-{n}.log", env))
        for proc in processes:
            proc.start()
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/healthz")
        listen = free_port()
        (work / "nginx").mkdir()
        conf = nginx_config(work / "nginx", listen, ports)
        test = subprocess.run([nginx_bin, "-t", "-c", str(conf)], capture_output=True,
                              text=True)
        if test.returncode:
            sys.exit(f"soak: nginx -t failed:\n{test.stderr}")
        nginx = subprocess.Popen([nginx_bin, "-c", str(conf)], stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{listen}"
        wait_http(f"{base}/healthz")
        reads = readable_paths(base, token)
        log(f"nginx on {listen} → serve on {ports}; reads: {', '.join(reads)}")

        tally = Tally()
        notifier = Notifier(work / "site", stop_notifier)
        events: list[tuple[float, str]] = []
        started = time.monotonic()
        notifier.start()
        worker_proc = processes[2]

        def scenario():
            """Kill a worker at 30 %, restart PostgreSQL at 55 % of the run."""
            def at(fraction):
                delay = started + seconds * fraction - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            at(0.30)
            events.append((time.monotonic() - started, "worker-1 killed (SIGKILL)"))
            worker_proc.kill()  # the supervisor loop starts it again
            at(0.55)
            events.append((time.monotonic() - started, "PostgreSQL stopped (fast)"))
            pg.stop()
            time.sleep(args.db_down)
            pg.start()
            events.append((time.monotonic() - started, "PostgreSQL started"))

        chaos = threading.Thread(target=scenario, daemon=True)
        chaos.start()
        supervising = threading.Event()

        def supervise():
            while not supervising.is_set():
                for proc in processes:
                    proc.check()
                time.sleep(0.5)

        supervisor = threading.Thread(target=supervise, daemon=True)
        supervisor.start()
        asyncio.run(drive(base, token, reads, args.clients, seconds, tally, started))
        stop_notifier.set()
        notifier.join(timeout=30)
        chaos.join(timeout=60)
        log(f"load done: {tally.requests} answers; draining the job queue")
        drain_deadline = time.monotonic() + args.lease + 90
        while time.monotonic() < drain_deadline and not queue_empty(db_url):
            time.sleep(1)
        time.sleep(2)  # the last message reaches the sink
        supervising.set()
        supervisor.join(timeout=10)
        counts = database_counts(db_url, set(tally.acked))
        report = build_report(args, tally, notifier, sink, counts, events, processes, work)
    finally:
        stop_notifier.set()
        for proc in processes:
            proc.stop()
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        sink.stop()
        pg.stop(check=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(report["text"])
    verdicts.keep("soak", report["verdicts"])
    if args.report:
        Path(args.report).write_text(report["text"] + "\n")
    return 0 if report["ok"] else 1


def log_health(work: Path) -> dict:
    """JSON lines, tracebacks and 5xx lines in the servers' and workers' logs."""
    out = {"lines": 0, "not_json": 0, "tracebacks": 0, "access_5xx": 0}
    for path in sorted(work.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            out["lines"] += 1
            try:
                record = json.loads(line)
            except ValueError:
                out["not_json"] += 1
                out["tracebacks"] += line.startswith("Traceback")
                continue
            if record.get("logger") == "fixdesk.access" and record.get("status", 0) >= 500:
                out["access_5xx"] += 1
            out["tracebacks"] += "Traceback" in str(record.get("exc_info", ""))
    return out


def build_report(args, tally: Tally, notifier: Notifier, sink: MailSink, counts: dict,
                 events, processes, work: Path) -> dict:
    acked = set(tally.acked)
    rows = counts["rows"]
    extra_rows = rows - acked
    committed = notifier.committed
    delivered = set(sink.received)
    # what a reader would see twice: two messages with different Message-IDs
    duplicates = {to: len(ids) for to, ids in sink.message_ids.items() if len(ids) > 1}
    resent = {to: n for to, n in sink.received.items() if n > 1 and to not in duplicates}
    missing_mail = committed - delivered
    unexpected_mail = delivered - committed - notifier.uncertain
    logs = log_health(work)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.status.items()))
    ok = not counts["missing"] and not duplicates and not missing_mail
    lines = [
        f"Soak: {args.minutes:g} min, {args.clients} clients through nginx → 2 × serve, "
        f"2 workers, private PostgreSQL; {machine()}",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| answers | {tally.requests} ({statuses}) |",
        f"| acknowledged writes (2xx) | {len(acked)} |",
        f"| their rows in the database | {len(acked & rows)} (missing: {len(counts['missing'])}) |",
        f"| writes without a 2xx answer | {len(tally.unacked)} (of which committed anyway: "
        f"{len(extra_rows & tally.unacked)}) |",
        f"| rows nobody wrote | {len(extra_rows - tally.unacked)} |",
        f"| notifications committed | {len(committed)} (+{len(notifier.uncertain)} uncertain, "
        f"{sum(notifier.refused.values())} refused while the database was down) |",
        f"| e-mails received | {sum(sink.received.values())} to {len(delivered)} recipients |",
        f"| sent again with the same Message-ID (shown once) | {len(resent)} (their jobs' "
        f"attempts: {sorted(counts['attempts'].get(to) for to in resent)}) |",
        f"| sent more than once as different messages | {len(duplicates)} |",
        f"| never sent | {len(missing_mail)} |",
        f"| sent but never committed | {len(unexpected_mail)} |",
        f"| notify jobs by status at the end | {counts['jobs']} |",
        f"| read latency p50 / p99 | {quantile(tally.latency['read'], .5) * 1000:.0f} / "
        f"{quantile(tally.latency['read'], .99) * 1000:.0f} ms |",
        f"| write latency p50 / p99 | {quantile(tally.latency['write'], .5) * 1000:.0f} / "
        f"{quantile(tally.latency['write'], .99) * 1000:.0f} ms |",
        "| process restarts (exit codes) | " + ", ".join(
            f"{p.name}: {p.restarts} {p.exits}" for p in processes) + " |",
        f"| log lines (not JSON: start-up banners; tracebacks) | {logs['lines']} "
        f"({logs['not_json']}; {logs['tracebacks']}) |",
        "",
        "Events: " + "; ".join(f"{t:.0f} s {what}" for t, what in events),
        "",
        "5xx and failed requests by cause (first and last second of the run they were seen):",
    ]
    if not tally.causes:
        lines.append("- none")
    for cause, count in tally.causes.most_common():
        times = [t for t, c in tally.cause_times if c == cause]
        span = f" ({min(times):.0f}–{max(times):.0f} s)" if times else ""
        lines.append(f"- {cause}: {count}{span}")
    lines.append("")
    lines.append("RESULT: " + ("OK — every acknowledged write is stored, every notification "
                               "sent exactly once" if ok else "FAILED"))
    kept = [("acknowledged writes missing from the database", str(len(counts["missing"])),
             "0", not counts["missing"]),
            ("notifications a reader sees twice", str(len(duplicates)), "0", not duplicates),
            ("notifications never sent", str(len(missing_mail)), "0", not missing_mail)]
    return {"text": "\n".join(lines), "ok": ok, "verdicts": kept}


if __name__ == "__main__":
    sys.exit(main())
