"""The integrity and audit commands: keys, sign, verify, view/filter with --trust and --audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from dissemination.cli import main
from tests.conftest import HUMBER
from tests.test_integrity_decisions import signed_profile

ITEMS = HUMBER / "items"
READERS = HUMBER / "readers"
CONTAINER = ITEMS / "hum-001-container.yaml"
OFFICER = READERS / "bf-intel-officer.yaml"
AGENCY = READERS / "agency-frontline.yaml"
NOW = "2026-11-27T10:00:00Z"


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def one_line_error(result: Any) -> Any:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    for organisation in ("border-force", "nca", "trail"):
        assert run("keys", "generate", "--org", organisation, "--out", directory).exit_code == 0
    return directory


@pytest.fixture
def trust(tmp_path: Path, keys: Path) -> Path:
    directory = tmp_path / "trust"
    directory.mkdir()
    for organisation in ("border-force", "nca"):
        (directory / f"{organisation}.pem").write_bytes((keys / f"{organisation}.pem").read_bytes())
    return directory


def signed(tmp_path: Path, keys: Path, item: Path = CONTAINER, org: str = "border-force") -> Path:
    out = tmp_path / f"signed-{item.stem}-{org}.yaml"
    result = run("sign", item, "--key", keys / f"{org}.key", "--out", out)
    assert result.exit_code == 0, result.output
    return out


# -- keys generate ---------------------------------------------------------------------


def test_keys_generate_writes_a_private_key_only_its_owner_can_read(keys: Path) -> None:
    assert (keys / "border-force.key").stat().st_mode & 0o777 == 0o600
    assert (keys / "border-force.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_keys_generate_never_overwrites(keys: Path) -> None:
    before = (keys / "nca.key").read_bytes()
    assert "already exists" in one_line_error(
        run("keys", "generate", "--org", "nca", "--out", keys)
    )
    assert (keys / "nca.key").read_bytes() == before


def test_keys_generate_needs_an_existing_directory(tmp_path: Path) -> None:
    result = run("keys", "generate", "--org", "nca", "--out", tmp_path / "absent")
    assert "no such directory" in one_line_error(result)


def test_keys_generate_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("keys", "generate", "--org", "hmrc").exit_code == 0
    assert (tmp_path / "hmrc.key").exists()
    assert (tmp_path / "hmrc.pem").exists()


# -- sign and verify ----------------------------------------------------------------------


def test_sign_prints_json_that_verifies(tmp_path: Path, keys: Path, trust: Path) -> None:
    result = run("sign", CONTAINER, "--key", keys / "border-force.key")
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["signature"]["organisation"] == "border-force"
    path = tmp_path / "printed.json"
    path.write_text(result.output)
    verified = run("verify", path, "--trust", trust)
    assert verified.exit_code == 0
    assert verified.output.startswith("ok:")


def test_sign_writes_yaml(tmp_path: Path, keys: Path) -> None:
    data = yaml.safe_load(signed(tmp_path, keys).read_text())
    assert data["signature"]["algorithm"] == "Ed25519"


def test_verify_exits_1_with_the_reason(tmp_path: Path, keys: Path, trust: Path) -> None:
    path = signed(tmp_path, keys)
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(path.read_text().replace("Stop and examine", "Wave through"))
    result = run("verify", tampered, "--trust", trust)
    assert result.exit_code == 1
    assert result.output.startswith("invalid (mismatch):")
    assert "Wave through" not in result.output
    unsigned = run("verify", CONTAINER, "--trust", trust)
    assert (unsigned.exit_code, unsigned.output.split(":")[0]) == (1, "invalid (unsigned)")
    foreign = run("verify", signed(tmp_path, keys, org="nca"), "--trust", trust)
    assert (foreign.exit_code, foreign.output.split(":")[0]) == (1, "invalid (unknown_key)")


def test_verify_exits_2_on_unreadable_input(tmp_path: Path, trust: Path) -> None:
    assert "no such file" in one_line_error(run("verify", tmp_path / "x.yaml", "--trust", trust))
    result = run("verify", CONTAINER, "--trust", tmp_path / "absent")
    assert "no such directory" in one_line_error(result)


def test_a_corrupt_signature_block_is_exit_2(tmp_path: Path, keys: Path, trust: Path) -> None:
    data = yaml.safe_load(signed(tmp_path, keys).read_text())
    data["signature"]["value"] = "not base64!"
    corrupt = tmp_path / "corrupt.yaml"
    corrupt.write_text(yaml.safe_dump(data))
    assert "`signature.value`" in one_line_error(run("verify", corrupt, "--trust", trust))


def test_an_unreadable_key_is_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    assert "not a PEM private key" in one_line_error(run("sign", CONTAINER, "--key", garbage))
    missing = run("sign", CONTAINER, "--key", tmp_path / "absent.key")
    assert "no such file" in one_line_error(missing)


def test_a_key_of_the_wrong_type_is_exit_2(tmp_path: Path) -> None:
    ec = tmp_path / "ec.key"
    ec.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    assert "not an Ed25519 private key" in one_line_error(run("sign", CONTAINER, "--key", ec))


# -- view and filter with a profile that requires signed labels ------------------------


def test_view_needs_trust_when_labels_must_be_signed(tmp_path: Path) -> None:
    profile = signed_profile(tmp_path)
    result = run("view", CONTAINER, "--as", OFFICER, "--policy", profile, "--now", NOW)
    assert result.exit_code == 2
    assert "requires signed labels" in result.output


def test_view_with_trust(tmp_path: Path, keys: Path, trust: Path) -> None:
    profile = signed_profile(tmp_path)
    good = signed(tmp_path, keys)
    base = ("--as", OFFICER, "--policy", profile, "--trust", trust, "--now", NOW)
    assert json.loads(run("view", good, *base).output)["view"] == "full"
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(good.read_text().replace("Stop and examine", "Wave through"))
    result = run("view", tampered, *base, "--explain")
    document = json.loads(result.output)
    assert (document["view"], document["reasons"]) == ("none", [])
    assert document["explain"]["fixed_by"] == ["cap.label_integrity"]


def test_filter_with_trust_leaves_out_what_does_not_verify(
    tmp_path: Path, keys: Path, trust: Path
) -> None:
    profile = signed_profile(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    signed(tmp_path, keys).rename(corpus / "a-signed.yaml")
    (corpus / "b-unsigned.yaml").write_bytes((ITEMS / "hum-002-vehicle.yaml").read_bytes())
    result = run(
        "filter", corpus, "--as", OFFICER, "--policy", profile, "--trust", trust, "--now", NOW
    )
    assert result.exit_code == 0
    ids = [json.loads(line)["item"]["id"] for line in result.stdout.splitlines()]
    assert ids == [yaml.safe_load((corpus / "a-signed.yaml").read_text())["id"]]


def test_trust_without_the_setting_warns(trust: Path) -> None:
    result = run("view", CONTAINER, "--as", OFFICER, "--trust", trust, "--now", NOW)
    assert result.exit_code == 0
    assert "warning: profile `default` does not require signed labels" in result.output


# -- the trail through the CLI ------------------------------------------------------------


def test_view_and_filter_record_what_they_show(tmp_path: Path, keys: Path) -> None:
    log = tmp_path / "trail.jsonl"
    audit = ("--audit", log, "--audit-key", keys / "trail.key", "--checkpoint-every", "2")
    for _ in range(3):
        assert run("view", CONTAINER, "--as", OFFICER, "--now", NOW, *audit).exit_code == 0
    shown = run("filter", ITEMS, "--as", AGENCY, "--now", NOW, *audit).stdout.splitlines()
    assert len(log.read_text().splitlines()) == 3 + len(shown)
    verified = run("audit", "verify", log, "--key", keys / "trail.pem")
    assert verified.exit_code == 0, verified.output
    assert "signatures verified" in verified.output
    listing = run("audit", "disclosures", "HUM-2026-000123", "--log", log, "--format", "json")
    readers = [json.loads(line)["reader"] for line in listing.stdout.splitlines()]
    assert readers == ["bf-io-0117"] * 3 + ["agency-0042"]


def test_audit_verify_names_the_broken_record(tmp_path: Path) -> None:
    log = tmp_path / "trail.jsonl"
    for reader in (OFFICER, AGENCY, OFFICER):
        run("view", CONTAINER, "--as", reader, "--now", NOW, "--audit", log)
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[0] + lines[1].replace("agency-0042", "agency-0043") + lines[2])
    result = run("audit", "verify", log)
    assert result.exit_code == 1
    assert result.output.startswith("broken (edited): line 2")
    listing = run("audit", "disclosures", "HUM-2026-000123", "--log", log)
    assert listing.exit_code == 1
    assert "agency" not in listing.output.replace("broken (edited)", "")


def test_audit_repair_and_checkpoint(tmp_path: Path, keys: Path) -> None:
    log = tmp_path / "trail.jsonl"
    run("view", CONTAINER, "--as", OFFICER, "--now", NOW, "--audit", log)
    with log.open("a") as handle:
        handle.write('{"seq": 2, "ite')
    broken = run("audit", "verify", log)
    assert (broken.exit_code, broken.output.split(":")[0]) == (1, "broken (half_written)")
    refused = run("view", CONTAINER, "--as", OFFICER, "--now", NOW, "--audit", log)
    assert "half-written" in one_line_error(refused)
    assert "{" not in refused.output  # nothing shown when the disclosure cannot be recorded
    assert "moved a torn last line" in run("audit", "repair", log).output
    assert "nothing to repair" in run("audit", "repair", log).output
    signed = run("audit", "checkpoint", log, "--key", keys / "trail.key")
    assert signed.output.startswith("signed record 1")
    assert run("audit", "verify", log, "--key", keys / "trail.pem").exit_code == 0


def test_audit_verify_warns_when_checkpoints_are_not_checked(tmp_path: Path, keys: Path) -> None:
    log = tmp_path / "trail.jsonl"
    run("view", CONTAINER, "--as", OFFICER, "--audit", log, "--audit-key", keys / "trail.key")
    run("audit", "checkpoint", log, "--key", keys / "trail.key")
    result = run("audit", "verify", log)
    assert result.exit_code == 0
    assert "warning: checkpoint signatures not checked" in result.output


def test_a_database_trail_through_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    assert run("view", CONTAINER, "--as", OFFICER, "--now", NOW, "--audit", url).exit_code == 0
    assert run("audit", "verify", url).output.startswith("ok: 1 records")
    assert "database trail" in one_line_error(run("audit", "repair", url))


def test_audit_bad_input_is_exit_2(tmp_path: Path) -> None:
    assert "cannot" in one_line_error(run("audit", "verify", tmp_path))
    assert "database" in one_line_error(run("audit", "verify", "nosuchdb://x/y"))
    key_alone = run("view", CONTAINER, "--as", OFFICER, "--audit-key", tmp_path / "k")
    assert key_alone.exit_code == 2
