"""Signed labels end to end and exit codes on every command (issue 13 items 1, 6, 9).

Every command that decides or registers takes `--trust DIR` (or
`DISSEMINATION_TRUST`); a profile that requires signed labels with no trust
store is refused with one line and exit 2, by every command and by `decide`.
Exit codes: 0 an answer, 1 a failed check, 2 bad input, 3 the environment,
70 an unexpected error (traceback only with `--debug`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dissemination import decide, load_item, load_policy, load_principal
from dissemination.cli import main
from dissemination.errors import TrustStoreRequiredError
from dissemination.tooling.whocansee import explain, what_can_see, who_can_see
from tests.conftest import HUMBER
from tests.test_cli_integrity import signed
from tests.test_integrity_decisions import signed_profile

ITEMS = HUMBER / "items"
READERS = HUMBER / "readers"
CONTAINER = ITEMS / "hum-001-container.yaml"
OFFICER = READERS / "bf-intel-officer.yaml"
AGENCY = READERS / "agency-frontline.yaml"
NOW = "2026-11-27T10:00:00Z"


def run(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    for organisation in ("border-force", "nca"):
        assert run("keys", "generate", "--org", organisation, "--out", directory).exit_code == 0
    return directory


@pytest.fixture
def trust(tmp_path: Path, keys: Path) -> Path:
    directory = tmp_path / "trust"
    directory.mkdir()
    for organisation in ("border-force", "nca"):
        (directory / f"{organisation}.pem").write_bytes((keys / f"{organisation}.pem").read_bytes())
    return directory


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return signed_profile(tmp_path)


@pytest.fixture(autouse=True)
def registry_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry key file in the environment and a registry at `r.db` (registry commands)."""
    monkeypatch.delenv("DISSEMINATION_REGISTRY_KEY", raising=False)
    monkeypatch.delenv("DISSEMINATION_TRUST", raising=False)
    keys = tmp_path / "registry.keys"
    keys.write_text(run("registry", "keygen", "k1").stdout)
    keys.chmod(0o600)
    monkeypatch.setenv("DISSEMINATION_REGISTRY_KEY_FILE", str(keys))
    created = run("registry", "upgrade", "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert created.exit_code == 0, created.output


def _commands(profile: Path, db: Path) -> dict[str, list[str | Path]]:
    policy: list[str | Path] = ["--policy", profile, "--now", NOW]
    return {
        "view": ["view", CONTAINER, "--as", OFFICER, *policy],
        "filter": ["filter", ITEMS, "--as", OFFICER, *policy],
        "explain": ["explain", CONTAINER, "--as", OFFICER, *policy],
        "who-can-see": ["who-can-see", CONTAINER, "--readers", READERS, *policy],
        "what-can-see": ["what-can-see", OFFICER, "--items", ITEMS, *policy],
        "demo": ["demo", *policy],
        "registry register": [
            "registry",
            "register",
            CONTAINER,
            "--db",
            f"sqlite:///{db}",
            *policy,
        ],
    }


COMMANDS = list(_commands(Path(), Path()))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_signed_labels_profile_without_trust_is_refused_by_every_command(
    tmp_path: Path, profile: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(*_commands(profile, tmp_path / "r.db")[command])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "requires signed labels" in lines[0]
    assert "--trust DIR" in lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_deciding_command_takes_trust_from_the_option_or_the_environment(
    tmp_path: Path, profile: Path, trust: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _commands(profile, tmp_path / "r.db")[command]
    by_option = run(*args, "--trust", trust)
    assert by_option.exit_code == 0, by_option.output
    by_env = run(*args, env={"DISSEMINATION_TRUST": str(trust)})
    assert by_env.exit_code == 0, by_env.output


def test_the_python_api_refuses_too(profile: Path) -> None:
    policy = load_policy(profile)
    reader, item = load_principal(OFFICER), load_item(CONTAINER)
    now = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    with pytest.raises(TrustStoreRequiredError, match="requires signed labels"):
        decide(reader, item, now=now, policy=policy)
    with pytest.raises(TrustStoreRequiredError):
        who_can_see(item, [reader], now=now, policy=policy)
    with pytest.raises(TrustStoreRequiredError):
        what_can_see(reader, [item], now=now, policy=policy)
    with pytest.raises(TrustStoreRequiredError):
        explain(reader, item, now=now, policy=policy)
    # With a check, it decides: an unsigned item fails it and is shown to nobody.
    assert decide(reader, item, now=now, policy=policy, label_check=lambda _: False).view.label == (
        "none"
    )


def test_signed_items_registered_with_trust_are_found(
    tmp_path: Path, profile: Path, keys: Path, trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: nothing registered from the CLI ever counted as verified ("owner nobody")."""
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    good = signed(tmp_path, keys)
    registered = run(
        "registry", "register", good, *db, "--policy", profile, "--trust", trust,
        "--now", NOW, "--format", "json",
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    assert [entry["label_verified"] for entry in json.loads(registered.stdout)] == [True]
    found = run(
        "registry", "lookup", "container", "MSCU1234566", "--as", OFFICER, *db,
        "--policy", profile, "--now", NOW, "--format", "json",
    )  # fmt: skip
    assert found.exit_code == 0, found.output
    answer = json.loads(found.stdout)
    assert answer["owner"] is not None
    assert [linked["view"] for linked in answer["items"]] == ["full"]


def test_an_unverified_label_is_registered_as_such_and_said(
    tmp_path: Path, profile: Path, trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(
        "registry", "register", CONTAINER, "--db", f"sqlite:///{tmp_path / 'r.db'}",
        "--policy", profile, "--trust", trust, "--now", NOW,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "label does not verify: shown to nobody" in result.stdout


def test_registry_register_names_the_file_and_line_of_a_bad_identifier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = json.dumps(load_item(CONTAINER).model_dump(mode="json", exclude_none=True))
    bad = good.replace("MSCU1234566", "MSCU1234567")  # a wrong check digit
    lines = tmp_path / "items.jsonl"
    second, third = good.replace("HUM-2026-000123", "X-2"), bad.replace("HUM-2026-000123", "X-3")
    lines.write_text(f"{good}\n{second}\n{third}\n")
    result = run("registry", "register", lines, "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {lines}:3: `subjects.0` invalid `container`")
    assert "MSCU" not in result.stderr
    lookup = run(
        "registry", "lookup", "container", "MSCU1234566", "--as", OFFICER,
        "--db", f"sqlite:///{tmp_path / 'r.db'}", "--format", "json",
    )  # fmt: skip
    assert json.loads(lookup.stdout)["owner"] is None  # nothing was written


@pytest.mark.parametrize("command", ["who-can-see", "what-can-see"])
def test_who_and_what_can_see_print_json(command: str) -> None:
    args: list[str | Path] = (
        ["who-can-see", CONTAINER, "--readers", READERS]
        if command == "who-can-see"
        else ["what-can-see", AGENCY, "--items", ITEMS]
    )
    result = run(*args, "--now", NOW, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    key = "reader" if command == "who-can-see" else "item"
    assert rows
    assert all(set(row) == {key, "view", "rules"} for row in rows)
    text = run(*args, "--now", NOW).stdout
    assert [row[key] for row in rows] == [line.split()[0] for line in text.splitlines()[1:]]


def test_verify_with_a_missing_trust_store_is_exit_2() -> None:
    result = run("verify", CONTAINER, "--trust", "/nonexistent")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: /nonexistent: ")
    assert len(result.stderr.splitlines()) == 1


def test_an_unexpected_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    import dissemination.cli.core

    def broken(*_args: object, **_kwargs: object) -> object:
        raise KeyError("Agent BLUEBIRD")  # content in an unexpected error's text

    monkeypatch.setattr(dissemination.cli.core, "render", broken)
    result = run("view", CONTAINER, "--as", OFFICER, "--now", NOW)
    assert result.exit_code == 70
    assert result.stderr.splitlines() == [
        "error: unexpected KeyError (a bug in dissemination; `--debug` shows the traceback)"
    ]
    assert "BLUEBIRD" not in result.output
    debug = run("--debug", "view", CONTAINER, "--as", OFFICER, "--now", NOW)
    assert debug.exit_code == 70
    assert "Traceback (most recent call last)" in debug.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_trail_that_cannot_be_written_is_exit_3(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run(
            "view", CONTAINER, "--as", OFFICER, "--now", NOW, "--audit", locked / "trail.jsonl"
        )
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 3, result.output
    assert len(result.stderr.splitlines()) == 1


def test_an_unreachable_database_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = run("registry", "lookup", "container", "MSCU1234566", "--as", OFFICER, "--db", url)
    assert result.exit_code == 3, result.output
    assert len(result.stderr.splitlines()) == 1


def test_audit_verify_does_not_claim_signatures_it_did_not_verify(
    tmp_path: Path, keys: Path
) -> None:
    """Issue 13 item 7: "0 checkpoints (signatures verified)" when nothing was verified."""
    log = tmp_path / "trail.jsonl"
    assert run("view", CONTAINER, "--as", OFFICER, "--now", NOW, "--audit", log).exit_code == 0
    result = run("audit", "verify", log, "--key", keys / "border-force.pem")
    assert result.exit_code == 0, result.output
    assert "0 checkpoints" in result.stdout
    assert "signatures verified" not in result.stdout
