"""Printing speed: cold first print, warm single document, a 200-record batch, vs Chromium.

Creates a throw-away demo site with repair (SQLite), then measures on this machine, for
the service voucher (``--doc``: another paper of the demo):

* cold first print: ``fixdesk print`` in a fresh process (wall time);
* warm single document: p50 / p95 over repeated prints in one process;
* a batch of N records as one PDF: wall time, pages per second, peak memory of
  the main process and of the largest worker, and RSS after each quarter (flat?);
* the same HTML printed by headless Chromium kept running (Debian's chromium
  driven by Playwright with ``executable_path``), single and batch, and the
  ratio fixdesk / Chromium.

Usage: ``.venv/bin/python bench/print_bench.py [--batch 200] [--runs 30] [--doc NAME]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import verdicts  # this folder

#: the paper the issue's targets are about: what the front desk prints most
DOC = "repair.service_voucher"
FIXDESK = Path(sys.executable).with_name("fixdesk")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def chromium_html(job, css: str) -> str:
    return job.html.replace("</head>", f"<style>{css}</style></head>", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--doc", default=DOC, help="the paper to print (default: %(default)s)")
    args = parser.parse_args()
    doc_name = args.doc
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, {platform.platform()}")

    tmp = Path(tempfile.mkdtemp(prefix="fixdesk-bench-"))
    site_dir = tmp / "site"
    subprocess.run([str(FIXDESK), "new-site", str(site_dir), "--demo", "--plugins", "repair",
                    "--quiet"], check=True, stdout=subprocess.DEVNULL)

    from sqlalchemy import select

    from kernel.documents import batch as batch_module
    from kernel.documents import pdf
    from kernel.documents.registry import get_document
    from kernel.documents.service import prepare, print_records
    from kernel.site import Site

    # cold: a fresh process that imports everything, opens the site and prints once
    start = time.perf_counter()
    subprocess.run([str(FIXDESK), "--site", str(site_dir), "print", doc_name, "1", "-o",
                    str(tmp / "cold.pdf")], check=True, stdout=subprocess.DEVNULL)
    cold = time.perf_counter() - start
    print(f"cold first print (fresh process):     {cold * 1000:7.0f} ms")

    app = Site.load(site_dir).start()
    record_class = app.entity_class(get_document(app, doc_name).entity)
    with app.sessions() as session:
        ids = list(session.scalars(select(record_class.id).order_by(record_class.id)))
    batch_ids = (ids * (args.batch // len(ids) + 1))[:args.batch]

    with app.context() as ctx:
        print_records(ctx, doc_name, [ids[0]])  # warm up fonts, stylesheets, templates
        warm = []
        for index in range(args.runs):
            start = time.perf_counter()
            print_records(ctx, doc_name, [ids[index % len(ids)]])
            warm.append(time.perf_counter() - start)
        print(f"warm single document:  p50 {statistics.median(warm) * 1000:6.0f} ms"
              f"  p95 {pctl(warm, 0.95) * 1000:6.0f} ms  ({args.runs} prints)")

        start = time.perf_counter()
        print_records(ctx, doc_name, batch_ids[:20], workers=args.workers)  # start the pool
        pool_start = time.perf_counter() - start
        rss = []
        start = time.perf_counter()
        quarter = max(1, len(batch_ids) // 4)
        out = b""
        for q in range(0, len(batch_ids), quarter):
            out = print_records(ctx, doc_name, batch_ids[q:q + quarter], workers=args.workers)
            rss.append(rss_mb())
        quarters = time.perf_counter() - start
        start = time.perf_counter()
        out = print_records(ctx, doc_name, batch_ids, workers=args.workers)
        wall = time.perf_counter() - start
        (tmp / "batch.pdf").write_bytes(out)
        pages = int(subprocess.run(["pdfinfo", str(tmp / "batch.pdf")], capture_output=True,
                                   text=True).stdout.split("Pages:")[1].split()[0])
        print(f"batch of {len(batch_ids)} as one PDF:     {wall:7.2f} s wall, "
              f"{pages / wall:5.1f} pages/s, {pages} pages, {len(out) / 1e6:.1f} MB "
              f"({args.workers} workers; pool start-up {pool_start:.2f} s, paid once)")
        print(f"  same batch in 4 parts:              {quarters:7.2f} s; main RSS after each "
              f"part: {', '.join(f'{r:.0f}' for r in rss)} MB")
        batch_module._pool.shutdown()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory: main {main_peak:.0f} MB, largest worker {children:.0f} MB")

        doc = get_document(app, doc_name)
        jobs = [prepare(ctx, doc, ctx.session.get(record_class, i), "zh_CN", 1)
                for i in batch_ids]
        ctx.session.rollback()
    css = pdf.kernel_stylesheet_path().read_text()
    single_html = chromium_html(jobs[0], css + f"@page {{ size: {jobs[0].width} "
                                                f"{jobs[0].height}; }}")
    bodies = [j.html.split("<body>", 1)[1].rsplit("</body>", 1)[0] for j in jobs]
    sections = "".join(f'<section style="page-break-after: always">{b}</section>'
                       for b in bodies)
    batch_html = single_html.split("<body>", 1)[0] + "<body>" + sections + "</body></html>"

    if not Path(CHROMIUM).exists():
        print("chromium not installed: skipping the comparison (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.set_content(single_html)
        page.pdf(prefer_css_page_size=True)
        chrome_single = []
        for _ in range(args.runs):
            start = time.perf_counter()
            page.set_content(single_html)
            page.pdf(prefer_css_page_size=True)
            chrome_single.append(time.perf_counter() - start)
        start = time.perf_counter()
        page.set_content(batch_html)
        chrome_pdf = page.pdf(prefer_css_page_size=True)
        chrome_batch = time.perf_counter() - start
        browser.close()
    (tmp / "chromium-batch.pdf").write_bytes(chrome_pdf)
    single_ratio = statistics.median(warm) / statistics.median(chrome_single)
    print(f"chromium single:       p50 {statistics.median(chrome_single) * 1000:6.0f} ms"
          f"  p95 {pctl(chrome_single, 0.95) * 1000:6.0f} ms")
    print(f"chromium batch of {len(jobs)}:     {chrome_batch:7.2f} s wall")
    print(f"ratio fixdesk / chromium: single {single_ratio:.2f}, "
          f"batch {wall / chrome_batch:.2f}")
    growth = (max(rss) - rss[0]) / rss[0]
    verdicts.show("papers", [
        (f"warm single {doc_name}: p50 fixdesk / Chromium", f"{single_ratio:.2f}×", "≤ 0.5×",
         single_ratio <= 0.5),
        (f"batch of {len(batch_ids)} on {args.workers} workers: fixdesk / Chromium",
         f"{wall:.2f} s / {chrome_batch:.2f} s = {wall / chrome_batch:.2f}×", "≤ 2.5×",
         wall / chrome_batch <= 2.5),
        ("main RSS across the batch's 4 parts", f"+{growth:.0%}", "flat (≤ +10 %)",
         growth <= 0.10)])
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
