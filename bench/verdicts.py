"""Each benchmark's figures against their targets, and the one table ``make bench`` ends with.

A benchmark ends with :func:`show`: its table of figures, targets and whether each holds.
When ``FIXDESK_BENCH_VERDICTS`` names a file, each row with a target is also appended to it
as a JSON line; ``python bench/verdicts.py FILE`` prints them all as one
table, ``bench | figure | value | target | holds``, and exits 1 when one does not hold
(``make bench`` runs it last and ignores the status: the table is the result).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

VERDICTS = "FIXDESK_BENCH_VERDICTS"


#: what a row without a target says in its target column
NO_TARGET = ("", "—", "shown")


def show(bench: str, rows: list[tuple[str, str, str, bool]]) -> None:
    """Print ``figure | value | target | holds`` for ``bench``'s rows, and :func:`keep`
    them."""
    print("figure | value | target | holds")
    for figure, value, target, holds in rows:
        print(f"{figure} | {value} | {target} | {'yes' if holds else 'NO'}")
    keep(bench, rows)


def keep(bench: str, rows: list[tuple[str, str, str, bool]]) -> None:
    """Append ``bench``'s rows that have a target to ``$FIXDESK_BENCH_VERDICTS`` when it
    is set (for a benchmark that prints its figures its own way)."""
    path = os.environ.get(VERDICTS)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for figure, value, target, holds in rows:
            if target not in NO_TARGET:
                out.write(json.dumps({"bench": bench, "figure": figure, "value": value,
                                      "target": target, "holds": bool(holds)},
                                     ensure_ascii=False) + "\n")


def summary(path: Path) -> bool:
    """Print every recorded verdict as one Markdown table; whether all of them hold."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()] if path.exists() else []
    print("\n| bench | figure | value | target | holds |\n| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['bench']} | {row['figure']} | {row['value']} | {row['target']} | "
              f"{'yes' if row['holds'] else '**no**'} |")
    held = sum(row["holds"] for row in rows)
    print(f"\n{held} of {len(rows)} figures hold their targets")
    return held == len(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/verdicts.py FILE")
    sys.exit(0 if summary(Path(sys.argv[1])) else 1)
