"""Cold start of ``fixdesk --help`` and of a command that opens a site.

Runs each command N times in fresh processes and prints min / median / max
wall time, plus the machine it ran on. Usage::

    .venv/bin/python bench/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXDESK = Path(sys.executable).with_name("fixdesk")


def measure(args: list[str], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        timings.append(time.perf_counter() - start)
    return timings


def report(label: str, timings: list[float]) -> None:
    ms = sorted(t * 1000 for t in timings)
    print(f"{label:<40} min {ms[0]:6.1f} ms  median {statistics.median(ms):6.1f} ms  "
          f"max {ms[-1]:6.1f} ms  ({len(ms)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, {platform.platform()}")
    report("python -c pass (interpreter floor)", measure([sys.executable, "-c", "pass"], runs))
    report("fixdesk --help", measure([str(FIXDESK), "--help"], runs))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(FIXDESK), "new-site", f"{tmp}/site", "--demo"], check=True,
                       stdout=subprocess.DEVNULL)
        report("fixdesk --site S branch list",
               measure([str(FIXDESK), "--site", f"{tmp}/site", "branch", "list"], runs))
        start = time.perf_counter()
        subprocess.run([str(FIXDESK), "new-site", f"{tmp}/demo2", "--demo"], check=True,
                       stdout=subprocess.DEVNULL)
        report("fixdesk new-site --demo (SQLite)", [time.perf_counter() - start])


if __name__ == "__main__":
    main()
