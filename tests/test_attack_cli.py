"""Findings of a command-line attack: each one reproduced as a test that could fail.

Every command that reads a file must refuse a FIFO (or a device) at once with one
line naming the file and exit 2, never wait on it. The commands run in a child
process under a timeout, so a regression shows as a failure, not a stuck suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ITEM = ROOT / "examples" / "humber" / "items" / "hum-001-container.yaml"
DEFAULT = ROOT / "src" / "dissemination" / "policies" / "default"
READER = ROOT / "examples" / "humber" / "readers" / "agency-frontline.yaml"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from dissemination.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", code, *map(str, args)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung on {args}")


def _one_line_bad_input(result: subprocess.CompletedProcess[str], name: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_sign_refuses_a_fifo_as_its_key(tmp_path: Path) -> None:
    fifo = tmp_path / "org.key"
    os.mkfifo(fifo)
    _one_line_bad_input(_run("sign", ITEM, "--key", fifo), "org.key")


def test_filter_stix_refuses_a_fifo_as_its_bundle(tmp_path: Path) -> None:
    fifo = tmp_path / "bundle.json"
    os.mkfifo(fifo)
    _one_line_bad_input(_run("filter-stix", fifo, "--as", READER), "bundle.json")


def test_audit_verify_refuses_a_fifo_as_its_trail(tmp_path: Path) -> None:
    fifo = tmp_path / "trail.jsonl"
    os.mkfifo(fifo)
    result = _run("audit", "verify", fifo)
    assert result.returncode == 2, result.stderr
    assert "trail.jsonl" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["model.conf", "policy.csv", "profile.yaml"])
def test_lint_reports_a_fifo_policy_file_without_waiting(tmp_path: Path, name: str) -> None:
    directory = tmp_path / "profile"
    shutil.copytree(DEFAULT, directory)
    (directory / name).unlink()
    os.mkfifo(directory / name)
    result = _run("lint", directory)
    assert result.returncode == 1, result.stderr
    assert f"{name}: error" in result.stdout
    assert "Traceback" not in result.stderr


def test_registry_refuses_a_fifo_as_its_key_file(tmp_path: Path) -> None:
    fifo = tmp_path / "registry.keys"
    os.mkfifo(fifo, 0o600)
    database = f"sqlite:///{tmp_path / 'registry.db'}"
    result = _run(
        "registry", "lookup", "container", "MSCU1234566", "--as", READER,
        "--db", database, "--key-file", fifo,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "registry.keys" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("rule", ["cap.invalid_reader", "cap.invalid_label"])
def test_lint_reports_a_deleted_fail_closed_row(tmp_path: Path, rule: str) -> None:
    from dissemination.tooling.lint import lint_policy

    directory = tmp_path / "profile"
    shutil.copytree(DEFAULT, directory)
    rows = (directory / "policy.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [row for row in rows if not row.startswith(f"p, {rule},")]
    assert len(kept) == len(rows) - 1
    (directory / "policy.csv").write_text("".join(kept), encoding="utf-8")
    findings = lint_policy(directory)
    assert any(f.severity == "warning" and "fail open" in f.message for f in findings)
    assert not any("fail open" in f.message for f in lint_policy(DEFAULT))
