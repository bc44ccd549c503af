"""Real `dissemination serve` processes on loopback ports, started and stopped by tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request: (status, headers, body); an HTTP error status is returned too."""
    data = json.dumps(body).encode() if body is not None else None
    sent = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 (loopback)
    if data is not None:
        sent.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(sent, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextlib.contextmanager
def serving(
    *args: str,
    port: int | None = None,
    scheme: str = "http",
    context: ssl.SSLContext | None = None,
    env: dict[str, str] | None = None,
    ready: str = "/healthz",
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `dissemination serve ARGS` until it answers, yield its base URL, then stop it."""
    port = port or free_port()
    command = [
        sys.executable,
        "-c",
        "from dissemination.cli import main; main()",
        "serve",
        "--port",
        str(port),
        *args,
    ]
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        command,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                said = log.read_text() if log is not None else ""
                raise RuntimeError(f"serve exited {process.returncode}: {said}")
            try:
                status, _headers, _body = request(base + ready, context=context, timeout=1)
                if status in (200, 503):
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not answer within 30 s")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is not None and not isinstance(output, int):
            output.close()
