"""CLI start-up (issue 13 item 8): wall time of `dissemination --help` and of `view` of one item.

    .venv/bin/python benchmarks/cli_startup.py [--runs 15] [--out FILE]

Each command runs `--runs` times in a fresh process; the row gives the
fastest run (the least disturbed by other load on the machine) and the
median, in milliseconds, and the interpreter alone for scale. The targets
are 300 ms for `--help` and 400 ms for `view` on the project's machine.
`--out` writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUMBER = ROOT / "examples" / "humber"
SCRIPT = str(Path(sys.executable).parent / "dissemination")
"""The installed console script, as a user runs it."""

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "dissemination --help": [SCRIPT, "--help"],
    "dissemination view (one item)": [
        SCRIPT,
        "view",
        str(HUMBER / "items" / "hum-001-container.yaml"),
        "--as",
        str(HUMBER / "readers" / "agency-frontline.yaml"),
        "--now",
        "2026-11-27T10:00:00Z",
    ],
}


def measure(command: list[str], runs: int) -> list[float]:
    """Wall times in milliseconds of `runs` fresh runs of `command` (each must exit 0)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)  # noqa: S603 (our own commands)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    """Print (and with `--out`, write) one row per command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    arguments = parser.parse_args()
    rows = []
    for name, command in COMMANDS.items():
        times = measure(command, arguments.runs)
        row = {
            "command": name,
            "min_ms": round(min(times), 1),
            "median_ms": round(statistics.median(times), 1),
            "runs": arguments.runs,
        }
        rows.append(row)
        print(f"{name:32s} min {row['min_ms']:7.1f} ms   median {row['median_ms']:7.1f} ms")
    if arguments.out is not None:
        arguments.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
