"""Load on `dissemination serve` over loopback: single evaluations, then batches of 100.

Starts the server itself (`--workers N`, default 2) on a free loopback port,
drives it with 64 concurrent keep-alive connections from one asyncio client
(a minimal HTTP/1.1 client, so the client costs little of the two cores),
and stops everything by itself: each phase ends after `--seconds` or
`--requests`, whichever comes first.

    python benchmarks/service_load.py --workers 2 --seconds 10

Prints, for each phase, the throughput and the p50 and p99 latency of a
request. The machine is shared: the load average at the start is printed, and
the server's own CPU time (its processes' user + system time, from /proc), so
decisions per CPU-second can be compared between runs on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HUMBER = ROOT / "examples" / "humber"
WHEN = {"time": "2026-11-27T10:00:00Z"}


def _documents() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sys.path.insert(0, str(ROOT / "src"))
    from dissemination import iter_items, load_principals  # noqa: PLC0415

    readers = [
        r.model_dump(mode="json", exclude_none=True) for r in load_principals(HUMBER / "readers")
    ]
    items = [i.model_dump(mode="json", exclude_none=True) for i in iter_items(HUMBER / "items")]
    return readers, items


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(path: str, body: dict[str, Any], port: int) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _connection(
    port: int,
    *,
    requests: list[bytes],
    offset: int,
    deadline: float,
    budget: list[int],
    latencies: list[float],
    failures: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            payload = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                failures[0] += 1
    finally:
        writer.close()


async def _phase(
    port: int, requests: list[bytes], *, connections: int, seconds: float, limit: int
) -> tuple[int, float, list[float], int]:
    latencies: list[float] = []
    failures = [0]
    budget = [limit]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(
                port,
                requests=requests,
                offset=n * 7,
                deadline=deadline,
                budget=budget,
                latencies=latencies,
                failures=failures,
            )
            for n in range(connections)
        )
    )
    return len(latencies), time.perf_counter() - started, latencies, failures[0]


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) of the server: its process and every worker it started."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        if root in {pid, parent}:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("serve did not become ready in 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--requests", type=int, default=200_000, help="at most, per phase")
    parser.add_argument("--batch", type=int, default=100)
    options = parser.parse_args()

    readers, items = _documents()
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from dissemination.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(options.workers),
    ]
    process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(port, process)
        singles = [
            _request(
                "/access/v1/evaluation",
                {
                    "subject": {"type": "principal", "properties": reader},
                    "resource": {"type": "item", "properties": item},
                    "action": {"name": "view:gist"},
                    "context": WHEN,
                },
                port,
            )
            for reader in readers
            for item in items
        ]
        batches = [
            _request(
                "/access/v1/evaluations",
                {
                    "subject": {"type": "principal", "properties": reader},
                    "action": {"name": "know_of"},
                    "context": WHEN,
                    "evaluations": [
                        {"resource": {"type": "item", "properties": items[n % len(items)]}}
                        for n in range(options.batch)
                    ],
                },
                port,
            )
            for reader in readers
        ]
        load = os.getloadavg()[0]
        print(
            f"dissemination serve: {options.workers} uvicorn workers, "
            f"{options.connections} connections on loopback, {os.cpu_count()} CPUs, "
            f"load average {load:.1f} at start"
        )
        for name, requests, per in (
            ("single evaluations", singles, 1),
            (f"batches of {options.batch}", batches, options.batch),
        ):
            asyncio.run(
                _phase(port, requests, connections=options.connections, seconds=1, limit=2000)
            )  # warm-up: every worker decides every pair once
            cpu_before = _cpu_seconds(process.pid)
            count, elapsed, latencies, failed = asyncio.run(
                _phase(
                    port,
                    requests,
                    connections=options.connections,
                    seconds=options.seconds,
                    limit=options.requests,
                )
            )
            cpu = _cpu_seconds(process.pid) - cpu_before
            print(
                f"{name}: {count} requests in {elapsed:.1f} s, "
                f"{count / elapsed:,.0f} requests/s, {count * per / elapsed:,.0f} decisions/s, "
                f"p50 {_percentile(latencies, 0.5) * 1000:.1f} ms, "
                f"p99 {_percentile(latencies, 0.99) * 1000:.1f} ms, "
                f"mean {statistics.fmean(latencies) * 1000:.1f} ms, {failed} not 200; "
                f"server CPU {cpu:.1f} s: {count * per / cpu:,.0f} decisions per CPU-second"
            )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
