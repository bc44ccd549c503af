"""Timing helpers shared by the benchmark modules.

Rows are timed in the process's own CPU time (`time.process_time`: user and
system time of this process), not wall time: the build machine is shared by
several jobs, and wall time counts the moments another job has the core.
CPU time still moves with load (caches, frequency), so compare ratios within
one run; every result also carries the wall time for reference.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUN = Path(__file__).resolve().parent / "run.py"


clock = time.process_time
"""The clock every row is timed with (CPU seconds of this process)."""

WALL: list[float] = []
"""The wall-clock µs/op of the last timing (median), for reference."""


def each_us(runs: list[Callable[[], object]], ops: int) -> tuple[float, list[float]]:
    """Time each of `runs` once (each on its own fresh data): median CPU µs/op and each run."""
    samples = []
    walls = []
    for run in runs:
        wall = time.perf_counter()
        start = clock()
        run()
        samples.append((clock() - start) / ops * 1e6)
        walls.append((time.perf_counter() - wall) / ops * 1e6)
    WALL[:] = [statistics.median(walls)]
    return statistics.median(samples), samples


def median_us(run: Callable[[], object], ops: int, repeats: int) -> tuple[float, list[float]]:
    """Run `run` (which does `ops` operations) `repeats` times: median CPU µs/op and each."""
    return each_us([run] * repeats, ops)


def child(*args: str, timeout: float | None = None) -> dict[str, Any]:
    """Run `benchmarks/run.py` with `args` in a fresh interpreter: its last line, as JSON."""
    command = [sys.executable, str(RUN), *args]
    done = subprocess.run(  # noqa: S603 (our own script, our own arguments)
        command, check=True, capture_output=True, text=True, timeout=timeout
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
